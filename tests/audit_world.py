"""A hub with two clients, ``a`` and ``b``, each with cases, letters, runs and a recurring
agreement, made through the operations as an admin; and the users who look at it (for
tests/test_access.py and tests/test_audit.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hub import hookimpl
from hub.clock import Clock
from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import RemoteServerError
from hub.model import ClientContext, CreditNoteRequest, Customer, InvoiceDraft
from hub.operations import cases, clients, recurring
from hub.operations import sync as sync_ops
from hub.operations.context import Actor, Context, Services
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from tests.dunning_support import registry_with_outbox
from tests.sample_plugins import RecordingPlugin, invoice

TODAY = dt.date(2026, 12, 1)  # the invoices fell due on 2026-10-15
#: The clients' API tokens: secret settings whose values must never reach the audit log.
SECRETS = {"a": "tok-a-7f3e9c1b5d", "b": "tok-b-2e8a6f4c0d"}

ADMIN = Actor("root", operator=True)
CARLA = Actor("carla", role="consultant", clients=frozenset({"a"}))  # client a only
VERA = Actor("vera", operator=True, role="viewer")  # sees every client, changes none


class Ledger(RecordingPlugin):
    """A recording accounting system whose credit notes or invoices can be made to fail as a
    server error does (the request stays, to be finished or abandoned)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.fail_credit_notes = False
        self.fail_invoices = False

    @hookimpl
    def create_credit_note(self, ctx: ClientContext, request: CreditNoteRequest) -> str:
        if self.fail_credit_notes:
            raise RemoteServerError("alpha: the server failed (HTTP 503)")
        return super().create_credit_note(ctx, request)

    @hookimpl
    def create_invoice(self, ctx: ClientContext, draft: InvoiceDraft) -> str:
        if self.fail_invoices:
            raise RemoteServerError("alpha: the server failed (HTTP 503)")
        return super().create_invoice(ctx, draft)


@dataclass
class World:
    db: Database
    registry: PluginRegistry
    box: SecretBox
    ledger: Ledger
    cases: dict[str, list[int]]  # by client: the cases of invoices 1-4
    agreements: dict[str, int]  # by client: its agreement

    def ctx(self, actor: Actor) -> Context:
        return Context(Services(self.db, self.registry, self.box), actor, Clock(fixed=TODAY))


TERMS = recurring.TermsRequest(
    every=1, unit="month", first_invoice_date=TODAY, lines=("Support;1.00;1000.00;fixed",)
)


def build(db: Database, box: SecretBox) -> World:
    """Clients ``a`` and ``b`` on the same ledger, synced twice (cases of the four overdue
    invoices started by hand in between, so the second sync's cycle writes letters; invoice 5
    is not due yet), each with an agreement."""
    ledger = Ledger("alpha")
    for number in "1234":
        ledger.invoices[number] = invoice(number, f"C{number}", "1250.00")
        ledger.customers[f"C{number}"] = Customer(f"C{number}", f"Kunde {number}")
    # not due yet: no case until a person starts one
    ledger.invoices["5"] = invoice("5", "C1", "500.00", due_date=TODAY + dt.timedelta(days=20))
    world = World(db, registry_with_outbox(ledger), box, ledger, {}, {})
    admin = world.ctx(ADMIN)
    for name in "ab":
        clients.add_client(admin, name, "DK")
        clients.enable_plugin(admin, name, "alpha", {"api_token": SECRETS[name]})
        sync_ops.sync(admin, sync_ops.SyncRequest(name))
        world.cases[name] = [
            cases.start_case(admin, client=name, invoice=number).id for number in "1234"
        ]
        sync_ops.sync(admin, sync_ops.SyncRequest(name))
        world.agreements[name] = recurring.add_agreement(
            admin, recurring.AddAgreement(name, "C1", TERMS)
        ).summary.id
    return world


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the hub: to tell that nothing changed."""
    with db.engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(sa.select(table))), key=repr)
            for table in t.Base.metadata.sorted_tables
        }


def audit_rows(db: Database) -> list[t.AuditEntry]:
    with db.session() as session:
        return list(session.scalars(sa.select(t.AuditEntry).order_by(t.AuditEntry.id)))
