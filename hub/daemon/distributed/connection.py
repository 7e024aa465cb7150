"""procrastinate's connection to the hub's database, from the hub's SQLAlchemy URL.

The queue lives in the same database (and schema: ``options=-csearch_path=...`` and the other
query parameters of the URL are kept) as the hub's tables, so one URL configures both. The
conninfo holds the password: it is handed to psycopg and never logged; :func:`describe` is
what may be shown.
"""

from __future__ import annotations

from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import make_url

from hub.db.engine import Database
from hub.errors import InputError

__all__ = ["conninfo", "describe", "needs_postgresql"]


def needs_postgresql(db: Database) -> None:
    """Refuse a database the nodes cannot share.

    :raises InputError: the database is not PostgreSQL (exit code 2).
    """
    backend = make_url(db.url).get_backend_name()
    if backend != "postgresql":
        raise InputError(
            f"--distributed needs PostgreSQL, and this database is {backend}"
            f" ({db.display_url}): the nodes share their queue, locks and heartbeats in"
            " PostgreSQL. Point HUB_DATABASE_URL (or --database) at a PostgreSQL database"
            " (`hub db upgrade` installs the queue's tables), or run plain `hub run` (one"
            " process; SQLite is fine for it)"
        )


def conninfo(db: Database) -> str:
    """psycopg's connection string for ``db`` (password included: do not log it)."""
    url = make_url(db.url)
    args = url.translate_connect_args(username="user", database="dbname")
    for key, value in url.query.items():
        args[key] = value if isinstance(value, str) else value[-1]
    return make_conninfo(**{k: str(v) for k, v in args.items()})


def describe(db: Database) -> str:
    """The database as a log line may name it (no password)."""
    return db.display_url
