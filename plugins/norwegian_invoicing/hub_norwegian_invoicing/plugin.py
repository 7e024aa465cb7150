"""The hook implementations: the ``norwegian_invoicing`` entry point of group ``receivables_hub``.

Every hook reads the client's settings afresh (:func:`hub_norwegian_invoicing.settings.load_config`)
and uses that client's long-lived HTTP client and Tripletex session
(:func:`hub_norwegian_invoicing.client.client_for`, keyed by the client and its tokens). Nothing
else is kept between calls but the ids of accounts, VAT types and currencies of that client.
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
from hub_norwegian_invoicing import __version__, credit_notes, orders, reading, vouchers
from hub_norwegian_invoicing.client import NAME, TripletexClient, client_for
from hub_norwegian_invoicing.settings import SETTINGS, Config, load_config

#: ``customer_balance``: the open posts of the receivable account, which hold every booked
#: entry on the customer (invoices, credit notes, payments matched or not, vouchers).
#: Not ``entries_sync``: the hub's customer mode needs ledger entries synchronised, which this
#: plugin does not do. Not ``deliver``: this is an accounting plugin.
CAPABILITIES = frozenset(
    {"customer_balance", "credit_note", "journal", "create_invoice", "create_order"}
)


def _client(ctx: ClientContext) -> tuple[Config, TripletexClient]:
    config = load_config(ctx.settings)
    return config, client_for(ctx.client_id, config, ctx.today)


system_info = info_hook(NAME, "Tripletex (Norway, API v2)", __version__, CAPABILITIES, SETTINGS)


@hookimpl
def fetch_open_invoices(ctx: ClientContext) -> list[Invoice]:
    """``GET /invoice`` over the window, every page; those with something outstanding."""
    config, client = _client(ctx)
    return reading.open_invoices(client, *reading.window(config.invoices_since, ctx.today))


@hookimpl
def fetch_invoice_status(ctx: ClientContext, invoice_numbers: Sequence[str]) -> list[InvoiceStatus]:
    """The window's invoices, paged until every number is found: OPEN while something is
    outstanding, else CREDITED or PAID; a number Tripletex does not have is UNKNOWN."""
    config, client = _client(ctx)
    since, until = reading.window(config.invoices_since, ctx.today)
    return reading.invoice_statuses(client, invoice_numbers, since, until)


@hookimpl
def fetch_customers(ctx: ClientContext, customer_numbers: Sequence[str]) -> list[Customer]:
    """``GET /customer?customerAccountNumber=...``, 100 a request."""
    _, client = _client(ctx)
    return reading.customers(client, customer_numbers)


@hookimpl
def fetch_customer_balance(
    ctx: ClientContext, customer_numbers: Sequence[str]
) -> list[CustomerBalance]:
    """The open posts of the receivable account, summed per customer, in the company's
    currency (the client's)."""
    config, client = _client(ctx)
    _, until = reading.window(config.invoices_since, ctx.today)
    return reading.balances(
        client, customer_numbers, config.receivable_account, until, ctx.currency
    )


@hookimpl
def create_credit_note(ctx: ClientContext, request: CreditNoteRequest) -> str:
    """``PUT /invoice/{id}/:createCreditNote`` (full credit only); the credit note's number."""
    config, client = _client(ctx)
    since, until = reading.window(config.invoices_since, ctx.today)
    return credit_notes.create(client, request, since, until, config.send_to_customer)


@hookimpl
def post_journal_lines(ctx: ClientContext, entry: JournalEntry) -> str:
    """``POST /ledger/voucher``; the voucher as ``number-year``."""
    config, client = _client(ctx)
    return vouchers.post(client, entry, config.receivable_account, ctx.currency)


@hookimpl
def create_invoice(ctx: ClientContext, draft: InvoiceDraft) -> str:
    """``POST /order``, invoiced (``invoice``: the invoice number) or left for a person
    (``order``: the order number)."""
    config, client = _client(ctx)
    return orders.create(
        client,
        draft,
        default_vat_code=config.default_vat_code,
        send_to_customer=config.send_to_customer,
    )
