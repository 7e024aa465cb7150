"""The read hooks' work: open invoices, invoice states, customers and balances.

Tripletex lists invoices by invoice date only (``invoiceDateFrom`` inclusive, ``invoiceDateTo``
exclusive, both required) and has no "unpaid" filter, so the plugin reads the invoices of a
window and keeps what it needs. The window (:func:`window`) runs from the ``invoices_since``
setting to a year after today, today being the later of the real date and the hub's
``ctx.today``: Tripletex lets a person date an invoice ahead, and a booked invoice is a
receivable whatever its date.

Requests (N invoices in the window, K customers asked for, S invoice numbers asked for):

* open invoices: ``GET /invoice``, ceil(N / 1000) pages;
* states: the same pages, stopping as soon as every number is found, or, when fewer numbers
  are left than pages, one ``GET /invoice?invoiceNumber=`` for each (whichever is fewer);
* customers: ``GET /customer?customerAccountNumber=...``, ceil(K / 100), plus one request for
  numbers not found among the active customers (Tripletex lists inactive ones apart);
* balances: the open posts of the receivable account, ceil(P / 1000) pages for P open posts,
  plus the customer look-up for customers with no open post.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal

from hub.amounts import ZERO
from hub.model import Customer, CustomerBalance, Invoice, InvoiceStatus
from hub.toolkit import fields
from hub.toolkit.fields import keep_once
from hub_norwegian_invoicing import lookups, mapping, session
from hub_norwegian_invoicing.client import NAME, TripletexClient
from hub_norwegian_invoicing.mapping import Where

INVOICES = "/invoice"
OPEN_POSTS = "/ledger/posting/openPost"
#: Days after today the window of invoices (and open posts) reaches.
HORIZON_DAYS = 366


def window(since: dt.date, ctx_today: dt.date) -> tuple[dt.date, dt.date]:
    """(from, to exclusive) of the invoice dates the plugin reads."""
    until = session.reckoned_today(ctx_today) + dt.timedelta(days=HORIZON_DAYS)
    return since, max(until, since + dt.timedelta(days=1))


def _invoice_params(since: dt.date, until: dt.date) -> dict[str, str]:
    """The window, in id order: an invoice booked while the pages are read gets a higher id and
    comes last, so it shifts none of the pages still to read (Tripletex deletes no charged
    invoice: it credits them)."""
    return {
        "invoiceDateFrom": since.isoformat(),
        "invoiceDateTo": until.isoformat(),
        "sorting": "id",
        "fields": mapping.INVOICE_FIELDS,
    }


def open_invoices(client: TripletexClient, since: dt.date, until: dt.date) -> list[Invoice]:
    """Every invoice of the window with something outstanding; credit notes are not invoices.

    Paging is by offset, in id order (see :func:`_invoice_params`): an invoice booked while
    the pages are read comes last. Should one be read twice all the same, it is kept once (the
    same number with different data is an error).
    """
    url = client.where(INVOICES)
    invoices: dict[str, Invoice] = {}
    doing = "reading open invoices"
    records = client.list_all(INVOICES, _invoice_params(since, until), doing=doing)
    for index, item in enumerate(records):
        where = Where(url, index, "invoice")
        if mapping.is_credit_note(item, where):
            continue
        invoice = mapping.invoice(item, where)
        keep_once(invoices, invoice.invoice_number, invoice, plugin=NAME, where=url)
    return [i for i in invoices.values() if i.outstanding_amount > 0]


def invoice_statuses(
    client: TripletexClient, invoice_numbers: Sequence[str], since: dt.date, until: dt.date
) -> list[InvoiceStatus]:
    """One status per requested number; a number Tripletex does not have is UNKNOWN.

    ``GET /invoice`` filters by one ``invoiceNumber`` at a time (and by ``id`` lists, ids the
    hub does not know), so the window's pages are read until every number is found. After each
    page, if fewer numbers are left than pages (by ``fullResultSize``), each is asked for by
    number instead: whichever takes fewer requests.
    """
    wanted = lookups.numbers_of(invoice_numbers)
    url = client.where(INVOICES)
    found: dict[int, InvoiceStatus] = {}
    left = set(wanted.values())
    params = _invoice_params(since, until)
    doing = "reading invoice states"
    read = 0
    pages = client.pages(INVOICES, params, doing=doing) if left else iter(())
    asked = set(left)
    for page in pages:
        for item in page.values:
            where = Where(url, read, "invoice")
            read += 1
            number = mapping.number(item, "invoiceNumber", where)
            if number in asked:
                keep_once(
                    found, number, mapping.invoice_status(item, where), plugin=NAME, where=url
                )
                left.discard(number)
        if not left:
            break
        if len(left) < _pages_left(page.full_result_size, read, client.page_size):
            for number in sorted(left):
                query = {**params, "invoiceNumber": str(number)}
                for index, item in enumerate(client.list_all(INVOICES, query, doing=doing)):
                    status = mapping.invoice_status(item, Where(url, index, "invoice"))
                    if int(status.invoice_number) == number:
                        keep_once(found, number, status, plugin=NAME, where=url)
            break
    return fields.invoice_statuses(invoice_numbers, wanted, found)


def _pages_left(full: int | None, read: int, page_size: int) -> int:
    """Pages still to read after ``read`` records, by the last page's ``fullResultSize``
    (unknown: none is counted, so the pages are read on rather than numbers asked one by
    one)."""
    if full is None:
        return 0
    return math.ceil(max(full - read, 0) / page_size)


def customers(client: TripletexClient, customer_numbers: Sequence[str]) -> list[Customer]:
    """The customers Tripletex has among ``customer_numbers``, under the numbers as asked."""
    wanted = lookups.numbers_of(customer_numbers)
    records = lookups.customer_records(
        client, list(wanted.values()), mapping.CUSTOMER_FIELDS, "reading customers"
    )
    url = client.where(lookups.CUSTOMERS)
    result: list[Customer] = []
    for text, number in wanted.items():
        if number in records:
            record = mapping.customer(records[number], Where(url, None, f"customer {number}"))
            result.append(_as_asked(record, text))
    return result


def _as_asked(record: Customer, text: str) -> Customer:
    if record.customer_number == text:
        return record
    return dataclasses.replace(record, customer_number=text)


def balances(
    client: TripletexClient,
    customer_numbers: Sequence[str],
    receivable_account: int,
    until: dt.date,
    currency: str,
) -> list[CustomerBalance]:
    """Each known customer's balance: the sum of the open posts on the receivable account.

    An open post is a posting not yet closed against others (an invoice not paid in full, a
    payment not matched, a credit note or voucher line not settled); closed postings sum to
    zero, so the open posts of a customer sum to everything booked on its receivable: invoices,
    credit notes, payments (matched or not) and vouchers. Amounts are the postings' ``amount``,
    in the company's currency, which must be the client's currency (``currency``).
    """
    wanted = lookups.numbers_of(customer_numbers)
    if not wanted:
        return []
    doing = "reading customer balances"
    account_id = lookups.account_ids(client, [receivable_account], doing)[receivable_account]
    params = {
        "date": until.isoformat(),
        "accountId": str(account_id),
        "fields": "id,amount,customer(id,customerNumber)",
    }
    url = client.where(OPEN_POSTS)
    totals: dict[int, Decimal] = {}
    for index, item in enumerate(client.list_all(OPEN_POSTS, params, doing=doing)):
        where = Where(url, index, "open post")
        if mapping.get(item, "customer") is None:
            continue  # a post on the account that belongs to no customer
        number = mapping.number(item, "customer.customerNumber", where)
        totals[number] = totals.get(number, ZERO) + mapping.amount(item, "amount", where)
    unseen = [n for n in set(wanted.values()) if n not in totals]
    known = set(totals)
    if unseen:
        known |= set(lookups.customer_records(client, unseen, "id,customerNumber", doing))
    return [
        CustomerBalance(text, totals.get(number, ZERO), currency)
        for text, number in wanted.items()
        if number in known
    ]
