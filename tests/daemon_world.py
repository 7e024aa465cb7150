"""A small world for the daemon's tests: a Danish client on a fake e-conomic server with
overdue invoices, dunning on, and credit notes and write-offs asked for whose posting failed;
a Norwegian client on a fake Tripletex server with recurring agreements. Both fakes are served
over real HTTP on loopback by the test process, so a daemon child process can be killed and
restarted against the same accounting systems.

Built twice in a test - once for the daemon, once for a reference run of the same job
functions in the test process - so the two results can be compared whole.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub import clients
from hub.clock import Clock
from hub.daemon.jobs import run_job
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import actions
from hub.dunning import rules as dunning_rules
from hub.dunning.write_off import write_off
from hub.errors import HubError
from hub.operations.context import Context
from hub.recurring.agreements import add_agreement
from hub.recurring.schedule import AgreementLine, Terms
from hub.testing.fakes import economic as economic_fake
from hub.testing.fakes import tripletex as tripletex_fake
from hub.testing.fakes.economic import EconomicServer, FakeEconomic
from hub.testing.fakes.tripletex import FakeTripletex, TripletexServer

D = Decimal
START = dt.date(2026, 3, 2)
#: The simulated days: reminder rounds 10+ days apart (renteloven § 9 b) and recurring months.
DAYS = (START, START + dt.timedelta(days=11), START + dt.timedelta(days=22), dt.date(2026, 4, 20))
DK, NO = "dk", "no"
CREDIT_NOTES = ("9003", "9006")  # invoices whose credit note was asked for and failed
WRITE_OFFS = ("9004", "9008")  # invoices whose write-off was asked for and failed


@dataclass
class World:
    db: Database
    ctx: Context
    economic: FakeEconomic
    agreement: Any  # the e-conomic agreement (its books)
    tripletex: FakeTripletex
    company: Any  # the Tripletex company (its books)
    outbox: Path

    def slow_down(self) -> None:
        """Every request takes a moment, every write's answer a moment more: a kill lands in
        the middle of work, often between a write and its answer."""
        self.economic.fail_next(economic_fake.Fault(count=10**6, method="POST", delay_after=0.15))
        self.economic.fail_next(economic_fake.Fault(count=10**6, delay=0.02))
        self.tripletex.fault(tripletex_fake.Fault(count=10**6, method="POST", delay_after=0.15))
        self.tripletex.fault(tripletex_fake.Fault(count=10**6, method="PUT", delay_after=0.15))
        self.tripletex.fault(tripletex_fake.Fault(count=10**6, delay=0.02))

    def outcome(self) -> dict[str, Any]:
        """Everything that must come out the same, whoever ran the jobs and however often."""
        with self.db.session() as session:
            messages = Counter(
                (invoice or customer, m.stage, m.round, m.step, m.kind, str(m.fee))
                for m, invoice, customer in session.execute(
                    select(t.Message, t.Invoice.invoice_number, t.Case.customer_number)
                    .join(t.Case, t.Case.id == t.Message.case_id)
                    .outerjoin(t.Invoice, t.Invoice.id == t.Case.invoice_id)
                )
            )
            statuses = Counter(m.status for m in session.scalars(select(t.Message)))
            cases = sorted(
                (
                    invoice or "",
                    c.stage,
                    c.state,
                    c.close_code or "",
                    bool(c.credit_note_ref),
                    bool(c.write_off_ref),
                )
                for c, invoice in session.execute(
                    select(t.Case, t.Invoice.invoice_number).outerjoin(
                        t.Invoice, t.Invoice.id == t.Case.invoice_id
                    )
                )
            )
            recurring = sorted(
                (r.sequence, r.state, r.invoice_date.isoformat())
                for r in session.scalars(select(t.RecurringInvoice))
            )
            customer_of = {
                uid: customer
                for uid, customer in session.execute(
                    select(t.RecurringAgreement.uid, t.RecurringAgreement.customer_number)
                )
            }
            sent = {m.id for m in session.scalars(select(t.Message)) if m.status == "sent"}
        with self.economic.lock:
            vouchers = Counter(
                json.dumps(v.request, sort_keys=True, default=str) for v in self.agreement.vouchers
            )
            credit_notes = Counter(
                str((inv.references or {}).get("other"))
                for inv in self.agreement.booked.values()
                if inv.net_amount < 0
            )
        with self.tripletex.lock:
            references = [o.reference for o in self.company.orders.values() if o.invoice]
        # "receivables-hub recurring:<agreement uid>:<sequence>"; the uid is random per world
        invoiced = Counter(
            (customer_of[uid], sequence)
            for uid, sequence in (r.rsplit(" ", 1)[-1].split(":")[1:] for r in references)
        )
        letters = sorted(p.name for p in self.outbox.glob("*/*.eml"))
        assert letters == sorted(f"message%3A{i}.eml" for i in sent), "one letter per sent message"
        return {
            "messages": messages,
            "message statuses": statuses,
            "letters": len(letters),
            "cases": cases,
            "recurring invoices": recurring,
            "vouchers in e-conomic": vouchers,
            "credit notes in e-conomic": credit_notes,
            "invoices in Tripletex": invoiced,
        }


def _economic_client(world: World, url: str) -> None:
    agreement = world.agreement
    for number in range(101, 105):
        agreement.add_customer(number, f"Kunde {number} ApS", email=f"k{number}@example.dk")
    for i in range(1, 9):
        net = D(1000 + 137 * i) + D("0.45")
        agreement.add_invoice(
            booked_invoice_number=9000 + i,
            customer_number=101 + i % 4,
            date=START - dt.timedelta(days=30),
            due_date=START - dt.timedelta(days=2 + i),
            net_amount=net,
            vat_amount=(net / 4).quantize(D("0.01")),
            currency="DKK",
        )
    with world.db.session() as session:
        clients.add_client(session, DK, "DK")
        clients.enable_plugin(
            session,
            world.ctx.registry,
            world.ctx.box,
            DK,
            "economic",
            {
                "app_secret_token": "daemon-app",
                "agreement_grant_token": "daemon-grant",
                "base_url": url,
                "journal_number": "1",
                "product_number": "1",
            },
        )
        clients.enable_plugin(
            session,
            world.ctx.registry,
            world.ctx.box,
            DK,
            "file_outbox",
            {"directory": str(world.outbox / DK)},
        )
        dunning_rules.set_rules(
            session,
            clients.get_client(session, DK),
            {"auto_start": "true", "payment_details": "Reg.nr. 1234 konto 5678901"},
        )


def _tripletex_client(world: World, url: str) -> None:
    for number in (201, 202, 203):
        world.company.add_customer(number, f"Kunde {number} AS", email=f"k{number}@example.no")
    with world.db.session() as session:
        clients.add_client(session, NO, "NO")
        clients.enable_plugin(
            session,
            world.ctx.registry,
            world.ctx.box,
            NO,
            "norwegian_invoicing",
            {
                "consumer_token": "daemon-consumer",
                "employee_token": "daemon-employee",
                "base_url": url,
            },
        )
        clients.enable_plugin(
            session,
            world.ctx.registry,
            world.ctx.box,
            NO,
            "file_outbox",
            {"directory": str(world.outbox / NO)},
        )
        for number, price in ((201, "1240.00"), (202, "499.50"), (203, "89.90")):
            terms = Terms(
                every=1,
                unit="month",
                first_invoice_date=START,
                agreement_date=START,
                currency="NOK",
                lines=(AgreementLine("Abonnement", D(1), D(price), "month"),),
            )
            add_agreement(session, NO, str(number), terms, "test")


def _pending_postings(world: World) -> None:
    """Cases started, then a credit note and a write-off asked for whose posting failed."""
    run_job(on_day(world.ctx, START), "sync", DK)
    with world.db.session() as session:
        case_of = {
            invoice: case_id
            for case_id, invoice in session.execute(
                select(t.Case.id, t.Invoice.invoice_number).join(
                    t.Invoice, t.Invoice.id == t.Case.invoice_id
                )
            )
        }
    for invoice in CREDIT_NOTES:
        world.economic.fail_next(  # an unreadable answer: the request stays asked for
            economic_fake.Fault(malformed=True, path_prefix="/invoices/drafts", method="POST")
        )
        try:
            actions.credit_note(
                world.ctx.db,
                world.ctx.registry,
                world.ctx.box,
                case_of[invoice],
                START,
                actor="tester",
            )
        except HubError:
            pass
        else:
            raise AssertionError("the credit note should have failed")
    for invoice in WRITE_OFFS:
        world.economic.fail_next(  # an unreadable answer: the request stays asked for
            economic_fake.Fault(malformed=True, path_prefix="/journals", method="POST")
        )
        try:
            write_off(
                world.ctx.db,
                world.ctx.registry,
                world.ctx.box,
                case_of[invoice],
                "loss_confirmed",
                START,
                actor="tester",
            )
        except HubError:
            pass
        else:
            raise AssertionError("the write-off should have failed")


@contextmanager
def world(db: Database, ctx: Context, outbox: Path) -> Iterator[World]:
    """The world on ``db``, its fakes served until the block ends."""
    economic = FakeEconomic(today=START)
    agreement = economic.add_agreement("daemon-app", "daemon-grant", "Dagmar ApS")
    tripletex = FakeTripletex(today=START)
    company = tripletex.add_company("daemon-consumer", "daemon-employee", name="Dagny AS")
    with ExitStack() as stack:
        economic_url = stack.enter_context(EconomicServer(economic)).url
        tripletex_url = stack.enter_context(TripletexServer(tripletex)).url
        w = World(db, ctx, economic, agreement, tripletex, company, outbox)
        _economic_client(w, economic_url)
        _tripletex_client(w, tripletex_url)
        _pending_postings(w)
        yield w


def on_day(ctx: Context, day: dt.date) -> Context:
    """``ctx`` with its clock fixed on ``day``, as ``hub --today`` fixes it."""
    return dataclasses.replace(ctx, clock=Clock(fixed=day))


def set_day(w: World, day: dt.date) -> None:
    """Move the accounting systems to ``day``."""
    with w.economic.lock:
        w.economic.today = day
    with w.tripletex.lock:
        w.tripletex.today = day
