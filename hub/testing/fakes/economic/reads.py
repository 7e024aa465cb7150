"""The read endpoints of the fake e-conomic server: collections (with ``filter``, ``sort``,
paging) and single resources, in the shapes of e-conomic's schemas. See
:mod:`hub.testing.fakes.economic` for what is faithful and what is simplified.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from hub.testing.fakes.economic.model import (
    Agreement,
    ApiError,
    BookedInvoice,
    Journal,
    Request,
    Result,
)
from hub.testing.fakes.economic.query import (
    CollectionSpec,
    FieldType,
    T,
    apply_query,
    page_links,
)
from hub.testing.fakes.economic.render import (
    AnyEntry,
    customer_json,
    draft_json,
    entry_json,
    invoice_json,
    journal_json,
)
from hub.testing.fakes.wire import dumps
from hub.toolkit.fields import get as dotted

__all__ = [
    "BOOKED_SPEC",
    "CUSTOMER_SPEC",
    "DRAFT_SPEC",
    "ENTRY_SPEC",
    "JOURNAL_ENTRY_SPEC",
    "JOURNAL_SPEC",
    "NOT_FOUND_HINT",
    "STATUS_SPEC",
    "get_booked",
    "get_booked_one",
    "get_customer",
    "get_customers",
    "get_draft",
    "get_drafts",
    "get_entries",
    "get_journal",
    "get_journal_entries",
    "get_journals",
    "get_self",
    "get_status",
    "not_found",
    "number",
]

NOT_FOUND_HINT = (
    "The API tries to provide all the resource urls you need. If you have hard coded urls "
    "yourself, then try to look at the enclosing collection for hypermedia information on where "
    "the resource you are looking for could be."
)  # verbatim from a real 404 [S3 fixtures/json/404.json]


# --- collection specs (filterable/sortable properties from the schemas) -------------------------

_RECIPIENT: dict[str, FieldType] = {
    f"recipient.{k}": "string"
    for k in ("name", "address", "zip", "city", "country", "ean", "publicEntryNumber")
}
_DELIVERY: dict[str, FieldType] = {
    **{f"delivery.{k}": "string" for k in ("address", "zip", "city", "country", "deliveryTerms")},
    "delivery.deliveryDate": "date",
    "deliveryLocation.deliveryLocationNumber": "int",
}
_DOCUMENT_COMMON: dict[str, FieldType] = {
    "date": "date",
    "currency": "string",
    "paymentTerms.paymentTermsNumber": "int",
    "customer.customerNumber": "int",
    **_RECIPIENT,
    **_DELIVERY,
    **{f"notes.{k}": "string" for k in ("heading", "textLine1", "textLine2")},
    "references.customerContact.customer.customerNumber": "int",
    "references.salesPerson.employeeNumber": "int",
    "references.vendorReference.employeeNumber": "int",
    "references.other": "string",
}
_STATUS_FIELDS: dict[str, FieldType] = {
    "bookedInvoiceNumber": "int",
    **_DOCUMENT_COMMON,
    "recipient.vatZone.vatZoneNumber": "int",
}
STATUS_SPEC = CollectionSpec(_STATUS_FIELDS, frozenset(_STATUS_FIELDS), "bookedInvoiceNumber")
_BOOKED_FIELDS: dict[str, FieldType] = {**_STATUS_FIELDS, "exchangeRate": "number"}
BOOKED_SPEC = CollectionSpec(_BOOKED_FIELDS, frozenset(_BOOKED_FIELDS), "bookedInvoiceNumber")
_DRAFT_FIELDS: dict[str, FieldType] = {
    "draftInvoiceNumber": "int",
    **_DOCUMENT_COMMON,
    "exchangeRate": "number",
    "lastUpdated": "datetime",
    "soap.currentInvoiceHandle.id": "int",
}
DRAFT_SPEC = CollectionSpec(
    _DRAFT_FIELDS, frozenset(_DRAFT_FIELDS) - {"lastUpdated"}, "draftInvoiceNumber"
)
_CUSTOMER_TEXT = [
    "address",
    "city",
    "corporateIdentificationNumber",
    "country",
    "currency",
    "ean",
    "email",
    "name",
    "publicEntryNumber",
    "telephoneAndFaxNumber",
    "mobilePhone",
    "vatNumber",
    "website",
    "zip",
    "pNumber",
]
_CUSTOMER_FIELDS: dict[str, FieldType] = {
    **{k: "string" for k in _CUSTOMER_TEXT},
    "balance": "number",
    "barred": "bool",
    "creditLimit": "number",
    "customerNumber": "int",
    "lastUpdated": "datetime",
    "customerGroup.customerGroupNumber": "int",
}
CUSTOMER_SPEC = CollectionSpec(
    _CUSTOMER_FIELDS,
    frozenset(_CUSTOMER_FIELDS) - {"barred", "customerGroup.customerGroupNumber", "pNumber"},
    "customerNumber",
)
_ENTRY_FIELDS: dict[str, FieldType] = {
    "amount": "number",
    "supplierInvoiceNumber": "string",
    "amountInBaseCurrency": "number",
    "currency": "string",
    "date": "date",
    "dueDate": "date",
    "project.projectNumber": "int",
    "costType.costTypeNumber": "int",
    "entryNumber": "int",
    "text": "string",
    "entryType": "string",
    "customer.customerNumber": "int",
    "supplier.supplierNumber": "int",
    "supplier.supplierGroup.supplierGroupNumber": "int",
    "unit1.unitNumber": "int",
    "unit2.unitNumber": "int",
    "quantity1": "number",
    "quantity2": "number",
    "voucherNumber": "int",
    "remainder": "number",
    "remainderInBaseCurrency": "number",
}
ENTRY_SPEC = CollectionSpec(
    _ENTRY_FIELDS,
    frozenset(_ENTRY_FIELDS)
    - {"project.projectNumber", "supplier.supplierGroup.supplierGroupNumber"},
    "entryNumber",
)
_JOURNAL_ENTRY_FIELDS: dict[str, FieldType] = {
    "account.accountNumber": "int",
    "customer.customerNumber": "int",
    "supplier.supplierNumber": "int",
    "text": "string",
    "amount": "number",
    "contraAccount.accountNumber": "int",
    "contraVatAccount.vatCode": "string",
    "contraVatAmount": "number",
    "currency.code": "string",
    "date": "date",
    "employee.employeeNumber": "int",
    "exchangeRate": "number",
    "entryType": "string",
    "voucher.voucherNumber": "int",
    "amountDefaultCurrency": "number",
    "journalEntryNumber": "int",
}
JOURNAL_ENTRY_SPEC = CollectionSpec(
    _JOURNAL_ENTRY_FIELDS, frozenset(_JOURNAL_ENTRY_FIELDS), "journalEntryNumber"
)
_JOURNAL_FIELDS: dict[str, FieldType] = {"name": "string", "journalNumber": "int"}
JOURNAL_SPEC = CollectionSpec(_JOURNAL_FIELDS, frozenset(_JOURNAL_FIELDS), "journalNumber")

_INVOICE_GETTERS: dict[str, Callable[[BookedInvoice], object]] = {
    "bookedInvoiceNumber": lambda i: i.booked_invoice_number,
    "customer.customerNumber": lambda i: i.customer.customer_number,
    "date": lambda i: i.date,
    "currency": lambda i: i.currency,
    "exchangeRate": lambda i: i.exchange_rate,
    "paymentTerms.paymentTermsNumber": lambda i: i.payment_terms.number,
    "recipient.name": lambda i: i.recipient.get("name"),
    "recipient.vatZone.vatZoneNumber": lambda i: i.recipient.get("vatZoneNumber"),
    "references.other": lambda i: (i.references or {}).get("other"),
    "notes.heading": lambda i: (i.notes or {}).get("heading"),
}


def _booked_json(invoice: BookedInvoice, base: str) -> dict[str, object]:
    return invoice_json(invoice, base, "booked")


def not_found(identifier: str) -> ApiError:
    """A missing resource: 404 ``E06000`` (as a repeated DELETE answers [S2])."""
    return ApiError(
        404,
        {
            "message": "Resource not found.",
            "errorCode": "E06000",
            "developerHint": NOT_FOUND_HINT,
        },
    )


def number(raw: str) -> int:
    """A numeric path parameter; anything else is a resource that does not exist."""
    if not raw.isdigit():
        raise not_found(raw)
    return int(raw)


def named(records: Mapping[int, T], request: Request) -> T:
    """The record the request's numeric path parameter names (404 when there is none)."""
    record = records.get(number(request.params[0]))
    if record is None:
        raise not_found(request.params[0])
    return record


def _reader(
    render: Callable[[T, str], dict[str, object]],
    getters: Mapping[str, Callable[[T], object]],
) -> Callable[[T, str], object]:
    """How a collection reads an item's field for filtering and sorting: by its getter in
    ``getters``, else at its dotted path in the item as rendered (without links)."""

    def get(item: T, path: str) -> object:
        getter = getters.get(path)
        return getter(item) if getter is not None else dotted(render(item, ""), path)

    return get


def _collection(
    request: Request,
    items: list[T],
    spec: CollectionSpec,
    render: Callable[[T, str], dict[str, object]],
    getters: Mapping[str, Callable[[T], object]] | None = None,
    *,
    get: Callable[[T, str], object] | None = None,
    create: str | None = None,
) -> Result:
    """A page of ``items`` as e-conomic sends a collection, with what the request asks
    (filter, sort, page): each item rendered with the request's base, its fields read by
    ``get`` (default: :func:`_reader` of ``render`` and ``getters``); ``create``: the
    description of the collection's ``create`` link (a POST to it)."""
    page = apply_query(
        items,
        request.query,
        spec,
        get or _reader(render, getters or {}),
        max_page_size=request.page_size_max,
        default_page_size=request.default_page_size,
    )
    pagination = page_links(request.base, request.path, page, request.query, request.page_size_max)
    me = request.base + request.path
    meta: dict[str, object] = {}
    if create is not None:
        meta["create"] = {"description": create, "href": me, "httpMethod": "post"}
    document = {
        "collection": [render(item, request.base) for item in page.items],  # type: ignore[arg-type]
        "metaData": meta,
        "pagination": pagination,
        "self": me,
    }
    return Result(200, dumps(document))


#: the booked invoices' fields, which the ``/invoices/{status}`` collections filter on too
_booked_field = _reader(_booked_json, _INVOICE_GETTERS)


def get_self(ag: Agreement, request: Request) -> Result:
    """``GET /self``: the agreement (a minimal subset of the real resource)."""
    body = {
        "agreementNumber": ag.agreement_number,
        "company": {"name": ag.company_name},
        "userName": "API",
        "self": f"{request.base}/self",
    }
    return Result(200, dumps(body))


def get_customers(ag: Agreement, request: Request) -> Result:
    customers = sorted(ag.customers.values(), key=lambda c: c.customer_number)
    return _collection(
        request,
        customers,
        CUSTOMER_SPEC,
        lambda c, base: customer_json(ag, c, base, single=False),
        {"customerNumber": lambda c: c.customer_number, "balance": ag.balance},
        create="Create a new customer.",
    )


def get_customer(ag: Agreement, request: Request) -> Result:
    customer = named(ag.customers, request)
    return Result(200, dumps(customer_json(ag, customer, request.base, single=True)))


def get_booked(ag: Agreement, request: Request) -> Result:
    return _collection(
        request,
        ag.booked_in_order(),
        BOOKED_SPEC,
        _booked_json,
        _INVOICE_GETTERS,
        create="Book a draft invoice.",
    )


def get_booked_one(ag: Agreement, request: Request) -> Result:
    invoice = named(ag.booked, request)
    return Result(200, dumps(invoice_json(invoice, request.base, "single")))


def get_status(ag: Agreement, request: Request) -> Result:
    """``/invoices/unpaid|overdue|not-due|paid`` (overdue: due date passed; not-due: due today
    or later [S1])."""
    today = request.today
    keep: Callable[[BookedInvoice], bool] = {
        "unpaid": lambda i: i.remainder > 0,
        "overdue": lambda i: i.remainder > 0 and i.due_date < today,
        "not-due": lambda i: i.remainder > 0 and i.due_date >= today,
        "paid": lambda i: i.remainder.is_zero(),
    }[request.params[0]]
    invoices = [i for i in ag.booked_in_order() if keep(i)]
    return _collection(
        request,
        invoices,
        STATUS_SPEC,
        lambda i, base: invoice_json(i, base, "status"),
        get=_booked_field,
    )


def get_drafts(ag: Agreement, request: Request) -> Result:
    drafts = sorted(ag.drafts.values(), key=lambda d: d.draft_invoice_number)
    return _collection(
        request,
        drafts,
        DRAFT_SPEC,
        lambda d, base: draft_json(d, base, single=False),
        create="Create a new draft invoice.",
    )


def get_draft(ag: Agreement, request: Request) -> Result:
    draft = named(ag.drafts, request)
    return Result(200, dumps(draft_json(draft, request.base, single=True)))


def get_journals(ag: Agreement, request: Request) -> Result:
    journals = sorted(ag.journals.values(), key=lambda j: j.journal_number)
    getters: dict[str, Callable[[Journal], object]] = {
        "journalNumber": lambda j: j.journal_number,
        "name": lambda j: j.name,
    }
    return _collection(request, journals, JOURNAL_SPEC, journal_json, getters)


def get_journal(ag: Agreement, request: Request) -> Result:
    journal = named(ag.journals, request)
    return Result(200, dumps(journal_json(journal, request.base)))


def get_entries(ag: Agreement, request: Request) -> Result:
    """``/accounting-years/{year}/entries``: booked invoices and the other ledger entries dated
    in the year (``2026``, or ``2025_2026``/``2025/2026`` for a split year)."""
    year = request.params[0]
    match = re.fullmatch(r"(\d{4})(?:[_/](\d{4}))?", year)
    if match is None:
        raise not_found(year)
    years = {int(y) for y in match.groups() if y}
    items: list[AnyEntry] = [i for i in ag.booked.values() if i.date.year in years]
    items += [e for e in ag.entries if e.date.year in years]
    items.sort(key=lambda e: e.entry_number)
    return _collection(
        request,
        items,
        ENTRY_SPEC,
        lambda e, base: entry_json(ag, e, base, year),
        {"entryNumber": lambda e: e.entry_number},
    )


def get_journal_entries(ag: Agreement, request: Request) -> Result:
    """``/journals/{n}/entries``: the entries of the vouchers posted to the journal and not
    booked yet (booking moves them to ``/accounting-years/{year}/entries``)."""
    journal = named(ag.journals, request)
    items = [
        entry
        for voucher in ag.vouchers
        if voucher.journal_number == journal.journal_number and not voucher.booked
        for entry in voucher.journal_entries
    ]
    items.sort(key=lambda e: int(str(e["journalEntryNumber"])))
    return _collection(request, items, JOURNAL_ENTRY_SPEC, lambda e, base: e)
