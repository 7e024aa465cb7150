"""Limits at the boundaries (issue 16): what the database cannot hold is refused where it
enters, naming the thing, the field and the limit, alike on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub import hookimpl
from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import InvalidDataError, SettingsError
from hub.model import (
    ClientContext,
    Customer,
    CustomerBalance,
    Invoice,
    InvoiceState,
    InvoiceStatus,
)
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from hub.sync import SyncFailed
from hub.toolkit.fields import Record
from tests.helpers import add_client_with_plugin, registry_with, sync_client
from tests.sample_plugins import RecordingPlugin, invoice

D = Decimal
URL = "https://vendor.example/api"


class VendorPlugin(RecordingPlugin):
    """Reads its customers and invoices from raw vendor records (``raw_customers``,
    ``raw_invoices``) at each call, through the toolkit, as a real plugin does."""

    def __init__(self) -> None:
        super().__init__("vendor")
        self.raw_customers: list[dict[str, Any]] = []
        self.raw_invoices: list[dict[str, Any]] = []

    @hookimpl
    def fetch_open_invoices(self, ctx: ClientContext) -> list[Invoice]:
        found = []
        for n, raw in enumerate(self.raw_invoices):
            rec = Record(raw, f"{URL}/invoices#{n}", plugin=self.name)
            found.append(
                rec.build(lambda rec=rec: invoice(rec.text("number"), rec.text("customer")))
            )
        return found

    @hookimpl
    def fetch_customers(
        self, ctx: ClientContext, customer_numbers: Sequence[str]
    ) -> list[Customer]:
        found = []
        for n, raw in enumerate(self.raw_customers):
            rec = Record(raw, f"{URL}/customers#{n}", plugin=self.name)
            if rec.text("number") in customer_numbers:
                found.append(rec.build(lambda rec=rec: _customer_of(rec)))
        return found


def _customer_of(rec: Record) -> Customer:
    raw = rec.value
    return Customer(
        rec.text("number"), raw["name"], city=raw.get("city"), address=raw.get("address")
    )


@pytest.fixture
def vendor() -> VendorPlugin:
    plugin = VendorPlugin()
    plugin.raw_invoices = [{"number": "1001", "customer": "C1"}]
    plugin.raw_customers = [{"number": "C1", "name": "Østergaard ApS", "city": "Århus"}]
    return plugin


@pytest.fixture
def registry(db: Database, box: SecretBox, vendor: VendorPlugin) -> PluginRegistry:
    registry = registry_with(vendor)
    add_client_with_plugin(db, registry, box, "acme", "vendor", {"api_token": "t"})
    return registry


def _rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    with db.engine.connect() as conn:
        return {
            table.name: [
                dict(r) for r in conn.execute(sa.select(table).order_by(table.c.id)).mappings()
            ]
            for table in (t.Invoice.__table__, t.Customer.__table__)
        }


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"name": "N" * 256},
            ["customers#0", "Customer.name", "256 characters", "255", "customer 'C1'"],
        ),
        ({"name": "Nul\x00 ApS"}, ["customers#0", "Customer.name", "'\\x00'", "customer 'C1'"]),
        ({"city": "Århus\nC"}, ["customers#0", "Customer.city", "'\\n'", "one line"]),
        ({"address": "Vej 1\x00"}, ["customers#0", "Customer.address", "'\\x00'"]),
    ],
)
def test_a_customer_the_database_cannot_hold_fails_the_sync_naming_plugin_row_field_and_limit(
    db: Database,
    box: SecretBox,
    registry: PluginRegistry,
    vendor: VendorPlugin,
    change: dict[str, str],
    expected: list[str],
) -> None:
    sync_client(db, registry, box, "acme")
    before = _rows(db)
    vendor.raw_customers[0].update(change)
    with pytest.raises(SyncFailed) as err:
        sync_client(db, registry, box, "acme")
    message = str(err.value)
    assert "plugin 'vendor'" in message
    for part in expected:
        assert part in message, (part, message)
    assert _rows(db) == before  # nothing stored, alike on SQLite and PostgreSQL


def test_an_invoice_number_longer_than_its_column_fails_the_sync_naming_the_invoice(
    db: Database, box: SecretBox, registry: PluginRegistry, vendor: VendorPlugin
) -> None:
    long_number = "9" * 65
    vendor.raw_invoices.append({"number": long_number, "customer": "C1"})
    with pytest.raises(SyncFailed) as err:
        sync_client(db, registry, box, "acme")
    message = str(err.value)
    for part in ("plugin 'vendor'", "invoices#1", "Invoice.invoice_number", "65", "64"):
        assert part in message, (part, message)
    assert _rows(db) == {"invoices": [], "customers": []}


def test_texts_as_long_as_their_columns_and_multi_line_addresses_are_stored(
    db: Database, box: SecretBox, registry: PluginRegistry, vendor: VendorPlugin
) -> None:
    number = "7" * 64
    vendor.raw_invoices = [{"number": number, "customer": "C1"}]
    vendor.raw_customers[0].update({"name": "N" * 255, "address": "Vej 1\nst. tv.\t(bag)"})
    report = sync_client(db, registry, box, "acme")
    assert (report.new, report.customers) == (1, 1)
    rows = _rows(db)
    assert rows["invoices"][0]["invoice_number"] == number
    assert rows["customers"][0]["name"] == "N" * 255
    assert rows["customers"][0]["address"] == "Vej 1\nst. tv.\t(bag)"


def _string_columns(table: type[t.Base], record: type[Any]) -> list[tuple[str, int]]:
    names = {f.name for f in dataclasses.fields(record)}
    return [
        (c.name, c.type.length)
        for c in table.__table__.columns
        if c.name in names and isinstance(c.type, sa.String) and c.type.length
    ]


def _customer(**kw: Any) -> Customer:
    return Customer(**{"customer_number": "C1", "name": "Æble ApS", **kw})


@pytest.mark.parametrize(
    ("table", "record", "make"),
    [
        (t.Customer, Customer, _customer),
        (t.Invoice, Invoice, lambda **kw: invoice("1", **kw)),
    ],
    ids=["customer", "invoice"],
)
def test_the_model_refuses_one_character_more_than_each_table_column_holds(
    table: type[t.Base], record: type[Any], make: Any
) -> None:
    """The limits are the tables' own: every String column a record is stored in is checked
    at its length, read from the table, not from a copy of the number."""
    columns = _string_columns(table, record)
    assert columns  # the test reads something
    for name, length in columns:
        if name == "currency":
            continue  # exactly three capitals, checked as a code
        value = "a@" + "x" * (length - 2) if name == "email" else "x" * length
        make(**{name: value})  # as long as the column: accepted
        with pytest.raises(InvalidDataError, match=rf"{record.__name__}\.{name}: .* {length} "):
            make(**{name: value + "x"})


def test_status_and_balance_numbers_are_checked_at_their_columns() -> None:
    length = t.Invoice.__table__.c.invoice_number.type.length
    with pytest.raises(InvalidDataError, match=rf"InvoiceStatus\.invoice_number: .* {length} "):
        InvoiceStatus("1" * (length + 1), InvoiceState.UNKNOWN, None, None)
    length = t.Customer.__table__.c.customer_number.type.length
    with pytest.raises(InvalidDataError, match=rf"CustomerBalance\.customer_number: .*{length} "):
        CustomerBalance("C" * (length + 1), D("1.00"), "DKK")


def test_the_model_refuses_dates_the_hub_cannot_compute_with() -> None:
    with pytest.raises(InvalidDataError, match=r"Invoice\.due_date: 9999-12-31 is outside"):
        invoice("1", due_date=dt.date(9999, 12, 31))


# -- the CLI: flows, rules, names, the clock and the database URL ------------------------------


@pytest.fixture
def hub(db_url: str, capsys: pytest.CaptureFixture[str]) -> Any:
    """``hub --db <db_url> ...`` in this process: (exit code, stdout, stderr)."""
    from hub.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["--db", db_url, *args])
        out, err = capsys.readouterr()
        return code, out, " ".join(err.split())

    return run


def _count(db_url: str, table: str) -> int:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_a_flow_step_days_beyond_ten_years_is_refused_and_the_flow_kept(hub: Any) -> None:
    assert hub("clients", "add", "acme", "--country", "DK")[0] == 0
    code, _, err = hub(
        "flows", "set", "--client", "acme", "--stage", "reminder",
        "--step", "99999999;due_date;reminder;100",
    )  # fmt: skip
    assert code == 2, err
    assert "reminder step 1" in err and "99999999" in err and "3650" in err
    assert "Traceback" not in err
    code, out, _ = hub("flows", "show", "--client", "acme", "--json")
    assert code == 0 and '"default": true' in out.replace("\n", " ").replace("  ", " ")
    # Ten years is still a flow; the cases list works with it.
    code, _, err = hub(
        "flows", "set", "--client", "acme", "--stage", "reminder",
        "--step", "3650;due_date;reminder;100",
    )  # fmt: skip
    assert code == 0, err
    assert hub("cases", "list", "--client", "acme")[0] == 0


def test_a_flow_stored_with_an_impossible_offset_is_named_not_an_overflow(
    hub: Any, db_url: str
) -> None:
    """A flow stored before the check (an older hub) fails its client's commands clearly."""
    assert hub("clients", "add", "acme", "--country", "DK")[0] == 0
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(t.FlowStepRow.__table__).values(
                client_id=1, stage="reminder", position=0, offset_days=99999999,
                anchor="due_date", template="reminder", fee=D("100.00"),
            )
        )  # fmt: skip
    engine.dispose()
    code, _, err = hub("flows", "show", "--client", "acme")
    assert code == 2 and "step 1 of its reminder flow is 99999999 days" in err, err


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("creditor_name=Acme\nEvil ApS", "one line"),
        ("creditor_name=" + "A" * 256, "256 characters long, more than the 255"),
        ("sender_email=a@b.dk\r\nBcc: x@y.dk", "one line"),
        ("sender_email=not an address", "not an e-mail address"),
        ("payment_details=Konto 1234\x00", "'\\x00'"),
        ("excluded_customers=C1," + "9" * 65, "65 characters long"),
        ("start_date=9999-12-31", "outside the dates the hub works with"),
    ],
)
def test_rules_letters_cannot_print_are_refused_and_nothing_changes(
    hub: Any, rule: str, expected: str
) -> None:
    assert hub("clients", "add", "acme", "--country", "DK")[0] == 0
    assert hub("rules", "set", "acme", "creditor_name=Acme ApS")[0] == 0
    code, _, err = hub("rules", "set", "acme", "auto_start=true", rule)
    assert code == 2, err
    assert rule.split("=")[0] in err and expected in err, err
    code, out, _ = hub("rules", "show", "acme", "--json")
    assert '"creditor_name": "Acme ApS"' in out and '"auto_start": false' in out


def test_multi_line_payment_details_are_kept(hub: Any) -> None:
    assert hub("clients", "add", "acme", "--country", "DK")[0] == 0
    assert hub("rules", "set", "acme", "payment_details=Reg. 1234\nKonto 5678901")[0] == 0
    code, out, _ = hub("rules", "show", "acme", "--json")
    assert code == 0 and '"payment_details": "Reg. 1234\\nKonto 5678901"' in out


@pytest.mark.parametrize(
    "args",
    [
        ("clients", "add", "nl\n", "--country", "NO"),
        ("clients", "add", "nl", "--country", "NO", "--currency", "EUR\n"),
    ],
)
def test_a_trailing_newline_is_not_part_of_a_valid_name_or_currency(
    hub: Any, db_url: str, args: tuple[str, ...]
) -> None:
    code, _, err = hub(*args)
    assert code == 2 and ("'nl\\n'" in err or "'EUR\\n'" in err), err
    assert _count(db_url, "clients") == 0


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_today_the_hub_cannot_compute_with_runs_nothing(hub: Any, db_url: str, day: str) -> None:
    assert hub("clients", "add", "acme", "--country", "DK")[0] == 0
    code, _, err = hub("--today", day, "sync", "acme")
    assert code == 2 and f"--today: {day} is outside the dates the hub works with" in err, err
    assert "Traceback" not in err
    assert _count(db_url, "job_runs") == 0  # nothing ran, nothing was recorded


def test_a_fixed_day_out_of_range_is_refused_by_the_clock_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hub.clock import Clock
    from hub.errors import InputError

    with pytest.raises(InputError, match="9999-12-31 is outside the dates the hub works with"):
        Clock(fixed=dt.date(9999, 12, 31))
    monkeypatch.setenv("HUB_TODAY", "9999-12-31")
    with pytest.raises(InputError, match="HUB_TODAY: 9999-12-31 is outside"):
        Clock.from_environment()
    assert Clock(fixed=dt.date(2999, 12, 31)).today("Europe/Copenhagen") == dt.date(2999, 12, 31)


def test_a_sqlite_database_url_naming_a_missing_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.cli.main import main

    mistyped = tmp_path / "hbu.sqlite3"
    url = f"sqlite:///{mistyped}"
    assert main(["--db", url, "clients", "add", "acme", "--country", "DK"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert f"the SQLite file {mistyped} does not exist" in err and "db upgrade" in err, err
    assert not mistyped.exists()
    monkeypatch.setenv("HUB_DATABASE_URL", url)
    assert main(["clients", "list"]) == 2
    assert not mistyped.exists()
    # `hub db upgrade` creates it; then it is used.
    assert main(["db", "upgrade"]) == 0
    assert mistyped.exists()
    assert main(["clients", "add", "acme", "--country", "DK"]) == 0


def test_the_default_database_is_still_made_on_first_use(hub_env: Path) -> None:
    from hub.cli.main import main

    assert not hub_env.exists()
    assert main(["clients", "add", "acme", "--country", "DK"]) == 0
    assert (hub_env / "hub.sqlite3").exists()


@pytest.mark.parametrize("raw", ["https://host.example/a b", "https://host.example\nx", "ftp://x"])
def test_a_url_setting_is_checked_whole(raw: str) -> None:
    from hub.model import SettingSpec
    from hub.toolkit.settings import SettingsReader

    spec = SettingSpec("base_url", type="url")
    with pytest.raises(ValueError, match="must be an http"):
        spec.parse(raw)
    with pytest.raises(SettingsError, match="must be an http"):
        SettingsReader([SettingSpec("base_url")], {"base_url": raw}).url("base_url")
    assert spec.parse("https://host.example/api/v2/") == "https://host.example/api/v2"
