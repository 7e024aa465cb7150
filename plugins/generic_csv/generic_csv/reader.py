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
    INVOICE_COLUMNS,
    INVOICE_REQUIRED,
    ColumnMap,
    resolve_columns,
)
from generic_csv.parsing import (
    KRONE_CURRENCIES,
    UNDECIDED,
    AmbiguousAmount,
    DecimalMark,
    ValueProblem,
    decide_decimal_mark,
    parse_date,
    parse_language,
    read_amount,
)
from generic_csv.settings import Config
from generic_csv.table import Problems, Row, Table, open_table, read_file
from hub.errors import InvalidDataError
from hub.model import Customer, Invoice

_CURRENCY = re.compile(r"[A-Z]{3}")
#: The label of an export's total row, as Danish, Norwegian, Swedish and English programs
#: write it (``I alt``, ``Total``, ``Sum``, ``Totalt``, ``Samlet``), maybe followed by more
#: words (``Total DKK``, ``I alt:``), never by digits.
_TOTAL_LABEL = re.compile(
    r"(?:i alt|totalt?|totals|grand total|sum|summa|samlet|samlet sum|tilsammen)(?:[\s:]+\D*)?",
    re.IGNORECASE,
)
_MODEL_FIELD = re.compile(r"\w+\.(\w+): (.*)", re.DOTALL)
_MARK_NAMES = {",": "comma", ".": "point"}


def _declared(config: Config) -> DecimalMark | None:
    """The decimal mark the settings declare, or None when each file decides."""
    if config.decimal_mark is None:
        return None
    return DecimalMark(config.decimal_mark)


@dataclass(frozen=True, slots=True)
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
    skipped: tuple[str, ...] = ()  # the total rows passed over, each named: see _total_label

    def open_invoices(self) -> list[Invoice]:
        """The invoices with outstanding > 0; the others are not open."""
        return [r.invoice for r in self.records if r.invoice.outstanding_amount > 0]

    def by_number(self) -> dict[str, Invoice]:
        return {r.invoice.invoice_number: r.invoice for r in self.records}


@dataclass(frozen=True, slots=True)
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


class _FileState:
    """What reading one file shares between its rows: the decimal marks its amounts prove so
    far, and one copy of each repeated text and date (a customer's number and name, the
    currency, a due date recur on many rows; keeping one object each keeps a large export's
    memory near its size)."""

    def __init__(self, declared: str | None = None) -> None:
        self.declared = declared  # the decimal_mark setting's mark, None for auto
        self.proofs: set[str] = set()
        self.texts: dict[str, str] = {}
        self.dates: dict[str, dt.date] = {}

    def text(self, value: str) -> str:
        return self.texts.setdefault(value, value)


def _total_label(row: Row, columns: ColumnMap) -> str | None:
    """The label of ``row`` if it is recognisably the export's total row, else None.

    A total row's first non-empty cell is a total label (:data:`_TOTAL_LABEL`), and it has no
    invoice number of its own (the number cell is empty or holds the label) and no due date.
    Whether it is at the end of the file is the caller's to check."""
    label = next((cell for cell in row.cells if cell), None)
    if label is None or not _TOTAL_LABEL.fullmatch(label):
        return None
    number_at = columns.positions.get("invoice_number")
    due_at = columns.positions.get("due_date")
    number = row.cells[number_at] if number_at is not None and number_at < len(row.cells) else ""
    due = row.cells[due_at] if due_at is not None and due_at < len(row.cells) else ""
    if number not in ("", label) or due:
        return None
    return label


class _Cells:
    """One row's cells by field name; each bad value becomes a problem and reads as None.

    The problems are held back until :meth:`flush`: a row whose amounts read two ways
    (``1,234``) while the file's decimal mark is still unknown is *deferred*, read again once
    the whole file has shown its mark, and only that second reading's problems count.
    """

    def __init__(
        self,
        row: Row,
        columns: ColumnMap,
        problems: Problems,
        state: _FileState,
        mark: DecimalMark | None = None,
    ) -> None:
        self.row = row
        self.columns = columns
        self.problems = problems
        self.state = state
        self.mark = mark  # None: not known yet, defer a row with an ambiguous amount
        self.ok = True
        self.deferred = False
        self.held: list[str] = []

    def has(self, name: str) -> bool:
        return name in self.columns.positions

    def fail(self, name: str, message: str) -> None:
        self.held.append(f"{self.columns.label(name)}: {message}")
        self.ok = False

    def flush(self) -> None:
        for message in self.held:
            self.problems.add(self.row.line, message)
        self.held.clear()

    def text(self, name: str, *, required: bool = False) -> str | None:
        """The stripped cell; an empty cell is None, or a problem if ``required``."""
        index = self.columns.positions.get(name)
        value = None if index is None else self.row.cells[index]
        if not value:
            if required and index is not None:
                self.fail(name, "is empty (a value is required)")
            return None
        return value

    def shared_text(self, name: str, *, required: bool = False) -> str | None:
        """:meth:`text`, one object for all equal values of the file."""
        value = self.text(name, required=required)
        return None if value is None else self.state.text(value)

    def date(self, name: str) -> dt.date | None:
        value = self.text(name, required=True)
        if value is None:
            return None
        known = self.state.dates.get(value)
        if known is not None:
            return known
        try:
            parsed = parse_date(value)
        except ValueProblem as exc:
            self.fail(name, f"{value!r} {exc}")
            return None
        self.state.dates[value] = parsed
        return parsed

    def amount(self, name: str, currency: str | None) -> Decimal | None:
        """An amount cell (empty is a problem: write 0 when 0 is meant)."""
        value = self.text(name, required=True)
        if value is None:
            return None
        try:
            number, affix, proves = read_amount(value, self.mark or UNDECIDED)
        except AmbiguousAmount as exc:
            if self.mark is None:
                self.deferred = True
            else:
                self.fail(name, f"{value!r} {exc}")
            return None
        except ValueProblem as exc:
            self.fail(name, f"{value!r} {exc}")
            return None
        if proves is not None:
            declared = self.state.declared
            if declared is not None and proves != declared:
                self.fail(
                    name,
                    f"{value!r} has {proves!r} as its decimal mark, but the setting decimal_mark"
                    f" says {_MARK_NAMES[declared]}",
                )
                return None
            self.state.proofs.add(proves)
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
        return self.state.text(code)

    def email(self, name: str) -> str | None:
        value = self.text(name)
        if value is not None and "@" not in value:
            self.fail(name, f"{value!r} is not an e-mail address")
            return None
        return None if value is None else self.state.text(value)

    def model_failure(self, exc: InvalidDataError) -> None:
        """Report a value the model refused (``Invoice.gross_amount: ...``) at its column."""
        match = _MODEL_FIELD.fullmatch(str(exc))
        if match:
            self.fail(match[1], match[2])
        else:
            self.held.append(str(exc))
            self.ok = False


def _open(path: Path, data: bytes | None, setting: str, config: Config) -> tuple[Table, Problems]:
    if data is None:
        data = read_file(path, setting, config.max_file_bytes)
    problems = Problems(path.name)
    table = open_table(
        path.name, data, problems, require_final_newline=config.require_final_newline
    )
    return table, problems


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


def read_invoices(config: Config, log: Any = None, data: bytes | None = None) -> InvoiceFile:
    """Read the invoices file named by ``invoices_path`` (``data``: its bytes, if read already).

    Amounts: net and VAT are optional. With only one of them the other is derived from gross;
    with neither, VAT is 0 and net equals gross. Without an outstanding column the outstanding
    amount is the gross amount. The currency comes from the currency column, an empty currency
    cell or a missing column from ``default_currency``.

    The file is read in one pass, row by row; only the invoices are kept. A row with an
    amount that reads two ways (``1,234``) waits until the pass has shown the file's decimal
    mark (see :func:`generic_csv.parsing.detect_decimal_mark`).

    :raises InvalidDataError: any problem in the file (all of them, in one error).
    :raises SettingsError | RemoteServerError: see :func:`generic_csv.table.read_file`.
    """
    table, problems = _open(config.invoices_path, data, "invoices_path", config)
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
    declared = _declared(config)
    state = _FileState(config.decimal_mark)
    records: list[InvoiceRecord | None] = []
    deferred: list[tuple[int, Row, str | None]] = []
    first_line: dict[str, int] = {}
    totals: list[tuple[int, str]] = []  # total rows so far; skipped if nothing follows them
    for row in table.rows():
        label = _total_label(row, columns)
        if label is not None:
            totals.append((row.line, label))
            continue
        for line, held in totals:  # a total row, but invoices follow: not the file's total
            problems.add(
                line,
                f"{held!r} looks like a total row, but invoices follow it; only total rows"
                " after the last invoice are skipped",
            )
        totals.clear()
        cells = _Cells(row, columns, problems, state, declared)
        number = cells.text("invoice_number", required=True)
        if number is not None:
            if number in first_line:
                problems.add(
                    row.line,
                    f"{columns.label('invoice_number')}: {number!r} repeats the invoice on"
                    f" line {first_line[number]}",
                )
                cells.ok = False
            else:
                first_line[number] = row.line
        record = _invoice(cells, number, config.default_currency)
        if cells.deferred:
            deferred.append((len(records), row, number))
            records.append(None)
            continue
        cells.flush()
        if record is not None:
            records.append(record)
    mark = declared or decide_decimal_mark(state.proofs)
    for index, row, number in deferred:
        cells = _Cells(row, columns, problems, state, mark)
        records[index] = _invoice(cells, number, config.default_currency)
        cells.flush()
    problems.raise_if_any()
    kept = tuple(r for r in records if r is not None)
    if log is not None:
        log.debug(
            "generic_csv.invoices_read",
            file=table.name,
            rows=len(kept),
            delimiter=table.delimiter,
            decimal_mark=mark.mark,
        )
    skipped = tuple(
        f"{table.name}:{line}: skipped the total row {label!r} (a sum, not an invoice)"
        for line, label in totals
    )
    return InvoiceFile(table.name, kept, "customer_name" in columns.positions, skipped)


def _invoice(
    cells: _Cells, number: str | None, default_currency: str | None
) -> InvoiceRecord | None:
    customer = cells.shared_text("customer_number", required=True)
    name = cells.shared_text("customer_name")
    email = cells.email("customer_email")
    invoice_date = cells.date("invoice_date")
    due_date = cells.date("due_date")
    currency = cells.currency(default_currency)
    gross = cells.amount("gross_amount", currency)
    net = cells.amount("net_amount", currency) if cells.has("net_amount") else None
    vat = cells.amount("vat_amount", currency) if cells.has("vat_amount") else None
    if not cells.has("outstanding_amount"):
        outstanding = gross
    elif gross is not None and cells.text("outstanding_amount") == cells.text("gross_amount"):
        outstanding = gross  # the same cell text: the same amount, one object
    else:
        outstanding = cells.amount("outstanding_amount", currency)
    if (
        not cells.ok
        or cells.deferred
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


def read_customers(
    path: Path, config: Config, log: Any = None, data: bytes | None = None
) -> CustomerFile:
    """Read the customers file at ``path`` (the ``customers_path`` setting; ``data``: its
    bytes, if read already).

    Required columns: customer number and name. The balance, when its column is there, is in
    the currency of the currency column, else ``default_currency``.

    :raises InvalidDataError: any problem in the file (all of them, in one error).
    :raises SettingsError | RemoteServerError: see :func:`generic_csv.table.read_file`.
    """
    table, problems = _open(path, data, "customers_path", config)
    overrides = dict(config.columns)
    columns = _columns(table, CUSTOMER_COLUMNS, CUSTOMER_REQUIRED, overrides, problems, log)
    if columns.problems:
        raise problems.error()
    declared = _declared(config)
    state = _FileState(config.decimal_mark)
    records: dict[str, CustomerRecord | None] = {}  # None: deferred, read at the end
    deferred: list[tuple[Row, str]] = []
    first_line: dict[str, int] = {}
    for row in table.rows():
        cells = _Cells(row, columns, problems, state, declared)
        number = cells.shared_text("customer_number", required=True)
        if number is not None and number in first_line:
            problems.add(
                row.line,
                f"{columns.label('customer_number')}: {number!r} repeats the customer on"
                f" line {first_line[number]}",
            )
            continue
        if number is not None:
            first_line[number] = row.line
        record = _customer(cells, number, config.default_currency)
        if cells.deferred and number is not None:
            deferred.append((row, number))
            records[number] = None  # keeps the file's order
            continue
        cells.flush()
        if record is not None and number is not None:
            records[number] = record
    mark = declared or decide_decimal_mark(state.proofs)
    for row, number in deferred:
        cells = _Cells(row, columns, problems, state, mark)
        record = _customer(cells, number, config.default_currency)
        cells.flush()
        records[number] = record
    problems.raise_if_any()
    kept = {number: record for number, record in records.items() if record is not None}
    return CustomerFile(table.name, kept, "balance" in columns.positions)


def _customer(
    cells: _Cells, number: str | None, default_currency: str | None
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
    balance = cells.amount("balance", currency) if cells.has("balance") else None
    if not cells.ok or cells.deferred or number is None or name is None:
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
