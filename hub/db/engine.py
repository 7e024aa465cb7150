"""Opening the database: engine, sessions, and the schema check.

A SQLite database (the embedded default) upgrades itself to the newest schema on first use.
Any other database must be upgraded by the operator (``hub db upgrade``); until then the hub
refuses to touch it and says so, because an operator's production database changes only when
they decide. A database at a schema revision this hub does not know (a newer hub upgraded it)
is refused, never "upgraded".

The check on open reads the database's revision with one query and the migrations' revisions
from their files' ``revision``/``down_revision`` lines (:func:`_revision_map`); Alembic itself,
whose import and whole script directory cost every command a noticeable part of its start, is
imported only to upgrade, or where those lines are not plain (a merge, a branch).

Errors of the database driver never reach the user raw: they become a :class:`StorageError`
that says which database and what went wrong (unreachable, a constraint refused a write).
"""

from __future__ import annotations

import ast
import contextlib
import functools
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    SQLAlchemyError,
    StatementError,
)
from sqlalchemy.orm import Session, sessionmaker

from hub.errors import InputError, StorageError
from hub.toolkit.files import make_dir

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"
#: Tables in the hub's database that are not the hub's models: procrastinate's queue (migration
#: 0012, PostgreSQL only; its own schema.sql). Comparisons of the models with the database
#: (Alembic's autogenerate, tests/test_migrations.py) leave them out.
FOREIGN_TABLE_PREFIXES: tuple[str, ...] = ("procrastinate_",)


def hub_object(name: str | None, type_: str, parent_names: dict[str, str | None]) -> bool:
    """Alembic's ``include_name``: whether a table (or its index, column...) is the hub's."""
    table = name if type_ == "table" else parent_names.get("table_name")
    return not (table or "").startswith(FOREIGN_TABLE_PREFIXES)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _create_private_sqlite_file(path: Path) -> None:
    """Make the SQLite file's directory (mode 0700 where we create it) and, if the file is missing,
    an empty database file with mode 0600 (SQLite reads an empty file as an empty database).

    SQLite gives the ``-wal`` and ``-shm`` files it makes the database file's mode, so none of
    the three is readable by other users. A directory or file that exists already keeps its
    mode. A file that cannot be created is left for SQLite to report when it opens it.
    """
    make_dir(path.parent, 0o700)
    with contextlib.suppress(OSError):  # FileExistsError: the usual case
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


#: What the hub opens, as the errors about a URL say it.
SUPPORTED_URLS = (
    "sqlite:///PATH (SQLite; four slashes for an absolute path) or"
    " postgresql+psycopg://USER:PASSWORD@HOST/DATABASE (PostgreSQL)"
)

#: PostgreSQL drivers the hub accepts: psycopg 3, and "postgresql://" or "postgresql+psycopg2://"
#: mean it too (psycopg2 is not installed).
_POSTGRESQL_DRIVERS = ("psycopg", "psycopg2", "")


def masked_url(url: str) -> str:
    """``url`` with the password hidden, also where it is no valid URL (said in its error)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return re.sub(r":[^:@]*@", ":***@", url)  # USER:PASSWORD@


def _psycopg_url(url: URL) -> str:
    """``url`` for psycopg 3, with the word PASSWORD where its password is (not shown)."""
    fixed = url.set(drivername="postgresql+psycopg")
    if url.password is not None:
        fixed = fixed.set(password="PASSWORD")
    return fixed.render_as_string(hide_password=False)


def _supported_url(url: str) -> URL:
    """``url`` parsed, if it names a database the hub opens (SQLite, PostgreSQL by psycopg).

    :raises InputError: no URL, or one for another database or driver; the error says what to
        write instead and hides the password.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise InputError(
            f"database URL {masked_url(url)!r} is not a database URL: use {SUPPORTED_URLS}"
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    backend, _, driver = parsed.drivername.partition("+")  # not loading the dialect
    if backend == "postgres":  # Heroku's and libpq's spelling; SQLAlchemy does not know it
        raise InputError(
            f"database URL {shown!r}: SQLAlchemy does not know postgres://: write"
            f" {_psycopg_url(parsed)}"
        )
    if backend == "postgresql" and driver not in _POSTGRESQL_DRIVERS:
        raise InputError(
            f"database URL {shown!r}: the hub talks to PostgreSQL through psycopg 3, not"
            f" {driver}: write {_psycopg_url(parsed)}"
        )
    if not ((backend == "sqlite" and driver in ("", "pysqlite")) or backend == "postgresql"):
        raise InputError(
            f"database URL {shown!r}: the hub opens SQLite and PostgreSQL databases, not"
            f" {parsed.drivername}: use {SUPPORTED_URLS}"
        )
    return parsed


def create_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for ``url``. A SQLite file is made on first use, with its folder, unless
    ``create`` is false: then a file that does not exist is refused (a mistyped path would
    otherwise quietly become a new, empty database)."""
    parsed = _supported_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database).expanduser()
            if not create and not path.exists():
                raise InputError(
                    f"database {parsed.render_as_string()}: the SQLite file {path} does not"
                    " exist; check the URL, or create the database there with"
                    f" `hub --db {parsed.render_as_string()} db upgrade`"
                )
            _create_private_sqlite_file(path)
        engine = sa.create_engine(parsed)
        event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    if parsed.drivername != "postgresql+psycopg":  # postgresql:// or postgresql+psycopg2://
        # psycopg 3 is the driver we ship; "postgresql://" should just work.
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return sa.create_engine(parsed, pool_pre_ping=True)
    except (ImportError, SQLAlchemyError) as exc:
        raise InputError(f"database URL {parsed.render_as_string()!r}: {exc}") from None


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def _plain_revisions(path: Path) -> tuple[str, str | None] | None:
    """A migration file's ``(revision, down_revision)`` as its top-level assignments say, or
    None where they are not two plain strings (the second may be None)."""
    found: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
            if not isinstance(value, ast.Constant):
                return None
            found[target.id] = value.value
    revision, down = found.get("revision"), found.get("down_revision")
    if isinstance(revision, str) and (down is None or isinstance(down, str)):
        return revision, down
    return None


@functools.cache
def _revision_map(versions: Path = MIGRATIONS / "versions") -> tuple[str, frozenset[str]]:
    """The head and every revision of the migrations in ``versions``: read from the files'
    ``revision``/``down_revision`` lines where they make one plain line of revisions, else by
    Alembic (which imports every file). Read once per process: the files do not change under
    a running hub."""
    pairs = [_plain_revisions(path) for path in sorted(versions.glob("*.py"))]
    plain = [pair for pair in pairs if pair is not None]
    revisions = {revision for revision, _ in plain}
    downs = {down for _, down in plain}
    heads = revisions - downs
    if len(plain) == len(pairs) and len(revisions) == len(plain) and len(heads) == 1:
        return heads.pop(), frozenset(revisions)
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(versions.parent))
    head = script.get_current_head()  # raises on several heads, as it always did
    assert head is not None
    return head, frozenset(rev.revision for rev in script.walk_revisions())


def head_revision() -> str:
    return _revision_map()[0]


def known_revisions() -> set[str]:
    """Every schema revision this hub's migrations know."""
    return set(_revision_map()[1])


def display_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def error_reason(exc: DBAPIError) -> str:
    """The driver's message of a database error, on one line (no URL, no password)."""
    return " ".join(str(exc.orig).split()) or type(exc.orig).__name__


def current_revision(engine: Engine) -> str | None:
    """The database's schema revision (None when it has none yet).

    :raises StorageError: the database cannot be reached or opened.
    """
    try:
        with engine.connect() as conn:
            if not sa.inspect(conn).has_table(VERSION_TABLE):
                return None
            versions = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
            if len(versions) <= 1:
                return versions[0][0] if versions else None
            from alembic.runtime.migration import MigrationContext

            return MigrationContext.configure(conn).get_current_revision()  # says what is wrong
    except DBAPIError as exc:
        raise StorageError(
            f"cannot open database {display_url(engine)}: {error_reason(exc)}"
        ) from exc


def _refuse_unknown(engine: Engine, revision: str | None) -> None:
    if revision is not None and revision not in known_revisions():
        raise StorageError(
            f"database {display_url(engine)} is at schema revision {revision}, newer than this"
            f" hub (which knows up to {head_revision()}): upgrade the hub"
        )


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the schema to the newest revision; return (before, after).

    :raises StorageError: the database cannot be opened, is at a revision this hub does not
        know, or a migration failed (it is rolled back where the database allows).
    """
    from alembic import command

    before = current_revision(engine)
    _refuse_unknown(engine, before)
    try:
        command.upgrade(alembic_config(engine), "head")
    except DBAPIError as exc:
        raise StorageError(
            f"upgrading database {display_url(engine)} failed: {error_reason(exc)}"
        ) from exc
    return before, head_revision()


def _integrity_message(url: str, exc: IntegrityError) -> str:
    """Which constraint on which table refused the write (PostgreSQL says it in ``diag``)."""
    diag = getattr(exc.orig, "diag", None)
    primary = getattr(diag, "message_primary", None) or error_reason(exc)
    table = getattr(diag, "table_name", None)
    detail = getattr(diag, "message_detail", None)
    where = f" (table {table})" if table and table not in primary else ""
    more = f": {detail}" if detail else ""
    return (
        f"database {url} refused the change: {primary}{where}{more}; nothing was stored"
        " (if another command made the same change at the same moment, look again and retry)"
    )


class Database:
    """An engine and its session factory, with the schema checked (or upgraded) on open."""

    def __init__(self, url: str, *, check_schema: bool = True, create: bool = True) -> None:
        """``create``: a SQLite file that does not exist is made (else refused, see
        :func:`create_engine`)."""
        self.url = url
        self.engine = create_engine(url, create=create)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if check_schema:
            self._ensure_schema()

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    def _ensure_schema(self) -> None:
        current = current_revision(self.engine)
        head = head_revision()
        if current == head:
            return
        _refuse_unknown(self.engine, current)
        if self.engine.dialect.name == "sqlite":
            upgrade(self.engine)
            return
        raise StorageError(
            f"database {self.display_url} has no schema yet (an empty database), this hub"
            f" needs {head}: run `hub db upgrade`"
            if current is None
            else f"database {self.display_url} is at schema revision {current}, this hub"
            f" needs {head}: run `hub db upgrade`"
        )

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any error.

        :raises StorageError: the database refused the work (a constraint, a lost connection,
            an amount a money column refuses); the unit of work was rolled back.
        """
        session = self._sessions()
        try:
            yield session
            session.commit()
        except IntegrityError as exc:
            session.rollback()
            raise StorageError(_integrity_message(self.display_url, exc)) from exc
        except DBAPIError as exc:
            session.rollback()
            what = f"{type(exc.orig).__name__}: {error_reason(exc)}"
            raise StorageError(
                f"database {self.display_url} failed: {what}; nothing was stored"
            ) from exc
        except StatementError as exc:
            session.rollback()
            if isinstance(exc.orig, StorageError):  # a money column refused an amount
                raise StorageError(f"{exc.orig}; nothing was stored") from exc
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
