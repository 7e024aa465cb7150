"""The Tripletex part of ``hub demo``: a Norwegian client with recurring invoices and dunning.

A fake Tripletex server (:mod:`hub.testing.fakes.tripletex`) runs on loopback and the hub talks
to it over real HTTP through the ``norwegian_invoicing`` plugin, as it would to
tripletex.no/v2. Two recurring agreements make their invoices and orders in Tripletex, each
made once, by the daemon's ``recurring`` job (G1–G6: preparation days, a prorated first
invoice, a quarterly price billed monthly as orders that wait for a person). The open
invoices, the recurring ones among them, follow the Norwegian default flow (35 NOK reminder
fees, only 14 days after the due date: inkassoforskriften § 1-2), and the customer who pays its
first recurring invoice has its case closed (R1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from hub.amounts import CENT
from hub.daemon.jobs import JobResult
from hub.demo.served import ServedScenario, ServedStory
from hub.demo.text import amount
from hub.demo.timeline import START
from hub.operations import clients, flows, recurring, reports
from hub.operations.context import Context
from hub.operations.recurring import AddAgreement, TermsRequest
from hub.operations.runs import JobKind
from hub.testing.fakes.tripletex import Company, FakeTripletex, TripletexServer

CLIENT = "demo-no"
PLUGIN = "norwegian_invoicing"
D = Decimal
CUSTOMERS = {
    201: ("Fjellheim Regnskap AS", "post@fjellheim.no"),
    202: ("Nordlys Kafé AS", "faktura@nordlys-kafe.no"),
    203: ("Bølgen Dykkesenter", "hei@bolgen.no"),
}
#: (invoice number, customer, net amount, issued / due as days from START)
INVOICES = (
    (30001, 201, "12000.00", -40, -26),
    (30002, 203, "860.00", -30, -16),
    (30003, 202, "2400.00", -12, 2),
)
#: The first recurring invoice of customer 201 is paid this many days after it is made.
PAYS_AFTER = 9

#: Customer 201: accounting help at a fixed price and a licence priced per month, from
#: 15 October, made 5 days early, the agreement signed on 4 October: the first invoice also
#: bills 5–14 October (10/31 of the monthly price, G5).
ACCOUNTING = TermsRequest(
    every=1,
    unit="month",
    first_invoice_date=dt.date(2026, 10, 15),
    prep_days=5,
    agreement_date=dt.date(2026, 10, 4),
    lines=("Regnskapsbistand;1.00;2500.00;fixed;3", "Lisens regnskapsprogram;1.00;3100.00;month;3"),
)
#: Customer 202: coffee machine rent priced per quarter, billed monthly as orders that wait
#: for a person (G4: 3 000 a quarter is 1 000 a month), twelve of them.
COFFEE = TermsRequest(
    every=1,
    unit="month",
    produce="order",
    first_invoice_date=dt.date(2026, 11, 1),
    max_count=12,
    lines=("Leie kaffemaskin;1.00;3000.00;quarter;3",),
)


@dataclass(frozen=True)
class Made:
    """A recurring invoice or order the hub made in Tripletex."""

    kind: str  # invoice or order
    customer: str
    invoice_date: dt.date
    reference: str
    net: Decimal


@dataclass
class TripletexStory(ServedStory):
    """What the Norwegian client's timeline did that the summary does not tell."""

    made: list[Made] = field(default_factory=list)
    first_invoice_lines: list[str] = field(default_factory=list)
    invoices_in_tripletex: int = 0


def _seed(fake: FakeTripletex) -> Company:
    company = fake.add_company("demo-consumer", "demo-employee", name="Demo Norge AS")
    for number, (name, email) in CUSTOMERS.items():
        company.add_customer(number, name, email, city="Tromsø")
    for invoice, customer, net, issued, due in INVOICES:
        company.add_invoice(
            invoice,
            customer,
            START + dt.timedelta(days=issued),
            START + dt.timedelta(days=due),
            D(net),
            (D(net) / 4).quantize(CENT),
        )
    return company


def _setup(ctx: Context, url: str, letters: str) -> None:
    clients.add_client(ctx, CLIENT, "NO")
    clients.enable_plugin(
        ctx,
        CLIENT,
        PLUGIN,
        {"consumer_token": "demo-consumer", "employee_token": "demo-employee", "base_url": url},
    )
    clients.enable_plugin(ctx, CLIENT, "file_outbox", {"directory": letters})
    flows.set_rules(
        ctx,
        CLIENT,
        ["auto_start=true", "start_date=2026-01-01", "payment_details=Kontonr. 1503 12 34567"],
    )
    recurring.add_agreement(ctx, AddAgreement(CLIENT, "201", ACCOUNTING))
    recurring.add_agreement(ctx, AddAgreement(CLIENT, "202", COFFEE))


class TripletexScenario(ServedScenario):
    client = CLIENT
    fake: FakeTripletex
    story: TripletexStory
    jobs = (JobKind.RECURRING, JobKind.SYNC)

    def __init__(self, base: Path) -> None:
        super().__init__(base)
        self.fake = FakeTripletex(today=START)
        self.company = _seed(self.fake)
        self.story = TripletexStory()
        self._pays_on: dt.date | None = None

    def server(self) -> TripletexServer:
        return TripletexServer(self.fake)

    def setup(self, ctx: Context, url: str) -> str:
        _setup(ctx, url, str(self.letters))
        return (
            f"NO, on Tripletex (a fake server on {url}, real HTTP) through the {PLUGIN}"
            " plugin: two recurring agreements (one billed monthly with a prorated start, one"
            " a quarterly rent billed monthly as orders) and the Norwegian default flow"
        )

    def morning(self, ctx: Context, n: int, day: dt.date) -> list[str]:
        self.fake.today = day
        if day != self._pays_on:
            return []
        first = next(m for m in self.story.made if m.kind == "invoice")
        invoice = self.company.invoice(int(first.reference))
        self.company.register_payment(invoice.invoice_number, invoice.amount, day)
        name = CUSTOMERS[int(first.customer)][0]
        return [f"{name} pays recurring invoice {first.reference} in Tripletex"]

    def after(self, ctx: Context, n: int, day: dt.date, result: JobResult) -> list[str]:
        if result.job != JobKind.RECURRING or not result.counts.get("generated"):
            return []
        rows = reports.recurring_made(ctx, CLIENT, through=day)[len(self.story.made) :]
        made = [Made(r.kind, r.customer, r.invoice_date, r.reference or "", r.net) for r in rows]
        if rows and not self.story.first_invoice_lines:
            self.story.first_invoice_lines = list(rows[0].lines)
        self.story.made += made
        if self._pays_on is None and any(m.kind == "invoice" for m in made):
            self._pays_on = day + dt.timedelta(days=PAYS_AFTER)
        return [
            f"recurring: {m.kind} no. {m.reference} of {m.invoice_date} for customer {m.customer}:"
            f" {amount(m.net, 'NOK')} net"
            + (" (left for a person to invoice)" if m.kind == "order" else "")
            for m in made
        ]

    def finish(self) -> None:
        """Note what the fake Tripletex saw (while its server is still up)."""
        super().finish()
        self.story.invoices_in_tripletex = len(self.company.invoices_in_order())
