"""The conformance kit's backend for the Tripletex plugin: the fake Tripletex over real HTTP on
loopback (:class:`~hub.testing.fakes.tripletex.TripletexServer`).

Serving, the fast retries, the request count and the faults are
:class:`~hub.testing.conformance.served.ServedFakeBackend`'s.

A module of its own (not ``conftest``), for the reason :mod:`norwegian_invoicing_support` gives.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from decimal import Decimal

from hub_norwegian_invoicing import client as tripletex_client

from hub.model import Customer, Invoice
from hub.testing.conformance import Effect
from hub.testing.conformance.served import FAST_RETRY, ServedFakeBackend
from hub.testing.fakes.tripletex import Company, FakeTripletex, Fault, TripletexServer

#: Records a page the plugin asks for in this process, so that the kit's data (2 × 100 + 5 open
#: invoices, 103 customers) takes several pages. The fresh process of the write tests keeps
#: the plugin's default (1000), which the fake's default ``count_max`` allows.
PAGE_SIZE = 100
#: Retries fast and pages by :data:`PAGE_SIZE` in this process.
FAST = tripletex_client.HttpOptions(retry=FAST_RETRY, page_size=PAGE_SIZE)


class TripletexBackend(ServedFakeBackend[FakeTripletex, Fault]):
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

    system = "Tripletex"
    refused_setting = "employee_token"
    refused_prefix = "refused-employee"

    def __init__(self) -> None:
        fake = FakeTripletex(today=self.today)
        super().__init__(
            fake, TripletexServer(fake), tripletex_client.configure, FAST, fake.fault, Fault
        )
        # Distinctive tokens, fresh per backend: the secrets test looks for them in logs.
        self.consumer_token = f"conformance-consumer-{secrets.token_hex(8)}"
        self.employee_token = f"conformance-employee-{secrets.token_hex(8)}"
        self.company: Company = fake.add_company(
            self.consumer_token, self.employee_token, "Conformance AS", currency=self.currency
        )

    # -- the kit's contract --------------------------------------------------------------------

    def settings(self) -> dict[str, str]:
        """The two tokens and the fake's URL; everything else keeps the plugin's defaults."""
        return {
            "consumer_token": self.consumer_token,
            "employee_token": self.employee_token,
            "base_url": self.server.url,
        }

    def seed_customer(self, customer: Customer, currency: str) -> None:
        self.company.add_customer(
            int(customer.customer_number),
            customer.name,
            customer.email,
            address=customer.address,
            postal_code=customer.postal_code,
            city=customer.city,
        )

    def seed_invoice(self, invoice: Invoice) -> tuple[int, Decimal]:
        """A charged invoice; a partly paid or paid one gets a bank payment for the
        difference, so balances and open posts are what the ledger says."""
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
        return booked.invoice_number, booked.amount_currency

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
                    if not i.is_credit_note and i.invoice_number not in self.seeded
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
