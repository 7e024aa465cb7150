"""The recurring-invoice generator: makes what a client's agreements have due, exactly once (G6).

For each invoice, in order:

1. It is *recorded* first: a ``recurring_invoices`` row with its sequence number, its
   idempotency key (``recurring:<agreement uid>:<sequence>``) and the very request to send,
   committed before the plugin is called. ``(agreement, sequence)`` is unique, so two
   generators (two nodes, or a run and a retry) cannot both record it; the one that loses
   the race leaves it to the winner.
2. It is *sent*: the plugin's ``create_invoice`` with that request. The row carries a lease
   (``claimed_until``), renewed while the plugin works: only the holder sends, so two nodes
   never send the same invoice at the same time, however slow the send.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub import clients
from hub.config import DEFAULT_RECURRING_LEASE, recurring_lease
from hub.db import tables as t
from hub.db.engine import Database
from hub.db.leases import Renewal
from hub.errors import HubError, StorageError
from hub.logging import get_logger
from hub.model import DraftLine, InvoiceDraft
from hub.plugins import ClientPlugin, PluginRegistry
from hub.recurring.agreements import set_if, terms_of, unleased
from hub.recurring.schedule import AgreementError, PlannedInvoice, Terms, finished_reason, planned
from hub.secrets import SecretBox

#: How long a lease lasts unless renewed, by default (``HUB_RECURRING_LEASE``,
#: :func:`hub.config.recurring_lease`): a run renews it every third of that while it sends,
#: and after a crash the invoice is picked up once it lapses.
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


def draft_request(
    uid: str, produce: str, customer_number: str, invoice: PlannedInvoice
) -> dict[str, Any]:
    """The request for the plugin, as JSON (amounts and dates as strings), to record."""
    return {
        "idempotency_key": f"recurring:{uid}:{invoice.sequence}",
        "kind": produce,
        "customer_number": customer_number,
        "invoice_date": invoice.invoice_date.isoformat(),
        "due_date": invoice.due_date.isoformat(),
        "currency": invoice.currency,
        # Printed on the invoice: "Periode" reads the same in Danish and Norwegian.
        "text": f"Periode {invoice.period_start:%d.%m.%Y}–{invoice.period_end:%d.%m.%Y}",
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


@dataclass
class _Agreement:
    """What a run needs of an agreement, loaded once for all of the client's agreements."""

    id: int
    uid: str
    customer_number: str
    produce: str
    status: str
    terms: Terms
    recorded: int  # invoices recorded so far (pending or created): the next sequence
    pending: bool  # one of them waits for the system's answer
    # The last day a recorded (not abandoned) invoice bills. An invoice recorded before the
    # end-date rule of issue 16 may have billed the days up to the end date already ("surplus
    # days" on the invoice before the last): the plan's next invoice would bill them again.
    billed_through: dt.date | None = None


@dataclass(frozen=True)
class _Claim:
    """A recorded invoice this run holds the lease of, and will send."""

    row_id: int
    sequence: int
    request: dict[str, Any]
    total: Decimal
    until: dt.datetime  # the lease as recorded; the heartbeat renews it from this value
    reconciled: bool  # recorded by an earlier run that did not finish


_BUSY = "busy"  # another generator holds the invoice


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
        on_record: Callable[[Session, t.RecurringInvoice], None] | None = None,
    ) -> None:
        self.db, self.registry, self.box = db, registry, box
        self.now = now
        self.on_record = on_record
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
                ctx = clients.client_context(
                    client, self.registry, self.box, today=self.report.today, job="recurring"
                )
            self._plugin = self.registry.for_client(ctx)
        return self._plugin

    def agreements(self) -> list[_Agreement]:
        """Active agreements, and inactive ones with an invoice still to reconcile, in one
        read: a day with nothing due costs a query, not one per agreement."""
        with self.db.session() as session:
            client = clients.get_client(session, self.report.client)
            counts: dict[int, dict[str, int]] = {}
            for agreement_id, state, n in session.execute(
                select(t.RecurringInvoice.agreement_id, t.RecurringInvoice.state, func.count())
                .join(t.RecurringAgreement)
                .where(t.RecurringAgreement.client_id == client.id)
                .group_by(t.RecurringInvoice.agreement_id, t.RecurringInvoice.state)
            ):
                counts.setdefault(agreement_id, {})[state] = n
            billed: dict[int, dt.date] = dict(
                session.execute(
                    select(t.RecurringInvoice.agreement_id, func.max(t.RecurringInvoice.period_end))
                    .join(t.RecurringAgreement)
                    .where(
                        t.RecurringAgreement.client_id == client.id,
                        t.RecurringInvoice.state != "abandoned",
                    )
                    .group_by(t.RecurringInvoice.agreement_id)
                ).all()
            )
            loaded = session.scalars(
                select(t.RecurringAgreement)
                .where(t.RecurringAgreement.client_id == client.id)
                .order_by(t.RecurringAgreement.id)
            )
            return [
                _Agreement(
                    id=a.id,
                    uid=a.uid,
                    customer_number=a.customer_number,
                    produce=a.produce,
                    status=a.status,
                    terms=terms_of(a),
                    recorded=sum(counts.get(a.id, {}).values()),
                    pending=counts.get(a.id, {}).get("pending", 0) > 0,
                    billed_through=billed.get(a.id),
                )
                for a in loaded
                if a.status == "active" or counts.get(a.id, {}).get("pending", 0) > 0
            ]

    def run_agreement(self, agreement: _Agreement) -> None:
        """Send what the agreement has pending, then record and send what is due, in order;
        stop at the first failure (a later invoice never overtakes an earlier one)."""
        while True:
            claim: _Claim | str | None
            if agreement.pending:
                claim = self._claim_pending(agreement.id)
                if claim is None:  # answered meanwhile by another run
                    agreement.pending = False
                    continue
            else:
                if agreement.status != "active":
                    return
                invoice = planned(agreement.terms, agreement.recorded)
                if invoice is not None and _billed_already(agreement, invoice):
                    self._finish(agreement, billed=True)
                    return
                if invoice is None:
                    self._finish(agreement)
                    return
                if invoice.generate_on > self.report.today:
                    return
                claim = self._record(agreement, invoice)
                if claim is None:  # deactivated meanwhile
                    return
            if not isinstance(claim, _Claim):
                self.report.busy.append(agreement.id)
                return
            agreement.recorded = max(agreement.recorded, claim.sequence + 1)
            agreement.pending = False
            if not self._send(agreement, claim):
                return

    def _claim_pending(self, agreement_id: int) -> _Claim | str | None:
        """The agreement's pending invoice, leased to this run (``_BUSY`` if another holds
        it, ``None`` if there is none)."""
        with self.db.session() as session:
            row = session.execute(
                select(
                    t.RecurringInvoice.id,
                    t.RecurringInvoice.sequence,
                    t.RecurringInvoice.request,
                    t.RecurringInvoice.total,
                )
                .where(
                    t.RecurringInvoice.agreement_id == agreement_id,
                    t.RecurringInvoice.state == "pending",
                )
                .order_by(t.RecurringInvoice.sequence)
                .limit(1)
            ).first()
            if row is None:
                return None
            now = self._clock()
            until = now + self.lease
            if not set_if(session, t.RecurringInvoice, *unleased(row.id, now), claimed_until=until):
                return _BUSY
        return _Claim(row.id, row.sequence, dict(row.request), row.total, until, True)

    def _record(self, agreement: _Agreement, invoice: PlannedInvoice) -> _Claim | str | None:
        """Record the invoice, leased to this run, before anything is sent (G6). ``_BUSY``
        if another generator recorded it first; ``None`` if the agreement was stopped."""
        until = self._clock() + self.lease
        request = draft_request(
            agreement.uid, agreement.produce, agreement.customer_number, invoice
        )
        try:
            with self.db.session() as session:
                status = session.scalar(
                    select(t.RecurringAgreement.status).where(
                        t.RecurringAgreement.id == agreement.id
                    )
                )
                if status != "active":
                    agreement.status = status or "inactive"
                    return None
                row = t.RecurringInvoice(
                    agreement_id=agreement.id,
                    sequence=invoice.sequence,
                    idempotency_key=request["idempotency_key"],
                    kind=agreement.produce,
                    generate_on=invoice.generate_on,
                    invoice_date=invoice.invoice_date,
                    due_date=invoice.due_date,
                    period_start=invoice.period_start,
                    period_end=invoice.period_end,
                    currency=invoice.currency,
                    total=invoice.total,
                    request=request,
                    state="pending",
                    claimed_until=until,
                )
                session.add(row)
                session.flush()
                if self.on_record is not None:
                    self.on_record(session, row)
                return _Claim(row.id, invoice.sequence, request, invoice.total, until, False)
        except StorageError as exc:
            if _is_conflict(exc):  # another generator recorded it first: it sends it
                return _BUSY
            raise

    def _finish(self, agreement: _Agreement, *, billed: bool = False) -> None:
        """G3: the agreement has made its last invoice; it becomes inactive once its end is
        reached (an end date: on that day, not at its last invoice). ``billed``: its recorded
        invoices already bill through the end date (see :func:`_billed_already`)."""
        terms = agreement.terms
        if billed:
            reached = terms.end_date is not None and self.report.today >= terms.end_date
            reason = (
                f"end date {terms.end_date} reached (billed through {agreement.billed_through})"
                if reached
                else None
            )
        else:
            reason = finished_reason(terms, agreement.recorded, today=self.report.today)
        if reason is None:
            return
        with self.db.session() as session:
            if set_if(
                session,
                t.RecurringAgreement,
                t.RecurringAgreement.id == agreement.id,
                t.RecurringAgreement.status == "active",
                status="inactive",
                status_reason=reason,
            ):
                self.report.finished.append(agreement.id)
        agreement.status = "inactive"

    def _send(self, agreement: _Agreement, claim: _Claim) -> bool:
        draft = draft_from(claim.request)
        try:
            plugin = self.plugin()
        except HubError:  # the client cannot be served at all: let the lease go, say why
            self._release(claim.row_id, None)
            raise
        try:
            with self._holding(claim):
                reference = plugin.create_invoice(draft)
        except HubError as exc:
            self._release(claim.row_id, exc)
            self.report.failed.append(
                {"agreement": agreement.id, "sequence": claim.sequence, "error": str(exc)}
            )
            self.log.warning(
                "recurring invoice not made",
                agreement=agreement.id,
                sequence=claim.sequence,
                error=str(exc),
            )
            return False
        with self.db.session() as session:
            session.execute(
                update(t.RecurringInvoice)
                .where(t.RecurringInvoice.id == claim.row_id)
                .values(
                    state="created",
                    reference=reference,
                    attempts=t.RecurringInvoice.attempts + 1,
                    last_error=None,
                    claimed_until=None,
                    created_at=self._clock(),
                )
            )
        if claim.reconciled:
            self.report.reconciled += 1
        self.report.generated.append(
            {
                "agreement": agreement.id,
                "sequence": claim.sequence,
                "kind": draft.kind,
                "invoice_date": draft.invoice_date.isoformat(),
                "total": str(claim.total),
                "reference": reference,
            }
        )
        self.log.info(
            "recurring invoice made",
            agreement=agreement.id,
            sequence=claim.sequence,
            reference=reference,
        )
        return True

    @contextmanager
    def _holding(self, claim: _Claim) -> Iterator[None]:
        """Keep the lease while the plugin works: renewed every third of it from a thread, so
        that a slow send (retries, a throttled API) is never taken over by another run. A run
        that dies stops renewing, and the lease lapses."""
        until = claim.until

        def renew() -> bool:
            nonlocal until
            renewed = self._clock() + self.lease
            with self.db.session() as session:
                done = set_if(
                    session,
                    t.RecurringInvoice,
                    t.RecurringInvoice.id == claim.row_id,
                    t.RecurringInvoice.state == "pending",
                    t.RecurringInvoice.claimed_until == until,
                    claimed_until=renewed,
                )
            if done:
                until = renewed
            return done

        every = self.lease.total_seconds() / 3
        with Renewal(renew, every, name=f"recurring-lease-{claim.row_id}"):
            yield

    def _release(self, row_id: int, exc: HubError | None) -> None:
        """Let the lease go. With ``exc`` (the send failed), count the attempt and keep the
        error: the row stays pending, since the request may have reached the system, and the
        next run asks again under the same key."""
        values: dict[str, Any] = {"claimed_until": None}
        if exc is not None:
            values.update(attempts=t.RecurringInvoice.attempts + 1, last_error=str(exc))
        with self.db.session() as session:
            session.execute(
                update(t.RecurringInvoice).where(t.RecurringInvoice.id == row_id).values(**values)
            )


def _billed_already(agreement: _Agreement, invoice: PlannedInvoice) -> bool:
    """Whether a recorded invoice already bills the start of ``invoice``'s period: only an
    agreement whose invoice before the last was recorded under the older end-date rule, with
    the days up to the end date on it. Its last planned invoice is then not made, so that no
    day is billed twice; the agreement ends on its end date as any other."""
    return agreement.billed_through is not None and invoice.period_start <= agreement.billed_through


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
    on_record: Callable[[Session, t.RecurringInvoice], None] | None = None,
) -> RecurringReport:
    """Generate what the client's agreements have due by ``today`` (``hub recurring run``; the
    daemon's job). One agreement's failure does not stop the others; the report lists it.
    ``now`` (the wall clock, for leases) is for tests. ``on_record``: called in the unit of
    work that records each new invoice, before it is sent (a person's run is audited there)."""
    generator = _Generator(db, registry, box, client_name, today, now, on_record)
    for agreement in generator.agreements():
        try:
            generator.run_agreement(agreement)
        except AgreementError as exc:  # terms that plan an invoice the hub cannot store
            generator.report.failed.append(
                {"agreement": agreement.id, "sequence": agreement.recorded, "error": str(exc)}
            )
    return generator.report
