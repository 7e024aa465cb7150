"""The CSV files this plugin writes: one header row, then one row per record or line.

UTF-8 without BOM, ``;``-separated, ``\\r\\n`` line ends, quoted only where needed. Amounts are
written exactly as given with a ``.`` decimal mark and never in exponent notation
(``format(amount, "f")``, the same as ``str(amount)`` for every ordinary amount: ``1234.50``
stays ``1234.50``); dates are ISO ``yyyy-mm-dd``.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
from collections.abc import Sequence
from decimal import Decimal

from hub.model import CreditNoteRequest, DraftLine, InvoiceDraft, JournalEntry

CREDIT_NOTE_COLUMNS = (
    "idempotency_key",
    "invoice_number",
    "customer_number",
    "date",
    "currency",
    "amount",
    "reason",
)
VOUCHER_COLUMNS = (
    "idempotency_key",
    "date",
    "currency",
    "voucher_text",
    "line",
    "account",
    "customer_number",
    "amount",
    "text",
)
INVOICE_COLUMNS = (
    "idempotency_key",
    "kind",
    "customer_number",
    "invoice_date",
    "due_date",
    "currency",
    "text",
    "line",
    "description",
    "quantity",
    "unit_price",
    "vat_code",
    "net_amount",
)


def amount(value: Decimal) -> str:
    """An amount exactly as given, ``.`` as decimal mark, no exponent."""
    return format(value, "f")


def line_net(line: DraftLine) -> Decimal:
    """quantity x unit price without rounding (the default context keeps 28 digits only)."""
    digits = len(line.quantity.as_tuple().digits) + len(line.unit_price.as_tuple().digits)
    with decimal.localcontext() as context:
        context.prec = digits + 2
        context.traps[decimal.Inexact] = True
        return line.net_amount


def date(value: dt.date) -> str:
    return value.isoformat()


def render(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """The file's bytes: header and rows, UTF-8, ``;``-separated."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def credit_note(request: CreditNoteRequest) -> bytes:
    """One row: the invoice credited, the customer, date, currency, gross amount and reason."""
    return render(
        CREDIT_NOTE_COLUMNS,
        [
            [
                request.idempotency_key,
                request.invoice_number,
                request.customer_number,
                date(request.date),
                request.currency,
                amount(request.amount),
                request.reason,
            ]
        ],
    )


def voucher(entry: JournalEntry) -> bytes:
    """One row per line; amounts signed (debit positive), lines numbered from 1."""
    return render(
        VOUCHER_COLUMNS,
        [
            [
                entry.idempotency_key,
                date(entry.date),
                entry.currency,
                entry.text,
                str(number),
                line.account or "",
                line.customer_number or "",
                amount(line.amount),
                line.text,
            ]
            for number, line in enumerate(entry.lines, start=1)
        ],
    )


def invoice(draft: InvoiceDraft) -> bytes:
    """One row per line; ``net_amount`` = quantity x unit price (net), computed exactly."""
    return render(
        INVOICE_COLUMNS,
        [
            [
                draft.idempotency_key,
                draft.kind,
                draft.customer_number,
                date(draft.invoice_date),
                date(draft.due_date),
                draft.currency,
                draft.text or "",
                str(number),
                line.description,
                amount(line.quantity),
                amount(line.unit_price),
                line.vat_code or "",
                amount(line_net(line)),
            ]
            for number, line in enumerate(draft.lines, start=1)
        ],
    )
