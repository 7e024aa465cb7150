"""One test per hook of the contract (hub/hookspecs.py), as the core calls it.

test_meta.py fails if a hook has no ``test_hook_<name>`` here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pytest

from hub import hookimpl
from hub.db.engine import Database
from hub.errors import CapabilityMissing, InvalidDataError
from hub.model import (
    ClientContext,
    CreditNoteRequest,
    Customer,
    DraftLine,
    InvoiceDraft,
    InvoiceState,
    InvoiceStatus,
    JournalEntry,
    JournalLine,
)
from hub.plugins import ClientPlugin
from hub.secrets import SecretBox
from tests.helpers import add_client_with_plugin, context_for, registry_with
from tests.sample_plugins import RecordingPlugin, invoice

D = Decimal
DAY = dt.date(2026, 11, 23)


@pytest.fixture
def ledger() -> RecordingPlugin:
    return RecordingPlugin("alpha")


@pytest.fixture
def plugin(db: Database, box: SecretBox, ledger: RecordingPlugin) -> ClientPlugin:
    registry = registry_with(ledger)
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "Zq9-secret-value"})
    return registry.for_client(context_for(db, registry, box, "acme"))


def test_hook_system_info(plugin: ClientPlugin) -> None:
    info = plugin.info
    assert (info.name, info.version) == ("alpha", "1.0")
    assert "credit_note" in info.capabilities
    token = info.setting("api_token")
    assert token is not None and token.secret and token.required
    # defaults from the schema reach the plugin; secrets are masked in the context's repr
    assert plugin.ctx.settings["page_size"] == "100"
    assert "Zq9-secret-value" not in repr(plugin.ctx)
    assert plugin.ctx.settings["api_token"] == "Zq9-secret-value"


def test_hook_fetch_open_invoices(plugin: ClientPlugin, ledger: RecordingPlugin) -> None:
    ledger.invoices["7"] = invoice("7", gross="99.95")
    got = plugin.fetch_open_invoices()
    assert [(i.invoice_number, i.gross_amount, i.currency) for i in got] == [
        ("7", D("99.95"), "DKK")
    ]


def test_hook_fetch_invoice_status(plugin: ClientPlugin, ledger: RecordingPlugin) -> None:
    ledger.invoices["1"] = invoice("1")
    ledger.settled["2"] = InvoiceState.CREDITED
    statuses = {s.invoice_number: s for s in plugin.fetch_invoice_status(["1", "2", "404"])}
    assert statuses["1"].state is InvoiceState.OPEN
    assert statuses["2"].state is InvoiceState.CREDITED
    assert statuses["2"].outstanding_amount == D("0.00")
    assert statuses["404"].state is InvoiceState.UNKNOWN
    assert [c[0] for c in ledger.calls] == ["fetch_invoice_status"]  # one batched call


class Forgetful(RecordingPlugin):
    @hookimpl
    def fetch_invoice_status(
        self, ctx: ClientContext, invoice_numbers: Sequence[str]
    ) -> list[InvoiceStatus]:
        return super().fetch_invoice_status(ctx, invoice_numbers)[:-1]


def test_hook_fetch_invoice_status_must_answer_every_number(plugin: ClientPlugin) -> None:
    registry = plugin._registry
    registry.pm.unregister(name="alpha")
    registry.register("alpha", Forgetful("alpha"))
    with pytest.raises(InvalidDataError, match="gave no status for 1 invoice"):
        plugin.fetch_invoice_status(["1", "2"])


def test_hook_fetch_customer_balance(plugin: ClientPlugin, ledger: RecordingPlugin) -> None:
    ledger.invoices["1"] = invoice("1", "C1", "100.00")
    ledger.invoices["2"] = invoice("2", "C1", "0.10")
    balances = plugin.fetch_customer_balance(["C1", "C404"])
    assert [(b.customer_number, b.balance) for b in balances] == [("C1", D("100.10"))]


def test_hook_fetch_customers(plugin: ClientPlugin, ledger: RecordingPlugin) -> None:
    ledger.customers["C1"] = Customer("C1", "Ærø Færgeservice", email="f@aeroe.dk", language="da")
    got = plugin.fetch_customers(["C1", "C404"])
    assert [(c.name, c.language) for c in got] == [("Ærø Færgeservice", "da")]


def test_hook_create_credit_note(plugin: ClientPlugin, ledger: RecordingPlugin) -> None:
    request = CreditNoteRequest("creditnote:case-1", "1", "C1", DAY, "DKK", D("125.00"), "error")
    first = plugin.create_credit_note(request)
    again = plugin.create_credit_note(request)
    assert first == again == "alpha-1"
    assert len(ledger.writes) == 1


def test_hook_post_journal_lines(plugin: ClientPlugin, ledger: RecordingPlugin) -> None:
    entry = JournalEntry(
        "writeoff:case-1",
        DAY,
        "DKK",
        "Tab på debitor",
        (
            JournalLine(D("-125.00"), "Faktura 1", customer_number="C1"),
            JournalLine(D("100.00"), "Tab", account="3720"),
            JournalLine(D("25.00"), "Moms", account="6902"),
        ),
    )
    assert plugin.post_journal_lines(entry) == plugin.post_journal_lines(entry)
    assert ledger.calls[0][2].lines[1].account == "3720"


def test_hook_create_invoice(plugin: ClientPlugin, ledger: RecordingPlugin) -> None:
    draft = InvoiceDraft(
        "recurring:1:1",
        "invoice",
        "C1",
        DAY,
        DAY,
        "DKK",
        (DraftLine("Abonnement", D("1"), D("5000.00")),),
    )
    order = InvoiceDraft(
        "recurring:2:1", "order", "C1", DAY, DAY, "DKK", (DraftLine("Service", D("2"), D("10")),)
    )
    assert plugin.create_invoice(draft) == "alpha-1"
    assert plugin.create_invoice(order) == "alpha-2"
    assert plugin.create_invoice(draft) == "alpha-1"


class Blank(RecordingPlugin):
    """Answers every write with a reference that is no reference."""

    def __init__(self, name: str, reference: str | None) -> None:
        super().__init__(name)
        self.reference = reference

    def _write(self, hook: str, ctx: ClientContext, key: str, payload: object) -> str:
        self.calls.append((hook, ctx, payload))
        return self.reference  # type: ignore[return-value]


@pytest.mark.parametrize("reference", [None, "", "  "])
def test_write_hooks_refuse_an_empty_reference(plugin: ClientPlugin, reference: str | None) -> None:
    registry = plugin._registry
    registry.pm.unregister(name="alpha")
    registry.register("alpha", Blank("alpha", reference))
    request = CreditNoteRequest("creditnote:case-1", "1", "C1", DAY, "DKK", D("125.00"), "error")
    with pytest.raises(InvalidDataError, match="must return the external reference as text"):
        plugin.create_credit_note(request)
    draft = InvoiceDraft(
        "recurring:1:1", "invoice", "C1", DAY, DAY, "DKK", (DraftLine("A", D("1"), D("1")),)
    )
    with pytest.raises(InvalidDataError, match="create_invoice"):
        plugin.create_invoice(draft)


def test_an_order_needs_the_create_order_capability(db: Database, box: SecretBox) -> None:
    ledger = RecordingPlugin("gamma", capabilities=frozenset({"create_invoice"}))
    registry = registry_with(ledger)
    add_client_with_plugin(db, registry, box, "acme", "gamma", {"api_token": "t"})
    plugin = registry.for_client(context_for(db, registry, box, "acme"))
    order = InvoiceDraft(
        "recurring:2:1", "order", "C1", DAY, DAY, "DKK", (DraftLine("Service", D("2"), D("10")),)
    )
    with pytest.raises(CapabilityMissing, match="capability 'create_order'"):
        plugin.create_invoice(order)
    assert ledger.calls == [] and ledger.writes == {}  # the plugin was never called
