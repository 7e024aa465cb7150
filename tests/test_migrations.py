"""The migrations build exactly the schema the models describe, on both databases; the tests'
databases (copied or replayed from one migration per test process: tests/conftest.py) are what
the migrations build."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from hub.db.engine import (
    MIGRATIONS,
    _revision_map,
    alembic_config,
    create_engine,
    current_revision,
    head_revision,
    hub_object,
    known_revisions,
    upgrade,
)
from hub.db.tables import Base
from tests.conftest import _drop_schema, _postgres_base_url, _postgres_schema_url


@contextmanager
def really_migrated(backend: str, tmp_path: Path) -> Iterator[str]:
    """An empty database on ``backend`` that the migrations themselves bring to the newest
    schema (not a copy, as tests/conftest.py's ``db_url`` is)."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
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
def migrated_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    with really_migrated(make_url(db_url).get_backend_name(), tmp_path) as url:
        yield url


def test_the_tests_databases_are_what_the_migrations_build(db_url: str, migrated_url: str) -> None:
    """Every table, column, type, key, index and constraint, the revision and the rows."""
    copied, migrated = create_engine(db_url), create_engine(migrated_url)
    try:
        assert current_revision(copied) == current_revision(migrated) == head_revision()
        reflected = sa.MetaData()
        reflected.reflect(copied)
        with migrated.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(
                    conn, opts={"compare_type": True, "compare_server_default": True}
                ),
                reflected,
            )
            assert diff == [], f"the tests' database differs from a migrated one: {diff}"
            with copied.connect() as other:
                for table in reflected.sorted_tables:
                    rows = conn.execute(sa.select(table)).all()
                    assert rows == other.execute(sa.select(table)).all(), table.name
    finally:
        copied.dispose()
        migrated.dispose()


def test_the_schema_check_knows_the_revisions_alembic_knows() -> None:
    """The check on open reads the files' revision lines instead of importing Alembic."""
    script = ScriptDirectory(str(MIGRATIONS))
    assert head_revision() == script.get_current_head()
    assert known_revisions() == {rev.revision for rev in script.walk_revisions()}


def test_revisions_that_are_not_one_plain_line_are_read_by_alembic(tmp_path: Path) -> None:
    shutil.copytree(MIGRATIONS, tmp_path / "migrations")
    versions = tmp_path / "migrations" / "versions"
    head = head_revision()
    (versions / "9001_merge.py").write_text(
        f'revision = "9001"\ndown_revision = ("{head}",)\nbranch_labels = None\ndepends_on = None\n'
    )
    assert _revision_map(versions) == ("9001", frozenset({*known_revisions(), "9001"}))


def test_migrated_schema_matches_the_models(migrated_url: str) -> None:
    engine = create_engine(migrated_url)
    try:
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(
                    conn, opts={"compare_type": True, "include_name": hub_object}
                ),
                Base.metadata,
            )
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        engine.dispose()


def test_a_downgrade_and_upgrade_keep_every_case_history(migrated_url: str) -> None:
    """Batch migrations rebuild SQLite tables; a rebuilt `cases` must not take its events and
    payments with it (foreign keys cascade)."""
    engine = create_engine(migrated_url)
    cfg = alembic_config(engine)
    tables = ("cases", "case_events", "case_payments", "messages", "message_invoices")

    def counts() -> dict[str, int]:
        with engine.connect() as conn:
            return {
                name: conn.execute(sa.text(f"SELECT count(*) FROM {name}")).scalar_one()
                for name in tables
                if name != "message_invoices" or current_revision(engine) == head_revision()
            }

    try:
        command.downgrade(cfg, "0002")
        with engine.begin() as conn:
            for statement in (
                "INSERT INTO clients (id, name, country, currency, timezone, created_at)"
                " VALUES (1, 'a', 'DK', 'DKK', 'Europe/Copenhagen', CURRENT_TIMESTAMP)",
                "INSERT INTO invoices (id, client_id, invoice_number, customer_number,"
                " invoice_date, due_date, currency, net_amount, vat_amount, gross_amount,"
                " outstanding_amount, state, first_seen_at, synced_at) VALUES (1, 1, '1', 'C1',"
                " '2026-01-01', '2026-01-10', 'DKK', 100, 25, 125, 125, 'open',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO cases (id, client_id, invoice_id, customer_number, stage, state,"
                " created_at, updated_at) VALUES (1, 1, 1, 'C1', 'reminder', 'active',"
                " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                "INSERT INTO case_events (case_id, at, actor, kind, data)"
                " VALUES (1, CURRENT_TIMESTAMP, 'x', 'started', '{}')",
                "INSERT INTO case_payments (case_id, paid_on, amount, currency, registered_by,"
                " created_at) VALUES (1, '2026-01-20', 100, 'DKK', 'x', CURRENT_TIMESTAMP)",
                "INSERT INTO messages (client_id, case_id, kind, stage, round, step, created_on,"
                " fee, fee_currency, language, recipient_name, subject, body, status, attempts)"
                " VALUES (1, 1, 'reminder_1', 'reminder', 1, 0, '2026-01-20', 10000, 'DKK',"
                " 'da', 'C1', 's', 'b', 'sent', 1)",
            ):
                conn.execute(sa.text(statement))
        before = counts()
        command.upgrade(cfg, "head")
        after_upgrade = counts()
        assert after_upgrade == {**before, "message_invoices": 1}  # the letter's invoice
        command.downgrade(cfg, "0002")
        assert counts() == before
        command.upgrade(cfg, "head")
        assert counts() == after_upgrade
    finally:
        engine.dispose()
