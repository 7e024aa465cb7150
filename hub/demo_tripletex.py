"""The Tripletex part of ``hub demo``: a Norwegian client with recurring invoices and dunning.

A fake Tripletex server (:mod:`hub.testing.tripletex_fake`) runs on loopback and the hub talks
to it over real HTTP through the ``norwegian_invoicing`` plugin, as it would to
tripletex.no/v2. Over 75 simulated days, one run a day: two recurring agreements make their
invoices and orders in Tripletex (G1–G5: preparation days, a prorated first invoice), the
open invoices, the recurring ones among them, are followed by the Norwegian default flow
(35 NOK reminder fees, only 14 days after the due date: inkassoforskriften § 1-2), and a
customer who pays has its case closed (R1).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select

from hub import clients, clock
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import rules as dunning_rules
from hub.dunning.cycle import run_cycle
from hub.dunning.messages import deliver_pending
from hub.errors import HubError
from hub.plugins import PluginRegistry
from hub.recurring.agreements import add_agreement
from hub.recurring.generator import run_recurring
from hub.recurring.schedule import AgreementLine, Terms
from hub.secrets import SecretBox
from hub.sync import sync_client
from hub.testing.tripletex_fake import Company, FakeTripletex, TripletexServer

CLIENT = "demo-no"
PLUGIN = "norwegian_invoicing"
D = Decimal
START = dt.date(2026, 10, 1)  # the first simulated day
DAYS = 75
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
ACCOUNTING = Terms(
    every=1,
    unit="month",
    first_invoice_date=dt.date(2026, 10, 15),
    prep_days=5,
    agreement_date=dt.date(2026, 10, 4),
    currency="NOK",
    lines=(
        AgreementLine("Regnskapsbistand", D("1.00"), D("2500.00"), "fixed", "3"),
        AgreementLine("Lisens regnskapsprogram", D("1.00"), D("3100.00"), "month", "3"),
    ),
)
#: Customer 202: coffee machine rent priced per quarter, billed monthly as orders that wait
#: for a person (G4: 3 000 a quarter is 1 000 a month), twelve of them.
COFFEE = Terms(
    every=1,
    unit="month",
    produce="order",
    first_invoice_date=dt.date(2026, 11, 1),
    max_count=12,
    currency="NOK",
    lines=(AgreementLine("Leie kaffemaskin", D("1.00"), D("3000.00"), "quarter", "3"),),
)


@dataclass
class TripletexSummary:
    """What the Norwegian client's 75 days did."""

    requests: int = 0
    invoices_made: list[tuple[str, str, Decimal]] = field(default_factory=list)  # date, ref, net
    orders_made: int = 0
    first_invoice_lines: list[str] = field(default_factory=list)
    reminders: int = 0
    fees: Decimal = field(default_factory=lambda: D("0.00"))
    auto_closed: int = 0


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
            (D(net) / 4).quantize(D("0.01")),
        )
    return company


def _setup(db: Database, registry: PluginRegistry, box: SecretBox, url: str, letters: str) -> None:
    with db.session() as session:
        if session.scalar(select(t.Client.id).where(t.Client.name == CLIENT)) is None:
            clients.add_client(session, CLIENT, "NO")
        clients.enable_plugin(
            session,
            registry,
            box,
            CLIENT,
            PLUGIN,
            {"consumer_token": "demo-consumer", "employee_token": "demo-employee", "base_url": url},
        )
        clients.enable_plugin(session, registry, box, CLIENT, "file_outbox", {"directory": letters})
        dunning_rules.set_rules(
            session,
            clients.get_client(session, CLIENT),
            {
                "auto_start": "true",
                "start_date": "2026-01-01",
                "payment_details": "Kontonr. 1503 12 34567",
            },
        )
        add_agreement(session, CLIENT, "201", ACCOUNTING, "hub demo")
        add_agreement(session, CLIENT, "202", COFFEE, "hub demo")


def run_tripletex_demo(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    letters: str,
    say: Callable[[str], None],
) -> TripletexSummary:
    """75 simulated days of a Norwegian Tripletex client (the module's docstring)."""
    if PLUGIN not in registry.infos:
        why = registry.errors.get(PLUGIN, "it is not installed")
        raise HubError(
            f"hub demo needs the {PLUGIN} plugin ({why}); install it:"
            " pip install -e plugins/norwegian_invoicing"
        )
    fake = FakeTripletex(today=START)
    company = _seed(fake)
    summary = TripletexSummary()
    with TripletexServer(fake) as server:
        _setup(db, registry, box, server.url, letters)
        say(
            f"8. Client {CLIENT} (NO) on Tripletex (a fake server on {server.url}, real HTTP):"
            " two recurring agreements and the Norwegian dunning flow"
        )
        pays_on: dt.date | None = None
        for n in range(DAYS + 1):
            day = START + dt.timedelta(days=n)
            fake.today = day
            if day == pays_on and summary.invoices_made:
                _, reference, _ = summary.invoices_made[0]
                invoice = company.invoice(int(reference))
                company.register_payment(invoice.invoice_number, invoice.amount, day)
            with clock.simulated(day):
                report = run_recurring(db, registry, box, CLIENT, day)
                if report.failed:
                    raise HubError(f"demo: recurring invoices failed: {report.failed}")
                for made in report.generated:
                    if made["kind"] == "invoice":
                        summary.invoices_made.append(
                            (made["invoice_date"], made["reference"], D(made["total"]))
                        )
                        if pays_on is None:
                            pays_on = day + dt.timedelta(days=PAYS_AFTER)
                    else:
                        summary.orders_made += 1
                sync_client(db, registry, box, CLIENT)
                cycle = run_cycle(db, CLIENT)
                deliver_pending(db, registry, box, CLIENT)
            summary.fees += cycle.fees
            summary.auto_closed += cycle.closed
        summary.requests = len(fake.requests)
    with db.session() as session:
        client_id = clients.get_client(session, CLIENT).id
        summary.reminders = (
            session.scalar(
                select(func.count()).where(
                    t.Message.client_id == client_id, t.Message.kind.like("reminder_%")
                )
            )
            or 0
        )
        first = session.scalars(
            select(t.RecurringInvoice)
            .join(t.RecurringAgreement)
            .where(t.RecurringAgreement.client_id == client_id)
            .order_by(t.RecurringInvoice.id)
            .limit(1)
        ).first()
        if first is not None:
            summary.first_invoice_lines = [
                f"{line['description']} {line['quantity']} x {line['unit_price']}"
                for line in first.request["lines"]
            ]
    return summary
