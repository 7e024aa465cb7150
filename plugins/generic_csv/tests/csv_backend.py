"""The conformance kit's backend for ``generic_csv``: export files on disk and an outbox.

A module of its own (not ``conftest``): several plugins' test directories have a conftest, so
importing names from "conftest" would depend on which one was imported last.

The files are written the way a Danish accounting program exports them (UTF-8 with a byte
order mark, ``;`` between fields, decimal comma, ``dd.mm.yyyy`` dates, Danish headers), so the
kit's checks of exact amounts and dates go through the plugin's real parsing. Everything lives
in a directory on disk, so the fresh Python process that repeats each write sees the same
outbox.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from decimal import Decimal
from pathlib import Path

from hub.model import Customer, Invoice
from hub.testing.conformance import ConformanceBackend, ConformanceData
from hub.testing.conformance.backend import Effect, Fault
from hub.testing.conformance.data import make_data

INVOICE_HEADER: tuple[str, ...] = (
    "Fakturanr",
    "Kundenr",
    "Kundenavn",
    "Fakturadato",
    "Forfaldsdato",
    "Valuta",
    "Netto",
    "Moms",
    "Brutto",
    "Restbeløb",
)
#: No balance column: the plugin then sums each customer's outstanding amounts from the
#: invoices file, which is what the kit's balance test checks (a balance column would only
#: echo a number this backend computed itself).
CUSTOMER_HEADER: tuple[str, ...] = (
    "Kundenr",
    "Navn",
    "E-mail",
    "Adresse",
    "Postnr",
    "By",
    "Land",
    "Sprog",
)
#: The file name prefix of each kind of outbox document (see ``generic_csv.outbox``).
OUTBOX_PREFIXES: dict[str, str] = {
    "credit_note": "creditnote-",
    "voucher": "voucher-",
    "invoice": "invoice-",
    "order": "order-",
}
#: What Danish Excel writes into a cell whose formula failed: an amount that is no number.
BAD_AMOUNT = "#VÆRDI!"


def _amount(value: Decimal) -> str:
    return f"{value:.2f}".replace(".", ",")


def _date(value: dt.date) -> str:
    return value.strftime("%d.%m.%Y")


def _invoice_row(invoice: Invoice) -> list[str]:
    return [
        invoice.invoice_number,
        invoice.customer_number,
        invoice.customer_name or "",
        _date(invoice.invoice_date),
        _date(invoice.due_date),
        invoice.currency,
        _amount(invoice.net_amount),
        _amount(invoice.vat_amount),
        _amount(invoice.gross_amount),
        _amount(invoice.outstanding_amount),
    ]


def _customer_row(customer: Customer) -> list[str]:
    return [
        customer.customer_number,
        customer.name,
        customer.email or "",
        customer.address or "",
        customer.postal_code or "",
        customer.city or "",
        customer.country or "",
        customer.language or "",
    ]


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Write ``rows`` as an Excel-style Danish export; replaced whole, never half-written."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    temp = path.with_name(f".{path.name}.part")
    temp.write_bytes(text.getvalue().encode("utf-8-sig"))
    temp.replace(path)


class CsvBackend(ConformanceBackend):
    """Export files and the outbox in one directory (``tmp_path`` of the test)."""

    #: A file has no pages: the plugin reads it whole, so this only sets how many invoices
    #: the kit seeds (2 x 50 + 7): a file of realistic length, still read in milliseconds.
    page_size = 50

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.invoices_path = directory / "fakturaer.csv"
        self.customers_path = directory / "kunder.csv"
        self.outbox_dir = directory / "outbox"
        self.data: ConformanceData | None = None
        # The plugin requires the invoices file to exist: an empty export until seeded.
        self._write_invoices(self.invoices_path, [])
        _write_csv(self.customers_path, CUSTOMER_HEADER, [])

    def settings(self) -> dict[str, str]:
        """``export_scope`` is ``all``: the file lists paid invoices too (outstanding 0), so a
        number missing from it is UNKNOWN rather than paid."""
        return {
            "invoices_path": str(self.invoices_path),
            "customers_path": str(self.customers_path),
            "outbox_dir": str(self.outbox_dir),
            "export_scope": "all",
        }

    def seed(self, data: ConformanceData) -> None:
        self.data = data
        self._write_invoices(self.invoices_path, [_invoice_row(i) for i in data.invoices])
        _write_csv(self.customers_path, CUSTOMER_HEADER, [_customer_row(c) for c in data.customers])

    def effects(self, kind: Effect) -> set[str]:
        """The outbox files of ``kind`` (hidden ``.tmp-*.part`` files of a write are not)."""
        prefix = OUTBOX_PREFIXES.get(kind)
        if prefix is None or not self.outbox_dir.is_dir():
            return set()
        return {
            path.name
            for path in self.outbox_dir.iterdir()
            if path.name.startswith(prefix) and path.suffix == ".csv"
        }

    def fault(self, kind: Fault) -> AbstractContextManager[dict[str, str]]:
        if kind != "malformed":
            raise NotImplementedError(
                f"generic_csv reads local files: there is no remote side to fail with {kind!r}"
            )
        return self._malformed()

    @contextmanager
    def _malformed(self) -> Iterator[dict[str, str]]:
        """The seeded export (or a small one) with one gross amount that is not a number."""
        data = self.data or make_data(today=self.today, currency=self.currency, open_count=3)
        rows = [_invoice_row(i) for i in data.invoices]
        rows[len(rows) // 2][INVOICE_HEADER.index("Brutto")] = BAD_AMOUNT
        path = self.directory / "fakturaer-fejl.csv"
        self._write_invoices(path, rows)
        try:
            yield {**self.settings(), "invoices_path": str(path)}
        finally:
            path.unlink(missing_ok=True)

    @staticmethod
    def _write_invoices(path: Path, rows: Sequence[Sequence[str]]) -> None:
        _write_csv(path, INVOICE_HEADER, rows)
