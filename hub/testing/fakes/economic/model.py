"""Records, agreements and their bookkeeping behind :mod:`hub.testing.fakes.economic` (what is
faithful, what is simplified, and the sources [S1]...[S7]: ``docs/fakes/economic.md``); also the
error type and the request/answer records the endpoints share.

Amounts are :class:`~decimal.Decimal` with two places throughout
(:func:`~hub.testing.fakes.money.money`); the JSON writer :func:`~hub.testing.fakes.wire.dumps`
writes them as numbers (``1250.00``), never through ``float``.
"""

from __future__ import annotations

import calendar
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from hub.records import made_from
from hub.testing.fakes.money import HUNDRED, ZERO, money
from hub.testing.fakes.tenants import Tenant

__all__ = [
    "Agreement",
    "ApiError",
    "BookedInvoice",
    "Customer",
    "DraftInvoice",
    "Journal",
    "LedgerEntry",
    "PaymentTerms",
    "Request",
    "Result",
    "Voucher",
]

Day = date  # for annotations in classes that have a field called "date"
RATE_PLACES = Decimal("0.000001")
DEBTORS_ACCOUNT = 5600  # the fake's customer-group account ("Debitorer")
BANK_ACCOUNT = 5820  # the fake's default contra account for customer payments ("Bank")

# Fixed rates, DKK per 100 units (e-conomic uses the day's rate; the fake needs a stable one).
DKK_PER_100: dict[str, Decimal] = {
    code: Decimal(rate)
    for code, rate in {
        "DKK": "100",
        "EUR": "746.00",
        "NOK": "64.50",
        "SEK": "63.80",
        "USD": "690.00",
        "GBP": "870.00",
        "CHF": "780.00",
        "ISK": "5.00",
        "PLN": "172.00",
    }.items()
}
VAT_ZONES = {1: "Domestic", 2: "EU", 3: "Abroad"}
# A credit note names the invoice it credits in references.other / notes (see
# docs/fakes/economic.md): "Credit note for invoice 31", "Kreditnota faktura nr. 31", ...
CREDITED_INVOICE_RE = re.compile(
    r"(?i)\b(?:invoice|faktura|fakturanr)\.?\s*(?:no\.?|nr\.?|#|number|nummer)?\s*:?\s*(\d+)\b"
)


def convert(amount: Decimal, from_rate: Decimal, to_rate: Decimal) -> Decimal:
    """``amount`` at ``from_rate`` (base per 100) expressed at ``to_rate``, to two places."""
    if from_rate == to_rate:
        return amount
    return money(amount * from_rate / to_rate)


def now_stamp() -> str:
    """A timestamp the way e-conomic writes ``lastUpdated``: ``2026-05-01T10:20:30Z`` [S2]."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiError(Exception):
    """An e-conomic error answer: status and the body's ``message``/``errorCode``/... fields.

    The server adds ``logId``, ``httpStatusCode`` and ``logTime`` when it writes the body.
    """

    def __init__(
        self, status: int, body: dict[str, object], headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(str(body.get("message", "")))
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


# --- records ------------------------------------------------------------------------------------


@dataclass(slots=True)
class PaymentTerms:
    """A payment-terms record (``/payment-terms/{n}``)."""

    number: int
    name: str
    kind: str  # paymentTermsType: net, invoiceMonth, dueDate, paidInCash, ...
    days: int | None = None

    def due(self, issued: date, requested: date | None) -> date | None:
        """The due date e-conomic computes; ``None`` when the type needs one and none was sent."""
        if self.kind == "dueDate":
            return requested
        if self.kind == "net":
            return issued + timedelta(days=self.days or 0)
        if self.kind == "invoiceMonth":
            month_end = issued.replace(day=calendar.monthrange(issued.year, issued.month)[1])
            return month_end + timedelta(days=self.days or 0)
        return issued

    def as_json(self, base: str) -> dict[str, object]:
        out: dict[str, object] = {"paymentTermsNumber": self.number}
        if self.days is not None:
            out["daysOfCredit"] = self.days
        out["name"] = self.name
        out["paymentTermsType"] = self.kind
        out["self"] = f"{base}/payment-terms/{self.number}"
        return out


@dataclass(eq=False, slots=True)
class Customer:
    """A customer (debtor). Its ``balance`` and ``dueAmount`` are derived from open items."""

    customer_number: int
    name: str
    currency: str
    email: str | None = None
    address: str | None = None
    zip: str | None = None
    city: str | None = None
    country: str | None = None
    corporate_identification_number: str | None = None
    telephone_and_fax_number: str | None = None
    vat_number: str | None = None
    ean: str | None = None
    barred: bool = False
    credit_limit: Decimal | None = None
    customer_group_number: int = 1
    payment_terms_number: int = 1
    vat_zone_number: int = 1
    layout_number: int = 19
    last_updated: str = field(default_factory=now_stamp)
    invoices: list[BookedInvoice] = field(default_factory=list, repr=False)
    open_entries: list[LedgerEntry] = field(default_factory=list, repr=False)
    _recipient: dict[str, object] | None = field(default=None, repr=False)

    def recipient(self) -> dict[str, object]:
        """The invoice recipient e-conomic copies from the customer (shared, never mutated)."""
        if self._recipient is None:
            rec: dict[str, object] = {"name": self.name}
            for key in ("address", "zip", "city", "country", "ean"):
                value = getattr(self, key)
                if value is not None:
                    rec[key] = value
            if self.corporate_identification_number:
                rec["cvr"] = self.corporate_identification_number
            rec["vatZoneNumber"] = self.vat_zone_number
            self._recipient = rec
        return self._recipient


@dataclass(eq=False, slots=True)
class BookedInvoice:
    """A booked invoice (or, with negative amounts, a credit note)."""

    booked_invoice_number: int
    customer: Customer
    date: Day
    due_date: Day
    currency: str
    exchange_rate: Decimal
    net_amount: Decimal
    vat_amount: Decimal
    gross_amount: Decimal
    remainder: Decimal
    payment_terms: PaymentTerms
    recipient: dict[str, object]
    entry_number: int
    layout_number: int
    notes: dict[str, str] | None = None
    references: dict[str, object] | None = None
    lines: list[dict[str, object]] | None = None  # None: one line, synthesised on output
    extra: dict[str, object] | None = None  # delivery, deliveryLocation, project as posted
    credited_invoice: int | None = None  # for a credit note matched to an invoice

    @property
    def remainder_in_base(self) -> Decimal:
        return money(self.remainder * self.exchange_rate / HUNDRED)

    @property
    def is_credit_note(self) -> bool:
        return self.gross_amount < 0


@dataclass(eq=False, slots=True)
class DraftInvoice:
    """A draft invoice as created by ``POST /invoices/drafts`` (totals computed)."""

    draft_invoice_number: int
    customer: Customer
    date: Day
    due_date: Day
    currency: str
    exchange_rate: Decimal
    payment_terms: PaymentTerms
    layout_number: int
    recipient: dict[str, object]
    lines: list[dict[str, object]]
    net_amount: Decimal
    vat_amount: Decimal
    gross_amount: Decimal
    notes: dict[str, str] | None = None
    references: dict[str, object] | None = None
    extra: dict[str, object] | None = None
    last_updated: str = field(default_factory=now_stamp)


@dataclass(eq=False, slots=True)
class LedgerEntry:
    """A ledger entry that is not a booked invoice: a customer payment, a manual customer
    invoice or a finance voucher. ``amount`` and ``remainder`` are signed as in the ledger
    (debit positive): a payment received is negative on the customer."""

    entry_number: int
    entry_type: str  # customerPayment, manualDebtorInvoice, financeVoucher
    date: Day
    amount: Decimal
    currency: str
    exchange_rate: Decimal
    account_number: int
    voucher_number: int
    text: str | None = None
    customer: Customer | None = None
    invoice_number: int | None = None
    due_date: Day | None = None
    remainder: Decimal = ZERO
    contra_account_number: int | None = None
    journal_number: int | None = None
    journal_entry_number: int | None = None

    @property
    def remainder_in_base(self) -> Decimal:
        return money(self.remainder * self.exchange_rate / HUNDRED)


@dataclass(eq=False, slots=True)
class Voucher:
    """One voucher created by ``POST /journals/{n}/vouchers`` and what it posted."""

    journal_number: int
    accounting_year: str
    voucher_number: int
    entries: list[tuple[str, LedgerEntry]]  # (entries key, e.g. "customerPayments", entry)
    request: dict[str, object]  # the posted body
    journal_entries: list[dict[str, object]] = field(default_factory=list)  # as listed
    booked: bool = False  # a person booked the journal: its entries are in the ledger


@dataclass(slots=True)
class Journal:
    """A journal (kassekladde) with its voucher number range."""

    journal_number: int
    name: str
    minimum_voucher_number: int
    maximum_voucher_number: int
    next_voucher_number: int
    contra_account_customer_payments: int | None = BANK_ACCOUNT


def _default_terms() -> dict[int, PaymentTerms]:
    return {
        1: PaymentTerms(1, "Netto 8 dage", "net", 8),
        2: PaymentTerms(2, "Netto 14 dage", "net", 14),
        3: PaymentTerms(3, "Netto 30 dage", "net", 30),
        4: PaymentTerms(4, "Løbende måned + 30 dage", "invoiceMonth", 30),
        5: PaymentTerms(5, "Forfaldsdato", "dueDate", None),
        6: PaymentTerms(6, "Kontant", "paidInCash", None),
    }


class Agreement(Tenant):
    """One e-conomic agreement (company) with its tokens and books. Create it with
    :meth:`FakeEconomic.add_agreement <hub.testing.fakes.economic.FakeEconomic.add_agreement>`.

    State is plain attributes, meant to be inspected by tests: ``customers``, ``booked``
    (booked invoices by number), ``drafts``, ``vouchers``, ``entries`` (ledger entries other
    than booked invoices), ``payment_terms``, ``layouts``, ``products``, ``journals``. Change it
    through the methods, which take the server's lock.
    """

    def __init__(
        self,
        *,
        lock: threading.RLock,
        today: Callable[[], date],
        app_secret_token: str,
        agreement_grant_token: str,
        company_name: str,
        agreement_number: int,
        base_currency: str = "DKK",
        vat_rate: Decimal = Decimal("0.25"),
        role: str = "SuperUser",
    ) -> None:
        if base_currency not in DKK_PER_100:
            raise ValueError(f"unknown base currency {base_currency!r}")
        super().__init__(lock=lock, today=today)
        self.app_secret_token = app_secret_token
        self.agreement_grant_token = agreement_grant_token
        self.company_name = company_name
        self.agreement_number = agreement_number
        self.base_currency = base_currency
        self.vat_rate = vat_rate
        self.role = role  # "SuperUser"; "Bookkeeping" cannot read customers (403) [S6]
        self.revoked = False
        self.customers: dict[int, Customer] = {}
        self.booked: dict[int, BookedInvoice] = {}
        self.drafts: dict[int, DraftInvoice] = {}
        self.vouchers: list[Voucher] = []
        self.entries: list[LedgerEntry] = []
        self.payment_terms: dict[int, PaymentTerms] = _default_terms()
        self.layouts: dict[int, str] = {19: "Standard", 20: "Kreditnota"}
        self.products: dict[str, str] = {"1": "Varer", "2": "Ydelser"}
        self.journals: dict[int, Journal] = {
            1: Journal(1, "Kassekladde", 50001, 59999, 50001),
            2: Journal(2, "Indbetalinger", 60001, 69999, 60001),
        }
        self._next_entry = 1
        self._next_draft = 1
        self._next_journal_entry = 1
        self._booked_sorted: list[BookedInvoice] | None = []

    # --- helpers ----------------------------------------------------------------------------

    def rate(self, currency: str) -> Decimal:
        """Exchange rate of ``currency``: cost in base currency of 100 units [S1]."""
        return (DKK_PER_100[currency] * HUNDRED / DKK_PER_100[self.base_currency]).quantize(
            RATE_PLACES
        )

    def take_entry_number(self) -> int:
        number = self._next_entry
        self._next_entry += 1
        return number

    def take_journal_entry_number(self) -> int:
        number = self._next_journal_entry
        self._next_journal_entry += 1
        return number

    def take_draft_number(self) -> int:
        number = self._next_draft
        self._next_draft += 1
        return number

    def booked_in_order(self) -> list[BookedInvoice]:
        """Booked invoices by number (cached until the next booking)."""
        if self._booked_sorted is None or len(self._booked_sorted) != len(self.booked):
            self._booked_sorted = sorted(self.booked.values(), key=_invoice_number)
        return self._booked_sorted

    def terms_for_days(self, days: int) -> PaymentTerms:
        """Net payment terms of ``days`` days (created when the agreement has none)."""
        for terms in self.payment_terms.values():
            if terms.kind == "net" and terms.days == days:
                return terms
        number = max(self.payment_terms) + 1
        terms = PaymentTerms(number, f"Netto {days} dage", "net", days)
        self.payment_terms[number] = terms
        return terms

    def balance(self, customer: Customer) -> Decimal:
        """The customer's ``balance``: every open item, in base currency."""
        total = sum((inv.remainder_in_base for inv in customer.invoices), ZERO)
        total += sum((e.remainder_in_base for e in customer.open_entries), ZERO)
        return money(total)

    def due_amount(self, customer: Customer) -> Decimal:
        """The customer's ``dueAmount``: open items whose due date has come (payments and
        credits count from their date), in base currency."""
        today = self.today
        total = sum(
            (inv.remainder_in_base for inv in customer.invoices if inv.due_date <= today), ZERO
        )
        total += sum(
            (e.remainder_in_base for e in customer.open_entries if (e.due_date or e.date) <= today),
            ZERO,
        )
        return money(total)

    # --- seeding (test set-up; no HTTP) ------------------------------------------------------

    def add_customer(
        self,
        customer_number: int,
        name: str,
        email: str | None = None,
        currency: str = "DKK",
        address: str | None = None,
        zip: str | None = None,
        city: str | None = None,
        country: str | None = None,
        **extra: Any,
    ) -> Customer:
        """Add a customer. ``extra``: any other :class:`Customer` field (``barred``,
        ``vat_zone_number``, ``payment_terms_number``, ``corporate_identification_number``...).
        """
        if currency not in DKK_PER_100:
            raise ValueError(f"unknown currency {currency!r}")
        with self._lock:
            if customer_number in self.customers:
                raise ValueError(f"customer {customer_number} exists")
            customer = Customer(
                customer_number=customer_number,
                name=name,
                currency=currency,
                email=email,
                address=address,
                zip=zip,
                city=city,
                country=country,
                **extra,
            )
            self.customers[customer_number] = customer
            return customer

    def add_invoice(
        self,
        booked_invoice_number: int,
        customer_number: int,
        date: date,
        due_date: date,
        net_amount: Decimal,
        vat_amount: Decimal,
        currency: str | None = None,
        remainder: Decimal | None = None,
        *,
        notes: dict[str, str] | None = None,
        references: dict[str, object] | None = None,
    ) -> BookedInvoice:
        """Add a booked invoice (negative amounts: a credit note). ``gross = net + vat``;
        ``remainder`` ``None`` means unpaid (the gross amount); ``currency`` ``None`` means the
        customer's. Its ledger entry is created too."""
        with self._lock:
            if booked_invoice_number in self.booked:
                raise ValueError(f"invoice {booked_invoice_number} exists")
            customer = self.customers.get(customer_number)
            if customer is None:
                raise ValueError(f"no customer {customer_number}; add_customer first")
            currency = currency or customer.currency
            net, vat = money(net_amount), money(vat_amount)
            gross = money(net + vat)
            days = (due_date - date).days
            terms = (
                self.terms_for_days(days)
                if days >= 0
                else self.payment_terms.get(5) or PaymentTerms(5, "Forfaldsdato", "dueDate")
            )
            invoice = BookedInvoice(
                booked_invoice_number=booked_invoice_number,
                customer=customer,
                date=date,
                due_date=due_date,
                currency=currency,
                exchange_rate=self.rate(currency),
                net_amount=net,
                vat_amount=vat,
                gross_amount=gross,
                remainder=gross if remainder is None else money(remainder),
                payment_terms=terms,
                recipient=customer.recipient(),
                entry_number=self.take_entry_number(),
                layout_number=customer.layout_number,
                notes=notes,
                references=references,
            )
            self.booked[booked_invoice_number] = invoice
            customer.invoices.append(invoice)
            return invoice

    def pay(self, booked_invoice_number: int, amount: Decimal | None = None) -> Decimal:
        """Register a payment of the invoice as booked in e-conomic (a ``customerPayment`` ledger
        entry settling it). ``None`` pays the whole remainder; partial payments are allowed.
        Returns the new remainder."""
        with self._lock:
            invoice = self.booked[booked_invoice_number]
            paid = invoice.remainder if amount is None else money(amount)
            if paid <= 0 or paid > invoice.remainder:
                raise ValueError(
                    f"cannot pay {paid} of invoice {booked_invoice_number} "
                    f"(remainder {invoice.remainder})"
                )
            invoice.remainder = money(invoice.remainder - paid)
            journal = self.journals[min(self.journals)]
            entry = LedgerEntry(
                entry_number=self.take_entry_number(),
                entry_type="customerPayment",
                date=self.today,
                amount=-paid,
                currency=invoice.currency,
                exchange_rate=invoice.exchange_rate,
                account_number=DEBTORS_ACCOUNT,
                voucher_number=self.take_voucher_number(journal),
                text=f"Indbetaling faktura {booked_invoice_number}",
                customer=invoice.customer,
                invoice_number=booked_invoice_number,
                contra_account_number=BANK_ACCOUNT,
            )
            self.entries.append(entry)
            return invoice.remainder

    def revoke(self) -> None:
        """Revoke the agreement grant: every call with it is answered 401 from now on."""
        with self._lock:
            self.revoked = True

    def add_product(self, product_number: str, name: str) -> None:
        with self._lock:
            self.products[product_number] = name

    def book_journal(self, journal_number: int) -> int:
        """A person books the journal in e-conomic's UI: its unbooked vouchers go to the ledger
        (customer payments settle the invoice they name and lower the balance; manual customer
        invoices raise it) and leave ``/journals/{n}/entries``. Returns how many were booked."""
        with self._lock:
            if journal_number not in self.journals:
                raise ValueError(f"no journal {journal_number}")
            pending = [
                v for v in self.vouchers if v.journal_number == journal_number and not v.booked
            ]
            for voucher in pending:
                for kind, entry in voucher.entries:
                    self.book_entry(kind, entry)
                voucher.booked = True
            return len(pending)

    # --- bookkeeping used by the API ---------------------------------------------------------

    def book_entry(self, kind: str, entry: LedgerEntry) -> None:
        """Post one voucher entry to the ledger (``kind``: the voucher's ``entries`` key). A
        customer payment's ``amount`` is already ledger-signed (money received negative)."""
        entry.entry_number = self.take_entry_number()
        if kind == "customerPayments" and entry.customer is not None:
            self.receive_payment(entry, -entry.amount)
        elif kind == "manualCustomerInvoices" and entry.customer is not None:
            self.post_manual_invoice(entry)
        else:
            self.entries.append(entry)

    def take_voucher_number(self, journal: Journal) -> int:
        number = journal.next_voucher_number
        journal.next_voucher_number += 1
        return number

    def book(self, draft: DraftInvoice, number: int | None) -> BookedInvoice:
        """Book ``draft`` (caller holds the lock and has validated ``number``)."""
        if number is None:
            number = max(self.booked, default=0) + 1
        invoice = made_from(
            BookedInvoice,
            draft,
            booked_invoice_number=number,
            remainder=draft.gross_amount,
            entry_number=self.take_entry_number(),
        )
        del self.drafts[draft.draft_invoice_number]
        self.booked[number] = invoice
        draft.customer.invoices.append(invoice)
        if invoice.is_credit_note:
            self._match_credit_note(invoice)
        return invoice

    def credited_invoice(self, credit_note: BookedInvoice) -> BookedInvoice | None:
        """The open invoice a credit note names in ``references.other``, ``notes.heading``,
        ``notes.textLine1`` or ``notes.textLine2`` (same customer and currency), if any."""
        texts: list[object] = [(credit_note.references or {}).get("other")]
        texts += [(credit_note.notes or {}).get(k) for k in ("heading", "textLine1", "textLine2")]
        for text in texts:
            if not isinstance(text, str):
                continue
            for match in CREDITED_INVOICE_RE.finditer(text):
                target = self.booked.get(int(match.group(1)))
                if (
                    target is not None
                    and target is not credit_note
                    and target.customer is credit_note.customer
                    and target.currency == credit_note.currency
                    and target.remainder > 0
                ):
                    return target
        return None

    def _match_credit_note(self, credit_note: BookedInvoice) -> None:
        target = self.credited_invoice(credit_note)
        if target is None:
            return
        settled = min(-credit_note.remainder, target.remainder)
        target.remainder = money(target.remainder - settled)
        credit_note.remainder = money(credit_note.remainder + settled)
        credit_note.credited_invoice = target.booked_invoice_number

    def receive_payment(self, entry: LedgerEntry, received: Decimal) -> None:
        """Post a customer payment entry (``received`` > 0 is money in, in the entry currency):
        settle the invoice it names, keep the rest open on the customer."""
        customer = entry.customer
        assert customer is not None
        open_part = received
        invoice = self.booked.get(entry.invoice_number) if entry.invoice_number else None
        if (
            invoice is not None
            and invoice.customer is customer
            and received > 0
            and invoice.remainder > 0
        ):
            in_invoice_currency = convert(received, entry.exchange_rate, invoice.exchange_rate)
            settled = min(in_invoice_currency, invoice.remainder)
            invoice.remainder = money(invoice.remainder - settled)
            if settled == in_invoice_currency:
                open_part = ZERO
            else:
                open_part = money(
                    received - convert(settled, invoice.exchange_rate, entry.exchange_rate)
                )
        entry.remainder = money(-open_part)
        self.entries.append(entry)
        if not entry.remainder.is_zero():
            customer.open_entries.append(entry)

    def post_manual_invoice(self, entry: LedgerEntry) -> None:
        """Post a manual customer invoice entry: a debit on the customer, open in full."""
        assert entry.customer is not None
        entry.remainder = entry.amount
        self.entries.append(entry)
        if not entry.remainder.is_zero():
            entry.customer.open_entries.append(entry)


def _invoice_number(invoice: BookedInvoice) -> int:
    return invoice.booked_invoice_number


@dataclass(frozen=True)
class Result:
    """An endpoint's answer: status, JSON text, extra headers (``Location``)."""

    status: int
    body: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    """What an endpoint handler gets: the request and the server settings it depends on."""

    method: str
    path: str
    params: tuple[str, ...]
    query: dict[str, str]  # lower-case keys
    json: Any
    base: str  # origin written into links
    today: date
    page_size_max: int = 1000
    default_page_size: int = 20
    payment_sign: int = 1
