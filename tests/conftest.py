"""Shared fixtures: an isolated hub environment and a real database (SQLite and PostgreSQL).

Every test that stores anything runs once on SQLite and once on PostgreSQL. The PostgreSQL
server is ``HUB_TEST_POSTGRES_URL`` or, failing that, the local default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; each test gets a schema of its own,
dropped afterwards. Where no server answers, the PostgreSQL half skips and says why, unless
``HUB_TEST_POSTGRES_URL`` is set (as in CI): then an unreachable server is a failure, so CI can
never go green by skipping.

The migrations run once per test process and backend (:class:`Migrated`), not once per test:
each test's SQLite file is a copy of the migrated one, and each test's PostgreSQL schema gets
the statements the migrations sent, sent again. ``tests/test_migrations.py`` runs the
migrations themselves, and holds the two to each other.
"""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy import event
from sqlalchemy.engine import make_url

from hub import plugins
from hub.db.engine import Database, create_engine, upgrade
from hub.secrets import SecretBox

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

# Numbers in human output follow the user's locale (hub.amounts.locale_language): every test,
# and every child process a test starts, reads them the English way, whatever the machine's.
os.environ["LC_ALL"] = "C.UTF-8"


@pytest.fixture(autouse=True)
def hub_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test touches the user's data directory, key or database, or sees a fixed today."""
    data = tmp_path / "hub-data"
    monkeypatch.setenv("HUB_DATA_DIR", str(data))
    for var in (
        "HUB_DATABASE_URL",
        "HUB_SECRET_KEY",
        "HUB_SECRET_KEY_OLD",
        "HUB_TODAY",
        "HUB_NOW",
        "HUB_LOAD_PLUGINS",
        "HUB_BLOCK_PLUGINS",
    ):
        monkeypatch.delenv(var, raising=False)
    plugins.reset_registry()
    yield data
    plugins.reset_registry()


def _postgres_base_url() -> tuple[str, bool]:
    explicit = os.environ.get("HUB_TEST_POSTGRES_URL")
    return (explicit or DEFAULT_PG), bool(explicit)


_pg_unreachable: str | None = None


def _postgres_schema_url(base: str, required: bool) -> tuple[str, str]:
    """Create a fresh schema; return (URL whose search_path is it, schema name)."""
    global _pg_unreachable
    if _pg_unreachable and not required:
        pytest.skip(_pg_unreachable)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        engine = create_engine(base)
        with engine.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    except sa.exc.OperationalError as exc:
        reason = f"no PostgreSQL server answers at {make_url(base).render_as_string()}: {exc.orig}"
        if required:
            pytest.fail(f"HUB_TEST_POSTGRES_URL is set but {reason}")
        _pg_unreachable = reason
        pytest.skip(reason)
    url = make_url(base).update_query_dict(
        {"options": f"-csearch_path={schema}", "application_name": schema}
    )
    return url.render_as_string(hide_password=False), schema


def _drop_schema(base: str, schema: str) -> None:
    """Drop the test's schema. A connection the test left open in a transaction (a session used
    after its block ended) would block the drop, and the run with it: it is ended first, and
    the leak reported as a warning naming its last statement."""
    engine = create_engine(base)
    with engine.begin() as conn:
        left = conn.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid), query FROM pg_stat_activity"
                " WHERE application_name = :schema AND pid <> pg_backend_pid()"
                " AND state LIKE 'idle in transaction%'"
            ),
            {"schema": schema},
        ).all()
        conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()
    for _, query in left:
        warnings.warn(f"a connection was left open in a transaction: {query[:200]}", stacklevel=1)


#: One statement the migrations sent: (SQL, parameters, sent with executemany).
Statement = tuple[str, Any, bool]


class Migrated:
    """The newest schema, made by the migrations once in this test process (each xdist worker
    has its own) and handed to every test that wants an empty database: a SQLite file to copy,
    and the statements the migrations sent to PostgreSQL (DDL, and the rows they wrote), to
    send again in a test's own schema. Running Alembic for each test cost it 0.25 to 0.5 s."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._sqlite: Path | None = None
        self._postgres: list[Statement] | None = None

    def sqlite_copy(self, path: Path) -> str:
        """A migrated SQLite database at ``path`` (private, as the hub makes its files)."""
        if self._sqlite is None:
            template = self._root / "migrated.sqlite3"
            engine = create_engine(f"sqlite:///{template}")
            upgrade(engine)
            engine.dispose()  # the last connection gone: the WAL is checkpointed and removed
            self._sqlite = template
        shutil.copyfile(self._sqlite, path)
        os.chmod(path, 0o600)
        return f"sqlite:///{path}"

    def postgres_schema(self, base: str, required: bool) -> tuple[str, str]:
        """A fresh schema at the newest revision; (its URL, its name)."""
        if self._postgres is None:
            self._postgres = self._record(base, required)
        url, schema = _postgres_schema_url(base, required)
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
                for statement, parameters, many in self._postgres:
                    if many:
                        cursor.executemany(statement, parameters)
                    else:
                        cursor.execute(statement, parameters)
        finally:
            engine.dispose()
        return url, schema

    @staticmethod
    def _record(base: str, required: bool) -> list[Statement]:
        """Migrate a schema of its own and keep what was sent, but the catalog reads Alembic
        makes to see where the database stands (the same in every empty schema)."""
        url, schema = _postgres_schema_url(base, required)
        sent: list[Statement] = []
        engine = create_engine(url)

        @event.listens_for(engine, "before_cursor_execute")
        def keep(_c: Any, _cur: Any, statement: str, parameters: Any, _x: Any, many: bool) -> None:
            if not (statement.lstrip().upper().startswith("SELECT") and "pg_catalog" in statement):
                sent.append((statement, parameters, many))

        try:
            upgrade(engine)
        finally:
            engine.dispose()
            _drop_schema(base, schema)
        return sent


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Migrated:
    return Migrated(tmp_path_factory.mktemp("migrated"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, migrated: Migrated) -> Iterator[str]:
    """An empty database URL at the newest schema, on each backend (see :class:`Migrated`)."""
    if request.param == "sqlite":
        yield migrated.sqlite_copy(tmp_path / "hub.sqlite3")
        return
    base, required = _postgres_base_url()
    url, schema = migrated.postgres_schema(base, required)
    try:
        yield url
    finally:
        _drop_schema(base, schema)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database(db_url)
    yield database
    database.dispose()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(Fernet.generate_key())
