"""The hook implementations: the ``economic`` entry point of group ``receivables_hub``.

Every hook reads the client's settings afresh (:func:`hub_economic.settings.load_config`) and
uses that client's long-lived HTTP client (:func:`hub_economic.client.client_for`, keyed by the
client and its tokens). The only thing kept between calls is the customers read for
``fetch_customers``, for the ``fetch_customer_balance`` call of the same sync (same context
object, at most a minute; see :class:`hub_economic.reading.CustomerCache`).
"""

from __future__ import annotations

from collections.abc import Sequence

from hub import hookimpl
from hub.model import (
    ClientContext,
    CreditNoteRequest,
    Customer,
    CustomerBalance,
    Invoice,
    InvoiceDraft,
    InvoiceStatus,
    JournalEntry,
)
from hub.toolkit.plugin import info_hook
from hub_economic import __version__, credit_notes, invoices, reading, vouchers
from hub_economic.client import NAME, EconomicClient, client_for
from hub_economic.settings import SETTINGS, Config, load_config

#: ``entries_sync``: e-conomic's customer ``balance`` is the customer's ledger balance: every
#: booked entry (invoices, credit notes, payments, also payments not matched to an invoice).
#: ``create_order``: an order is a draft invoice left for a person to book.
CAPABILITIES = frozenset(
    {
        "customer_balance",
        "credit_note",
        "journal",
        "create_invoice",
        "create_order",
        "entries_sync",
    }
)

_customers = reading.CustomerCache()


def _client(ctx: ClientContext) -> tuple[Config, EconomicClient]:
    config = load_config(ctx.settings)
    return config, client_for(ctx.client_id, config)


system_info = info_hook(
    NAME, "e-conomic (Visma e-conomic REST API)", __version__, CAPABILITIES, SETTINGS
)


@hookimpl
def fetch_open_invoices(ctx: ClientContext) -> list[Invoice]:
    """``GET /invoices/unpaid``, every page; each invoice with a remainder > 0."""
    _, client = _client(ctx)
    return reading.open_invoices(client)


@hookimpl
def fetch_invoice_status(ctx: ClientContext, invoice_numbers: Sequence[str]) -> list[InvoiceStatus]:
    """``GET /invoices/booked`` filtered by number, 200 a request: OPEN while the remainder is
    > 0, else PAID; a number e-conomic does not have is UNKNOWN."""
    _, client = _client(ctx)
    return reading.invoice_statuses(client, invoice_numbers)


@hookimpl
def fetch_customers(ctx: ClientContext, customer_numbers: Sequence[str]) -> list[Customer]:
    """``GET /customers`` filtered by number, 200 a request; kept for the balance call."""
    _, client = _client(ctx)
    records = reading.customer_records(client, customer_numbers)
    _customers.put(ctx, customer_numbers, records)
    return reading.customers(client, records)


@hookimpl
def fetch_customer_balance(
    ctx: ClientContext, customer_numbers: Sequence[str]
) -> list[CustomerBalance]:
    """The customers' ``balance``, in the agreement's base currency (the client's currency):
    from the customers read by ``fetch_customers`` in the same sync, else read now."""
    _, client = _client(ctx)
    records = _customers.take(ctx, customer_numbers)
    if records is None:
        records = reading.customer_records(client, customer_numbers)
    return reading.balances(client, records, ctx.currency)


@hookimpl
def create_credit_note(ctx: ClientContext, request: CreditNoteRequest) -> str:
    """A draft with one negative line, booked; the booked credit note's number."""
    config, client = _client(ctx)
    return credit_notes.create(ctx, client, config, request)


@hookimpl
def post_journal_lines(ctx: ClientContext, entry: JournalEntry) -> str:
    """``POST /journals/{journal_number}/vouchers``; the voucher(s) as ``year-number``."""
    config, client = _client(ctx)
    return vouchers.post(client, config, entry)


@hookimpl
def create_invoice(ctx: ClientContext, draft: InvoiceDraft) -> str:
    """A draft invoice, booked (``invoice``) or left for a person (``order``)."""
    config, client = _client(ctx)
    return invoices.create(client, config, draft)
