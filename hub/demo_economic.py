"""The e-conomic part of ``hub demo``: a Danish client on e-conomic, in customer mode.

The fake e-conomic server (:mod:`hub.testing.economic_fake`) runs on loopback and the hub talks
to it over real HTTP through the ``economic`` plugin, exactly as it would to
restapi.e-conomic.com. Forty simulated days, one sync a day: one consolidated reminder per
customer (C1), a payment lowering the next one's total, the largest debtor sent to collection
(D1: the warning, its 10 days, then collection, C4: per invoice), and one of its invoices
written off after collection failed, with a voucher in e-conomic's journal that settles the
invoice there once the client's bookkeeper (played by the demo, the next day) books the
journal (D4).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from hub import clients, clock
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import actions, customer_mode
from hub.dunning import rules as dunning_rules
from hub.dunning.cycle import run_cycle
from hub.dunning.messages import deliver_pending
from hub.dunning.write_off import write_off
from hub.errors import HubError
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from hub.sync import sync_client
from hub.testing.economic_fake import EconomicServer, FakeEconomic

CLIENT = "demo-economic"
D = Decimal
START = dt.date(2026, 9, 1)  # the first simulated day
DAYS = 40
#: (invoice, customer, net, due date offset from START in days)
INVOICES = (
    (20001, 101, "8000.00", -5),
    (20002, 101, "2400.00", 3),
    (20003, 102, "1200.00", -2),
    (20004, 102, "640.00", 6),
    (20005, 103, "96.00", -4),
)
CUSTOMERS = {101: "Fjordside Byg A/S", 102: "Lindholm Café ApS", 103: "Ærø Kajak I/S"}
PAYS = (12, 20004)  # on day 12 the café pays its newer invoice
COLLECT = (14, 101)  # on day 14 the builder is sent to collection
WRITE_OFF = (30, 20002)  # on day 30 one of the builder's invoices, in collection, is lost


@dataclass
class EconomicSummary:
    """What the e-conomic client's 40 days did."""

    requests: int = 0
    consolidated: int = 0
    in_collection: int = 0
    write_off_voucher: str = ""
    unpaid_after: list[int] = field(default_factory=list)


def _seed(fake: FakeEconomic) -> None:
    agreement = fake.add_agreement(
        app_secret_token="demo-app", agreement_grant_token="demo-grant", company_name="Demo A/S"
    )
    for number, name in CUSTOMERS.items():
        agreement.add_customer(
            customer_number=number, name=name, email=f"{number}@example.dk", currency="DKK"
        )
    for invoice, customer, net, due in INVOICES:
        agreement.add_invoice(
            booked_invoice_number=invoice,
            customer_number=customer,
            date=START - dt.timedelta(days=30),
            due_date=START + dt.timedelta(days=due),
            net_amount=D(net),
            vat_amount=(D(net) / 4).quantize(D("0.01")),
            currency="DKK",
        )


def _setup(db: Database, registry: PluginRegistry, box: SecretBox, url: str, letters: str) -> None:
    with db.session() as session:
        if session.scalar(select(t.Client.id).where(t.Client.name == CLIENT)) is None:
            clients.add_client(session, CLIENT, "DK")
        values = {
            "app_secret_token": "demo-app",
            "agreement_grant_token": "demo-grant",
            "base_url": url,
            "journal_number": "1",
        }
        clients.enable_plugin(session, registry, box, CLIENT, "economic", values)
        clients.enable_plugin(session, registry, box, CLIENT, "file_outbox", {"directory": letters})
        client = clients.get_client(session, CLIENT)
        dunning_rules.set_rules(
            session,
            client,
            {"start_date": "2026-01-01", "payment_details": "Reg.nr. 1234 konto 5678901"},
        )
        # The demo plays the operator who grants customer reminders (C2), as
        # `hub clients grant demo-economic customer_reminders` would for a listed operator.
        if customer_mode.granted(session, client, customer_mode.CUSTOMER_REMINDERS) is None:
            session.add(
                t.ClientGrant(
                    client_id=client.id,
                    feature=customer_mode.CUSTOMER_REMINDERS,
                    granted_by="hub demo",
                )
            )
            session.flush()
        customer_mode.set_mode(session, registry, client, "customer", START)


def _day(db: Database, registry: PluginRegistry, box: SecretBox, day: dt.date) -> None:
    with clock.simulated(day):
        sync_client(db, registry, box, CLIENT)
        run_cycle(db, CLIENT)
        deliver_pending(db, registry, box, CLIENT)


def _case_of(db: Database, *, customer: int | None = None, invoice: int | None = None) -> int:
    with db.session() as session:
        query = select(t.Case.id).where(t.Case.state != "closed")
        if customer is not None:
            query = query.where(t.Case.customer_number == str(customer), t.Case.mode == "customer")
        if invoice is not None:
            query = query.join(t.Invoice, t.Invoice.id == t.Case.invoice_id).where(
                t.Invoice.invoice_number == str(invoice)
            )
        found = session.scalar(query.order_by(t.Case.id.desc()))
    if found is None:
        raise HubError(f"demo: no open case for customer {customer} / invoice {invoice}")
    return found


def run_economic_demo(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    letters: str,
    say: Callable[[str], None],
) -> EconomicSummary:
    """Forty simulated days of a Danish e-conomic client in customer mode (module docstring)."""
    if "economic" not in registry.infos:
        why = registry.errors.get("economic", "it is not installed")
        raise HubError(
            f"hub demo needs the economic plugin ({why}); install it: pip install -e"
            " plugins/economic"
        )
    fake = FakeEconomic(today=START)
    _seed(fake)
    summary = EconomicSummary()
    with EconomicServer(fake) as server:
        _setup(db, registry, box, server.url, letters)
        say(
            f"7. Client {CLIENT} on e-conomic (a fake server on {server.url}, real HTTP), in"
            " customer mode: one reminder per customer on its overdue balance (C1)"
        )
        agreement = fake.agreement("demo-grant")
        for n in range(DAYS + 1):
            day = START + dt.timedelta(days=n)
            fake.today = day
            if n == PAYS[0]:
                agreement.pay(PAYS[1])
            if n == COLLECT[0]:
                with db.session() as session:
                    actions.send_to_collection(session, _case_of(db, customer=COLLECT[1]), day)
            if n == WRITE_OFF[0] + 1:
                # The demo plays the client's bookkeeper: the write-off voucher waits unbooked in
                # journal 1 until a person books the journal in e-conomic (legacy REST cannot);
                # booking it settles the written-off invoice there.
                agreement.book_journal(1)
            if n == WRITE_OFF[0]:
                case_id = _case_of(db, invoice=WRITE_OFF[1])
                _, entry, _ = write_off(db, registry, box, case_id, "loss_confirmed", day)
                summary.write_off_voucher = ", ".join(
                    f"{line.account or 'customer ' + str(line.customer_number)} {line.amount}"
                    for line in entry.lines
                )
            _day(db, registry, box, day)
        summary.requests = len(fake.requests)
        summary.unpaid_after = sorted(
            number for number, inv in agreement.booked.items() if inv.remainder > 0
        )
    with db.session() as session:
        messages = session.scalars(
            select(t.Message)
            .join(t.Client, t.Client.id == t.Message.client_id)
            .where(t.Client.name == CLIENT)
            .order_by(t.Message.id)
        ).all()
        for message in messages:
            if message.kind == "customer_reminder":
                summary.consolidated += 1
        summary.in_collection = len(
            session.scalars(
                select(t.Case.id)
                .join(t.Client, t.Client.id == t.Case.client_id)
                .where(t.Client.name == CLIENT, t.Case.stage == "collection")
            ).all()
        )
    return summary
