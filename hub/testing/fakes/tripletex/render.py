"""JSON rendering of the fake Tripletex's records, in the shapes of the API's schemas (field
names and order as the spec and captured answers have them; see :mod:`hub.testing.fakes.tripletex`).

:func:`render` gives a record's model name and its fields, links to other records as
:class:`~hub.testing.fakes.tripletex.fields.Link`; a
:class:`~hub.testing.fakes.tripletex.fields.Shaper` cuts that to the request's ``fields``. Unset
links are ``null`` and unset texts ``""``, as real answers write them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hub.testing.fakes.money import ZERO
from hub.testing.fakes.tripletex.company import Company
from hub.testing.fakes.tripletex.fields import RENDERERS, Link, Shaper, renders
from hub.testing.fakes.tripletex.model import (
    RECEIVABLES,
    Address,
    CloseGroup,
    Customer,
    Invoice,
    Order,
    OrderLine,
    Posting,
    Voucher,
)
from hub.testing.fakes.tripletex.render_refs import (
    LedgerSum,
    WhoAmI,
    currency_link,
    norway_link,
    vat_link,
)

__all__ = ["DIGEST", "LedgerSum", "WhoAmI", "render", "shaper"]

Doc = dict[str, Any]
ZERO_PCT = Decimal(0)
DIGEST = "'If-None-Match' header not specified"  # what captured list answers carry


@renders(Customer, "CustomerDTO")
def _customer(c: Customer, s: Shaper) -> Doc:
    return {
        **s.head("customer", c.id, c.version),
        "name": c.name,
        "organizationNumber": c.organization_number,
        "globalLocationNumber": 0,
        "supplierNumber": 0,
        "customerNumber": c.customer_number,
        "isSupplier": False,
        "isCustomer": True,
        "isInactive": c.is_inactive,
        "accountManager": None,
        "department": None,
        "email": c.email,
        "invoiceEmail": c.invoice_email,
        "overdueNoticeEmail": "",
        "bankAccounts": [],
        "phoneNumber": "",
        "phoneNumberMobile": "",
        "description": "",
        "language": "NO",
        "displayName": f"{c.name} ({c.customer_number})",
        "isPrivateIndividual": False,
        "singleCustomerInvoice": False,
        "invoiceSendMethod": "EMAIL" if c.invoice_email else "MANUAL",
        "emailAttachmentType": "ATTACHMENT",
        "postalAddress": Link("address", c.postal_address.id, c.postal_address),
        "physicalAddress": Link("address", c.physical_address.id, c.physical_address),
        "deliveryAddress": None,
        "category1": None,
        "category2": None,
        "category3": None,
        "invoicesDueIn": c.invoices_due_in,
        "invoicesDueInType": c.invoices_due_in_type,
        "currency": currency_link(c.currency),
        "bankAccountPresentation": [],
        "ledgerAccount": s.receivables,
        "isFactoring": False,
        "invoiceSendSMSNotification": False,
        "invoiceSMSNotificationNumber": "",
        "isAutomaticSoftReminderEnabled": False,
        "isAutomaticReminderEnabled": False,
        "isAutomaticNoticeOfDebtCollectionEnabled": False,
        "discountPercentage": ZERO_PCT,
        "website": "",
    }


@renders(Address, "AddressDTO")
def _address(a: Address, s: Shaper) -> Doc:
    text = ", ".join(x for x in (a.line1, f"{a.postal_code} {a.city}".strip()) if x)
    return {
        **s.head("address", a.id),
        "addressLine1": a.line1,
        "addressLine2": "",
        "postalCode": a.postal_code,
        "city": a.city,
        "country": norway_link(),
        "displayName": text,
        "addressAsString": text,
    }


@renders(Invoice, "InvoiceDTO")
def _invoice(i: Invoice, s: Shaper) -> Doc:
    outstanding = i.amount_outstanding
    outstanding_currency = i.amount_currency_outstanding
    number = str(i.invoice_number)
    voucher = i.voucher
    if voucher is None:  # pending (see Company.materialize): nothing has joined its group yet
        postings = [Link("ledger/posting", i.posting_id, None)]
    else:
        postings = [
            Link("ledger/posting", p.id, p) for p in i.group.postings if p.invoice_number == number
        ]
    return {
        **s.head("invoice", i.id, i.version),
        "invoiceNumber": i.invoice_number,
        "invoiceDate": i.invoice_date,
        "customer": Link("customer", i.customer.id, i.customer),
        "creditedInvoice": i.credited_invoice.id if i.credited_invoice is not None else 0,
        "isCredited": i.is_credited,
        "invoiceDueDate": i.due_date,
        "kid": i.kid,
        "invoiceComment": i.invoice_comment,
        "comment": i.comment,
        "orders": [Link("order", i.order.id, i.order)] if i.order is not None else [],
        "orderLines": [Link("order/orderline", line.id, line) for line in i.lines],
        "travelReports": [],
        "projectInvoiceDetails": [],
        "voucher": Link("ledger/voucher", i.voucher_id, voucher),
        "deliveryDate": i.delivery_date,
        "amount": i.amount,
        "amountCurrency": i.amount_currency,
        "amountExcludingVat": i.amount_excluding_vat,
        "amountExcludingVatCurrency": i.amount_excluding_vat_currency,
        "amountRoundoff": ZERO,
        "amountRoundoffCurrency": ZERO,
        "amountOutstanding": outstanding,
        "amountCurrencyOutstanding": outstanding_currency,
        "amountOutstandingTotal": outstanding,
        "amountCurrencyOutstandingTotal": outstanding_currency,
        "sumRemits": ZERO,
        "currency": currency_link(i.currency),
        "isCreditNote": i.is_credit_note,
        "isCharged": True,
        "isApproved": True,
        "postings": postings,
        "reminders": [],
        "invoiceRemarks": "",
        "invoiceRemark": None,
        "isPeriodizationPossible": False,
        "documentId": 0,
    }


@renders(Order, "OrderDTO")
def _order(o: Order, s: Shaper) -> Doc:
    invoice = o.invoice
    return {
        **s.head("order", o.id, o.version),
        "customer": Link("customer", o.customer.id, o.customer),
        "contact": None,
        "attn": None,
        "displayName": f"{o.number} Ordre",
        "receiverEmail": o.receiver_email,
        "overdueNoticeEmail": "",
        "number": o.number,
        "reference": o.reference,
        "department": None,
        "orderDate": o.order_date,
        "project": None,
        "invoiceComment": o.invoice_comment,
        "currency": currency_link(o.currency),
        "invoicesDueIn": o.invoices_due_in,
        "invoicesDueInType": o.invoices_due_in_type,
        "isShowOpenPostsOnInvoices": False,
        "isClosed": o.is_closed,
        "deliveryDate": o.delivery_date,
        "deliveryAddress": None,
        "deliveryComment": o.delivery_comment,
        "isPrioritizeAmountsIncludingVat": o.is_prioritize_amounts_including_vat,
        "orderLineSorting": "ID",
        "orderGroups": [],
        "orderLines": [Link("order/orderline", line.id, line) for line in o.lines],
        "isSubscription": False,
        "subscriptionDuration": 0,
        "subscriptionDurationType": "MONTHS",
        "subscriptionPeriodsOnInvoice": 0,
        "subscriptionPeriodsOnInvoiceType": "MONTHS",
        "subscriptionInvoicingTimeInAdvanceOrArrears": "ADVANCE",
        "subscriptionInvoicingTime": 0,
        "subscriptionInvoicingTimeType": "MONTHS",
        "isSubscriptionAutoInvoicing": False,
        "preliminaryInvoice": Link("invoice", o.preliminary_invoice_id, invoice),
        "attachment": [],
        "sendMethodDescription": "",
        "invoiceOnAccountVatHigh": False,
        "totalInvoicedOnAccountAmountAbsoluteCurrency": ZERO,
        "invoiceSendSMSNotification": False,
        "invoiceSMSNotificationNumber": "",
        "markUpOrderLines": ZERO_PCT,
        "discountPercentage": ZERO_PCT,
        "customerName": o.customer.name,
        "projectManagerNameAndNumber": "",
        "travelReports": [],
        "accountingDimensionValues": [],
    }


@renders(OrderLine, "OrderLineDTO")
def _order_line(line: OrderLine, s: Shaper) -> Doc:
    return {
        **s.head("order/orderline", line.id),
        "product": None,
        "inventory": None,
        "inventoryLocation": None,
        "description": line.description,
        "displayName": line.description,
        "count": line.count,
        "unitCostCurrency": ZERO,
        "unitPriceExcludingVatCurrency": line.unit_price_excluding_vat,
        "currency": currency_link(line.currency),
        "markup": ZERO_PCT,
        "discount": line.discount,
        "vatType": vat_link(line.vat_type),
        "amountExcludingVatCurrency": line.amount_excluding_vat,
        "amountIncludingVatCurrency": line.amount_including_vat,
        "vendor": None,
        "order": Link("order", line.order_id, None),
        "unitPriceIncludingVatCurrency": line.unit_price_including_vat,
        "isSubscription": False,
        "subscriptionPeriodStart": None,
        "subscriptionPeriodEnd": None,
        "orderGroup": None,
        "sortIndex": 0,
        "isPicked": False,
        "pickedDate": None,
        "orderedQuantity": line.count,
        "isCharged": True,
    }


@renders(Voucher, "VoucherDTO")
def _voucher(v: Voucher, s: Shaper) -> Doc:
    shown = f"{v.number}-{v.year}" if v.posted else ""
    return {
        **s.head("ledger/voucher", v.id, v.version),
        "date": v.date,
        "number": v.number,
        "tempNumber": v.temp_number,
        "year": v.year,
        "description": v.description,
        "voucherType": None,
        "reverseVoucher": None,
        "postings": [Link("ledger/posting", p.id, p) for p in v.postings],
        "document": None,
        "attachment": None,
        "externalVoucherNumber": v.external_voucher_number,
        "ediDocument": None,
        "supplierVoucherType": None,
        "wasAutoMatched": False,
        "vendorInvoiceNumber": v.vendor_invoice_number,
        "displayName": f"{shown} {v.description}".strip(),
        "numberAsString": shown,
    }


@renders(Posting, "PostingDTO")
def _posting(p: Posting, s: Shaper) -> Doc:
    group = p.group
    closed = group is not None and group.closed
    return {
        **s.head("ledger/posting", p.id),
        "voucher": Link("ledger/voucher", p.voucher.id, p.voucher),
        "date": p.date,
        "description": p.description,
        "account": Link("ledger/account", p.account.id, p.account),
        "amortizationAccount": None,
        "amortizationStartDate": None,
        "amortizationEndDate": None,
        "customer": Link("customer", p.customer.id, p.customer) if p.customer else None,
        "supplier": None,
        "employee": None,
        "project": None,
        "product": None,
        "department": None,
        "vatType": vat_link(p.vat_type),
        "amount": p.amount,
        "amountCurrency": p.amount_currency,
        "amountGross": p.amount_gross,
        "amountGrossCurrency": p.amount_gross_currency,
        "currency": currency_link(p.currency),
        "closeGroup": Link("ledger/closeGroup", group.id, group) if closed and group else None,
        "invoiceNumber": p.invoice_number,
        "termOfPayment": p.term_of_payment,
        "row": p.row,
        "type": p.type,
        "externalRef": p.external_ref,
        "systemGenerated": p.system_generated,
        "matched": closed,
        "isVatReadonly": p.system_generated,
        "isAmountVatClosed": False,
        "freeAccountingDimension1": None,
        "freeAccountingDimension2": None,
        "freeAccountingDimension3": None,
        "asset": None,
    }


@renders(CloseGroup, "CloseGroupDTO")
def _close_group(g: CloseGroup, s: Shaper) -> Doc:
    last = max((p.date for p in g.postings), default=None)
    return {
        **s.head("ledger/closeGroup", g.id),
        "date": last,
        "postings": [Link("ledger/posting", p.id, p) for p in g.postings],
    }


def render(obj: object, s: Shaper) -> tuple[str, Doc]:
    """``obj``'s model name and fields (links unexpanded)."""
    model, fn = RENDERERS[type(obj)]
    return model, fn(obj, s)


def shaper(host: str, company: Company) -> Shaper:
    """A :class:`Shaper` for one request to ``company``."""
    receivables = company.account_by_number[RECEIVABLES]
    return Shaper(host, render, Link("ledger/account", receivables.id, receivables))
