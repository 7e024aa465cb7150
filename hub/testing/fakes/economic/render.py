"""JSON rendering of the fake e-conomic server's records, in the shapes of e-conomic's schemas
(see :mod:`hub.testing.fakes.economic`). Values are Python objects (``Decimal``, ``date``) that
:func:`hub.testing.fakes.wire.dumps` writes as JSON numbers and ISO dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Literal

from hub.testing.fakes.economic.model import (
    DEBTORS_ACCOUNT,
    RATE_PLACES,
    Agreement,
    BookedInvoice,
    Customer,
    DraftInvoice,
    Journal,
    LedgerEntry,
)
from hub.testing.fakes.money import HUNDRED, ZERO, money

__all__ = [
    "AnyEntry",
    "customer_json",
    "draft_json",
    "entry_json",
    "invoice_json",
    "journal_json",
]

InvoiceView = Literal["booked", "single", "status"]


def _ref(base: str, path: str, key: str, value: object) -> dict[str, object]:
    return {key: value, "self": f"{base}/{path}/{value}"}


def recipient_json(recipient: Mapping[str, object], base: str) -> dict[str, object]:
    out = {k: v for k, v in recipient.items() if k != "vatZoneNumber"}
    zone = recipient.get("vatZoneNumber")
    if zone is not None:
        out["vatZone"] = _ref(base, "vat-zones", "vatZoneNumber", zone)
    return out


def _synthetic_line(invoice: BookedInvoice) -> dict[str, object]:
    rate = (
        (invoice.vat_amount * HUNDRED / invoice.net_amount).quantize(RATE_PLACES)
        if invoice.net_amount
        else Decimal("0.000000")
    )
    return {
        "lineNumber": 1,
        "sortKey": 1,
        "description": f"Faktura {invoice.booked_invoice_number}",
        "quantity": Decimal("1.00"),
        "unitNetPrice": invoice.net_amount,
        "discountPercentage": ZERO,
        "unitCostPrice": ZERO,
        "vatRate": rate,
        "vatAmount": invoice.vat_amount,
        "totalNetAmount": invoice.net_amount,
        "product": {"productNumber": "1"},
    }


def lines_json(lines: list[dict[str, object]], base: str) -> list[dict[str, object]]:
    out = []
    for line in lines:
        item = dict(line)
        product = item.get("product")
        if isinstance(product, dict) and "productNumber" in product:
            item["product"] = _ref(base, "products", "productNumber", product["productNumber"])
        unit = item.get("unit")
        if isinstance(unit, dict) and "unitNumber" in unit:
            item["unit"] = {**unit, "self": f"{base}/units/{unit['unitNumber']}"}
        out.append(item)
    return out


def _links(extra: Mapping[str, object] | None, base: str) -> dict[str, object]:
    """delivery / deliveryLocation / project as posted on the draft, with self links."""
    out: dict[str, object] = {}
    if not extra:
        return out
    if "deliveryLocation" in extra:
        loc = extra["deliveryLocation"]
        assert isinstance(loc, dict)
        number = loc.get("deliveryLocationNumber")
        out["deliveryLocation"] = {**loc, "self": f"{base}/delivery-locations/{number}"}
    if "delivery" in extra:
        out["delivery"] = extra["delivery"]
    if "project" in extra:
        project = extra["project"]
        assert isinstance(project, dict)
        out["project"] = {**project, "self": f"{base}/projects/{project.get('projectNumber')}"}
    return out


def _references_json(refs: Mapping[str, object] | None, base: str) -> dict[str, object] | None:
    if not refs:
        return None
    out: dict[str, object] = {}
    for key, value in refs.items():
        if key in ("salesPerson", "vendorReference") and isinstance(value, dict):
            out[key] = {**value, "self": f"{base}/employees/{value.get('employeeNumber')}"}
        elif key == "customerContact" and isinstance(value, dict):
            number = value.get("customerContactNumber")
            out[key] = {**value, "self": f"{base}/customers/contacts/{number}"}
        else:
            out[key] = value
    return out


def invoice_json(invoice: BookedInvoice, base: str, view: InvoiceView) -> dict[str, object]:
    """A booked invoice as ``/invoices/booked`` (``booked``), ``/invoices/booked/{n}``
    (``single``: with ``lines``) or ``/invoices/unpaid|overdue|not-due|paid`` (``status``: no
    ``exchangeRate``/``grossAmountInBaseCurrency``, per those schemas) send it."""
    n = invoice.booked_invoice_number
    rate = invoice.exchange_rate
    out: dict[str, object] = {
        "bookedInvoiceNumber": n,
        "date": invoice.date,
        "currency": invoice.currency,
    }
    if view != "status":
        out["exchangeRate"] = rate
    out["netAmount"] = invoice.net_amount
    out["netAmountInBaseCurrency"] = money(invoice.net_amount * rate / HUNDRED)
    out["grossAmount"] = invoice.gross_amount
    if view != "status":
        out["grossAmountInBaseCurrency"] = money(invoice.gross_amount * rate / HUNDRED)
    out["vatAmount"] = invoice.vat_amount
    out["roundingAmount"] = ZERO
    out["remainder"] = invoice.remainder
    out["remainderInBaseCurrency"] = invoice.remainder_in_base
    out["dueDate"] = invoice.due_date
    out["paymentTerms"] = invoice.payment_terms.as_json(base)
    out["customer"] = _ref(base, "customers", "customerNumber", invoice.customer.customer_number)
    out["recipient"] = recipient_json(invoice.recipient, base)
    _add_extras(out, invoice, base)
    out["layout"] = _ref(base, "layouts", "layoutNumber", invoice.layout_number)
    out["pdf"] = {"download": f"{base}/invoices/booked/{n}/pdf"}
    if view == "single":
        lines = invoice.lines if invoice.lines is not None else [_synthetic_line(invoice)]
        out["lines"] = lines_json(lines, base)
    out["sent"] = f"{base}/invoices/booked/{n}/sent"
    out["self"] = f"{base}/invoices/booked/{n}"
    return out


def _add_extras(out: dict[str, object], invoice: BookedInvoice | DraftInvoice, base: str) -> None:
    """What an invoice carries as posted: delivery, project and the like, notes, references."""
    out.update(_links(invoice.extra, base))
    if invoice.notes:
        out["notes"] = invoice.notes
    references = _references_json(invoice.references, base)
    if references:
        out["references"] = references


def draft_json(draft: DraftInvoice, base: str, *, single: bool) -> dict[str, object]:
    """A draft invoice as ``/invoices/drafts`` (``single=False``: the collection schema's
    properties, no ``layout``, no ``lines``) or ``/invoices/drafts/{n}`` and the POST answer
    (``single=True``: with ``layout``, ``lines`` [S2], ``attachment`` [S3]) send it."""
    n = draft.draft_invoice_number
    me = f"{base}/invoices/drafts/{n}"
    rate = draft.exchange_rate
    net_base = money(draft.net_amount * rate / HUNDRED)
    cost = money(sum((_cost(line) for line in draft.lines), ZERO) * rate / HUNDRED)
    margin = money(net_base - cost)
    out: dict[str, object] = {"draftInvoiceNumber": n}
    out["templates"] = {
        "bookingInstructions": f"{me}/templates/booking-instructions",
        "self": f"{me}/templates",
    }
    if single:
        out["attachment"] = f"{me}/attachment"
    out.update(
        {
            "date": draft.date,
            "currency": draft.currency,
            "exchangeRate": rate,
            "netAmount": draft.net_amount,
            "netAmountInBaseCurrency": net_base,
            "grossAmount": draft.gross_amount,
            "grossAmountInBaseCurrency": money(draft.gross_amount * rate / HUNDRED),
            "marginInBaseCurrency": margin,
            "marginPercentage": money(margin * HUNDRED / net_base) if net_base else ZERO,
            "vatAmount": draft.vat_amount,
            "roundingAmount": ZERO,
            "costPriceInBaseCurrency": cost,
            "dueDate": draft.due_date,
            "paymentTerms": draft.payment_terms.as_json(base),
            "customer": _ref(base, "customers", "customerNumber", draft.customer.customer_number),
            "recipient": recipient_json(draft.recipient, base),
        }
    )
    _add_extras(out, draft, base)
    if single:
        out["layout"] = _ref(base, "layouts", "layoutNumber", draft.layout_number)
    out["pdf"] = {"download": f"{me}/pdf"}
    if single:
        out["lines"] = lines_json(draft.lines, base)
    out["lastUpdated"] = draft.last_updated
    out["self"] = me
    return out


def _cost(line: Mapping[str, object]) -> Decimal:
    quantity, cost = line.get("quantity"), line.get("unitCostPrice")
    if isinstance(quantity, Decimal) and isinstance(cost, Decimal):
        return quantity * cost
    return ZERO


# A customer's optional properties (attribute, JSON name), in e-conomic's order around "name";
# unset ones are left out [S1].
_CUSTOMER_BEFORE_NAME = (
    ("city", "city"),
    ("country", "country"),
    ("corporate_identification_number", "corporateIdentificationNumber"),
    ("credit_limit", "creditLimit"),
    ("ean", "ean"),
    ("email", "email"),
)
_CUSTOMER_AFTER_NAME = (
    ("telephone_and_fax_number", "telephoneAndFaxNumber"),
    ("vat_number", "vatNumber"),
    ("zip", "zip"),
)


def _set_given(out: dict[str, object], record: object, names: tuple[tuple[str, str], ...]) -> None:
    """Copy ``record``'s attributes that are set into ``out`` under their JSON names."""
    for key, name in names:
        value = getattr(record, key)
        if value is not None:
            out[name] = value


def customer_json(
    agreement: Agreement, customer: Customer, base: str, *, single: bool
) -> dict[str, object]:
    """A customer as ``/customers[/{n}]`` sends it; false booleans and unset fields omitted."""
    n = customer.customer_number
    me = f"{base}/customers/{n}"
    out: dict[str, object] = {"customerNumber": n, "currency": customer.currency}
    out["paymentTerms"] = _ref(
        base, "payment-terms", "paymentTermsNumber", customer.payment_terms_number
    )
    out["customerGroup"] = _ref(
        base, "customer-groups", "customerGroupNumber", customer.customer_group_number
    )
    if customer.address is not None:
        out["address"] = customer.address
    out["balance"] = agreement.balance(customer)
    out["dueAmount"] = agreement.due_amount(customer)
    if customer.barred:
        out["barred"] = True
    _set_given(out, customer, _CUSTOMER_BEFORE_NAME)
    out["name"] = customer.name
    _set_given(out, customer, _CUSTOMER_AFTER_NAME)
    out["vatZone"] = _ref(base, "vat-zones", "vatZoneNumber", customer.vat_zone_number)
    out["layout"] = _ref(base, "layouts", "layoutNumber", customer.layout_number)
    out["lastUpdated"] = customer.last_updated
    out["contacts"] = f"{me}/contacts"
    out["templates"] = {
        "invoice": f"{me}/templates/invoice",
        "invoiceLine": f"{me}/templates/invoiceline",
        "self": f"{me}/templates",
    }
    out["totals"] = {
        "drafts": f"{base}/invoices/totals/drafts/customers/{n}",
        "booked": f"{base}/invoices/totals/booked/customers/{n}",
        "self": f"{me}/totals",
    }
    out["deliveryLocations"] = f"{me}/delivery-locations"
    out["invoices"] = {
        "drafts": f"{me}/invoices/drafts",
        "booked": f"{me}/invoices/booked",
        "self": f"{me}/invoices",
    }
    if single:
        out["metaData"] = {
            "delete": {"description": "Delete this customer.", "href": me, "httpMethod": "delete"},
            "replace": {"description": "Replace this customer.", "href": me, "httpMethod": "put"},
        }
    out["self"] = me
    return out


AnyEntry = BookedInvoice | LedgerEntry


def entry_json(agreement: Agreement, entry: AnyEntry, base: str, year: str) -> dict[str, object]:
    """A ledger entry as ``/accounting-years/{year}/entries`` sends it."""
    if isinstance(entry, BookedInvoice):
        n = entry.booked_invoice_number
        rate = entry.exchange_rate
        out: dict[str, object] = {
            "account": _ref(base, "accounts", "accountNumber", DEBTORS_ACCOUNT),
            "amount": entry.gross_amount,
            "amountInBaseCurrency": money(entry.gross_amount * rate / HUNDRED),
            "currency": entry.currency,
            "date": entry.date,
            "dueDate": entry.due_date,
            "entryNumber": entry.entry_number,
            "text": f"Faktura {n}",
            "entryType": "customerInvoice",
            "customer": _ref(base, "customers", "customerNumber", entry.customer.customer_number),
            "voucherNumber": n,
            "bookedInvoice": _ref(base, "invoices/booked", "bookedInvoiceNumber", n),
            "invoiceNumber": str(n),
            "remainder": entry.remainder,
            "remainderInBaseCurrency": entry.remainder_in_base,
        }
    else:
        account = entry.account_number
        out = {
            "account": _ref(base, "accounts", "accountNumber", account),
            "amount": entry.amount,
            "amountInBaseCurrency": money(entry.amount * entry.exchange_rate / HUNDRED),
            "currency": entry.currency,
            "date": entry.date,
        }
        if entry.due_date is not None:
            out["dueDate"] = entry.due_date
        out["entryNumber"] = entry.entry_number
        if entry.text:
            out["text"] = entry.text
        out["entryType"] = entry.entry_type
        if entry.customer is not None:
            number = entry.customer.customer_number
            out["customer"] = _ref(base, "customers", "customerNumber", number)
        out["voucherNumber"] = entry.voucher_number
        if entry.invoice_number is not None:
            out["invoiceNumber"] = str(entry.invoice_number)
        out["remainder"] = entry.remainder
        out["remainderInBaseCurrency"] = entry.remainder_in_base
    out["self"] = f"{base}/accounting-years/{year}/entries/{out['entryNumber']}"
    return out


def journal_json(journal: Journal, base: str) -> dict[str, object]:
    """A journal as ``/journals[/{n}]`` sends it."""
    me = f"{base}/journals/{journal.journal_number}"
    settings: dict[str, object] = {
        "voucherNumbers": {
            "minimumVoucherNumber": journal.minimum_voucher_number,
            "maximumVoucherNumber": journal.maximum_voucher_number,
        }
    }
    if journal.contra_account_customer_payments is not None:
        settings["contraAccounts"] = {
            "customerPayments": _ref(
                base, "accounts", "accountNumber", journal.contra_account_customer_payments
            )
        }
    return {
        "journalNumber": journal.journal_number,
        "name": journal.name,
        "settings": settings,
        "entries": f"{me}/entries",
        "vouchers": f"{me}/vouchers",
        "templates": {
            "financeVoucher": f"{me}/templates/financeVoucher",
            "manualCustomerInvoice": f"{me}/templates/manualCustomerInvoice",
            "self": f"{me}/templates",
        },
        "self": me,
    }
