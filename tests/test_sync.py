"""hub.sync: fetching and storing a client's invoices and customers, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from hub import hookimpl
from hub import sync as hub_sync
from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import AuthError, HubError, PluginError, SecretKeyError, SettingsError
from hub.model import (
    ClientContext,
    Customer,
    Invoice,
    InvoiceState,
    InvoiceStatus,
)
from hub.operations import runs
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from hub.sync import SyncFailed
from tests.helpers import add_client_with_plugin, registry_with, sync_client
from tests.sample_plugins import RecordingPlugin, invoice

D = Decimal


@pytest.fixture
def ledger() -> RecordingPlugin:
    plugin = RecordingPlugin("alpha")
    for number, customer, gross in [
        ("1", "C1", "100.00"),
        ("2", "C1", "250.50"),
        ("3", "C2", "1000.00"),
    ]:
        plugin.invoices[number] = invoice(number, customer, gross)
    plugin.customers["C1"] = Customer("C1", "Østergaard ApS", email="a@example.dk")
    plugin.customers["C2"] = Customer("C2", "Blåbær I/S")
    return plugin


@pytest.fixture
def setup(db: Database, box: SecretBox, ledger: RecordingPlugin) -> PluginRegistry:
    registry = registry_with(ledger)
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "t"})
    return registry


def _invoices(db: Database) -> dict[str, t.Invoice]:
    with db.session() as session:
        return {i.invoice_number: i for i in session.scalars(sa.select(t.Invoice))}


def _runs(db: Database) -> list[t.JobRun]:
    with db.session() as session:
        return list(session.scalars(sa.select(t.JobRun).order_by(t.JobRun.id)))


def _rows(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every column of every invoice and customer row, to compare before and after."""
    snapshot: dict[str, list[dict[str, Any]]] = {}
    with db.engine.connect() as conn:
        for table in (t.Invoice.__table__, t.Customer.__table__):
            rows = conn.execute(sa.select(table).order_by(table.c.id)).mappings()
            snapshot[table.name] = [dict(r) for r in rows]
    return snapshot


def test_first_sync_stores_invoices_customers_and_balances(
    db: Database,
    box: SecretBox,
    setup: PluginRegistry,
    ledger: RecordingPlugin,
) -> None:
    report = sync_client(db, setup, box, "acme")
    assert (report.new, report.updated, report.unchanged, report.failed) == (3, 0, 0, 0)
    assert report.customers == 2 and report.balances == 2
    stored = _invoices(db)
    assert stored["2"].gross_amount == D("250.50") and stored["2"].state == "open"
    with db.session() as session:
        customers = {c.customer_number: c for c in session.scalars(sa.select(t.Customer))}
    assert customers["C1"].name == "Østergaard ApS"
    assert customers["C1"].balance == D("350.50")
    assert customers["C2"].balance_currency == "DKK"


def test_second_sync_counts_unchanged_updated_settled_and_unknown(
    db: Database,
    box: SecretBox,
    setup: PluginRegistry,
    ledger: RecordingPlugin,
) -> None:
    sync_client(db, setup, box, "acme")
    ledger.invoices["2"] = invoice("2", "C1", "250.50", outstanding_amount=D("50.50"))
    del ledger.invoices["1"]
    ledger.settled["1"] = InvoiceState.PAID
    del ledger.invoices["3"]  # gone without trace: the system no longer knows it
    ledger.invoices["4"] = invoice("4", "C2", "10.00")
    ledger.calls.clear()

    report = sync_client(db, setup, box, "acme")

    assert (report.new, report.updated, report.unchanged) == (1, 1, 0)
    assert (report.settled, report.unknown) == (1, 1)
    stored = _invoices(db)
    assert stored["1"].state == "paid" and stored["1"].outstanding_amount == D("0.00")
    assert stored["2"].outstanding_amount == D("50.50")
    assert stored["3"].state == "unknown" and stored["3"].outstanding_amount == D("1000.00")
    status_calls = [c for c in ledger.calls if c[0] == "fetch_invoice_status"]
    assert len(status_calls) == 1  # one batch, not one call per invoice
    assert sorted(status_calls[0][2]) == ["1", "3"]


def test_repeated_sync_changes_nothing(
    db: Database,
    box: SecretBox,
    setup: PluginRegistry,
) -> None:
    sync_client(db, setup, box, "acme")
    report = sync_client(db, setup, box, "acme")
    assert (report.new, report.updated, report.unchanged, report.settled) == (0, 0, 3, 0)
    assert len(_invoices(db)) == 3


class RefusingLedger(RecordingPlugin):
    """Answers invoices, then refuses the credentials on the customers call."""

    @hookimpl
    def fetch_customers(
        self, ctx: ClientContext, customer_numbers: Sequence[str]
    ) -> list[Customer]:
        raise AuthError("e-conomic refused X-AgreementGrantToken (401)")


class DoublingLedger(RecordingPlugin):
    """Lists one invoice number twice."""

    @hookimpl
    def fetch_open_invoices(self, ctx: ClientContext) -> list[Invoice]:
        return [*self.invoices.values(), invoice("1", "C9", "5.00")]


def _swap(registry: PluginRegistry, ledger: RecordingPlugin, cls: type[RecordingPlugin]) -> None:
    replacement = cls("alpha")
    replacement.invoices = ledger.invoices
    replacement.customers = ledger.customers
    registry.pm.unregister(name="alpha")
    registry.register("alpha", replacement)


def test_a_plugin_failure_stores_nothing_and_records_the_run(
    db: Database,
    box: SecretBox,
    setup: PluginRegistry,
    ledger: RecordingPlugin,
) -> None:
    _swap(setup, ledger, RefusingLedger)
    with pytest.raises(SyncFailed, match="stored nothing: e-conomic refused") as err:
        sync_client(db, setup, box, "acme")
    assert isinstance(err.value.__cause__, AuthError)
    assert err.value.exit_code == 1
    assert err.value.report.errors == ["e-conomic refused X-AgreementGrantToken (401)"]
    assert _invoices(db) == {}
    run = _runs(db)[-1]
    assert run.outcome == "failed" and "X-AgreementGrantToken" in (run.error or "")
    assert run.counts["new"] == 0


def test_duplicate_invoice_numbers_are_refused_whole(
    db: Database,
    box: SecretBox,
    setup: PluginRegistry,
    ledger: RecordingPlugin,
) -> None:
    _swap(setup, ledger, DoublingLedger)
    with pytest.raises(SyncFailed, match="stored nothing") as err:
        sync_client(db, setup, box, "acme")
    assert err.value.report.failed == 1
    assert "invoice 1: listed twice" in err.value.report.errors
    assert _invoices(db) == {}


def test_sync_of_unknown_client_is_an_input_error(
    db: Database,
    box: SecretBox,
    setup: PluginRegistry,
) -> None:
    with pytest.raises(HubError, match="no client named 'ghost'") as err:
        sync_client(db, setup, box, "ghost")
    assert err.value.exit_code == 2


# --- every failure is recorded and carries the report -----------------------------------


class BuggyLedger(RecordingPlugin):
    """A plugin bug: a KeyError escapes from fetch_customers."""

    @hookimpl
    def fetch_customers(
        self, ctx: ClientContext, customer_numbers: Sequence[str]
    ) -> list[Customer]:
        return [self.customers["no such customer"]]


def test_a_plugin_bug_fails_the_sync_as_a_plugin_error_and_is_recorded(
    db: Database, box: SecretBox, setup: PluginRegistry, ledger: RecordingPlugin
) -> None:
    _swap(setup, ledger, BuggyLedger)
    with pytest.raises(SyncFailed, match="plugin 'alpha' failed: KeyError") as err:
        sync_client(db, setup, box, "acme")
    cause = err.value.__cause__
    assert isinstance(cause, PluginError) and cause.plugin == "alpha"
    assert isinstance(cause.__cause__, KeyError)
    assert err.value.exit_code == 1
    assert _invoices(db) == {}
    [run] = _runs(db)
    assert run.outcome == "failed" and "KeyError" in (run.error or "")


def test_a_failure_in_the_hub_itself_is_recorded_too(
    db: Database, box: SecretBox, setup: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(hub_sync, "_store_customers", broken)
    with pytest.raises(SyncFailed, match="stored nothing: RuntimeError: disk on fire") as err:
        sync_client(db, setup, box, "acme")
    assert err.value.report.new == 0  # _store_invoices ran, but nothing was stored
    assert _invoices(db) == {}
    assert [r.outcome for r in _runs(db)] == ["failed"]


def test_a_missing_setting_fails_the_sync_is_recorded_and_keeps_its_exit_code(
    db: Database, box: SecretBox, setup: PluginRegistry
) -> None:
    with db.session() as session:
        cp = session.scalars(sa.select(t.ClientPlugin)).one()
        for setting in list(cp.settings):
            if setting.key == "api_token":
                cp.settings.remove(setting)
    with pytest.raises(SyncFailed, match="needs these settings") as err:
        sync_client(db, setup, box, "acme")
    assert isinstance(err.value.__cause__, SettingsError)
    assert err.value.exit_code == 2
    assert err.value.report.plugin == "alpha"
    [run] = _runs(db)
    assert run.outcome == "failed" and "api_token" in (run.error or "")


def test_a_wrong_secret_key_and_an_uninstalled_plugin_are_recorded(
    db: Database, box: SecretBox, setup: PluginRegistry
) -> None:
    with pytest.raises(SyncFailed, match="cannot decrypt") as err:
        sync_client(db, setup, SecretBox(Fernet.generate_key()), "acme")
    assert isinstance(err.value.__cause__, SecretKeyError)
    empty = registry_with()
    with pytest.raises(SyncFailed, match="no plugin named 'alpha' is installed") as err:
        sync_client(db, empty, box, "acme")
    assert err.value.exit_code == 2
    assert [r.outcome for r in _runs(db)] == ["failed", "failed"]


def test_the_ok_run_is_recorded_with_the_data_in_one_transaction(
    db: Database, box: SecretBox, setup: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = runs._job_run

    def unrecordable(client_id: int, started: Any, outcome: str, report: Any) -> t.JobRun:
        run = real(client_id, started, outcome, report)
        if outcome == "ok":
            run.job = None  # type: ignore[assignment]  # NOT NULL: the commit fails
        return run

    monkeypatch.setattr(runs, "_job_run", unrecordable)
    with pytest.raises(SyncFailed):
        sync_client(db, setup, box, "acme")
    assert _invoices(db) == {}  # the data went with the run that could not be recorded
    assert [r.outcome for r in _runs(db)] == ["failed"]
    monkeypatch.setattr(runs, "_job_run", real)
    report = sync_client(db, setup, box, "acme")
    [ok] = [r for r in _runs(db) if r.outcome == "ok"]
    assert ok.counts == report.counts and ok.counts["new"] == 3


def test_a_failing_second_sync_leaves_the_first_syncs_rows_exactly(
    db: Database,
    box: SecretBox,
    setup: PluginRegistry,
    ledger: RecordingPlugin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sync_client(db, setup, box, "acme")
    before = _rows(db)
    assert len(before["invoices"]) == 3 and len(before["customers"]) == 2
    # The second sync changes everything, then fails after the invoices were written.
    del ledger.invoices["1"]
    ledger.settled["1"] = InvoiceState.PAID
    ledger.invoices["2"] = invoice("2", "C1", "250.50", outstanding_amount=D("0.50"))
    ledger.invoices["9"] = invoice("9", "C3", "9.00")
    ledger.customers["C1"] = Customer("C1", "Renamed ApS")

    def fail(*args: object) -> None:
        raise RuntimeError("crash after the invoices were written")

    monkeypatch.setattr(hub_sync, "_store_customers", fail)
    with pytest.raises(SyncFailed):
        sync_client(db, setup, box, "acme")
    assert _rows(db) == before
    # and a plugin failure at the end of the fetch leaves them too
    monkeypatch.undo()
    _swap(setup, ledger, RefusingLedger)
    with pytest.raises(SyncFailed):
        sync_client(db, setup, box, "acme")
    assert _rows(db) == before


# --- what the hub refuses before storing -------------------------------------------------


class ExactLedger(RecordingPlugin):
    """Answers statuses and balances as set in ``status_amounts`` and ``balances``."""

    def __init__(self, name: str, capabilities: frozenset[str] | None = None) -> None:
        super().__init__(name, capabilities)
        self.status_amounts: dict[str, Decimal] = {}

    @hookimpl
    def fetch_invoice_status(
        self, ctx: ClientContext, invoice_numbers: Sequence[str]
    ) -> list[InvoiceStatus]:
        answer = super().fetch_invoice_status(ctx, invoice_numbers)
        return [
            InvoiceStatus(s.invoice_number, s.state, self.status_amounts[s.invoice_number], "DKK")
            if s.invoice_number in self.status_amounts
            else s
            for s in answer
        ]


def _exact(setup: PluginRegistry, ledger: RecordingPlugin) -> ExactLedger:
    exact = ExactLedger("alpha")
    exact.invoices, exact.customers, exact.settled = (
        ledger.invoices,
        ledger.customers,
        ledger.settled,
    )
    setup.pm.unregister(name="alpha")
    setup.register("alpha", exact)
    return exact


def test_status_amounts_and_balances_with_more_than_two_decimals_are_refused(
    db: Database, box: SecretBox, setup: PluginRegistry, ledger: RecordingPlugin
) -> None:
    exact = _exact(setup, ledger)
    sync_client(db, setup, box, "acme")
    before = _rows(db)
    del exact.invoices["1"]
    exact.settled["1"] = InvoiceState.PAID
    exact.status_amounts["1"] = D("0.001")
    exact.balances["C2"] = D("1000.005")
    exact.invoices["4"] = invoice("4", "C2", "10.00")
    with pytest.raises(SyncFailed, match="2 record.s. refused") as err:
        sync_client(db, setup, box, "acme")
    assert err.value.report.errors == [
        "status of invoice 1: outstanding_amount 0.001 has > 2 decimals",
        "balance of customer C2: 1000.005 has > 2 decimals",
    ]
    assert err.value.report.failed == 2 and err.value.report.new == 0
    assert _rows(db) == before  # all or nothing: invoice 4 was not stored either


def test_an_amount_too_large_for_the_database_is_refused(
    db: Database, box: SecretBox, setup: PluginRegistry, ledger: RecordingPlugin
) -> None:
    exact = _exact(setup, ledger)
    exact.balances["C1"] = D("1E+17")
    with pytest.raises(SyncFailed, match="balance of customer C1: .* is too large"):
        sync_client(db, setup, box, "acme")
    assert _invoices(db) == {}


@pytest.mark.parametrize(
    ("outstanding", "why"),
    [
        ("0.00", "outstanding_amount 0.00 is not positive"),
        ("-5.00", "outstanding_amount -5.00 is not positive"),
        ("125.01", "outstanding_amount 125.01 is more than gross_amount 125.00"),
    ],
)
def test_an_open_invoice_with_an_impossible_outstanding_amount_is_refused(
    db: Database,
    box: SecretBox,
    setup: PluginRegistry,
    ledger: RecordingPlugin,
    outstanding: str,
    why: str,
) -> None:
    ledger.invoices["5"] = invoice("5", "C1", "125.00", outstanding_amount=D(outstanding))
    with pytest.raises(SyncFailed, match="1 record.s. refused") as err:
        sync_client(db, setup, box, "acme")
    assert err.value.report.errors == [
        f"invoice 5: {why}"
        + (", but the invoice is in the list of open invoices" if "positive" in why else "")
    ]
    assert _invoices(db) == {}


def test_a_still_open_invoice_that_left_the_list_counts_updated_only_if_its_amount_moved(
    db: Database, box: SecretBox, setup: PluginRegistry, ledger: RecordingPlugin
) -> None:
    exact = _exact(setup, ledger)
    sync_client(db, setup, box, "acme")
    # Invoices 1 and 2 drop out of the open list, but their status says OPEN.
    held = {n: exact.invoices.pop(n) for n in ("1", "2")}

    class StillOpen(ExactLedger):
        @hookimpl
        def fetch_invoice_status(
            self, ctx: ClientContext, invoice_numbers: Sequence[str]
        ) -> list[InvoiceStatus]:
            amounts = {"1": held["1"].outstanding_amount, "2": D("200.00")}
            return [InvoiceStatus(n, InvoiceState.OPEN, amounts[n], "DKK") for n in invoice_numbers]

    still = StillOpen("alpha")
    still.invoices, still.customers = exact.invoices, exact.customers
    setup.pm.unregister(name="alpha")
    setup.register("alpha", still)
    report = sync_client(db, setup, box, "acme")
    assert (report.updated, report.unchanged, report.settled) == (1, 2, 0)
    stored = _invoices(db)
    assert stored["1"].outstanding_amount == D("100.00") and stored["1"].state == "open"
    assert stored["2"].outstanding_amount == D("200.00") and stored["2"].state == "open"


# --- customers the plugin did not return ---------------------------------------------------


def test_customers_without_contact_data_are_reported_not_fatal(
    db: Database, box: SecretBox, setup: PluginRegistry, ledger: RecordingPlugin
) -> None:
    del ledger.customers["C2"]
    report = sync_client(db, setup, box, "acme")
    assert report.new == 3  # C2's invoice is stored all the same
    assert report.missing_customers == ["C2"]
    assert report.as_dict()["missing_customers"] == ["C2"]
    # C2's balance was fetched, but there is no customer row to keep it in
    assert (report.customers, report.balances) == (1, 1)
    with db.session() as session:
        numbers = session.scalars(sa.select(t.Customer.customer_number)).all()
    assert numbers == ["C1"]


def test_a_known_customer_not_returned_keeps_its_row_and_gets_its_balance(
    db: Database, box: SecretBox, setup: PluginRegistry, ledger: RecordingPlugin
) -> None:
    sync_client(db, setup, box, "acme")
    ledger.invoices["3"] = invoice("3", "C2", "1000.00", outstanding_amount=D("400.00"))
    del ledger.customers["C2"]
    report = sync_client(db, setup, box, "acme")
    assert report.missing_customers == ["C2"]
    assert (report.customers, report.balances) == (1, 2)
    with db.session() as session:
        c2 = session.scalars(sa.select(t.Customer).where(t.Customer.customer_number == "C2")).one()
    assert c2.name == "Blåbær I/S" and c2.balance == D("400.00")
