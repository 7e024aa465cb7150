"""Records behind :mod:`hub.testing.fakes.tripletex` (what is faithful, what is chosen, and the
sources: ``docs/fakes/tripletex.md``): customers, orders, invoices, vouchers, postings,
accounts, VAT types; the fixed tables (VAT types, currencies, the chart of accounts); the
error type.

Amounts are :class:`~decimal.Decimal` with two places throughout
(:func:`~hub.testing.fakes.money.money`); the JSON writer :func:`~hub.testing.fakes.wire.dumps`
writes them as numbers (``1250.00``), never through ``float``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from hub.testing.fakes.money import HUNDRED, ZERO, money

__all__ = [
    "BANK",
    "CHART",
    "CURRENCIES",
    "CURRENCY_BY_ID",
    "NOK_PER_UNIT",
    "NORWAY",
    "RECEIVABLES",
    "REVENUE_BY_VAT",
    "VAT_TYPES",
    "Account",
    "Address",
    "ApiError",
    "CloseGroup",
    "Customer",
    "Invoice",
    "Order",
    "OrderLine",
    "Posting",
    "Session",
    "VatType",
    "Voucher",
    "kid_for",
    "validation_error",
]

Day = date  # for annotations in classes that have a field called "date"
DOCS_LINK = "https://tripletex.no/v2-docs/"  # the ``link`` of every captured error body


class ApiError(Exception):
    """A Tripletex error answer (``ApiError`` schema): HTTP status, the internal ``code`` of the
    spec's table, ``message``, ``developerMessage`` and ``validationMessages`` as ``(field,
    message)`` pairs. The app adds ``link``, ``requestId`` and the headers."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        developer_message: str | None = None,
        validation: list[tuple[str | None, str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.developer_message = developer_message
        self.validation = validation
        self.headers = dict(headers or {})

    def body(self, request_id: str) -> dict[str, object]:
        messages = None
        if self.validation is not None:
            messages = [
                {"field": name, "message": text, "path": None, "rootId": None}
                for name, text in self.validation
            ]
        return {
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "link": DOCS_LINK,
            "developerMessage": self.developer_message,
            "validationMessages": messages,
            "requestId": request_id,
        }


def validation_error(
    problems: list[tuple[str | None, str]],
    *,
    code: int = 18000,
    message: str = "Validering feilet.",
) -> ApiError:
    """422 with ``validationMessages``. 18000 ("Validering feilet.", developerMessage
    ``VALIDATION_ERROR``) is what captured answers to bad bodies carry; 15000 ("Validation
    failed", developerMessage null) what captured answers to bad query parameters carry."""
    developer = "VALIDATION_ERROR" if code == 18000 else None
    return ApiError(422, code, message, developer_message=developer, validation=problems)


def kid_for(invoice_number: int) -> str:
    """A KID for the invoice number: the number and a MOD10 (Luhn) check digit. The fake's
    choice of KID scheme (companies choose theirs in Tripletex)."""
    digits = str(invoice_number)
    total = sum(_LUHN[i & 1][ord(ch) - 48] for i, ch in enumerate(reversed(digits)))
    return digits + str(-total % 10)


# digit -> its Luhn contribution, for the rightmost digit and every second one (doubled) and
# for the others
_LUHN = ((0, 2, 4, 6, 8, 1, 3, 5, 7, 9), (0, 1, 2, 3, 4, 5, 6, 7, 8, 9))


# --- fixed tables -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VatType:
    """A VAT type; ids, numbers, names and rates as a captured ``GET /ledger/vatType`` shows."""

    id: int
    number: str
    name: str
    percentage: Decimal
    account_number: int | None  # where the VAT amount is posted (None: no VAT)

    @property
    def rate(self) -> Decimal:
        return self.percentage / HUNDRED

    @property
    def display_name(self) -> str:
        return f"{self.number}: ({self.percentage}%) {self.name}"


VAT_TYPES: dict[int, VatType] = {
    v.id: v
    for v in (
        VatType(0, "0", "Ingen avgiftsbehandling", Decimal(0), None),
        VatType(1, "1", "Fradrag inngående avgift, høy sats", Decimal(25), 2710),
        VatType(3, "3", "Utgående avgift, høy sats", Decimal(25), 2700),
        VatType(5, "5", "Ingen utgående avgift (innenfor mva-loven)", Decimal(0), None),
        VatType(6, "6", "Ingen utgående avgift (utenfor mva-loven)", Decimal(0), None),
        VatType(7, "7", "Ingen avgiftsbehandling (inntekter)", Decimal(0), None),
        VatType(31, "31", "Utgående avgift, middels sats", Decimal(15), 2701),
        VatType(32, "33", "Utgående avgift, lav sats", Decimal(12), 2702),
        VatType(52, "52", "Avgiftsfri utførsel av varer og tjenester", Decimal(0), None),
    )
}

#: code -> (id, description); ids as captured from ``GET /currency``.
CURRENCIES: dict[str, tuple[int, str]] = {
    "NOK": (1, "Norge"),
    "SEK": (2, "Sverige"),
    "DKK": (3, "Danmark"),
    "USD": (4, "USA"),
    "EUR": (5, "EU"),
    "GBP": (6, "Storbritannia"),
    "CHF": (7, "Sveits"),
}
CURRENCY_BY_ID = {cid: code for code, (cid, _) in CURRENCIES.items()}

#: Fixed rates, NOK per unit (Tripletex uses the day's rate; the fake needs a stable one).
NOK_PER_UNIT: dict[str, Decimal] = {
    "NOK": Decimal(1),
    "SEK": Decimal("1.00"),
    "DKK": Decimal("1.55"),
    "USD": Decimal("10.50"),
    "EUR": Decimal("11.50"),
    "GBP": Decimal("13.50"),
    "CHF": Decimal("12.00"),
}

#: Norway, the only country the fake's addresses use (id as captured).
NORWAY = (161, "Norge", "NO", "NOR", "578")

#: number -> (name, type, ledgerType, default vatType id, is bank account, is closeable)
CHART: dict[int, tuple[str, str, str, int, bool, bool]] = {
    1500: ("Kundefordringer", "ASSETS", "CUSTOMER", 0, False, True),
    1920: ("Bankinnskudd", "ASSETS", "GENERAL", 0, True, False),
    2400: ("Leverandørgjeld", "LIABILITIES", "VENDOR", 0, False, True),
    2700: ("Utgående merverdiavgift, høy sats", "LIABILITIES", "GENERAL", 0, False, False),
    2701: ("Utgående merverdiavgift, middels sats", "LIABILITIES", "GENERAL", 0, False, False),
    2702: ("Utgående merverdiavgift, lav sats", "LIABILITIES", "GENERAL", 0, False, False),
    2710: ("Inngående merverdiavgift, høy sats", "ASSETS", "GENERAL", 0, False, False),
    2740: ("Oppgjørskonto merverdiavgift", "LIABILITIES", "GENERAL", 0, False, False),
    3000: ("Salgsinntekt, avgiftspliktig", "OPERATING_REVENUES", "GENERAL", 3, False, False),
    3100: ("Salgsinntekt, avgiftsfri", "OPERATING_REVENUES", "GENERAL", 5, False, False),
    3900: ("Annen driftsrelatert inntekt", "OPERATING_REVENUES", "GENERAL", 0, False, False),
    7770: ("Bank- og kortgebyrer", "OPERATING_EXPENSES", "GENERAL", 0, False, False),
    7830: ("Tap på fordringer", "OPERATING_EXPENSES", "GENERAL", 0, False, False),
    8040: ("Renteinntekt, skattefri", "INVESTMENT_INCOME", "GENERAL", 0, False, False),
    8050: ("Annen renteinntekt", "INVESTMENT_INCOME", "GENERAL", 0, False, False),
}
RECEIVABLES = 1500
BANK = 1920
REVENUE_BY_VAT = {3: 3000, 31: 3000, 32: 3000}  # others go to 3100 (avgiftsfri)


# --- records ------------------------------------------------------------------------------------


@dataclass(eq=False, slots=True)
class Account:
    id: int
    number: int
    name: str
    type: str
    ledger_type: str
    vat_type_id: int
    is_bank_account: bool
    is_closeable: bool
    bank_account_number: str = ""
    version: int = 0

    @property
    def needs_customer(self) -> bool:
        return self.ledger_type == "CUSTOMER"


@dataclass(eq=False, slots=True)
class Address:
    id: int
    line1: str
    postal_code: str
    city: str


@dataclass(eq=False, slots=True)
class Customer:
    """A customer. ``id`` is Tripletex's internal id, ``customer_number`` the number people see."""

    id: int
    customer_number: int
    name: str
    email: str
    invoice_email: str
    organization_number: str
    postal_address: Address
    physical_address: Address
    invoices_due_in: int = 14
    invoices_due_in_type: str = "DAYS"
    currency: str = "NOK"
    is_inactive: bool = False
    version: int = 0
    invoices: list[Invoice] = field(default_factory=list, repr=False)
    postings: list[Posting] = field(default_factory=list, repr=False)  # on customer accounts


@dataclass(eq=False, slots=True)
class OrderLine:
    id: int
    order_id: int
    description: str
    count: Decimal
    unit_price_excluding_vat: Decimal  # in the order's currency
    unit_price_including_vat: Decimal
    discount: Decimal  # percent
    vat_type: VatType
    amount_excluding_vat: Decimal  # the line, rounded half up to øre
    amount_including_vat: Decimal
    currency: str


@dataclass(eq=False, slots=True)
class Order:
    id: int
    number: str
    customer: Customer
    order_date: Day
    delivery_date: Day
    currency: str
    lines: list[OrderLine]
    invoices_due_in: int
    invoices_due_in_type: str
    preliminary_invoice_id: int  # the id its invoice will get (as a captured answer shows)
    reference: str = ""
    invoice_comment: str = ""
    receiver_email: str = ""
    delivery_comment: str = ""
    is_prioritize_amounts_including_vat: bool = False
    is_closed: bool = False
    invoice: Invoice | None = None
    version: int = 0


@dataclass(eq=False, slots=True)
class CloseGroup:
    """An invoice, its credit note and every customer posting that names the invoice: the open
    item they make together. ``total`` is their sum in the invoice's currency; zero closes it."""

    id: int
    currency: str
    postings: list[Posting] = field(default_factory=list)
    invoices: list[Invoice] = field(default_factory=list)
    total: Decimal = ZERO

    @property
    def closed(self) -> bool:
        return self.total.is_zero() and bool(self.postings)


@dataclass(eq=False, slots=True)
class Invoice:
    """A charged outgoing invoice, or (``is_credit_note``) a credit note with negative amounts.
    ``amount``/``amount_excluding_vat`` are in the company's currency (NOK), the ``*_currency``
    amounts in the invoice's currency."""

    id: int
    invoice_number: int
    customer: Customer
    invoice_date: Day
    due_date: Day
    currency: str
    amount_excluding_vat_currency: Decimal
    amount_currency: Decimal
    amount_excluding_vat: Decimal
    amount: Decimal
    group: CloseGroup
    parts: list[tuple[VatType, Decimal, Decimal]] = field(default_factory=list)  # rate, net, vat
    comment: str = ""
    invoice_comment: str = ""
    delivery_date: Day | None = None
    order: Order | None = None
    lines: list[OrderLine] = field(default_factory=list)
    voucher: Voucher | None = None  # None while its voucher is pending (see Company.materialize)
    voucher_id: int = 0  # reserved for the voucher
    posting_id: int = 0  # reserved for its customer posting
    is_credit_note: bool = False
    credited_invoice: Invoice | None = None  # the original, on a credit note
    credit_note: Invoice | None = None  # the credit note, on a credited invoice
    version: int = 0
    _cache: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict, repr=False)

    @property
    def kid(self) -> str:
        return kid_for(self.invoice_number)

    @property
    def is_credited(self) -> bool:
        return self.credit_note is not None

    @property
    def amount_currency_outstanding(self) -> Decimal:
        """The part of the close group's open total that this invoice carries: an invoice the
        positive part (at most its amount), a credit note the negative part (at most its own
        amount); a surplus beyond that stays on the payment postings."""
        total = self.group.total
        if self.is_credit_note:
            return money(max(self.amount_currency, min(ZERO, total)))
        if self.credit_note is not None and total <= 0:
            return ZERO
        return money(min(self.amount_currency, max(ZERO, total)))

    @property
    def amount_outstanding(self) -> Decimal:
        """Outstanding in the company's currency (at the fake's fixed rate)."""
        outstanding = self.amount_currency_outstanding
        if self.currency == "NOK":
            return outstanding
        return money(outstanding * NOK_PER_UNIT[self.currency])


@dataclass(eq=False, slots=True)
class Posting:
    """One posting (line) of a voucher. Signs as in the ledger: debit positive."""

    id: int
    voucher: Voucher
    date: Day
    description: str
    account: Account
    amount: Decimal  # net of VAT, NOK
    amount_currency: Decimal
    amount_gross: Decimal  # NOK
    amount_gross_currency: Decimal
    currency: str
    row: int
    customer: Customer | None = None
    vat_type: VatType | None = None
    invoice_number: str = ""
    term_of_payment: Day | None = None
    type: str | None = None
    system_generated: bool = False
    group: CloseGroup | None = None
    external_ref: str = ""


@dataclass(eq=False, slots=True)
class Voucher:
    id: int
    date: Day
    description: str
    number: int  # 0 until sent to the ledger
    temp_number: int
    year: int
    external_voucher_number: str = ""
    vendor_invoice_number: str = ""
    postings: list[Posting] = field(default_factory=list)
    posted: bool = True  # sent to the ledger (its postings count)
    invoice: Invoice | None = None  # the invoice or credit note this voucher records
    version: int = 0


@dataclass(eq=False, slots=True)
class Session:
    """A session token (``/token/session/:create``); valid while ``today < expiration``."""

    id: int
    token: str
    company_id: int
    consumer_token: str
    employee_token: str
    expiration: Day
    revoked: bool = False
