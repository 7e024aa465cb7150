"""The conformance kit's backend for the Tripletex plugin: the fake Tripletex over real HTTP on
loopback (:class:`~hub.testing.fakes.tripletex.TripletexServer`).

Real HTTP, not an in-process transport: the kit repeats every write in a fresh Python process
(the plugin loaded from its entry point, default HTTP options) to prove that a key writes once
across a restart, and that process can only reach the fake through a socket.

A module of its own (not ``conftest``), for the reason :mod:`norwegian_invoicing_support` gives.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import Self

from hub_norwegian_invoicing import client as tripletex_client

from hub.testing.conformance import ConformanceBackend, ConformanceData, Effect
from hub.testing.conformance import Fault as FaultKind
from hub.testing.fakes.tripletex import Company, FakeTripletex, Fault, TripletexServer
from hub.toolkit.http import RetryPolicy

#: Records a page the plugin asks for in this process, so that the kit's data (2 × 100 + 5 open
#: invoices, 103 customers) takes several pages. The fresh process of the write tests keeps
#: the plugin's default (1000), which the fake's default ``count_max`` allows.
PAGE_SIZE = 100
#: Requests a fault lasts for: every request the kit makes while the fault is open (cleared
#: when it closes).
FAULT_REQUESTS = 100_000
#: Retries in this process: 3 attempts, a few milliseconds apart, so that the throttling and
#: server-error tests take milliseconds.
FAST = tripletex_client.HttpOptions(
    retry=RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.002, max_retry_after=5),
    page_size=PAGE_SIZE,
)

_FAULTS: dict[str, Fault] = {
    # A 429 with a short X-Rate-Limit-Reset (Tripletex sends no Retry-After), honoured on
    # every attempt, then ThrottledError: the retry path runs, and it stays quick.
    "throttle": Fault(status=429, retry_after=0.05, count=FAULT_REQUESTS),
    "server_error": Fault(status=500, count=FAULT_REQUESTS),
    # A 200 whose body is cut off mid-JSON: whatever the plugin reads, it cannot read it.
    "malformed": Fault(malformed=True, count=FAULT_REQUESTS),
}


class TripletexBackend(ConformanceBackend):
    """One fake Tripletex company, served on 127.0.0.1 while the backend is open.

    Use it as a context manager: it starts the server and makes the plugin retry fast and
    page by :data:`PAGE_SIZE` in this process; closing undoes both.
    """

    page_size = PAGE_SIZE
    country = "NO"
    currency = "NOK"
    timezone = "Europe/Oslo"
    #: NS 4102: 7830 "Tap på fordringer" (loss on receivables), 2700 "Utgående merverdiavgift,
    #: høy sats" (output VAT); both in the fake's chart.
    journal_accounts = ("7830", "2700")
    #: Tripletex's VAT code 3 (output VAT, 25 %), the plugin's default_vat_code made explicit.
    vat_code = "3"

    def __init__(self) -> None:
        self.fake = FakeTripletex(today=self.today)
        # Distinctive tokens, fresh per backend: the secrets test looks for them in logs.
        self.consumer_token = f"conformance-consumer-{secrets.token_hex(8)}"
        self.employee_token = f"conformance-employee-{secrets.token_hex(8)}"
        self.company: Company = self.fake.add_company(
            self.consumer_token, self.employee_token, "Conformance AS", currency=self.currency
        )
        self.server = TripletexServer(self.fake)
        self._seeded: set[int] = set()
        self._options: tripletex_client.HttpOptions | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.server.start()
        self._options = tripletex_client.configure(FAST)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tripletex_client.configure(self._options or tripletex_client.HttpOptions())
        self.server.stop()

    # -- the kit's contract --------------------------------------------------------------------

    def settings(self) -> dict[str, str]:
        """The two tokens and the fake's URL; everything else keeps the plugin's defaults."""
        return {
            "consumer_token": self.consumer_token,
            "employee_token": self.employee_token,
            "base_url": self.server.url,
        }

    def seed(self, data: ConformanceData) -> None:
        """Customers and charged invoices; a partly paid or paid invoice gets a bank payment
        for the difference, so balances and open posts are what the ledger says."""
        for customer in data.customers:
            self.company.add_customer(
                int(customer.customer_number),
                customer.name,
                customer.email,
                address=customer.address,
                postal_code=customer.postal_code,
                city=customer.city,
            )
        for invoice in data.invoices:
            booked = self.company.add_invoice(
                int(invoice.invoice_number),
                int(invoice.customer_number),
                invoice.invoice_date,
                invoice.due_date,
                invoice.net_amount,
                invoice.vat_amount,
                outstanding=invoice.outstanding_amount,
                currency=invoice.currency,
            )
            if booked.amount_currency != invoice.gross_amount:  # the fake computes net + VAT
                raise ValueError(
                    f"invoice {invoice.invoice_number}: gross {invoice.gross_amount} is not"
                    f" net + VAT ({booked.amount_currency}); Tripletex cannot hold it"
                )
            self._seeded.add(booked.invoice_number)

    def effects(self, kind: Effect) -> Mapping[str, str]:
        """Each document as the plugin names it, with what it holds: credit notes and invoices
        by number (their gross amount), orders waiting for a person by number (their lines),
        the plugin's vouchers as ``number-year`` (their postings)."""
        company = self.company
        with self.fake.lock:
            if kind == "credit_note":
                return {
                    str(i.invoice_number): str(i.amount_currency)
                    for i in company.invoices.values()
                    if i.is_credit_note
                }
            if kind == "invoice":
                return {
                    str(i.invoice_number): str(i.amount_currency)
                    for i in company.invoices.values()
                    if not i.is_credit_note and i.invoice_number not in self._seeded
                }
            if kind == "order":
                return {
                    o.number: "; ".join(
                        f"{line.description} {line.count} × {line.unit_price_excluding_vat}"
                        for line in o.lines
                    )
                    for o in company.orders.values()
                    if o.invoice is None
                }
            if kind == "voucher":
                # Grouped: a second voucher under a number already held would show.
                vouchers: dict[str, list[str]] = {}
                for v in company.vouchers.values():
                    if not v.external_voucher_number:  # invoices' and payments' own vouchers
                        continue
                    postings = ",".join(
                        f"{p.row}:{p.account.number}:{p.amount_gross}" for p in v.postings
                    )
                    vouchers.setdefault(f"{v.number}-{v.year}", []).append(postings)
                return {number: " | ".join(parts) for number, parts in vouchers.items()}
        raise NotImplementedError("Tripletex delivers no messages for the hub")

    def requests_made(self) -> int:
        with self.fake.lock:
            return len(self.fake.requests)

    def fault(self, kind: FaultKind) -> AbstractContextManager[dict[str, str]]:
        """``auth``: an employee token the fake does not know (401 on the session); the others:
        every request answered with the fault until the context closes."""
        return self._fault(kind)

    @contextmanager
    def _fault(self, kind: FaultKind) -> Iterator[dict[str, str]]:
        settings = self.settings()
        if kind == "auth":
            settings["employee_token"] = f"refused-employee-{secrets.token_hex(8)}"
            yield settings
            return
        self.fake.fault(_FAULTS[kind])
        try:
            yield settings
        finally:
            self.fake.clear_faults()
