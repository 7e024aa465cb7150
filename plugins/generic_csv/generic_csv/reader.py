"""Reading the invoices and customers exports into :mod:`hub.model` values.

One bad row fails the whole file: every problem (bad value, missing required column, duplicate
number, wrong number of fields, a row the model refuses) is collected and raised as one
:class:`hub.errors.InvalidDataError`, ``where`` = ``<file>:<line>`` of the first, so nothing from
the file is stored.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from generic_csv.columns import (
    CUSTOMER_COLUMNS,
    CUSTOMER_REQUIRED,
    INVOICE_AMOUNTS,
    INVOICE_COLUMNS,
    INVOICE_REQUIRED,
    ColumnMap,
    resolve_columns,
)
from generic_csv.parsing import (
    KRONE_CURRENCIES,
    DecimalMark,
    ValueProblem,
    detect_decimal_mark,
    parse_amount,
    parse_date,
    parse_language,
)
from generic_csv.settings import Config
from generic_csv.table import Problems, Row, Table, parse_table, read_bytes
from hub.errors import InvalidDataError
from hub.model import Customer, Invoice

_CURRENCY = re.compile(r"[A-Z]{3}")
_MODEL_FIELD = re.compile(r"\w+\.(\w+): (.*)", re.DOTALL)


@dataclass(frozen=True)
class InvoiceRecord:
    """One invoice row: the invoice, where it came from, and the customer's e-mail if given."""

    invoice: Invoice
    line: int
    customer_email: str | None


@dataclass(frozen=True)
class InvoiceFile:
    """Every invoice of the invoices file (open or not), in file order."""

    name: str
    records: tuple[InvoiceRecord, ...]
    has_customer_names: bool

    def open_invoices(self) -> list[Invoice]:
        """The invoices with outstanding > 0; the others are not open."""
        return [r.invoice for r in self.records if r.invoice.outstanding_amount > 0]

    def by_number(self) -> dict[str, Invoice]:
        return {r.invoice.invoice_number: r.invoice for r in self.records}


@dataclass(frozen=True)
class CustomerRecord:
    """One customers-file row. ``balance`` is None without a balance column; ``currency`` is
    None when the file has no currency column and no ``default_currency`` is set."""

    customer: Customer
    balance: Decimal | None
    currency: str | None
    line: int


@dataclass(frozen=True)
class CustomerFile:
    """The customers file, by customer number."""

    name: str
    records: dict[str, CustomerRecord]
    has_balance: bool


class _Cells:
    """One row's cells by field name; each bad value becomes a problem and reads as None."""

    def __init__(self, row: Row, columns: ColumnMap, problems: Problems) -> None:
        self.row = row
        self.columns = columns
        self.problems = problems
        self.ok = True

    def has(self, name: str) -> bool:
        return name in self.columns.positions

    def fail(self, name: str, message: str) -> None:
        self.problems.add(self.row.line, f"{self.columns.label(name)}: {message}")
        self.ok = False

    def text(self, name: str, *, required: bool = False) -> str | None:
        """The stripped cell; an empty cell is None, or a problem if ``required``."""
        index = self.columns.positions.get(name)
        value = None if index is None else self.row.cells[index]
        if not value:
            if required and index is not None:
                self.fail(name, "is empty (a value is required)")
            return None
        return value

    def date(self, name: str) -> dt.date | None:
        value = self.text(name, required=True)
        if value is None:
            return None
        try:
            return parse_date(value)
        except ValueProblem as exc:
            self.fail(name, f"{value!r} {exc}")
            return None

    def amount(self, name: str, mark: DecimalMark, currency: str | None) -> Decimal | None:
        """An amount cell (empty is a problem: write 0 when 0 is meant)."""
        value = self.text(name, required=True)
        if value is None:
            return None
        try:
            number, affix = parse_amount(value, mark)
        except ValueProblem as exc:
            self.fail(name, f"{value!r} {exc}")
            return None
        if affix is not None and currency is not None:
            if affix == "KR" and currency not in KRONE_CURRENCIES:
                self.fail(name, f"{value!r} is in kroner but the currency is {currency}")
                return None
            if affix != "KR" and affix != currency:
                self.fail(name, f"{value!r} is in {affix} but the currency is {currency}")
                return None
        return number

    def currency(self, default: str | None, *, required: bool = True) -> str | None:
        """The currency cell, upper-cased; an empty cell or no column gives ``default``.

        An empty cell without a default is a problem when ``required``.
        """
        value = self.text("currency")
        if value is None:
            if required and self.has("currency") and default is None:
                self.fail("currency", "is empty and the setting default_currency is not set")
            return default
        code = value.upper()
        if not _CURRENCY.fullmatch(code):
            self.fail("currency", f"{value!r} is not an ISO 4217 currency code like DKK")
            return None
        return code

    def email(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and "@" not in value:
            self.fail(name, f"{value!r} is not an e-mail address")
            return None
        return value

    def model_failure(self, exc: InvalidDataError) -> None:
        """Report a value the model refused (``Invoice.gross_amount: ...``) at its column."""
        match = _MODEL_FIELD.fullmatch(str(exc))
        if match:
            self.fail(match[1], match[2])
        else:
            self.problems.add(self.row.line, str(exc))
            self.ok = False


def _load(path: Path, setting: str) -> tuple[Table, Problems]:
    data = read_bytes(path, setting)
    problems = Problems(path.name)
    return parse_table(path.name, data, problems), problems


def _columns(
    table: Table,
    fields: dict[str, tuple[str, ...]],
    required: tuple[str, ...],
    overrides: dict[str, str],
    problems: Problems,
    log: Any,
) -> ColumnMap:
    columns = resolve_columns(table.header, fields, required, overrides)
    for problem in columns.problems:
        problems.add(table.header_line, problem)
    for name, header in columns.unused_overrides.items():
        if log is not None:
            log.warning(
                "generic_csv.column_override_unused", file=table.name, field=name, header=header
            )
    return columns


def _decimal_mark(table: Table, columns: ColumnMap, names: tuple[str, ...]) -> DecimalMark:
    indexes = [columns.positions[n] for n in names if n in columns.positions]
    return detect_decimal_mark(row.cells[i] for row in table.rows for i in indexes)


def read_invoices(config: Config, log: Any = None) -> InvoiceFile:
    """Read the invoices file named by ``invoices_path``.

    Amounts: net and VAT are optional. With only one of them the other is derived from gross;
    with neither, VAT is 0 and net equals gross. Without an outstanding column the outstanding
    amount is the gross amount. The currency comes from the currency column, an empty currency
    cell or a missing column from ``default_currency``.

    :raises InvalidDataError: any problem in the file (all of them, in one error).
    :raises SettingsError | RemoteServerError: see :func:`generic_csv.table.read_bytes`.
    """
    table, problems = _load(config.invoices_path, "invoices_path")
    overrides = dict(config.columns)
    columns = _columns(table, INVOICE_COLUMNS, INVOICE_REQUIRED, overrides, problems, log)
    blocked = bool(columns.problems)
    if "currency" not in columns.positions and config.default_currency is None:
        problems.add(
            table.header_line,
            "there is no currency column and the setting default_currency is not set",
        )
        blocked = True
    if blocked:  # without the required columns no row can be read
        raise problems.error()
    mark = _decimal_mark(table, columns, INVOICE_AMOUNTS)
    records: list[InvoiceRecord] = []
    first_line: dict[str, int] = {}
    for row in table.rows:
        cells = _Cells(row, columns, problems)
        number = cells.text("invoice_number", required=True)
        if number is not None:
            if number in first_line:
                cells.fail(
                    "invoice_number",
                    f"{number!r} repeats the invoice on line {first_line[number]}",
                )
            else:
                first_line[number] = row.line
        record = _invoice(cells, number, mark, config.default_currency)
        if record is not None:
            records.append(record)
    problems.raise_if_any()
    if log is not None:
        log.debug(
            "generic_csv.invoices_read",
            file=table.name,
            rows=len(records),
            delimiter=table.delimiter,
            decimal_mark=mark.mark,
        )
    return InvoiceFile(table.name, tuple(records), "customer_name" in columns.positions)


def _invoice(
    cells: _Cells, number: str | None, mark: DecimalMark, default_currency: str | None
) -> InvoiceRecord | None:
    customer = cells.text("customer_number", required=True)
    name = cells.text("customer_name")
    email = cells.email("customer_email")
    invoice_date = cells.date("invoice_date")
    due_date = cells.date("due_date")
    currency = cells.currency(default_currency)
    gross = cells.amount("gross_amount", mark, currency)
    net = cells.amount("net_amount", mark, currency) if cells.has("net_amount") else None
    vat = cells.amount("vat_amount", mark, currency) if cells.has("vat_amount") else None
    outstanding = (
        cells.amount("outstanding_amount", mark, currency)
        if cells.has("outstanding_amount")
        else gross
    )
    if (
        not cells.ok
        or number is None
        or customer is None
        or invoice_date is None
        or due_date is None
        or currency is None
        or gross is None
        or outstanding is None
    ):
        return None
    # Derive what the file leaves out: both missing -> VAT 0, net = gross.
    if vat is None:
        vat = Decimal(0) if net is None else gross - net
    if net is None:
        net = gross - vat
    try:
        invoice = Invoice(
            invoice_number=number,
            customer_number=customer,
            invoice_date=invoice_date,
            due_date=due_date,
            currency=currency,
            net_amount=net,
            vat_amount=vat,
            gross_amount=gross,
            outstanding_amount=outstanding,
            customer_name=name,
        )
    except InvalidDataError as exc:
        cells.model_failure(exc)
        return None
    return InvoiceRecord(invoice, cells.row.line, email)


def read_customers(path: Path, config: Config, log: Any = None) -> CustomerFile:
    """Read the customers file at ``path`` (the ``customers_path`` setting).

    Required columns: customer number and name. The balance, when its column is there, is in
    the currency of the currency column, else ``default_currency``.

    :raises InvalidDataError: any problem in the file (all of them, in one error).
    :raises SettingsError | RemoteServerError: see :func:`generic_csv.table.read_bytes`.
    """
    table, problems = _load(path, "customers_path")
    overrides = dict(config.columns)
    columns = _columns(table, CUSTOMER_COLUMNS, CUSTOMER_REQUIRED, overrides, problems, log)
    if columns.problems:
        raise problems.error()
    mark = _decimal_mark(table, columns, ("balance",))
    records: dict[str, CustomerRecord] = {}
    for row in table.rows:
        cells = _Cells(row, columns, problems)
        number = cells.text("customer_number", required=True)
        if number is not None and number in records:
            cells.fail(
                "customer_number",
                f"{number!r} repeats the customer on line {records[number].line}",
            )
            continue
        record = _customer(cells, number, mark, config.default_currency)
        if record is not None and number is not None:
            records[number] = record
    problems.raise_if_any()
    return CustomerFile(table.name, records, "balance" in columns.positions)


def _customer(
    cells: _Cells, number: str | None, mark: DecimalMark, default_currency: str | None
) -> CustomerRecord | None:
    name = cells.text("name", required=True)
    email = cells.email("email")
    raw_language = cells.text("language")
    language = None
    if raw_language is not None:
        try:
            language = parse_language(raw_language)
        except ValueProblem as exc:
            cells.fail("language", f"{raw_language!r} {exc}")
    currency = cells.currency(default_currency, required=cells.has("balance"))
    balance = cells.amount("balance", mark, currency) if cells.has("balance") else None
    if not cells.ok or number is None or name is None:
        return None
    try:
        customer = Customer(
            customer_number=number,
            name=name,
            email=email,
            address=cells.text("address"),
            postal_code=cells.text("postal_code"),
            city=cells.text("city"),
            country=cells.text("country"),
            language=language,
        )
    except InvalidDataError as exc:
        cells.model_failure(exc)
        return None
    return CustomerRecord(customer, balance, currency, cells.row.line)
