"""The hook implementations: the ``generic_csv`` entry point of group ``receivables_hub``.

Stateless: every call reads ``ctx.settings`` (via :func:`generic_csv.settings.load_config`)
and the files they name afresh, so nothing of one client can reach another's call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

import structlog

from generic_csv import __version__, documents
from generic_csv import settings as csv_settings
from generic_csv.cache import cached
from generic_csv.outbox import Outcome, file_name, write_once
from generic_csv.reader import CustomerFile, InvoiceFile, read_customers, read_invoices
from generic_csv.settings import SETTINGS, Config, load_config
from generic_csv.table import read_file
from hub import hookimpl
from hub.amounts import ZERO
from hub.errors import InvalidDataError
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
)
from hub.toolkit.plugin import info_hook

NAME = "generic_csv"

CAPABILITIES = frozenset(
    {"customer_balance", "credit_note", "journal", "create_invoice", "create_order"}
)


def _log(ctx: ClientContext) -> Any:
    return ctx.log if ctx.log is not None else structlog.get_logger().bind(plugin=NAME)


def _reading_key(config: Config) -> tuple[object, ...]:
    """The settings that change how a file is read (part of the cache key)."""
    return (
        tuple(sorted(config.columns.items())),
        config.default_currency,
        config.require_final_newline,
        config.decimal_mark,
    )


def _config(ctx: ClientContext) -> Config:
    """The client's settings; without ``default_currency``, a file with no currency column
    (or an empty currency cell) is in the client's own currency."""
    config = load_config(ctx.settings)
    if config.default_currency is None:
        config = replace(config, default_currency=ctx.currency)
    return config


def _invoices(config: Config, ctx: ClientContext) -> InvoiceFile:
    """The invoices file; the total rows it passes over are named in ``ctx.notes``."""
    path = config.invoices_path
    data = read_file(path, "invoices_path", config.max_file_bytes)
    log = _log(ctx)
    invoices = cached(
        path,
        data,
        ("invoices", *_reading_key(config)),
        lambda: read_invoices(config, log, data),
    )
    for note in invoices.skipped:
        if note not in ctx.notes:
            ctx.notes.append(note)
            log.info("generic_csv.total_row_skipped", detail=note)
    return invoices


def _customers(config: Config, log: Any) -> CustomerFile | None:
    path = config.customers_path
    if path is None:
        return None
    data = read_file(path, "customers_path", config.max_file_bytes)
    return cached(
        path,
        data,
        ("customers", *_reading_key(config)),
        lambda: read_customers(path, config, log, data),
    )


system_info = info_hook(
    NAME, "CSV files (any accounting program)", __version__, CAPABILITIES, SETTINGS
)


@hookimpl
def check_settings(settings: Mapping[str, str]) -> None:
    """Refuse settings at ``hub clients enable|set`` that every hook would refuse later
    (see :func:`generic_csv.settings.check_settings`)."""
    csv_settings.check_settings(settings)


@hookimpl
def fetch_open_invoices(ctx: ClientContext) -> list[Invoice]:
    """Every invoice of the invoices file with outstanding > 0, in file order."""
    return _invoices(_config(ctx), ctx).open_invoices()


@hookimpl
def fetch_invoice_status(ctx: ClientContext, invoice_numbers: Sequence[str]) -> list[InvoiceStatus]:
    """One status per number: OPEN (outstanding > 0) or PAID (≤ 0) when the file has it.

    A number missing from the file is PAID with outstanding 0 when ``export_scope`` is
    ``open`` (the file lists every open invoice), UNKNOWN when it is ``all``. The currency of
    such a PAID status is ``default_currency``, else the client's base currency: the file does
    not say, and 0 is 0 in any currency.
    """
    config = _config(ctx)
    invoices = _invoices(config, ctx).by_number()
    fallback_currency = config.default_currency or ctx.currency
    statuses: list[InvoiceStatus] = []
    for number in invoice_numbers:
        invoice = invoices.get(number)
        if invoice is not None:
            state = InvoiceState.OPEN if invoice.outstanding_amount > 0 else InvoiceState.PAID
            statuses.append(
                InvoiceStatus(number, state, invoice.outstanding_amount, invoice.currency)
            )
        elif config.export_scope == "open":
            statuses.append(InvoiceStatus(number, InvoiceState.PAID, ZERO, fallback_currency))
        else:
            statuses.append(InvoiceStatus(number, InvoiceState.UNKNOWN, None, None))
    return statuses


def _balances_from_invoices(invoices: InvoiceFile) -> dict[str, CustomerBalance]:
    """Sum of outstanding amounts per customer over every invoice in the file (credit notes
    with negative outstanding included). A customer with invoices in two currencies has no
    single balance: that is an error, not a guess."""
    sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
    lines: dict[str, int] = {}
    for record in invoices.records:
        inv = record.invoice
        per_currency = sums[inv.customer_number]
        per_currency[inv.currency] = per_currency.get(inv.currency, Decimal(0)) + (
            inv.outstanding_amount
        )
        lines.setdefault(inv.customer_number, record.line)
    balances: dict[str, CustomerBalance] = {}
    for customer, per_currency in sums.items():
        if len(per_currency) > 1:
            raise InvalidDataError(
                f"column currency: customer {customer!r} has invoices in"
                f" {', '.join(sorted(per_currency))}, so it has no single balance",
                where=f"{invoices.name}:{lines[customer]}",
            )
        [(currency, total)] = per_currency.items()
        balances[customer] = CustomerBalance(customer, total, currency)
    return balances


@hookimpl
def fetch_customer_balance(
    ctx: ClientContext, customer_numbers: Sequence[str]
) -> list[CustomerBalance]:
    """Balance from the customers file's balance column when the customer is there; otherwise
    the sum of the customer's outstanding amounts in the invoices file; customers in neither
    are left out."""
    config = _config(ctx)
    log = _log(ctx)
    customers = _customers(config, log)
    answered: dict[str, CustomerBalance] = {}
    if customers is not None and customers.has_balance:
        for number in customer_numbers:
            record = customers.records.get(number)
            if record is None or record.balance is None:
                continue
            if record.currency is None:
                raise InvalidDataError(
                    "column balance: the balance has no currency (add a currency column or"
                    " set default_currency)",
                    where=f"{customers.name}:{record.line}",
                )
            answered[number] = CustomerBalance(number, record.balance, record.currency)
    rest = [n for n in customer_numbers if n not in answered]
    if rest:
        from_invoices = _balances_from_invoices(_invoices(config, ctx))
        answered.update({n: from_invoices[n] for n in rest if n in from_invoices})
    return [answered[n] for n in customer_numbers if n in answered]


@hookimpl
def fetch_customers(ctx: ClientContext, customer_numbers: Sequence[str]) -> list[Customer]:
    """From the customers file when one is set, else from the invoices file's customer name
    and e-mail columns (the first non-empty value per customer, in file order); customers
    without a name there are left out."""
    config = _config(ctx)
    log = _log(ctx)
    customers = _customers(config, log)
    if customers is not None:
        return [customers.records[n].customer for n in customer_numbers if n in customers.records]
    invoices = _invoices(config, ctx)
    if not invoices.has_customer_names:
        log.warning(
            "generic_csv.no_customer_names",
            detail="no customers_path and no customer name column in the invoices file",
        )
        return []
    names: dict[str, str] = {}
    emails: dict[str, str] = {}
    for record in invoices.records:
        number = record.invoice.customer_number
        if record.invoice.customer_name and number not in names:
            names[number] = record.invoice.customer_name
        if record.customer_email and number not in emails:
            emails[number] = record.customer_email
    return [
        Customer(customer_number=n, name=names[n], email=emails.get(n))
        for n in customer_numbers
        if n in names
    ]


def _write(ctx: ClientContext, kind: str, key: str, content: bytes) -> str:
    """Write one outbox file for ``key`` once; return its name, the reference, every time."""
    config = load_config(ctx.settings)
    name = file_name(kind, key)
    outcome = write_once(config.outbox_dir, name, content)
    log = _log(ctx)
    if outcome is Outcome.EXISTED_DIFFERENT:
        log.warning(
            "generic_csv.idempotency_key_reused",
            reference=name,
            detail="a file for this key exists with other content; it was kept, not replaced",
        )
    else:
        log.info("generic_csv.outbox_write", reference=name, outcome=outcome.value)
    return name


@hookimpl
def create_credit_note(ctx: ClientContext, request: CreditNoteRequest) -> str:
    """``creditnote-<key>.csv`` in the outbox, one row."""
    return _write(ctx, "creditnote", request.idempotency_key, documents.credit_note(request))


@hookimpl
def post_journal_lines(ctx: ClientContext, entry: JournalEntry) -> str:
    """``voucher-<key>.csv`` in the outbox, one row per line."""
    return _write(ctx, "voucher", entry.idempotency_key, documents.voucher(entry))


@hookimpl
def create_invoice(ctx: ClientContext, draft: InvoiceDraft) -> str:
    """``invoice-<key>.csv`` or ``order-<key>.csv`` in the outbox, one row per line."""
    return _write(ctx, draft.kind, draft.idempotency_key, documents.invoice(draft))
