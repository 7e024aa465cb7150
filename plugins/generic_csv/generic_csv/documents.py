"""The CSV files this plugin writes: one header row, then one row per record or line.

UTF-8 without BOM, ``;``-separated, ``\\r\\n`` line ends, quoted only where needed. Amounts are
written exactly as given with a ``.`` decimal mark and never in exponent notation
(``format(amount, "f")``, the same as ``str(amount)`` for every ordinary amount: ``1234.50``
stays ``1234.50``); dates are ISO ``yyyy-mm-dd``.

People open these files in a spreadsheet, so a text cell that a spreadsheet would run as a
formula (``=HYPERLINK(...)``, ``@SUM(...)``, ``+1+2``, ``-1+2``, or one starting with a tab
or carriage return) is written with a ``'`` in front (OWASP's advice on CSV injection): the
spreadsheet shows the text, and runs nothing. See :func:`cell`.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import re
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


#: What a spreadsheet takes for the start of a formula (OWASP: CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A plain number: a spreadsheet reads it as a number, never as a formula.
_PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:[.,][0-9]+)?")


def cell(text: str) -> str:
    """A text cell made safe to open in a spreadsheet: ``'`` before a formula-like start.

    Text starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a ``'``
    in front, unless it is a plain number (``-150.00``, ``+45``), which a spreadsheet reads
    as a number whatever it starts with. Amounts the plugin formats itself (:func:`amount`)
    are numbers and never pass through here, so a negative amount stays ``-150.00``.

    >>> cell("=SUM(A1:A9)"), cell("-1+2"), cell("-150.00"), cell("Rykker")
    ("'=SUM(A1:A9)", "'-1+2", '-150.00', 'Rykker')
    """
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


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
                cell(request.idempotency_key),
                cell(request.invoice_number),
                cell(request.customer_number),
                date(request.date),
                request.currency,
                amount(request.amount),
                cell(request.reason),
            ]
        ],
    )


def voucher(entry: JournalEntry) -> bytes:
    """One row per line; amounts signed (debit positive), lines numbered from 1."""
    return render(
        VOUCHER_COLUMNS,
        [
            [
                cell(entry.idempotency_key),
                date(entry.date),
                entry.currency,
                cell(entry.text),
                str(number),
                cell(line.account or ""),
                cell(line.customer_number or ""),
                amount(line.amount),
                cell(line.text),
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
                cell(draft.idempotency_key),
                draft.kind,
                cell(draft.customer_number),
                date(draft.invoice_date),
                date(draft.due_date),
                draft.currency,
                cell(draft.text or ""),
                str(number),
                cell(line.description),
                amount(line.quantity),
                amount(line.unit_price),
                cell(line.vat_code or ""),
                amount(line_net(line)),
            ]
            for number, line in enumerate(draft.lines, start=1)
        ],
    )
