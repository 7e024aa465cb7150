"""The read endpoints of the fake Tripletex (see :mod:`hub.testing.fakes.tripletex`): customers,
invoices, orders, VAT types, accounts, vouchers, postings and open posts, and ``>whoAmI``.
Lists are in id order unless ``sorting`` says otherwise; parameters the fake does not know are
ignored, as parameters a filter does not apply to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from operator import attrgetter
from typing import Any, TypeVar

from hub.testing.fakes.tripletex.ledger import open_posts
from hub.testing.fakes.tripletex.model import (
    VAT_TYPES,
    ApiError,
    Posting,
)
from hub.testing.fakes.tripletex.query import (
    Call,
    Result,
    list_answer,
    single_answer,
    sort_items,
    sort_keys,
)
from hub.testing.fakes.tripletex.render import LedgerSum, WhoAmI

__all__ = [
    "get_account",
    "get_accounts",
    "get_customer",
    "get_customers",
    "get_invoice",
    "get_invoices",
    "get_ledger_open_post",
    "get_open_posts",
    "get_order",
    "get_orders",
    "get_posting",
    "get_postings",
    "get_vat_type",
    "get_vat_types",
    "get_voucher",
    "get_vouchers",
    "get_vouchers_by_external_number",
    "get_who_am_i",
    "not_found",
    "path_id",
]

T = TypeVar("T")
POSTING_TYPES = (
    "INCOMING_PAYMENT",
    "INCOMING_PAYMENT_OPPOSITE",
    "INCOMING_INVOICE_CUSTOMER_POSTING",
    "INVOICE_EXPENSE",
    "OUTGOING_INVOICE_CUSTOMER_POSTING",
    "WAGE",
)


def not_found(what: str, ident: object) -> ApiError:
    return ApiError(404, 6000, "Object not found", developer_message=f"{what} {ident} not found.")


def path_id(call: Call) -> int:
    """The ``{id}`` of the path; not a number is a 400 (12000, "Path Param Exception")."""
    raw = call.params[0]
    try:
        return int(raw)
    except ValueError:
        raise ApiError(
            400, 12000, f"Illegal path parameter: {raw!r} is not an id.", developer_message=None
        ) from None


def _one(call: Call, table: dict[int, T], what: str) -> T:
    ident = path_id(call)
    obj = table.get(ident)
    if obj is None:
        raise not_found(what, ident)
    return obj


Test = Callable[[Any], bool] | None


def _keep(items: Iterable[T], *tests: Test) -> list[T]:
    """``items`` that pass every test (``None``: a filter not asked for)."""
    active = [t for t in tests if t is not None]
    return [item for item in items if all(t(item) for t in active)]


def _in(ids: set[int] | None, get: Callable[[Any], int]) -> Test:
    return None if ids is None else (lambda obj: get(obj) in ids)


def _eq(value: object, get: Callable[[Any], object]) -> Test:
    return None if value is None else (lambda obj: get(obj) == value)


# --- customers ----------------------------------------------------------------------------------

_CUSTOMER_SORT = sort_keys("id", "name", "customerNumber", "email", "organizationNumber")


def get_customers(call: Call) -> Result:
    name = call.text("customerName")
    items = _keep(
        call.company.customers.values(),
        _in(call.ids("id"), lambda c: c.id),
        _in(call.ids("customerAccountNumber"), lambda c: c.customer_number),
        _eq(call.text("organizationNumber"), lambda c: c.organization_number),
        _eq(call.text("email"), lambda c: c.email),
        _eq(call.text("invoiceEmail"), lambda c: c.invoice_email),
        _eq(call.boolean("isInactive", False), lambda c: c.is_inactive),
        None if name is None else (lambda c: name.lower() in c.name.lower()),
        None if call.text("phoneNumberMobile") is None else (lambda c: False),
        None if call.ids("accountManagerId") is None else (lambda c: False),
    )
    items = sort_items(items, call.text("sorting"), _CUSTOMER_SORT)
    return list_answer(call, items)


def get_customer(call: Call) -> Result:
    return single_answer(call, _one(call, call.company.customers, "Customer"))


# --- invoices -----------------------------------------------------------------------------------

_INVOICE_SORT = sort_keys(
    "id",
    "invoiceNumber",
    "invoiceDate",
    "amount",
    "amountCurrency",
    "amountOutstanding",
    "amountCurrencyOutstanding",
    "customer.id",
    "customer.name",
    "customer.customerNumber",
    invoiceDueDate=attrgetter("due_date"),
)


def get_invoices(call: Call) -> Result:
    """``GET /invoice``: charged outgoing invoices (every invoice of the fake) with
    ``invoiceDateFrom <= invoiceDate < invoiceDateTo``."""
    first, last = call.date_range("invoiceDateFrom", "invoiceDateTo")
    number = call.text("invoiceNumber")
    customer = call.text("customerId")
    voucher_ids = call.ids("voucherId")
    items = _keep(
        call.company.invoices.values(),
        lambda i: first <= i.invoice_date < last,
        _in(call.ids("id"), lambda i: i.id),
        _eq(number, lambda i: str(i.invoice_number)),
        _eq(call.text("kid"), lambda i: i.kid),
        _eq(customer, lambda i: str(i.customer.id)),
        None
        if voucher_ids is None
        else (lambda i: i.voucher is not None and i.voucher.id in voucher_ids),
    )
    items = sort_items(items, call.text("sorting"), _INVOICE_SORT)
    return list_answer(call, items)


def get_invoice(call: Call) -> Result:
    return single_answer(call, _one(call, call.company.invoices, "Invoice"))


# --- orders -------------------------------------------------------------------------------------

_ORDER_SORT = sort_keys(
    "id", "orderDate", "deliveryDate", "customer.id", number=lambda o: int(o.number)
)


def get_orders(call: Call) -> Result:
    """``GET /order``: ``orderDateFrom <= orderDate < orderDateTo``; subscriptions never match
    ``isSubscription=true`` (the fake has none)."""
    first, last = call.date_range("orderDateFrom", "orderDateTo")
    comment = call.text("deliveryComment")
    items = _keep(
        call.company.orders.values(),
        lambda o: first <= o.order_date < last,
        _in(call.ids("id"), lambda o: o.id),
        _eq(call.text("number"), lambda o: o.number),
        _in(call.ids("customerId"), lambda o: o.customer.id),
        _eq(call.boolean("isClosed"), lambda o: o.is_closed),
        _eq(call.boolean("isSubscription"), lambda o: False),
        None if comment is None else (lambda o: comment in o.delivery_comment),
    )
    items = sort_items(items, call.text("sorting"), _ORDER_SORT)
    return list_answer(call, items)


def get_order(call: Call) -> Result:
    return single_answer(call, _one(call, call.company.orders, "Order"))


# --- VAT types and accounts ---------------------------------------------------------------------


_BY_ID_OR_NUMBER = sort_keys("id", "number")  # VAT types, accounts


def get_vat_types(call: Call) -> Result:
    numbers = call.text("number")
    wanted = None if numbers is None else {n.strip() for n in numbers.split(",")}
    call.enum("typeOfVat", ("OUTGOING", "INCOMING", "INCOMING_INVOICE", "PROJECT", "LEDGER"))
    call.day("vatDate")
    call.boolean("shouldIncludeSpecificationTypes")
    items = _keep(
        sorted(VAT_TYPES.values(), key=lambda v: v.id),
        _in(call.ids("id"), lambda v: v.id),
        None if wanted is None else (lambda v: v.number in wanted),
    )
    items = sort_items(items, call.text("sorting"), _BY_ID_OR_NUMBER)
    return list_answer(call, items)


def get_vat_type(call: Call) -> Result:
    return single_answer(call, _one(call, VAT_TYPES, "VatType"))


def get_accounts(call: Call) -> Result:
    call.enum("ledgerType", ("GENERAL", "CUSTOMER", "VENDOR", "EMPLOYEE", "ASSET"))
    balance = call.boolean("isBalanceAccount")
    items = _keep(
        call.company.accounts.values(),
        _in(call.ids("id"), lambda a: a.id),
        _in(call.ids("number"), lambda a: a.number),
        _eq(call.boolean("isBankAccount"), lambda a: a.is_bank_account),
        _eq(call.boolean("isInactive"), lambda a: False),
        _eq(call.boolean("isApplicableForSupplierInvoice"), lambda a: False),
        _eq(call.text("ledgerType"), lambda a: a.ledger_type),
        None if balance is None else (lambda a: (a.number < 3000) == balance),
        _eq(call.text("saftCode"), lambda a: str(a.number)[:2]),
    )
    items = sort_items(items, call.text("sorting"), _BY_ID_OR_NUMBER)
    return list_answer(call, items)


def get_account(call: Call) -> Result:
    return single_answer(call, _one(call, call.company.accounts, "Account"))


# --- vouchers, postings, open posts -------------------------------------------------------------

_VOUCHER_SORT = sort_keys("id", "date", "number")


def get_vouchers(call: Call) -> Result:
    """``GET /ledger/voucher``: ``dateFrom <= date < dateTo`` (invoice vouchers too)."""
    first, last = call.date_range("dateFrom", "dateTo")
    number_from = call.integer("numberFrom")
    number_to = call.integer("numberTo")
    type_ids = call.ids("typeId")
    items = _keep(
        call.company.vouchers.values(),
        lambda v: first <= v.date < last,
        _in(call.ids("id"), lambda v: v.id),
        _in(call.ids("number"), lambda v: v.number),
        None if number_from is None else (lambda v: v.number >= number_from),
        None if number_to is None else (lambda v: v.number < number_to),
        None if type_ids is None else (lambda v: False),
    )
    items = sort_items(items, call.text("sorting"), _VOUCHER_SORT)
    postings = sum(len(v.postings) for v in items)
    return list_answer(call, items, extra=f',"totalNumberOfPostings":{postings}')


def get_voucher(call: Call) -> Result:
    return single_answer(call, _one(call, call.company.vouchers, "Voucher"))


def get_vouchers_by_external_number(call: Call) -> Result:
    """``GET /ledger/voucher/>externalVoucherNumber``: how a client finds its own voucher
    after an answer was lost."""
    wanted = call.text("externalVoucherNumber")
    items = _keep(
        call.company.vouchers.values(),
        lambda v: wanted is not None and v.external_voucher_number == wanted,
    )
    items = sort_items(items, call.text("sorting"), _VOUCHER_SORT)
    return list_answer(call, items)


_POSTING_SORT = sort_keys("id", "date", "amount", "amountGross", "account.number", "voucher.id")


def _posting_filters(call: Call) -> list[Test]:
    number_from = call.integer("accountNumberFrom")
    number_to = call.integer("accountNumberTo")
    customer = call.integer("customerId")
    account = call.integer("accountId")
    for name in ("supplierId", "employeeId", "departmentId", "projectId", "productId"):
        if call.integer(name) is not None:
            return [lambda p: False]  # the fake's postings have none of these
    return [
        _eq(customer, lambda p: p.customer.id if p.customer is not None else None),
        None if account is None else (lambda p: p.account.id == account),
        None if number_from is None else (lambda p: p.account.number >= number_from),
        None if number_to is None else (lambda p: p.account.number <= number_to),
    ]


def get_postings(call: Call) -> Result:
    """``GET /ledger/posting``: ``dateFrom <= date < dateTo``. ``openPostings`` is deprecated in
    the spec; the fake honours ``openPostings=true`` as open as of ``dateTo``."""
    first, last = call.date_range("dateFrom", "dateTo")
    kind = call.enum("type", POSTING_TYPES)
    source: Iterable[Posting] = call.company.postings.values()
    if (call.text("openPostings") or "").lower() == "true":
        source = _open(call, last)
    items = _keep(
        source,
        lambda p: first <= p.date < last,
        _eq(kind, lambda p: p.type),
        *_posting_filters(call),
    )
    items = sort_items(items, call.text("sorting"), _POSTING_SORT)
    return list_answer(call, items)


def get_posting(call: Call) -> Result:
    return single_answer(call, _one(call, call.company.postings, "Posting"))


def _open(call: Call, before: date) -> list[Posting]:
    customer_id = call.integer("customerId")
    customer = None
    if customer_id is not None:
        customer = call.company.customers.get(customer_id)
        if customer is None:
            return []
    return open_posts(call.company, before, customer=customer)


def get_open_posts(call: Call) -> Result:
    """``GET /ledger/posting/openPost?date=``: postings on closeable accounts dated before
    ``date`` that are still open as of then; their ``amount`` sums to the balance."""
    before = call.day("date", required=True)
    assert before is not None
    items = _keep(_open(call, before), *_posting_filters(call))
    items = sort_items(items, call.text("sorting"), _POSTING_SORT)
    return list_answer(call, items)


def get_ledger_open_post(call: Call) -> Result:
    """``GET /ledger/openPost?date=``: the same open posts summed per account
    (``LedgerAccount``: ``sumAmount`` and the postings)."""
    before = call.day("date", required=True)
    assert before is not None
    items = _keep(_open(call, before), *_posting_filters(call))
    by_account: dict[int, LedgerSum] = {}
    for posting in items:
        row = by_account.setdefault(posting.account.id, LedgerSum(posting.account, []))
        row.postings.append(posting)
    return list_answer(call, list(by_account.values()))


def get_who_am_i(call: Call) -> Result:
    return single_answer(call, WhoAmI(call.company))
