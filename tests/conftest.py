"""Shared fixtures: an isolated hub environment and a real database (SQLite and PostgreSQL).

Every test that stores anything runs once on SQLite and once on PostgreSQL. The PostgreSQL
server is ``HUB_TEST_POSTGRES_URL`` or, failing that, the local default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; each test gets a schema of its own,
dropped afterwards. Where no server answers, the PostgreSQL half skips and says why, unless
``HUB_TEST_POSTGRES_URL`` is set (as in CI): then an unreachable server is a failure, so CI can
never go green by skipping.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from hub import plugins
from hub.db.engine import Database, create_engine, upgrade
from hub.secrets import SecretBox

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database URL, migrated to the newest schema, on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
        engine = create_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    base, required = _postgres_base_url()
    url, schema = _postgres_schema_url(base, required)
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
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
