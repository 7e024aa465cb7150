"""The conformance kit's backend for the e-conomic plugin: the fake e-conomic server over real
HTTP on loopback (:class:`~hub.testing.fakes.economic.EconomicServer`).

Serving, the fast retries, the request count and the faults are
:class:`~hub.testing.conformance.served.ServedFakeBackend`'s.

A module of its own (not ``conftest``), for the reason :mod:`economic_support` gives.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from decimal import Decimal

from hub_economic import client as economic_client
from hub_economic import plugin

from hub.model import Customer, Invoice
from hub.testing.conformance import Effect
from hub.testing.conformance.served import FAST_RETRY, ServedFakeBackend
from hub.testing.fakes.economic import Agreement, EconomicServer, FakeEconomic, Fault

#: Journal (kassekladde) and product the writes use: the fake's own journal 1 and product 1
#: ("Varer", priced at the agreement's 25 % VAT in the domestic VAT zone, as the kit's data).
JOURNAL_NUMBER = "1"
PRODUCT_NUMBER = "1"
#: Retries fast in this process; the fresh process of the write tests keeps the plugin's
#: defaults.
FAST_RETRIES = economic_client.HttpOptions(retry=FAST_RETRY)


class EconomicBackend(ServedFakeBackend[FakeEconomic, Fault]):
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

    system = "e-conomic"
    refused_setting = "agreement_grant_token"
    refused_prefix = "refused-grant"

    def __init__(self) -> None:
        fake = FakeEconomic(page_size_max=economic_client.PAGE_SIZE, today=self.today)
        super().__init__(
            fake,
            EconomicServer(fake),
            economic_client.configure,
            FAST_RETRIES,
            fake.fail_next,
            Fault,
        )
        # Distinctive tokens, fresh per backend: the secrets test looks for them in logs.
        self.app_secret_token = f"conformance-app-{secrets.token_hex(8)}"
        self.agreement_grant_token = f"conformance-grant-{secrets.token_hex(8)}"
        self.agreement: Agreement = fake.add_agreement(
            app_secret_token=self.app_secret_token,
            agreement_grant_token=self.agreement_grant_token,
            company_name="Conformance ApS",
            base_currency=self.currency,
        )

    def forget(self) -> None:
        """The plugin's cached customers."""
        plugin._customers.clear()

    # -- the kit's contract --------------------------------------------------------------------

    def settings(self) -> dict[str, str]:
        """The tokens, the fake's URL, and the journal, product and due-date payment terms the
        writes need."""
        return {
            "app_secret_token": self.app_secret_token,
            "agreement_grant_token": self.agreement_grant_token,
            "base_url": self.server.url,
            "journal_number": JOURNAL_NUMBER,
            "product_number": PRODUCT_NUMBER,
            # The fake's terms 5, "Forfaldsdato": e-conomic keeps the due date the hub sends.
            "due_date_payment_terms_number": "5",
        }

    def seed_customer(self, customer: Customer, currency: str) -> None:
        self.agreement.add_customer(
            customer_number=int(customer.customer_number),
            name=customer.name,
            email=customer.email,
            currency=currency,
            address=customer.address,
            zip=customer.postal_code,
            city=customer.city,
            country=customer.country,
        )

    def seed_invoice(self, invoice: Invoice) -> tuple[int, Decimal]:
        """A booked invoice with its remainder. The fake derives a customer's ``balance``
        from the remainders of its invoices, so it equals ``data.balances()`` with no
        payments booked."""
        booked = self.agreement.add_invoice(
            booked_invoice_number=int(invoice.invoice_number),
            customer_number=int(invoice.customer_number),
            date=invoice.invoice_date,
            due_date=invoice.due_date,
            net_amount=invoice.net_amount,
            vat_amount=invoice.vat_amount,
            currency=invoice.currency,
            remainder=invoice.outstanding_amount,
        )
        return booked.booked_invoice_number, booked.gross_amount

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
                    if not inv.is_credit_note and n not in self.seeded
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
