"""A small world for the daemon's tests: a Danish client on a fake e-conomic server with
overdue invoices, dunning on, and credit notes and write-offs asked for whose posting failed;
a Norwegian client on a fake Tripletex server with recurring agreements. Both fakes are served
over real HTTP on loopback by the test process, so a daemon child process can be killed and
restarted against the same accounting systems. ``pairs=N`` makes N such pairs of clients (each
with books of its own on the same two fakes), for the tests of many nodes.

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


def client_names(pairs: int = 1) -> tuple[str, ...]:
    """The clients of a world of ``pairs`` pairs: ``dk``, ``no``, then ``dk2``, ``no2``, ..."""
    return tuple(
        f"{country}{n if n > 1 else ''}" for n in range(1, pairs + 1) for country in (DK, NO)
    )


@dataclass
class World:
    db: Database
    ctx: Context
    economic: FakeEconomic
    tripletex: FakeTripletex
    outbox: Path
    agreements: dict[str, Any]  # Danish client -> its e-conomic agreement (its books)
    companies: dict[str, Any]  # Norwegian client -> its Tripletex company (its books)

    @property
    def clients(self) -> tuple[str, ...]:
        return tuple(
            name for pair in zip(self.agreements, self.companies, strict=True) for name in pair
        )

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
                (client, invoice or customer, m.stage, m.round, m.step, m.kind, str(m.fee))
                for m, invoice, customer, client in session.execute(
                    select(
                        t.Message, t.Invoice.invoice_number, t.Case.customer_number, t.Client.name
                    )
                    .join(t.Case, t.Case.id == t.Message.case_id)
                    .join(t.Client, t.Client.id == t.Case.client_id)
                    .outerjoin(t.Invoice, t.Invoice.id == t.Case.invoice_id)
                )
            )
            statuses = Counter(m.status for m in session.scalars(select(t.Message)))
            cases = sorted(
                (
                    client,
                    invoice or "",
                    c.stage,
                    c.state,
                    c.close_code or "",
                    bool(c.credit_note_ref),
                    bool(c.write_off_ref),
                )
                for c, invoice, client in session.execute(
                    select(t.Case, t.Invoice.invoice_number, t.Client.name)
                    .join(t.Client, t.Client.id == t.Case.client_id)
                    .outerjoin(t.Invoice, t.Invoice.id == t.Case.invoice_id)
                )
            )
            recurring = sorted(
                (client, r.sequence, r.state, r.invoice_date.isoformat())
                for r, client in session.execute(
                    select(t.RecurringInvoice, t.Client.name)
                    .join(
                        t.RecurringAgreement,
                        t.RecurringAgreement.id == t.RecurringInvoice.agreement_id,
                    )
                    .join(t.Client, t.Client.id == t.RecurringAgreement.client_id)
                )
            )
            customer_of = {
                uid: (client, customer)
                for uid, customer, client in session.execute(
                    select(
                        t.RecurringAgreement.uid,
                        t.RecurringAgreement.customer_number,
                        t.Client.name,
                    ).join(t.Client, t.Client.id == t.RecurringAgreement.client_id)
                )
            }
            sent = {m.id for m in session.scalars(select(t.Message)) if m.status == "sent"}
        with self.economic.lock:
            vouchers = Counter(
                (client, json.dumps(v.request, sort_keys=True, default=str))
                for client, agreement in self.agreements.items()
                for v in agreement.vouchers
            )
            credit_notes = Counter(
                (client, str((inv.references or {}).get("other")))
                for client, agreement in self.agreements.items()
                for inv in agreement.booked.values()
                if inv.net_amount < 0
            )
        with self.tripletex.lock:
            references = [
                o.reference
                for company in self.companies.values()
                for o in company.orders.values()
                if o.invoice
            ]
        # "receivables-hub recurring:<agreement uid>:<sequence>"; the uid is random per world
        invoiced = Counter(
            (*customer_of[uid], sequence)
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


def _economic_client(world: World, name: str, url: str, app: str | None = None) -> None:
    app = app or f"app-{name}"
    agreement = world.economic.add_agreement(app, f"grant-{name}", f"Dagmar {name} ApS")
    world.agreements[name] = agreement
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
        clients.add_client(session, name, "DK")
        clients.enable_plugin(
            session,
            world.ctx.registry,
            world.ctx.box,
            name,
            "economic",
            {
                "app_secret_token": app,
                "agreement_grant_token": f"grant-{name}",
                "base_url": url,
                "journal_number": "1",
                "product_number": "1",
            },
        )
        clients.enable_plugin(
            session,
            world.ctx.registry,
            world.ctx.box,
            name,
            "file_outbox",
            {"directory": str(world.outbox / name)},
        )
        dunning_rules.set_rules(
            session,
            clients.get_client(session, name),
            {"auto_start": "true", "payment_details": "Reg.nr. 1234 konto 5678901"},
        )


def _tripletex_client(world: World, name: str, url: str) -> None:
    company = world.tripletex.add_company(
        f"consumer-{name}", f"employee-{name}", name=f"Dagny {name} AS"
    )
    world.companies[name] = company
    for number in (201, 202, 203):
        company.add_customer(number, f"Kunde {number} AS", email=f"k{number}@example.no")
    with world.db.session() as session:
        clients.add_client(session, name, "NO")
        clients.enable_plugin(
            session,
            world.ctx.registry,
            world.ctx.box,
            name,
            "norwegian_invoicing",
            {
                "consumer_token": f"consumer-{name}",
                "employee_token": f"employee-{name}",
                "base_url": url,
            },
        )
        clients.enable_plugin(
            session,
            world.ctx.registry,
            world.ctx.box,
            name,
            "file_outbox",
            {"directory": str(world.outbox / name)},
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
            add_agreement(session, name, str(number), terms, "test")


def _pending_postings(world: World, name: str) -> None:
    """Cases started, then a credit note and a write-off asked for whose posting failed."""
    run_job(on_day(world.ctx, START), "sync", name)
    with world.db.session() as session:
        case_of = {
            invoice: case_id
            for case_id, invoice in session.execute(
                select(t.Case.id, t.Invoice.invoice_number)
                .join(t.Invoice, t.Invoice.id == t.Case.invoice_id)
                .join(t.Client, t.Client.id == t.Case.client_id)
                .where(t.Client.name == name)
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
def world(
    db: Database, ctx: Context, outbox: Path, pairs: int = 1, *, shared_app: str | None = None
) -> Iterator[World]:
    """The world on ``db`` with ``pairs`` pairs of clients (:func:`client_names`), its fakes
    served until the block ends. ``shared_app``: every Danish client is an agreement of this one
    e-conomic app, whose requests the fake counts together (``request_times[shared_app]``)."""
    economic = FakeEconomic(today=START, rate_limit_per="app" if shared_app else "agreement")
    tripletex = FakeTripletex(today=START)
    with ExitStack() as stack:
        economic_url = stack.enter_context(EconomicServer(economic)).url
        tripletex_url = stack.enter_context(TripletexServer(tripletex)).url
        w = World(db, ctx, economic, tripletex, outbox, {}, {})
        names = client_names(pairs)
        for danish, norwegian in zip(names[::2], names[1::2], strict=True):
            _economic_client(w, danish, economic_url, shared_app)
            _tripletex_client(w, norwegian, tripletex_url)
            _pending_postings(w, danish)
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
