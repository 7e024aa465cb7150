"""The recurring-invoice generator: makes what a client's agreements have due, exactly once (G6).

For each invoice, in order:

1. It is *recorded* first: a ``recurring_invoices`` row with its sequence number, its
   idempotency key (``recurring:<agreement uid>:<sequence>``) and the very request to send,
   committed before the plugin is called. ``(agreement, sequence)`` is unique, so two
   generators (two nodes, or a run and a retry) cannot both record it; the one that loses
   the race leaves it to the winner.
2. It is *sent*: the plugin's ``create_invoice`` with that request. The row carries a lease
   (``claimed_until``): only the holder sends, so two nodes never send the same invoice at the
   same time.
3. It is *confirmed*: the plugin's reference is stored and the row becomes ``created``.

A crash between 1 and 3 leaves the row ``pending``. The next run (once the lease has lapsed)
reconciles it by sending the recorded request again under the same key. The plugin contract
makes that a question, not a second invoice: a plugin must answer a key it has seen with the
document it made for it (the conformance kit checks it, from a fresh process a day later).
The generator never records a *new* sequence for a period while an earlier one is pending, and
it never rebuilds a recorded request: a retry sends what was recorded, even if it runs on a
later day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub import clients
from hub.config import DEFAULT_RECURRING_LEASE, recurring_lease
from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import HubError, StorageError
from hub.logging import get_logger
from hub.model import DraftLine, InvoiceDraft
from hub.plugins import ClientPlugin, PluginRegistry
from hub.recurring.agreements import finish_if_done, terms_of
from hub.recurring.schedule import PlannedInvoice, planned
from hub.secrets import SecretBox

#: How long a generator holds a recorded invoice while it sends it, by default
#: (``HUB_RECURRING_LEASE``, :func:`hub.config.recurring_lease`). Longer than any plugin call
#: with its retries, so that a slow send is never taken over; short enough that a crashed
#: node's invoice is picked up soon.
LEASE = dt.timedelta(seconds=DEFAULT_RECURRING_LEASE)


@dataclass
class RecurringReport:
    """What one run did for one client."""

    client: str
    today: dt.date
    generated: list[dict[str, Any]] = field(default_factory=list)  # invoices and orders made
    reconciled: int = 0  # of those, recorded by an earlier run that did not finish
    finished: list[int] = field(default_factory=list)  # agreements that became inactive (G3)
    busy: list[int] = field(default_factory=list)  # agreements another generator is working on
    failed: list[dict[str, Any]] = field(default_factory=list)  # agreement, sequence, error

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "today": self.today.isoformat(),
            "generated": self.generated,
            "reconciled": self.reconciled,
            "finished": self.finished,
            "busy": self.busy,
            "failed": self.failed,
        }


def idempotency_key(agreement: t.RecurringAgreement, sequence: int) -> str:
    return f"recurring:{agreement.uid}:{sequence}"


def draft_request(agreement: t.RecurringAgreement, invoice: PlannedInvoice) -> dict[str, Any]:
    """The request for the plugin, as JSON (amounts and dates as strings), to record."""
    return {
        "idempotency_key": idempotency_key(agreement, invoice.sequence),
        "kind": agreement.produce,
        "customer_number": agreement.customer_number,
        "invoice_date": invoice.invoice_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "currency": invoice.currency,
        "text": (
            f"Recurring agreement {agreement.id}, period"
            f" {invoice.period_start:%d.%m.%Y}–{invoice.period_end:%d.%m.%Y}"
        ),
        "lines": [
            {
                "description": line.description,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "vat_code": line.vat_code,
            }
            for line in invoice.lines
        ],
    }


def draft_from(request: dict[str, Any]) -> InvoiceDraft:
    """The recorded request as the hook's :class:`InvoiceDraft`."""
    return InvoiceDraft(
        idempotency_key=request["idempotency_key"],
        kind=request["kind"],
        customer_number=request["customer_number"],
        invoice_date=dt.date.fromisoformat(request["invoice_date"]),
        due_date=dt.date.fromisoformat(request["due_date"]),
        currency=request["currency"],
        text=request.get("text"),
        lines=tuple(
            DraftLine(
                description=line["description"],
                quantity=Decimal(line["quantity"]),
                unit_price=Decimal(line["unit_price"]),
                vat_code=line.get("vat_code"),
            )
            for line in request["lines"]
        ),
    )


class _Generator:
    """One run for one client; the plugin is opened only when there is something to send."""

    def __init__(
        self,
        db: Database,
        registry: PluginRegistry,
        box: SecretBox,
        client_name: str,
        today: dt.date,
        now: dt.datetime | None,
    ) -> None:
        self.db, self.registry, self.box = db, registry, box
        self.now = now
        self.lease = dt.timedelta(seconds=recurring_lease())
        self.report = RecurringReport(client_name, today)
        self._plugin: ClientPlugin | None = None
        # Bound here, not at import: the CLI configures logging after importing this module.
        self.log = get_logger("hub.recurring", client=client_name, job="recurring")

    def _clock(self) -> dt.datetime:
        return self.now or dt.datetime.now(dt.UTC)

    def plugin(self) -> ClientPlugin:
        if self._plugin is None:
            with self.db.session() as session:
                client = clients.get_client(session, self.report.client)
                ctx = clients.client_context(client, self.registry, self.box, job="recurring")
            self._plugin = self.registry.for_client(ctx)
        return self._plugin

    def agreements(self) -> list[int]:
        """Active agreements, and inactive ones with an invoice still to reconcile."""
        with self.db.session() as session:
            client = clients.get_client(session, self.report.client)
            pending = select(t.RecurringInvoice.agreement_id).where(
                t.RecurringInvoice.state == "pending"
            )
            return list(
                session.scalars(
                    select(t.RecurringAgreement.id)
                    .where(
                        t.RecurringAgreement.client_id == client.id,
                        or_(
                            t.RecurringAgreement.status == "active",
                            t.RecurringAgreement.id.in_(pending),
                        ),
                    )
                    .order_by(t.RecurringAgreement.id)
                )
            )

    def run_agreement(self, agreement_id: int) -> None:
        """Send what the agreement has pending, then record and send what is due, in order;
        stop at the first failure (a later invoice never overtakes an earlier one)."""
        while True:
            row_id = self._claim_pending(agreement_id)
            if row_id is None:
                row_id = self._record_next(agreement_id)
            if row_id is None:
                return
            if row_id < 0:  # another generator holds it
                self.report.busy.append(agreement_id)
                return
            if not self._send(row_id):
                return

    def _claim_pending(self, agreement_id: int) -> int | None:
        """The agreement's pending invoice, leased to this run; ``-1`` if another holds it."""
        with self.db.session() as session:
            row_id = session.scalar(
                select(t.RecurringInvoice.id)
                .where(
                    t.RecurringInvoice.agreement_id == agreement_id,
                    t.RecurringInvoice.state == "pending",
                )
                .order_by(t.RecurringInvoice.sequence)
                .limit(1)
            )
            if row_id is None:
                return None
            now = self._clock()
            claimed = session.execute(
                update(t.RecurringInvoice)
                .where(
                    t.RecurringInvoice.id == row_id,
                    t.RecurringInvoice.state == "pending",
                    or_(
                        t.RecurringInvoice.claimed_until.is_(None),
                        t.RecurringInvoice.claimed_until < now,
                    ),
                )
                .values(claimed_until=now + self.lease)
            )
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return -1
            self.report.reconciled += 1
            return row_id

    def _record_next(self, agreement_id: int) -> int | None:
        """Record the agreement's next invoice if it is due by today (leased to this run);
        make the agreement inactive once it has made its last (G3)."""
        try:
            with self.db.session() as session:
                agreement = session.get(t.RecurringAgreement, agreement_id)
                assert agreement is not None
                recorded = (
                    session.scalar(
                        select(func.count()).where(t.RecurringInvoice.agreement_id == agreement_id)
                    )
                    or 0
                )
                if finish_if_done(agreement, recorded):
                    self.report.finished.append(agreement_id)
                    return None
                if agreement.status != "active":
                    return None
                invoice = planned(terms_of(agreement), recorded)
                if invoice is None or invoice.generate_on > self.report.today:
                    return None
                row = t.RecurringInvoice(
                    agreement_id=agreement_id,
                    sequence=invoice.sequence,
                    idempotency_key=idempotency_key(agreement, invoice.sequence),
                    kind=agreement.produce,
                    generate_on=invoice.generate_on,
                    invoice_date=invoice.invoice_date,
                    due_date=invoice.due_date,
                    period_start=invoice.period_start,
                    period_end=invoice.period_end,
                    currency=invoice.currency,
                    total=invoice.total,
                    request=draft_request(agreement, invoice),
                    state="pending",
                    claimed_until=self._clock() + self.lease,
                )
                session.add(row)
                session.flush()
                return row.id
        except StorageError as exc:
            if _is_conflict(exc):  # another generator recorded it first: it sends it
                return -1
            raise

    def _send(self, row_id: int) -> bool:
        with self.db.session() as session:
            row = session.get(t.RecurringInvoice, row_id)
            assert row is not None
            request = dict(row.request)
            sequence, agreement_id = row.sequence, row.agreement_id
        draft = draft_from(request)
        try:
            plugin = self.plugin()
        except HubError:  # the client cannot be served at all: let the lease go, say why
            self._release(row_id)
            raise
        try:
            reference = plugin.create_invoice(draft)
        except HubError as exc:
            self._record_failure(row_id, exc)
            self.report.failed.append(
                {"agreement": agreement_id, "sequence": sequence, "error": str(exc)}
            )
            self.log.warning(
                "recurring invoice not made",
                agreement=agreement_id,
                sequence=sequence,
                error=str(exc),
            )
            return False
        with self.db.session() as session:
            row = session.get(t.RecurringInvoice, row_id)
            assert row is not None
            row.state = "created"
            row.reference = reference
            row.attempts += 1
            row.last_error = None
            row.claimed_until = None
            row.created_at = self._clock()
            self.report.generated.append(
                {
                    "agreement": agreement_id,
                    "sequence": sequence,
                    "kind": row.kind,
                    "invoice_date": row.invoice_date.isoformat(),
                    "total": str(row.total),
                    "reference": reference,
                }
            )
        self.log.info(
            "recurring invoice made", agreement=agreement_id, sequence=sequence, reference=reference
        )
        return True

    def _release(self, row_id: int) -> None:
        with self.db.session() as session:
            row = session.get(t.RecurringInvoice, row_id)
            assert row is not None
            row.claimed_until = None

    def _record_failure(self, row_id: int, exc: HubError) -> None:
        """Keep the row pending (the request may have reached the system) and let the lease
        go, so that the next run asks again under the same key."""
        with self.db.session() as session:
            row = session.get(t.RecurringInvoice, row_id)
            assert row is not None
            row.attempts += 1
            row.last_error = str(exc)
            row.claimed_until = None


def _is_conflict(exc: StorageError) -> bool:
    return isinstance(exc.__cause__, IntegrityError)


def run_recurring(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    client_name: str,
    today: dt.date,
    *,
    now: dt.datetime | None = None,
) -> RecurringReport:
    """Generate what the client's agreements have due by ``today`` (``hub recurring run`` and
    the scheduler's job). One agreement's failure does not stop the others; the report lists
    it. ``now`` (the wall clock, for leases) is for tests."""
    generator = _Generator(db, registry, box, client_name, today, now)
    for agreement_id in generator.agreements():
        generator.run_agreement(agreement_id)
    return generator.report
