"""Storage: migrations, exact money on both databases, secrets encrypted at rest."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from hub import clients
from hub.db import tables as t
from hub.db.engine import Database, create_engine, current_revision, head_revision, upgrade
from hub.errors import SecretKeyError, StorageError
from hub.secrets import SecretBox
from tests.helpers import registry_with
from tests.sample_plugins import RecordingPlugin


def _invoice_row(client_id: int, number: str, amount: Decimal) -> t.Invoice:
    return t.Invoice(
        client_id=client_id,
        invoice_number=number,
        customer_number="1",
        invoice_date=dt.date(2026, 1, 1),
        due_date=dt.date(2026, 1, 15),
        currency="DKK",
        net_amount=amount,
        vat_amount=Decimal("0.00"),
        gross_amount=amount,
        outstanding_amount=amount,
        state="open",
    )


def _client(db: Database) -> int:
    with db.session() as session:
        return clients.add_client(session, "acme", "DK").id


@pytest.mark.parametrize(
    "amount",
    ["0.01", "-0.01", "1234.50", "9999999999999999.99", "-9999999999999999.99", "0.10", "100"],
)
def test_money_round_trips_exactly(db: Database, amount: str) -> None:
    client_id = _client(db)
    with db.session() as session:
        session.add(_invoice_row(client_id, "1", Decimal(amount)))
    with db.session() as session:
        stored = session.scalar(sa.select(t.Invoice.gross_amount))
    assert isinstance(stored, Decimal)
    assert stored == Decimal(amount)
    assert str(stored) == f"{Decimal(amount):.2f}"


def test_money_sum_is_exact_in_sql(db: Database) -> None:
    client_id = _client(db)
    with db.session() as session:
        for i in range(10):
            session.add(_invoice_row(client_id, str(i), Decimal("0.10")))
    with db.session() as session:
        total = session.scalar(sa.select(sa.func.sum(t.Invoice.gross_amount)))
    assert total == Decimal("1.00")  # a float sum would be 0.9999999999999999


@settings(
    max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
@given(st.decimals(min_value=-(10**15), max_value=10**15, places=2, allow_nan=False))
def test_money_property_any_two_decimal_amount_survives(db: Database, amount: Decimal) -> None:
    with db.session() as session:
        client = session.scalar(sa.select(t.Client).where(t.Client.name == "p"))
        if client is None:
            client = clients.add_client(session, "p", "DK")
        session.execute(sa.delete(t.Invoice))
        session.add(_invoice_row(client.id, "x", amount))
    with db.session() as session:
        assert session.scalar(sa.select(t.Invoice.gross_amount)) == amount


def test_money_with_more_than_two_decimals_is_refused_not_rounded(db: Database) -> None:
    client_id = _client(db)
    with (
        pytest.raises(StorageError, match="more than two decimals; it is not rounded"),
        db.session() as session,
    ):
        session.add(_invoice_row(client_id, "1", Decimal("10.005")))
        session.flush()
    with db.session() as session:
        assert session.scalar(sa.select(sa.func.count(t.Invoice.id))) == 0


def test_money_refuses_float(db: Database) -> None:
    client_id = _client(db)
    with (
        pytest.raises(StorageError, match="is a float, not a Decimal"),
        db.session() as session,
    ):
        session.add(_invoice_row(client_id, "1", 10.5))  # type: ignore[arg-type]
        session.flush()


def test_secret_settings_are_encrypted_at_rest_and_masked(db: Database, box: SecretBox) -> None:
    registry = registry_with(RecordingPlugin("alpha"))
    with db.session() as session:
        clients.add_client(session, "acme", "DK")
        clients.enable_plugin(
            session,
            registry,
            box,
            "acme",
            "alpha",
            {"api_token": "s3cr3t-token", "page_size": "50"},
        )
    with db.engine.connect() as conn:
        rows = {k: v for k, v in conn.execute(sa.text("SELECT key, value FROM plugin_settings"))}
    assert rows["page_size"] == "50"
    assert "s3cr3t-token" not in rows["api_token"]
    assert box.decrypt(rows["api_token"], what="t") == "s3cr3t-token"
    with db.session() as session:
        cp = clients.get_client(session, "acme").plugins[0]
        shown = {s.key: s.value for s in clients.shown_settings(cp)}
    assert shown["api_token"] == "********"
    assert shown["page_size"] == "50"


def test_a_wrong_secret_key_says_so(db: Database, box: SecretBox) -> None:
    registry = registry_with(RecordingPlugin("alpha"))
    with db.session() as session:
        clients.add_client(session, "acme", "DK")
        clients.enable_plugin(session, registry, box, "acme", "alpha", {"api_token": "x"})
    other = SecretBox(Fernet.generate_key())
    with db.session() as session, pytest.raises(SecretKeyError, match="not the key"):
        clients.client_context(
            clients.get_client(session, "acme"), registry, other, today=dt.date(2026, 1, 1)
        )


def test_secret_key_file_is_created_private_and_reused(hub_env: Path) -> None:
    first = SecretBox()
    key_file = hub_env / "secret.key"
    token = first.encrypt("hello")  # the key file is made on first use
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert SecretBox().decrypt(token, what="t") == "hello"


def test_bad_hub_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_SECRET_KEY", "not-a-key")
    with pytest.raises(SecretKeyError, match="HUB_SECRET_KEY is not a Fernet key"):
        SecretBox()


def test_embedded_sqlite_upgrades_itself_on_first_use(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new' / 'hub.sqlite3'}"
    db = Database(url)
    assert current_revision(db.engine) == head_revision()
    db.dispose()


@pytest.mark.postgres
def test_postgres_must_be_upgraded_by_the_operator(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite upgrades itself")
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))
    engine.dispose()
    with pytest.raises(StorageError, match="run `hub db upgrade`"):
        Database(db_url)


@pytest.mark.postgres
def test_postgres_behind_the_hub_is_refused_until_the_operator_upgrades(db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite upgrades itself")
    _stamp(db_url, "0001")
    with pytest.raises(StorageError) as err:
        Database(db_url)
    shown = make_url(db_url).render_as_string(hide_password=True)
    assert str(err.value) == (
        f"database {shown} is at schema revision 0001, this hub needs {head_revision()}:"
        " run `hub db upgrade`"
    )


def test_unreachable_database_is_a_clear_error() -> None:
    with pytest.raises(StorageError, match="cannot open database"):
        Database("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_a_constraint_violation_is_a_storage_error_naming_the_table(db: Database) -> None:
    """As when two `hub clients add acme` run at once: both checked, both insert."""
    _client(db)
    with pytest.raises(StorageError, match="refused the change") as err, db.session() as session:
        session.add(t.Client(name="acme", country="DK", currency="DKK", timezone="Europe/Oslo"))
    message = str(err.value)
    assert "clients" in message and "nothing was stored" in message
    assert isinstance(err.value.__cause__, sa.exc.IntegrityError)
    with db.session() as session:
        assert session.scalar(sa.select(sa.func.count(t.Client.id))) == 1


def _stamp(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def test_a_database_of_a_newer_hub_is_refused_not_upgraded(db_url: str) -> None:
    _stamp(db_url, "9999_from_the_future")
    with pytest.raises(StorageError) as err:
        Database(db_url)
    assert "is at schema revision 9999_from_the_future, newer than this hub" in str(err.value)
    assert f"(which knows up to {head_revision()}): upgrade the hub" in str(err.value)
    engine = create_engine(db_url)
    with pytest.raises(StorageError, match="newer than this hub"):
        upgrade(engine)
    assert current_revision(engine) == "9999_from_the_future"  # left as it was
    engine.dispose()


def test_upgrading_an_unreachable_database_is_a_clear_error() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    with pytest.raises(StorageError, match="cannot open database postgresql"):
        upgrade(engine)
    with pytest.raises(StorageError, match="cannot open database"):
        current_revision(engine)
