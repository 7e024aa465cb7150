"""Plugins used by the tests: well-behaved recording plugins and deliberately broken ones.

They are loaded through real ``importlib.metadata.EntryPoint`` objects, exactly as installed
plugins are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from hub import hookimpl
from hub.model import (
    ClientContext,
    CreditNoteRequest,
    Customer,
    CustomerBalance,
    Invoice,
    InvoiceDraft,
    InvoiceState,
    InvoiceStatus,
    JournalEntry,
    SettingSpec,
    SystemInfo,
)

D = Decimal


def invoice(number: str, customer: str = "C1", gross: str = "125.00", **kw: Any) -> Invoice:
    gross_d = D(gross)
    vat = (gross_d / 5).quantize(D("0.01"))
    values: dict[str, Any] = {
        "invoice_number": number,
        "customer_number": customer,
        "invoice_date": dt.date(2026, 10, 1),
        "due_date": dt.date(2026, 10, 15),
        "currency": "DKK",
        "net_amount": gross_d - vat,
        "vat_amount": vat,
        "gross_amount": gross_d,
        "outstanding_amount": gross_d,
    }
    values.update(kw)
    return Invoice(**values)


class RecordingPlugin:
    """An in-memory accounting system that records every call it gets (with the ctx)."""

    def __init__(self, name: str, capabilities: frozenset[str] | None = None) -> None:
        self.name = name
        self.capabilities = (
            capabilities
            if capabilities is not None
            else frozenset(
                {"customer_balance", "credit_note", "journal", "create_invoice", "create_order"}
            )
        )
        self.calls: list[tuple[str, ClientContext, Any]] = []
        self.invoices: dict[str, Invoice] = {}
        self.settled: dict[str, InvoiceState] = {}
        self.customers: dict[str, Customer] = {}
        self.balances: dict[str, Decimal] = {}  # set to answer a balance apart from invoices
        self.writes: dict[str, str] = {}

    @hookimpl
    def system_info(self) -> SystemInfo:
        return SystemInfo(
            name=self.name,
            title=f"Test ledger {self.name}",
            version="1.0",
            capabilities=self.capabilities,
            settings=(
                SettingSpec("api_token", secret=True, required=True),
                SettingSpec("base_url", type="url", default="https://example.invalid"),
                SettingSpec("page_size", type="integer", default="100"),
            ),
        )

    @hookimpl
    def fetch_open_invoices(self, ctx: ClientContext) -> list[Invoice]:
        self.calls.append(("fetch_open_invoices", ctx, None))
        return list(self.invoices.values())

    @hookimpl
    def fetch_invoice_status(
        self, ctx: ClientContext, invoice_numbers: Sequence[str]
    ) -> list[InvoiceStatus]:
        self.calls.append(("fetch_invoice_status", ctx, list(invoice_numbers)))
        answer = []
        for number in invoice_numbers:
            if number in self.invoices:
                inv = self.invoices[number]
                answer.append(
                    InvoiceStatus(number, InvoiceState.OPEN, inv.outstanding_amount, inv.currency)
                )
            elif number in self.settled:
                answer.append(InvoiceStatus(number, self.settled[number], D("0.00"), "DKK"))
            else:
                answer.append(InvoiceStatus(number, InvoiceState.UNKNOWN, None, None))
        return answer

    @hookimpl
    def fetch_customer_balance(
        self, ctx: ClientContext, customer_numbers: Sequence[str]
    ) -> list[CustomerBalance]:
        """The sum of each customer's outstanding amounts, unless ``balances`` says otherwise."""
        self.calls.append(("fetch_customer_balance", ctx, list(customer_numbers)))
        totals: dict[str, Decimal] = {}
        for inv in self.invoices.values():
            totals[inv.customer_number] = totals.get(inv.customer_number, D(0)) + (
                inv.outstanding_amount
            )
        totals.update({n: b for n, b in self.balances.items() if n in totals})
        return [CustomerBalance(n, totals[n], "DKK") for n in customer_numbers if n in totals]

    @hookimpl
    def fetch_customers(
        self, ctx: ClientContext, customer_numbers: Sequence[str]
    ) -> list[Customer]:
        self.calls.append(("fetch_customers", ctx, list(customer_numbers)))
        return [self.customers[n] for n in customer_numbers if n in self.customers]

    def _write(self, hook: str, ctx: ClientContext, key: str, payload: Any) -> str:
        self.calls.append((hook, ctx, payload))
        return self.writes.setdefault(key, f"{self.name}-{len(self.writes) + 1}")

    @hookimpl
    def create_credit_note(self, ctx: ClientContext, request: CreditNoteRequest) -> str:
        return self._write("create_credit_note", ctx, request.idempotency_key, request)

    @hookimpl
    def post_journal_lines(self, ctx: ClientContext, entry: JournalEntry) -> str:
        return self._write("post_journal_lines", ctx, entry.idempotency_key, entry)

    @hookimpl
    def create_invoice(self, ctx: ClientContext, draft: InvoiceDraft) -> str:
        return self._write("create_invoice", ctx, draft.idempotency_key, draft)


alpha = RecordingPlugin("alpha")
beta = RecordingPlugin("beta", capabilities=frozenset())


class MisspelledHook:
    @hookimpl
    def system_info(self) -> SystemInfo:
        return SystemInfo(name="misspelled", title="Typo", version="0")

    @hookimpl
    def fetch_open_invoice(self, ctx: ClientContext) -> list[Invoice]:  # missing "s"
        return []


class WrongArguments:
    @hookimpl
    def system_info(self) -> SystemInfo:
        return SystemInfo(name="wrongargs", title="Wrong args", version="0")

    @hookimpl
    def fetch_open_invoices(self, ctx: ClientContext, since: dt.date) -> list[Invoice]:
        return []


class FailingInfo:
    @hookimpl
    def system_info(self) -> SystemInfo:
        raise RuntimeError("boom")


class FloatAmounts:
    """Returns dicts with float amounts: the boundary must refuse them."""

    @hookimpl
    def system_info(self) -> SystemInfo:
        return SystemInfo(name="floats", title="Floats", version="0")

    @hookimpl
    def fetch_open_invoices(self, ctx: ClientContext) -> list[Any]:
        return [{"invoice_number": "1", "gross_amount": 100.1}]

    # The hooks every accounting plugin must implement, or it is not even registered.
    @hookimpl
    def fetch_invoice_status(
        self, ctx: ClientContext, invoice_numbers: Sequence[str]
    ) -> list[InvoiceStatus]:
        return []

    @hookimpl
    def fetch_customers(
        self, ctx: ClientContext, customer_numbers: Sequence[str]
    ) -> list[Customer]:
        return []


misspelled = MisspelledHook()
wrongargs = WrongArguments()
failing_info = FailingInfo()
floats = FloatAmounts()
renamed = RecordingPlugin("something-else")
