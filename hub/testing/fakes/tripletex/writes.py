"""The write endpoints of the fake Tripletex (see :mod:`hub.testing.fakes.tripletex`):
``POST /order``, ``PUT /order/{id}/:invoice``, ``PUT /invoice/{id}/:createCreditNote`` and
``POST /ledger/voucher``.

Bodies are read like Tripletex maps them: a field the model does not have, or a value of the
wrong type, is a 422 with code 16000 ("Request mapping failed", "Feltet eksisterer ikke i
objektet." as captured); a business rule broken is a 422 with code 18000 ("Validering feilet.")
and one ``validationMessages`` entry per problem.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TypeVar

from hub.testing.fakes.money import ZERO, money
from hub.testing.fakes.tripletex import ledger
from hub.testing.fakes.tripletex.body import (
    NOT_FOUND,
    NULL,
    ORDER_FIELDS,
    ORDER_LINE_FIELDS,
    POSTING_FIELDS,
    VOUCHER_FIELDS,
    BodyReader,
    two_places,
)
from hub.testing.fakes.tripletex.model import (
    VAT_TYPES,
    ApiError,
    Customer,
    Order,
    OrderLine,
    VatType,
    validation_error,
)
from hub.testing.fakes.tripletex.query import Call, Result, single_answer
from hub.testing.fakes.tripletex.reads import path_id

__all__ = ["post_order", "post_voucher", "put_credit_note", "put_order_invoice"]

T = TypeVar("T")

SALES_VAT_TYPES = frozenset(v.id for v in VAT_TYPES.values() if v.account_number != 2710)
PREPAYMENT = (  # parameters of :invoice the fake refuses unless 0 (prepayment, on account)
    "paymentTypeId",
    "paidAmount",
    "paidAmountAccountCurrency",
    "paymentTypeIdRestAmount",
    "paidAmountAccountCurrencyRest",
    "amountOnAccount",
    "invoiceIdIfIsCreditNote",
)
SEND_TYPES = ("EMAIL", "EHF", "AVTALEGIRO", "EFAKTURA", "VIPPS", "PAPER", "MANUAL")
CREDIT_SEND_TYPES = (
    *SEND_TYPES,
    "DIRECT",
    "AUTOINVOICE_EHF_OUTBOUND",
    "AUTOINVOICE_EHF_INCOMING",
    "PEPPOL_EHF_INCOMING",
)


# --- orders -------------------------------------------------------------------------------------


def _line(
    call: Call, reader: BodyReader, doc: object, index: int, order_id: int, currency: str
) -> OrderLine | None:
    where = f"orderLines[{index}]."
    line = reader.object(doc, ORDER_LINE_FIELDS, where)
    count = reader.number(line, "count", where)
    excl = reader.number(line, "unitPriceExcludingVatCurrency", where)
    incl = reader.number(line, "unitPriceIncludingVatCurrency", where)
    discount = reader.number(line, "discount", where) or Decimal(0)
    description = reader.text(line, "description", where) or ""
    vat_id = reader.ref(line, "vatType", where)
    if count is None:
        reader.rules.append((where + "count", NULL))
    if excl is None and incl is None:
        reader.rules.append((where + "unitPriceExcludingVatCurrency", NULL))
    if not Decimal(0) <= discount <= Decimal(100):
        reader.rules.append((where + "discount", "Rabatt må være mellom 0 og 100 %."))
    vat_type: VatType = VAT_TYPES[3]  # UNVERIFIED default: the high rate
    if vat_id is not None:
        if vat_id not in SALES_VAT_TYPES:
            reader.rules.append((where + "vatType.id", "Ugyldig mva-kode."))
        else:
            vat_type = VAT_TYPES[vat_id]
    if count is None or (excl is None and incl is None):
        return None
    factor = (Decimal(100) - discount) / Decimal(100)
    rate = vat_type.rate
    if excl is not None:
        net = money(count * excl * factor)
        gross = money(net + money(net * rate))
        incl = incl if incl is not None else money(excl * (1 + rate))
    else:
        assert incl is not None
        gross = money(count * incl * factor)
        net = money(gross / (1 + rate))
        excl = money(incl / (1 + rate))
    return OrderLine(
        id=call.company.next_id(),
        order_id=order_id,
        description=description,
        count=count,
        unit_price_excluding_vat=excl,
        unit_price_including_vat=incl,
        discount=discount,
        vat_type=vat_type,
        amount_excluding_vat=net,
        amount_including_vat=gross,
        currency=currency,
    )


def post_order(call: Call) -> Result:
    """``POST /order``: 201 with the order (``number`` and ``preliminaryInvoice`` assigned)."""
    company = call.company
    reader = BodyReader()
    doc = reader.object(call.json, ORDER_FIELDS, "")
    customer_id = reader.ref(doc, "customer")
    order_date = reader.day(doc, "orderDate")
    delivery_date = reader.day(doc, "deliveryDate")
    currency = reader.currency(doc, "currency")
    due_in = reader.integer(doc, "invoicesDueIn")
    due_type = reader.text(doc, "invoicesDueInType")
    texts = {k: reader.text(doc, k) or "" for k in ("reference", "invoiceComment")}
    receiver = reader.text(doc, "receiverEmail") or ""
    delivery_comment = reader.text(doc, "deliveryComment") or ""
    incl_first = reader.boolean(doc, "isPrioritizeAmountsIncludingVat") or False
    raw_lines = doc.get("orderLines") or []
    customer: Customer | None = None
    if customer_id is None and "customer" not in doc:
        reader.rules.append(("customer", NULL))
    elif customer_id is not None:
        customer = company.customers.get(customer_id)
        if customer is None:
            reader.rules.append(("customer.id", NOT_FOUND))
    for name, value in (("orderDate", order_date), ("deliveryDate", delivery_date)):
        if value is None and name not in doc:
            reader.rules.append((name, NULL))
    if due_in is not None and not 0 <= due_in <= 10000:
        reader.rules.append(("invoicesDueIn", "Må være mellom 0 og 10000."))
    if due_type is not None and due_type not in ("DAYS", "MONTHS", "RECURRING_DAY_OF_MONTH"):
        reader.rules.append(("invoicesDueInType", f"Ugyldig verdi {due_type!r}."))
    if not isinstance(raw_lines, list):
        reader.mapping.append(("orderLines", "Verdien er ikke av korrekt type for dette feltet."))
        raw_lines = []
    order_id = company.next_id()
    code = currency or (customer.currency if customer is not None else company.currency)
    lines = [_line(call, reader, item, n, order_id, code) for n, item in enumerate(raw_lines)]
    reader.check()
    assert customer is not None and order_date is not None and delivery_date is not None
    company.order_numbers += 1
    order = Order(
        id=order_id,
        number=str(company.order_numbers),
        customer=customer,
        order_date=order_date,
        delivery_date=delivery_date,
        currency=code,
        lines=[line for line in lines if line is not None],
        invoices_due_in=customer.invoices_due_in if due_in is None else due_in,
        invoices_due_in_type=due_type or customer.invoices_due_in_type,
        preliminary_invoice_id=company.next_id(),
        reference=texts["reference"],
        invoice_comment=texts["invoiceComment"],
        receiver_email=receiver,
        delivery_comment=delivery_comment,
        is_prioritize_amounts_including_vat=incl_first,
    )
    company.orders[order.id] = order
    return single_answer(call, order, 201)


def _found(call: Call, table: dict[int, T], what: str) -> T:
    """The record the path names; a 404 ("Order not found.") when there is none."""
    record = table.get(path_id(call))
    if record is None:
        raise ApiError(404, 6000, "Object not found", developer_message=f"{what} not found.")
    return record


def _sending(call: Call, day: str, send_types: tuple[str, ...]) -> date:
    """The date (parameter ``day``, required) of an invoicing PUT; its sending options are
    checked (``sendToCustomer``, ``sendType``) though the fake sends nothing."""
    on = call.day(day, required=True)
    assert on is not None
    call.boolean("sendToCustomer", True)
    call.enum("sendType", send_types)
    return on


def put_order_invoice(call: Call) -> Result:
    """``PUT /order/{id}/:invoice?invoiceDate=``: the invoice (200), numbered next, due after
    the order's ``invoicesDueIn``; the order is closed and links it as ``preliminaryInvoice``."""
    company = call.company
    order = _found(call, company.orders, "Order")
    on = _sending(call, "invoiceDate", SEND_TYPES)
    on_account = call.enum("createOnAccount", ("NONE", "WITH_VAT", "WITHOUT_VAT"))
    unsupported = [name for name in PREPAYMENT if (call.number(name) or ZERO) != 0]
    if on_account not in (None, "NONE"):
        unsupported.append("createOnAccount")
    if unsupported:
        raise validation_error(
            [(name, "Ikke støttet av den falske Tripletex.") for name in unsupported],
            code=15000,
            message="Validation failed",
        )
    if order.invoice is not None or order.is_closed:
        raise validation_error([(None, "Ordren er allerede fakturert.")])
    if not order.lines:
        raise validation_error([("orderLines", "Ordren har ingen ordrelinjer å fakturere.")])
    parts: dict[int, tuple[VatType, Decimal, Decimal]] = {}
    for line in order.lines:
        vt, net, vat = parts.get(line.vat_type.id, (line.vat_type, ZERO, ZERO))
        line_vat = money(line.amount_including_vat - line.amount_excluding_vat)
        parts[vt.id] = (vt, money(net + line.amount_excluding_vat), money(vat + line_vat))
    invoice = ledger.new_invoice(
        company,
        invoice_number=company.next_invoice_number(),
        customer=order.customer,
        invoice_date=on,
        due_date=company.due_date_for(on, order.invoices_due_in, order.invoices_due_in_type),
        currency=order.currency,
        parts=list(parts.values()),
        invoice_id=order.preliminary_invoice_id,
        order=order,
        lines=order.lines,
        invoice_comment=order.invoice_comment,
        delivery_date=order.delivery_date,
    )
    order.invoice = invoice
    order.is_closed = True
    order.version += 1
    return single_answer(call, invoice, 200)


# --- credit notes -------------------------------------------------------------------------------


def put_credit_note(call: Call) -> Result:
    """``PUT /invoice/{id}/:createCreditNote?date=``: the credit note (200) that nullifies the
    whole invoice. An invoice already credited, or a credit note, is a 422."""
    company = call.company
    invoice = _found(call, company.invoices, "Invoice")
    on = _sending(call, "date", CREDIT_SEND_TYPES)
    if invoice.is_credit_note:
        raise validation_error([(None, "En kreditnota kan ikke krediteres.")])
    if invoice.is_credited:
        raise validation_error([(None, "Fakturaen er allerede kreditert.")])
    note = ledger.credit_note(company, invoice, on, call.text("comment") or "")
    return single_answer(call, note, 200)


# --- vouchers -----------------------------------------------------------------------------------


def _posting(
    call: Call, reader: BodyReader, doc: object, index: int, voucher_date: date | None
) -> ledger.PostingInput | None:
    company = call.company
    where = f"postings[{index}]."
    item = reader.object(doc, POSTING_FIELDS, where)
    row = reader.integer(item, "row", where) or 0
    on = reader.day(item, "date", where) or voucher_date
    account_id = reader.ref(item, "account", where)
    customer_id = reader.ref(item, "customer", where)
    vat_id = reader.ref(item, "vatType", where)
    gross = reader.number(item, "amountGross", where)
    gross_currency = reader.number(item, "amountGrossCurrency", where)
    currency = reader.currency(item, "currency", where) or "NOK"
    invoice_number = reader.text(item, "invoiceNumber", where) or ""
    description = reader.text(item, "description", where) or ""
    problems = reader.rules
    if row < 1:
        problems.append(
            (
                "postings.row",
                f"Posteringene på rad {row} (guiRow {row}) er systemgenererte og kan ikke "
                "opprettes eller endres på utsiden av Tripletex.",
            )
        )
    account = company.accounts.get(account_id) if account_id is not None else None
    if account_id is None:
        problems.append((where + "account", NULL))
    elif account is None:
        problems.append((where + "account.id", NOT_FOUND))
    customer = company.customers.get(customer_id) if customer_id is not None else None
    if customer_id is not None and customer is None:
        problems.append((where + "customer.id", NOT_FOUND))
    if account is not None and account.needs_customer and customer_id is None:
        problems.append((where + "customer", f"Kunde må oppgis for konto {account.number}."))
    vat_type = None
    if vat_id is not None:
        vat_type = VAT_TYPES.get(vat_id)
        if vat_type is None:
            problems.append((where + "vatType.id", NOT_FOUND))
    if gross is None:
        problems.append((where + "amountGross", NULL))
    two_places(reader, gross, where + "amountGross")
    two_places(reader, gross_currency, where + "amountGrossCurrency")
    if gross is None or account is None or on is None:
        return None
    if gross_currency is None:
        gross_currency = ledger.from_nok(gross, currency)
    elif currency == "NOK" and gross_currency != gross:
        problems.append((where + "amountGrossCurrency", "Må være lik amountGross i NOK."))
    return ledger.PostingInput(
        row=row,
        on=on,
        description=description,
        account=account,
        gross=money(gross),
        gross_currency=money(gross_currency),
        currency=currency,
        customer=customer,
        vat_type=vat_type,
        invoice_number=invoice_number,
    )


def post_voucher(call: Call) -> Result:
    """``POST /ledger/voucher[?sendToLedger=]``: 201 with the voucher and its postings."""
    send = call.boolean("sendToLedger", True)
    reader = BodyReader()
    doc = reader.object(call.json, VOUCHER_FIELDS, "")
    on = reader.day(doc, "date")
    description = reader.text(doc, "description") or ""
    external = reader.text(doc, "externalVoucherNumber") or ""
    vendor_number = reader.text(doc, "vendorInvoiceNumber") or ""
    raw = doc.get("postings") or []
    if not isinstance(raw, list):
        reader.mapping.append(("postings", "Verdien er ikke av korrekt type for dette feltet."))
        raw = []
    if on is None and "date" not in doc:
        reader.rules.append(("date", NULL))
    if len(external) > 70:
        reader.rules.append(("externalVoucherNumber", "Maks 70 tegn."))
    if not raw:
        reader.rules.append(("postings", "Et bilag kan ikke registreres uten posteringer."))
    postings = [_posting(call, reader, item, n, on) for n, item in enumerate(raw)]
    reader.check()
    valid = [p for p in postings if p is not None]
    total = money(sum((p.gross for p in valid), ZERO))
    if not total.is_zero():
        raise validation_error(
            [("postings", f"Bilaget er ikke i balanse. Summen av posteringene er {total}.")]
        )
    assert on is not None
    voucher = ledger.post_voucher(
        call.company,
        on=on,
        description=description,
        external=external,
        vendor_invoice_number=vendor_number,
        postings=valid,
        send_to_ledger=bool(send),
    )
    return single_answer(call, voucher, 201)
