"""The records the conformance kit asks a backend to hold, and the writes it makes.

The data is the kit's, not the plugin's: the kit knows every value it seeded, so it can check
that the plugin hands back exactly those values (to the øre, with the currency and the dates),
rather than merely values of the right type.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from hub.amounts import CENT, ZERO
from hub.model import (
    CreditNoteRequest,
    Customer,
    DraftLine,
    Invoice,
    InvoiceDraft,
    JournalEntry,
    JournalLine,
    OutgoingMessage,
)

VAT_RATE = Decimal("0.25")
FIRST_INVOICE_NUMBER = 70001


@dataclass(frozen=True)
class ConformanceData:
    """Customers and booked invoices (open, partly paid and paid) for a backend to hold.

    ``invoices`` holds every seeded invoice; an invoice whose ``outstanding_amount`` is 0 is
    paid, one with ``0 < outstanding < gross`` partly paid. Every amount is in ``currency``
    (the client's), every invoice and customer number is made of digits (many systems number
    them so). ``unknown_*`` are numbers the backend must *not* hold.
    """

    today: dt.date
    currency: str
    customers: tuple[Customer, ...]
    invoices: tuple[Invoice, ...]
    unknown_invoice_numbers: tuple[str, ...]
    unknown_customer_numbers: tuple[str, ...]

    @property
    def open_invoices(self) -> tuple[Invoice, ...]:
        return tuple(i for i in self.invoices if i.outstanding_amount > 0)

    @property
    def paid_invoices(self) -> tuple[Invoice, ...]:
        return tuple(i for i in self.invoices if i.outstanding_amount == 0)

    @property
    def partly_paid_invoices(self) -> tuple[Invoice, ...]:
        return tuple(i for i in self.invoices if 0 < i.outstanding_amount < i.gross_amount)

    @property
    def invoice_numbers_to_ask(self) -> list[str]:
        """Every seeded invoice's number, then the unknown ones."""
        return [*(i.invoice_number for i in self.invoices), *self.unknown_invoice_numbers]

    @property
    def customer_numbers_to_ask(self) -> list[str]:
        """Every seeded customer's number, then the unknown ones."""
        return [*(c.customer_number for c in self.customers), *self.unknown_customer_numbers]

    def balances(self) -> dict[str, Decimal]:
        """Each customer's balance: the sum of what is outstanding on its invoices."""
        totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
        for invoice in self.invoices:
            totals[invoice.customer_number] += invoice.outstanding_amount
        return {c.customer_number: totals[c.customer_number] for c in self.customers}


#: Customers with Danish and Norwegian letters in their names, as the fields of
#: :class:`Customer` in order: number, name, e-mail, address, postal code, city, country,
#: language (a short row leaves the rest out).
_SPECIAL_CUSTOMERS: tuple[tuple[str, ...], ...] = (
    (
        "9001",
        "Østergaard & Søn ApS",
        "bogholderi@oestergaard.example",
        "Søndergade 1",
        "8000",
        "Aarhus C",
        "Danmark",
        "da",
    ),
    ("9002", "Blåbær A/S"),
    (
        "9003",
        "Fjordline Ålesund AS",
        "faktura@fjordline.example",
        "Storgata 5",
        "6002",
        "Ålesund",
        "Norge",
        "nb",
    ),
)


def _customers(count: int) -> tuple[Customer, ...]:
    """Three customers with Danish and Norwegian letters in their names, then plain ones
    (every other one without an e-mail address) up to ``count``."""
    special = tuple(Customer(*row) for row in _SPECIAL_CUSTOMERS)
    plain = tuple(
        Customer(
            customer_number=str(9004 + n),
            name=f"Kunde {9004 + n} ApS",
            email=f"kunde{9004 + n}@example.dk" if n % 2 == 0 else None,
        )
        for n in range(max(0, count - len(special)))
    )
    return special + plain


#: The customer billed without VAT (a Norwegian customer of a Danish company: export).
NO_VAT_CUSTOMER = "9003"
#: Days of credit, taken in turn.
CREDIT_DAYS = (8, 14, 30)


def make_data(
    *, today: dt.date, currency: str, open_count: int, customer_count: int = 3
) -> ConformanceData:
    """Invoices round-robin over ``customer_count`` customers (at least three), amounts with
    øre, ``open_count`` of them open.

    Every 11th invoice (from the 6th) is paid, every 7th (from the 4th) otherwise partly paid;
    the rest are open in full. VAT is 25 %, rounded half up, except for customer 9003 (0 %).
    Invoice dates run 10 to 49 days back, with 8, 14 or 30 days' credit, so some are overdue
    and some are not.
    """
    customers = _customers(max(customer_count, 3))
    invoices: list[Invoice] = []
    opened = 0
    k = 0
    while opened < open_count:
        customer = customers[k % len(customers)]
        net = (Decimal(100 + (37 * k) % 5000) + Decimal(k % 100) / 100).quantize(CENT)
        rate = ZERO if customer.customer_number == NO_VAT_CUSTOMER else VAT_RATE
        vat = (net * rate).quantize(CENT, rounding=ROUND_HALF_UP)
        gross = net + vat
        if k % 11 == 5:
            outstanding = ZERO
        elif k % 7 == 3:
            outstanding = (gross / 2).quantize(CENT, rounding=ROUND_HALF_UP)
        else:
            outstanding = gross
        invoice_date = today - dt.timedelta(days=10 + k % 40)
        invoices.append(
            Invoice(
                invoice_number=str(FIRST_INVOICE_NUMBER + k),
                customer_number=customer.customer_number,
                invoice_date=invoice_date,
                due_date=invoice_date + dt.timedelta(days=CREDIT_DAYS[k % len(CREDIT_DAYS)]),
                currency=currency,
                net_amount=net,
                vat_amount=vat,
                gross_amount=gross,
                outstanding_amount=outstanding,
                customer_name=customer.name,
            )
        )
        opened += outstanding > 0
        k += 1
    last = FIRST_INVOICE_NUMBER + k
    return ConformanceData(
        today=today,
        currency=currency,
        customers=customers,
        invoices=tuple(invoices),
        unknown_invoice_numbers=(str(last + 500), str(last + 501)),
        unknown_customer_numbers=("8999",),
    )


def new_key(kind: str) -> str:
    """A fresh idempotency key: unique per call, so a sandbox that keeps its data between
    runs never sees one run's key in another."""
    return f"conformance:{kind}:{uuid.uuid4().hex[:12]}"


def credit_note_request(data: ConformanceData, key: str, invoice: Invoice) -> CreditNoteRequest:
    """Credit ``invoice`` in full (its outstanding amount)."""
    return CreditNoteRequest(
        idempotency_key=key,
        invoice_number=invoice.invoice_number,
        customer_number=invoice.customer_number,
        date=data.today,
        currency=invoice.currency,
        amount=invoice.outstanding_amount,
        reason="Conformance kit: credit in full",
    )


def journal_entry(
    data: ConformanceData, key: str, invoice: Invoice, loss_account: str, vat_account: str
) -> JournalEntry:
    """A loss write-off of ``invoice`` (rule D4): the customer credited the gross, the loss
    account debited the net, output VAT debited the VAT."""
    return JournalEntry(
        idempotency_key=key,
        date=data.today,
        currency=invoice.currency,
        text=f"Conformance kit: loss on invoice {invoice.invoice_number}",
        lines=(
            JournalLine(
                amount=-invoice.gross_amount,
                text=f"Invoice {invoice.invoice_number} written off",
                customer_number=invoice.customer_number,
                invoice_number=invoice.invoice_number,
            ),
            JournalLine(amount=invoice.net_amount, text="Loss on debtors", account=loss_account),
            JournalLine(amount=invoice.vat_amount, text="Output VAT", account=vat_account),
        ),
    )


def invoice_draft(
    data: ConformanceData, key: str, kind: str, vat_code: str | None = None
) -> InvoiceDraft:
    """A two-line invoice (or order) for the first customer, 14 days' credit."""
    customer = data.customers[0]
    return InvoiceDraft(
        idempotency_key=key,
        kind=kind,
        customer_number=customer.customer_number,
        invoice_date=data.today,
        due_date=data.today + dt.timedelta(days=14),
        currency=data.currency,
        lines=(
            DraftLine("Conformance subscription", Decimal("2"), Decimal("149.50"), vat_code),
            DraftLine("Conformance set-up fee", Decimal("1"), Decimal("0.05"), vat_code),
        ),
        text="Conformance kit",
    )


def outgoing_message(key: str, recipient_email: str | None) -> OutgoingMessage:
    """A Danish first reminder, as the core renders one."""
    return OutgoingMessage(
        idempotency_key=key,
        kind="reminder_1",
        language="da",
        customer_number="9001",
        recipient_name="Østergaard & Søn ApS",
        recipient_email=recipient_email,
        subject="Rykker 1: faktura 70001 på 1.250,00 kr.",
        body=(
            "Kære Østergaard & Søn ApS\n\nFaktura 70001 er forfalden.\n\nVenlig hilsen\nAcme ApS\n"
        ),
        sender_name="Acme ApS",
        sender_email="kredit@acme.example",
    )
