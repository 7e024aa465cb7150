"""The read hooks' work: open invoices, invoice states, customers and balances.

Requests per sync (N open invoices, K customers, S invoices that left the open list):

* open invoices: ``GET /invoices/unpaid``, ceil(N / 1000) pages (at least one);
* states: ``GET /invoices/booked?filter=bookedInvoiceNumber$in:[...]``, ceil(S / 200);
* customers and balances: ``GET /customers?filter=customerNumber$in:[...]``, ceil(K / 200),
  once for both hooks (see :class:`CustomerCache`).
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass

from hub.model import ClientContext, Customer, CustomerBalance, Invoice, InvoiceStatus
from hub.toolkit import fields
from hub.toolkit.fields import keep_once, numbers_of
from hub_economic import mapping
from hub_economic.client import NAME, EconomicClient, Json
from hub_economic.mapping import Where

UNPAID = "/invoices/unpaid"
BOOKED = "/invoices/booked"
CUSTOMERS = "/customers"


def open_invoices(client: EconomicClient) -> list[Invoice]:
    """Every booked invoice with a remainder, all pages, amounts in the invoice's currency.

    e-conomic pages by offset: an invoice that leaves or joins the list while the pages are
    read shifts the later ones, so one may be read twice (the same record twice is kept once;
    the same number with different data is an error) or missed (the hub then asks for its
    state, which is right).
    """
    url = f"{client.base_url}{UNPAID}"
    invoices: dict[str, Invoice] = {}
    for index, item in enumerate(client.collection(UNPAID)):
        invoice = mapping.booked_invoice(item, Where(url, index))
        keep_once(invoices, invoice.invoice_number, invoice, plugin=NAME, where=url)
    # An invoice on the unpaid list with nothing left to pay (a rounding remainder, a credit
    # note) is not open; the hub only wants outstanding > 0.
    return [i for i in invoices.values() if i.outstanding_amount > 0]


def _numbers(values: Sequence[str]) -> dict[str, int]:
    """The requested numbers that can be e-conomic numbers (whole, 1..999999999), by text."""
    return numbers_of(values, 999_999_999)


def invoice_statuses(client: EconomicClient, invoice_numbers: Sequence[str]) -> list[InvoiceStatus]:
    """One status per requested number; a number e-conomic does not have is UNKNOWN."""
    wanted = _numbers(invoice_numbers)
    url = f"{client.base_url}{BOOKED}"
    found: dict[int, InvoiceStatus] = {}
    if wanted:
        items = client.filtered(BOOKED, "bookedInvoiceNumber", list(wanted.values()))
        for index, item in enumerate(items):
            status = mapping.invoice_status(item, Where(url, index))
            found[int(status.invoice_number)] = status
    return fields.invoice_statuses(invoice_numbers, wanted, found)


def customer_records(client: EconomicClient, customer_numbers: Sequence[str]) -> dict[str, Json]:
    """The customers e-conomic has among ``customer_numbers``, by the number as asked."""
    wanted = _numbers(customer_numbers)
    if not wanted:
        return {}
    url = f"{client.base_url}{CUSTOMERS}"
    by_number: dict[int, Json] = {}
    items = client.filtered(CUSTOMERS, "customerNumber", list(wanted.values()))
    for index, item in enumerate(items):
        by_number[mapping.number(item, "customerNumber", Where(url, index))] = item
    return {text: by_number[n] for text, n in wanted.items() if n in by_number}


def customers(client: EconomicClient, records: dict[str, Json]) -> list[Customer]:
    url = f"{client.base_url}{CUSTOMERS}"
    return [mapping.customer(item, Where(url, None)) for item in records.values()]


def balances(
    client: EconomicClient, records: dict[str, Json], base_currency: str
) -> list[CustomerBalance]:
    url = f"{client.base_url}{CUSTOMERS}"
    return [
        mapping.customer_balance(item, Where(url, None), base_currency) for item in records.values()
    ]


@dataclass
class _Entry:
    ctx: weakref.ref[ClientContext]
    asked: frozenset[str]
    records: dict[str, Json]
    at: float


class CustomerCache:
    """Lets one read of the customers serve both ``fetch_customers`` and
    ``fetch_customer_balance`` of the same sync.

    A sync calls the two hooks one after the other with the same numbers and the same
    :class:`~hub.model.ClientContext` object. The records read for ``fetch_customers`` are kept
    for that context object only (held weakly), for at most :attr:`TTL` seconds, and used at
    most once: the balance call that finds them takes them out. Any other call (another
    context, other numbers, later) reads afresh. Nothing is kept for another client: the key
    is the context object itself, which carries one client.
    """

    TTL = 60.0

    def __init__(self) -> None:
        self._entries: dict[int, _Entry] = {}
        self._lock = threading.Lock()

    def put(self, ctx: ClientContext, asked: Sequence[str], records: dict[str, Json]) -> None:
        with self._lock:
            self._drop_dead()
            self._entries[ctx.client_id] = _Entry(
                weakref.ref(ctx), frozenset(asked), records, time.monotonic()
            )

    def take(self, ctx: ClientContext, asked: Sequence[str]) -> dict[str, Json] | None:
        with self._lock:
            entry = self._entries.pop(ctx.client_id, None)
            self._drop_dead()
        if (
            entry is None
            or entry.ctx() is not ctx
            or time.monotonic() - entry.at > self.TTL
            or not set(asked) <= entry.asked
        ):
            return None
        return {n: entry.records[n] for n in asked if n in entry.records}

    def _drop_dead(self) -> None:
        now = time.monotonic()
        for key in [
            k for k, e in self._entries.items() if e.ctx() is None or now - e.at > self.TTL
        ]:
            del self._entries[key]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
