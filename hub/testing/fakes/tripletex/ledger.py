"""The fake Tripletex's bookkeeping: vouchers and their postings, invoices and credit notes with
their vouchers, and open posts (see :mod:`hub.testing.fakes.tripletex`).

The model: every posting on a customer account (1500) belongs to its customer. An invoice opens
a *close group* (Tripletex's ``CloseGroup``) with its customer posting (+gross); its credit note
and every later customer posting that names the invoice's number (``invoiceNumber``) join it.
The group's sum is what is still open of that item; a group that sums to zero is closed (its
postings carry ``closeGroup`` and are no longer open posts). A customer posting that names no
invoice of its customer is an open post of its own. So the open posts of a customer as of a
date always sum to the customer's balance on the customer accounts.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from hub.records import fields_of
from hub.testing.fakes.money import ZERO, money
from hub.testing.fakes.tripletex.model import (
    BANK,
    NOK_PER_UNIT,
    RECEIVABLES,
    REVENUE_BY_VAT,
    VAT_TYPES,
    Account,
    CloseGroup,
    Customer,
    Invoice,
    Order,
    OrderLine,
    Posting,
    VatType,
    Voucher,
)

if TYPE_CHECKING:
    from hub.testing.fakes.tripletex.company import Company

__all__ = [
    "PostingInput",
    "credit_note",
    "new_invoice",
    "new_voucher",
    "open_posts",
    "payment",
    "post_voucher",
    "to_nok",
    "vat_type_for",
]

Part = tuple[VatType, Decimal, Decimal]  # VAT type, net, VAT (invoice currency)


def to_nok(amount: Decimal, currency: str) -> Decimal:
    return amount if currency == "NOK" else money(amount * NOK_PER_UNIT[currency])


def from_nok(amount: Decimal, currency: str) -> Decimal:
    return amount if currency == "NOK" else money(amount / NOK_PER_UNIT[currency])


@functools.lru_cache(maxsize=4096)
def vat_type_for(net: Decimal, vat: Decimal) -> VatType:
    """The outgoing VAT type whose rate is nearest ``vat / net`` (``add_invoice`` gives amounts,
    not a VAT type): 25 % -> 3, 15 % -> 31, 12 % -> 32 (number 33), none -> 5."""
    if vat.is_zero() or net.is_zero():
        return VAT_TYPES[5]
    ratio = abs(vat / net) * 100
    return min((VAT_TYPES[i] for i in (3, 31, 32)), key=lambda v: abs(v.percentage - ratio))


def new_voucher(
    company: Company,
    on: date,
    description: str,
    *,
    external: str = "",
    vendor_invoice_number: str = "",
    posted: bool = True,
    ident: int | None = None,
) -> Voucher:
    """A voucher; a posted one takes the next number of its year (one series per year).
    Pending invoice vouchers are built first, so that numbers follow creation order."""
    if company.pending:
        materialize(company)
    number = 0
    if posted:
        number = company.voucher_numbers.get(on.year, 0) + 1
        company.voucher_numbers[on.year] = number
    company.temp_numbers += 1
    voucher = Voucher(
        id=company.next_id() if ident is None else ident,
        date=on,
        description=description,
        number=number,
        temp_number=company.temp_numbers,
        year=on.year,
        external_voucher_number=external,
        vendor_invoice_number=vendor_invoice_number,
        posted=posted,
    )
    company._vouchers[voucher.id] = voucher
    return voucher


def _group_amount(posting: Posting, group: CloseGroup) -> Decimal:
    if posting.currency == group.currency:
        return posting.amount_gross_currency
    return from_nok(posting.amount_gross, group.currency)


def add_posting(
    company: Company,
    voucher: Voucher,
    *,
    row: int,
    account: Account,
    gross_currency: Decimal,
    currency: str,
    description: str = "",
    on: date | None = None,
    gross: Decimal | None = None,
    net_currency: Decimal | None = None,
    customer: Customer | None = None,
    vat_type: VatType | None = None,
    invoice_number: str = "",
    term_of_payment: date | None = None,
    kind: str | None = None,
    system: bool = False,
    group: CloseGroup | None = None,
    ident: int | None = None,
    counted: bool = False,
) -> Posting:
    """Add a posting to ``voucher``; when the voucher is posted, it counts in the ledger: it
    joins ``group`` (moving its sum, unless ``counted`` already), and a customer posting its
    customer's list."""
    gross_nok = to_nok(gross_currency, currency) if gross is None else gross
    net = gross_currency if net_currency is None else net_currency
    posting = Posting(
        id=company.next_id() if ident is None else ident,
        voucher=voucher,
        date=on or voucher.date,
        description=description,
        account=account,
        amount=to_nok(net, currency) if net_currency is not None else gross_nok,
        amount_currency=net,
        amount_gross=gross_nok,
        amount_gross_currency=gross_currency,
        currency=currency,
        row=row,
        customer=customer,
        vat_type=vat_type,
        invoice_number=invoice_number,
        term_of_payment=term_of_payment,
        type=kind,
        system_generated=system,
    )
    voucher.postings.append(posting)
    if not voucher.posted:
        return posting
    company._postings[posting.id] = posting
    if customer is not None and account.needs_customer:
        customer.postings.append(posting)
        if group is None and invoice_number.isdigit():
            named = company.invoice_by_number.get(int(invoice_number))
            if named is not None and named.customer is customer:
                group = named.group
    if group is not None:
        posting.group = group
        group.postings.append(posting)
        if not counted:
            group.total += _group_amount(posting, group)  # both have two places: exact
            for invoice in group.invoices:
                invoice.version += 1
    return posting


def new_invoice(
    company: Company,
    *,
    invoice_number: int,
    customer: Customer,
    invoice_date: date,
    due_date: date,
    currency: str,
    parts: list[Part],
    invoice_id: int | None = None,
    order: Order | None = None,
    lines: list[OrderLine] | None = None,
    comment: str = "",
    invoice_comment: str = "",
    delivery_date: date | None = None,
    credited: Invoice | None = None,
    lazy: bool = False,
) -> Invoice:
    """Create an invoice (``credited`` given: its credit note, negative ``parts``) and post its
    voucher (see :func:`_post_invoice`); ``lazy``: only reserve the voucher's ids and count the
    invoice in its close group, the voucher is built by :func:`materialize`. Caller holds the
    lock and has validated everything."""
    if len(parts) == 1:
        net, vat = parts[0][1], parts[0][2]
    else:
        net = sum((p[1] for p in parts), ZERO)
        vat = sum((p[2] for p in parts), ZERO)
    gross = net + vat  # amounts of two places: exact
    if credited is not None:
        group = credited.group
    else:
        group = CloseGroup(company.next_id(), currency)
        company.groups[group.id] = group
    invoice = Invoice(
        id=invoice_id if invoice_id is not None else company.next_id(),
        invoice_number=invoice_number,
        customer=customer,
        invoice_date=invoice_date,
        due_date=due_date,
        currency=currency,
        amount_excluding_vat_currency=net,
        amount_currency=gross,
        amount_excluding_vat=to_nok(net, currency),
        amount=to_nok(gross, currency),
        group=group,
        parts=parts,
        comment=comment,
        invoice_comment=invoice_comment,
        delivery_date=delivery_date or invoice_date,
        order=order,
        lines=lines or [],
        is_credit_note=credited is not None,
        credited_invoice=credited,
    )
    group.invoices.append(invoice)
    company.invoices[invoice.id] = invoice
    company.invoice_by_number[invoice_number] = invoice
    customer.invoices.append(invoice)
    if lazy:
        invoice.voucher_id = company.next_id()
        invoice.posting_id = company.next_id()
        group.total += gross
        company.pending.append(invoice)
    else:
        _post_invoice(company, invoice, counted=False)
    invoice.version = 1
    return invoice


def materialize(company: Company) -> None:
    """Build the vouchers of pending invoices (in the order they were added)."""
    pending, company.pending = company.pending, []
    for invoice in pending:
        _post_invoice(company, invoice, counted=True)


def _post_invoice(company: Company, invoice: Invoice, *, counted: bool) -> None:
    """An invoice's voucher: customer account +gross (naming the invoice), revenue -net and
    VAT -vat per VAT type (``counted``: the gross is already in the close group's sum)."""
    customer, currency, due_date = invoice.customer, invoice.currency, invoice.due_date
    invoice_number, gross, group = invoice.invoice_number, invoice.amount_currency, invoice.group
    what = "Kreditnota" if invoice.is_credit_note else "Faktura"
    text = f"{what} nummer {invoice_number} til {customer.name}"
    voucher = new_voucher(company, invoice.invoice_date, text, ident=invoice.voucher_id or None)
    voucher.invoice = invoice
    invoice.voucher = voucher
    invoice.voucher_id = voucher.id
    add_posting(
        company,
        voucher,
        row=1,
        account=company.account_by_number[RECEIVABLES],
        gross_currency=gross,
        currency=currency,
        description=text,
        customer=customer,
        invoice_number=str(invoice_number),
        term_of_payment=due_date,
        kind="OUTGOING_INVOICE_CUSTOMER_POSTING",
        system=True,
        group=group,
        ident=invoice.posting_id or None,
        counted=counted,
    )
    row = 2
    for vat_type, part_net, part_vat in invoice.parts:
        revenue = company.account_by_number[REVENUE_BY_VAT.get(vat_type.id, 3100)]
        add_posting(
            company,
            voucher,
            row=row,
            account=revenue,
            gross_currency=-money(part_net + part_vat),
            net_currency=-part_net,
            currency=currency,
            description=text,
            vat_type=vat_type,
            system=True,
        )
        row += 1
        if vat_type.account_number is not None and not part_vat.is_zero():
            add_posting(
                company,
                voucher,
                row=0,
                account=company.account_by_number[vat_type.account_number],
                gross_currency=-part_vat,
                currency=currency,
                description=text,
                vat_type=vat_type,
                system=True,
            )


def payment(company: Company, invoice: Invoice, amount: Decimal, on: date) -> Voucher:
    """A customer's bank payment of ``amount`` (invoice currency) naming ``invoice``."""
    voucher = new_voucher(company, on, f"Innbetaling faktura {invoice.invoice_number}")
    nok = to_nok(amount, invoice.currency)
    add_posting(
        company,
        voucher,
        row=1,
        account=company.account_by_number[BANK],
        gross_currency=nok,
        currency="NOK",
        description=voucher.description,
        kind="INCOMING_PAYMENT_OPPOSITE",
    )
    add_posting(
        company,
        voucher,
        row=2,
        account=company.account_by_number[RECEIVABLES],
        gross_currency=-amount,
        gross=-nok,
        currency=invoice.currency,
        description=voucher.description,
        customer=invoice.customer,
        invoice_number=str(invoice.invoice_number),
        kind="INCOMING_PAYMENT",
    )
    return voucher


def credit_note(company: Company, original: Invoice, on: date, comment: str) -> Invoice:
    """The credit note that nullifies ``original`` in full (caller checked it may be credited):
    negative copies of its lines and amounts, in its close group. Whatever was already paid
    stays open on the customer as the credit note's (negative) outstanding amount."""
    lines = [
        OrderLine(
            id=company.next_id(),
            order_id=line.order_id,
            description=line.description,
            count=-line.count,
            unit_price_excluding_vat=line.unit_price_excluding_vat,
            unit_price_including_vat=line.unit_price_including_vat,
            discount=line.discount,
            vat_type=line.vat_type,
            amount_excluding_vat=-line.amount_excluding_vat,
            amount_including_vat=-line.amount_including_vat,
            currency=line.currency,
        )
        for line in original.lines
    ]
    note = new_invoice(
        company,
        invoice_number=company.next_invoice_number(),
        customer=original.customer,
        invoice_date=on,
        due_date=on,
        currency=original.currency,
        parts=[(vt, -net, -vat) for vt, net, vat in original.parts],
        order=original.order,
        lines=lines,
        comment=comment,
        invoice_comment=original.invoice_comment,
        delivery_date=on,
        credited=original,
    )
    original.credit_note = note
    original.version += 1
    return note


@dataclass(slots=True)
class PostingInput:
    """A validated posting of ``POST /ledger/voucher``."""

    row: int
    on: date
    description: str
    account: Account
    gross: Decimal  # NOK
    gross_currency: Decimal
    currency: str
    customer: Customer | None
    vat_type: VatType | None
    invoice_number: str


def post_voucher(
    company: Company,
    *,
    on: date,
    description: str,
    external: str,
    vendor_invoice_number: str,
    postings: list[PostingInput],
    send_to_ledger: bool,
) -> Voucher:
    """Create a voucher from validated postings (their gross amounts balance). A posting with a
    VAT type that has a rate is split: the posting keeps the gross amount, its ``amount`` is the
    net, and a system-generated posting (row 0) takes the VAT to the VAT type's account, so the
    ledger ``amount``s balance too."""
    voucher = new_voucher(
        company,
        on,
        description,
        external=external,
        vendor_invoice_number=vendor_invoice_number,
        posted=send_to_ledger,
    )
    for item in postings:
        vat_type = item.vat_type
        splits = (
            vat_type is not None
            and vat_type.account_number is not None
            and item.account.number != vat_type.account_number
            and not item.account.needs_customer  # customer postings keep the gross amount
        )
        net_currency = None
        if splits and vat_type is not None:
            net_currency = money(item.gross_currency / (1 + vat_type.rate))
        add_posting(company, voucher, **fields_of(item), net_currency=net_currency)
        if splits and vat_type is not None and net_currency is not None:
            vat_amount = money(item.gross_currency - net_currency)
            if not vat_amount.is_zero():
                assert vat_type.account_number is not None
                add_posting(
                    company,
                    voucher,
                    row=0,
                    account=company.account_by_number[vat_type.account_number],
                    gross_currency=vat_amount,
                    currency=item.currency,
                    description=item.description,
                    on=item.on,
                    vat_type=vat_type,
                    system=True,
                )
    return voucher


def open_posts(
    company: Company,
    before: date,
    *,
    customer: Customer | None = None,
    account: Account | None = None,
    number_from: int | None = None,
    number_to: int | None = None,
) -> list[Posting]:
    """Postings on closeable accounts dated before ``before`` that are not closed as of then:
    a posting in a close group is open when the group's postings dated before ``before`` do not
    sum to zero; a posting without a group is open unless it is zero."""
    company.materialize()
    candidates = (
        customer.postings
        if customer is not None
        else [p for p in company._postings.values() if p.account.is_closeable]
    )
    sums: dict[int, Decimal] = {}
    out: list[Posting] = []
    for posting in candidates:
        if posting.date >= before:
            continue
        number = posting.account.number
        if account is not None and posting.account is not account:
            continue
        if number_from is not None and number < number_from:
            continue
        if number_to is not None and number > number_to:
            continue
        group = posting.group
        if group is None:
            if not posting.amount_gross.is_zero():
                out.append(posting)
            continue
        if group.id not in sums:
            sums[group.id] = sum(
                (_group_amount(p, group) for p in group.postings if p.date < before), ZERO
            )
        if not sums[group.id].is_zero():
            out.append(posting)
    return out
