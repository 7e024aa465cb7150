"""hub.sync: fetching and storing a client's invoices and customers, all or nothing."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hub import hookimpl
from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import AuthError, HubError
from hub.model import ClientContext, Customer, Invoice, InvoiceState
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from hub.sync import SyncFailed, sync_client
from tests.helpers import add_client_with_plugin, registry_with
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
def setup(db: Database, box: SecretBox, ledger: RecordingPlugin):  # type: ignore[no-untyped-def]
    registry = registry_with(ledger)
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "t"})
    return registry


def _invoices(db: Database) -> dict[str, t.Invoice]:
    with db.session() as session:
        return {i.invoice_number: i for i in session.scalars(sa.select(t.Invoice))}


def test_first_sync_stores_invoices_customers_and_balances(
    db: Database,
    box: SecretBox,
    setup,
    ledger: RecordingPlugin,  # type: ignore[no-untyped-def]
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
    setup,
    ledger: RecordingPlugin,  # type: ignore[no-untyped-def]
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
    setup,  # type: ignore[no-untyped-def]
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
    setup,
    ledger: RecordingPlugin,  # type: ignore[no-untyped-def]
) -> None:
    _swap(setup, ledger, RefusingLedger)
    with pytest.raises(AuthError, match="refused"):
        sync_client(db, setup, box, "acme")
    assert _invoices(db) == {}
    with db.session() as session:
        run = session.scalars(sa.select(t.JobRun)).one()
    assert run.outcome == "failed" and "X-AgreementGrantToken" in (run.error or "")
    assert run.counts["new"] == 0


def test_duplicate_invoice_numbers_are_refused_whole(
    db: Database,
    box: SecretBox,
    setup,
    ledger: RecordingPlugin,  # type: ignore[no-untyped-def]
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
    setup,  # type: ignore[no-untyped-def]
) -> None:
    with pytest.raises(HubError, match="no client named 'ghost'") as err:
        sync_client(db, setup, box, "ghost")
    assert err.value.exit_code == 2
