"""The conformance kit's backend for the e-conomic plugin: the fake e-conomic server over real
HTTP on loopback (:class:`~hub.testing.fakes.economic.EconomicServer`).

Real HTTP, not the in-process transport: the kit repeats every write in a fresh Python process
(the plugin loaded from its entry point, default HTTP options) to prove that a key writes once
across a restart, and that process can only reach the fake through a socket.

A module of its own (not ``conftest``), for the reason :mod:`economic_support` gives.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from types import TracebackType
from typing import Self

from hub_economic import client as economic_client
from hub_economic import plugin

from hub.testing.conformance import ConformanceBackend, ConformanceData, Effect
from hub.testing.conformance import Fault as FaultKind
from hub.testing.fakes.economic import Agreement, EconomicServer, FakeEconomic, Fault
from hub.toolkit.http import RetryPolicy

#: Journal (kassekladde) and product the writes use: the fake's own journal 1 and product 1
#: ("Varer", priced at the agreement's 25 % VAT in the domestic VAT zone, as the kit's data).
JOURNAL_NUMBER = "1"
PRODUCT_NUMBER = "1"
#: Requests a fault lasts for: every request the kit makes while the fault is open (cleared
#: when it closes).
FAULT_REQUESTS = 100_000
#: Retries in this process: 3 attempts, a few milliseconds apart, so that the throttling and
#: server-error tests take milliseconds. The fresh process of the write tests keeps the
#: plugin's defaults.
FAST_RETRIES = economic_client.HttpOptions(
    retry=RetryPolicy(max_attempts=3, initial_backoff=0.001, max_backoff=0.002, max_retry_after=5)
)

_FAULTS: dict[str, Fault] = {
    # A short Retry-After, honoured on every attempt, then ThrottledError: the retry path is
    # exercised, and it stays quick under the plugin's default policy too.
    "throttle": Fault(status=429, retry_after=0.05, count=FAULT_REQUESTS),
    "server_error": Fault(status=500, count=FAULT_REQUESTS),
    # A 200 whose body is cut off mid-JSON: whatever the plugin reads, it cannot read it.
    "malformed": Fault(malformed=True, count=FAULT_REQUESTS),
}


class EconomicBackend(ConformanceBackend):
    """One fake e-conomic agreement, served on 127.0.0.1 while the backend is open.

    Use it as a context manager: it starts the server, makes the plugin retry fast in this
    process and forgets the plugin's cached customers; closing undoes all three.
    """

    #: The plugin asks for e-conomic's maximum page size, 1000, and has no setting to ask for
    #: fewer (``hub_economic.client.PAGE_SIZE``); the fake serves up to that many per page.
    page_size = economic_client.PAGE_SIZE
    #: The fake does not check account numbers; these are the usual Danish chart's loss on
    #: debtors and output VAT, as the plugin's own write tests use.
    journal_accounts = ("3720", "6902")

    def __init__(self) -> None:
        self.fake = FakeEconomic(page_size_max=economic_client.PAGE_SIZE, today=self.today)
        # Distinctive tokens, fresh per backend: the secrets test looks for them in logs.
        self.app_secret_token = f"conformance-app-{secrets.token_hex(8)}"
        self.agreement_grant_token = f"conformance-grant-{secrets.token_hex(8)}"
        self.agreement: Agreement = self.fake.add_agreement(
            app_secret_token=self.app_secret_token,
            agreement_grant_token=self.agreement_grant_token,
            company_name="Conformance ApS",
            base_currency=self.currency,
        )
        self.server = EconomicServer(self.fake)
        self._seeded: set[int] = set()
        self._options: economic_client.HttpOptions | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.server.start()
        self._options = economic_client.configure(FAST_RETRIES)
        plugin._customers.clear()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        economic_client.configure(self._options or economic_client.HttpOptions())
        plugin._customers.clear()
        self.server.stop()

    # -- the kit's contract --------------------------------------------------------------------

    def settings(self) -> dict[str, str]:
        """The tokens, the fake's URL, and the journal and product the writes need."""
        return {
            "app_secret_token": self.app_secret_token,
            "agreement_grant_token": self.agreement_grant_token,
            "base_url": self.server.url,
            "journal_number": JOURNAL_NUMBER,
            "product_number": PRODUCT_NUMBER,
        }

    def seed(self, data: ConformanceData) -> None:
        """Customers in the client's currency and booked invoices with their remainders.

        The fake derives a customer's ``balance`` from the remainders of its invoices, so it
        equals ``data.balances()`` with no payments booked.
        """
        ag = self.agreement
        for customer in data.customers:
            ag.add_customer(
                customer_number=int(customer.customer_number),
                name=customer.name,
                email=customer.email,
                currency=data.currency,
                address=customer.address,
                zip=customer.postal_code,
                city=customer.city,
                country=customer.country,
            )
        for invoice in data.invoices:
            booked = ag.add_invoice(
                booked_invoice_number=int(invoice.invoice_number),
                customer_number=int(invoice.customer_number),
                date=invoice.invoice_date,
                due_date=invoice.due_date,
                net_amount=invoice.net_amount,
                vat_amount=invoice.vat_amount,
                currency=invoice.currency,
                remainder=invoice.outstanding_amount,
            )
            if booked.gross_amount != invoice.gross_amount:  # the fake computes net + VAT
                raise ValueError(
                    f"invoice {invoice.invoice_number}: gross {invoice.gross_amount} is not"
                    f" net + VAT ({booked.gross_amount}); e-conomic cannot hold it"
                )
            self._seeded.add(booked.booked_invoice_number)

    def effects(self, kind: Effect) -> Mapping[str, str]:
        """Each document as the plugin names it: a booked number (credit notes, invoices),
        ``draft:N`` (orders: drafts left for a person), ``year-N`` (vouchers); with what it
        holds (amount, entries), so that a repeat writing into an existing document shows."""
        ag = self.agreement
        with self.fake.lock:
            if kind == "credit_note":
                return {
                    str(n): str(inv.gross_amount)
                    for n, inv in ag.booked.items()
                    if inv.is_credit_note
                }
            if kind == "invoice":
                return {
                    str(n): str(inv.gross_amount)
                    for n, inv in ag.booked.items()
                    if not inv.is_credit_note and n not in self._seeded
                }
            if kind == "order":
                # A credit note's draft (negative) is no order; an invoice's draft exists only
                # between its two POSTs.
                return {
                    f"draft:{n}": str(d.gross_amount)
                    for n, d in ag.drafts.items()
                    if d.gross_amount >= 0
                }
            if kind == "voucher":
                # Grouped: the fake takes a second voucher under a number it already holds.
                vouchers: dict[str, list[str]] = {}
                for v in ag.vouchers:
                    entries = [f"{k}:{e.amount}" for k, e in v.entries]
                    vouchers.setdefault(f"{v.accounting_year}-{v.voucher_number}", []).append(
                        ",".join(entries)
                    )
                return {number: " | ".join(parts) for number, parts in vouchers.items()}
        raise NotImplementedError("e-conomic delivers no messages for the hub")

    def requests_made(self) -> int:
        with self.fake.lock:
            return len(self.fake.requests)

    def fault(self, kind: FaultKind) -> AbstractContextManager[dict[str, str]]:
        """``auth``: a grant token the fake does not know (401); the others: every request
        answered with the fault until the context closes."""
        return self._fault(kind)

    @contextmanager
    def _fault(self, kind: FaultKind) -> Iterator[dict[str, str]]:
        settings = self.settings()
        if kind == "auth":
            settings["agreement_grant_token"] = f"refused-grant-{secrets.token_hex(8)}"
            yield settings
            return
        self.fake.fail_next(_FAULTS[kind])
        try:
            yield settings
        finally:
            self.fake.clear_faults()
