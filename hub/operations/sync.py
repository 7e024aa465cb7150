"""The chain a sync runs: fetch the client's invoices and customers (all or nothing, R3), run
the dunning cycle on the fresh data, deliver the queued messages. Written once, for
``hub sync`` and the daemon's ``sync`` job alike: the client is resolved once and its today
fixed once, and every step acts for that day. The cycle runs only after a successful sync, so
no reminder is ever sent on stale data; delivery runs only after a cycle that ran, so no
reminder goes out whose case the cycle would have closed.

A step after the sync that fails (the dunning cycle, delivery) does not raise: the chain
returns what it did with the failing step and its error (:attr:`SyncResult.error`), so
``hub sync --json`` always prints its report, and the run is recorded ``failed``; one whose
units partly failed (a letter not delivered, a case not advanced) is recorded ``partial``.

A sync that trips the client's settle guard stores nothing and fails (the cycle does not run);
only a person's ``SyncRequest(confirm_settle=True)`` (``hub sync --confirm-settle``) lets it
through, once. The daemon's job never confirms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hub.dunning.cycle import CycleReport, run_cycle
from hub.dunning.messages import DeliveryReport, deliver_pending
from hub.errors import HubError
from hub.logging import get_logger
from hub.operations import access, runs
from hub.operations.clients import client_day
from hub.operations.context import ClientDay, Context
from hub.sync import SettleGuardTripped, SyncFailed, SyncReport, sync_client

__all__ = [
    "CycleReport",
    "DeliveryReport",
    "SettleGuardTripped",
    "SyncFailed",
    "SyncReport",
    "SyncRequest",
    "SyncResult",
    "deliver_messages",
    "dunning_cycle",
    "fetch_invoices",
    "sync",
    "sync_chain",
]


log = get_logger("hub.operations.sync")


@dataclass(frozen=True)
class SyncRequest:
    """``hub sync NAME``: the client, and whether a person confirmed a sync that trips the
    client's settle guard (``--confirm-settle``; it holds for this one sync)."""

    client: str
    confirm_settle: bool = False


@dataclass(frozen=True)
class SyncResult:
    """What the chain did; ``as_dict`` is ``hub sync --json``.

    ``cycle`` and ``delivery`` are None when that step did not run; ``failed_step`` and
    ``error`` name the step that failed (``dunning`` or ``delivery``) and why.
    """

    sync: SyncReport
    cycle: CycleReport | None
    delivery: DeliveryReport | None
    failed_step: str | None = None
    error: str | None = None

    @property
    def outcome(self) -> runs.Outcome:
        """``failed`` when a step failed, ``partial`` when some of its units failed (a letter
        not delivered, a case not advanced), else ``ok``."""
        if self.error is not None:
            return runs.Outcome.FAILED
        return runs.Outcome.PARTIAL if self.errors() else runs.Outcome.OK

    def errors(self) -> list[str]:
        """The failing step's error first, then each unit that failed."""
        errors = [f"{self.failed_step}: {self.error}"] if self.error is not None else []
        if self.cycle is not None and self.cycle.failed:
            errors.append(f"dunning: {self.cycle.failed} case(s) could not be advanced")
        if self.delivery is not None:
            errors += [f"delivery: {error}" for error in self.delivery.errors]
        return errors

    def counts(self) -> dict[str, Any]:
        """The counts a run records (``hub runs list``)."""
        counts: dict[str, Any] = dict(self.sync.counts)
        if self.cycle is not None:
            counts |= {
                "cases_started": self.cycle.started,
                "cases_closed": self.cycle.closed,
                "cases_reopened": self.cycle.reopened,
                "cases_resumed": self.cycle.resumed,
                "stage_moves": self.cycle.stage_moves,
                "collections_started": self.cycle.collections_started,
                "messages": self.cycle.messages,
            }
        if self.delivery is not None:
            counts |= {"sent": self.delivery.sent, "delivery_failed": self.delivery.failed}
            if self.delivery.waiting:
                counts["waiting_for_window"] = self.delivery.waiting
        return counts

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            **self.sync.as_dict(),
            "outcome": self.outcome.value,
            "dunning": None if self.cycle is None else self.cycle.as_dict(),
            "delivery": None
            if self.delivery is None
            else {
                "sent": self.delivery.sent,
                "failed": self.delivery.failed,
                "errors": self.delivery.errors,
                "waiting": self.delivery.waiting,
                "window_opens": self.delivery.window_opens,
            },
        }
        if self.error is not None:
            data["failed_step"] = self.failed_step
            data["error"] = self.error
        return data


def _automatic(ctx: Context, client: ClientDay, what: str) -> None:
    """A step of a run may change the client: checked like a person's change (the daemon's
    user may make them all), not in the audit log (the case histories and the run hold it)."""
    access.permit(ctx, action=f"sync.{what}", client=client.name, subject=f"the {what}")


def fetch_invoices(
    ctx: Context,
    client: ClientDay,
    *,
    run_id: int | None = None,
    confirm_settle: bool = False,
    started: access.Change | None = None,
) -> SyncReport:
    """The sync itself (:func:`hub.sync.sync_client`), its run recorded with its data: as a
    new run, or in the run a job runner started (``run_id``). ``started``: a person started
    it (:func:`sync`); a sync that stores its data records that change in the audit log with
    the data, in the same transaction.

    :raises SyncFailed: nothing was stored (also when the settle guard tripped and
        ``confirm_settle`` is false); the failed run is recorded.
    """
    if started is None:
        _automatic(ctx, client, "sync")
    run_recorder = runs.sync_recorder(client.id, run_id)

    def record(session: Session, stored: bool, report: SyncReport) -> None:
        run_recorder(session, stored, report)
        if stored and started is not None:
            started.after = {
                "run": run_id,
                "confirm_settle": confirm_settle,
                **report.counts,
            }
            started.record(session)

    return sync_client(
        ctx.db,
        ctx.registry,
        ctx.box,
        client.id,
        client.today,
        record=record,
        confirm_settle=confirm_settle,
    )


def dunning_cycle(ctx: Context, client: ClientDay) -> CycleReport:
    """Start, close, reopen, resume, move and remind the client's cases as due on its today."""
    _automatic(ctx, client, "cycle")
    return run_cycle(ctx.db, client.id, client.today, registry=ctx.registry)


def deliver_messages(ctx: Context, client: ClientDay) -> DeliveryReport:
    """Deliver the client's queued (and earlier failed) messages, as sent on its today; outside
    its sending window (at this moment of the run's clock, in its time zone) they wait."""
    _automatic(ctx, client, "delivery")
    return deliver_pending(
        ctx.db, ctx.registry, ctx.box, client.id, client.today, ctx.clock.now(client.timezone)
    )


def _step_error(step: str, client: ClientDay, exc: Exception) -> str:
    if isinstance(exc, HubError):
        return str(exc)
    log.exception("sync step failed in the hub itself", step=step, client=client.name)
    return repr(exc)


def sync_chain(
    ctx: Context,
    client: ClientDay,
    *,
    run_id: int | None = None,
    confirm_settle: bool = False,
    started: access.Change | None = None,
) -> SyncResult:
    """Sync, then the dunning cycle, then delivery, all for ``client``'s one day; ``started``:
    a person started it (see :func:`fetch_invoices`).

    A failing cycle or delivery does not raise: the result names the step and its error
    (delivery does not run after a failed cycle).

    :raises SyncFailed: the sync stored nothing (the cycle and delivery did not run).
    """
    report = fetch_invoices(
        ctx, client, run_id=run_id, confirm_settle=confirm_settle, started=started
    )
    try:
        cycle = dunning_cycle(ctx, client)
    except Exception as exc:
        return SyncResult(report, None, None, "dunning", _step_error("dunning", client, exc))
    try:
        delivery = deliver_messages(ctx, client)
    except Exception as exc:
        return SyncResult(report, cycle, None, "delivery", _step_error("delivery", client, exc))
    return SyncResult(report, cycle, delivery)


def sync(ctx: Context, request: SyncRequest) -> SyncResult:
    """``hub sync NAME``: the chain for the client named ``request.client`` on its today
    (``request.confirm_settle``: a person confirmed a sync that trips the settle guard), recorded in
    the run history from start to end (``ok``, ``partial`` or ``failed``, as the daemon's).

    A person's sync: refused unless the acting user may change the client; once it stores
    its data, it is in the audit log (``sync.run``, with the run's id and counts).

    :raises SyncFailed: the sync stored nothing; the failed run is recorded.
    """
    client = client_day(ctx, request.client)
    started = access.permit(ctx, action="sync.run", client=client.name, subject="a sync")
    run_id = runs.start(ctx.db, runs.JobKind.SYNC, client.id, client.today)
    started.subject = f"run {run_id}"
    try:
        result = sync_chain(
            ctx, client, run_id=run_id, confirm_settle=request.confirm_settle, started=started
        )
    except SyncFailed as exc:
        runs.finish(
            ctx.db, run_id, runs.Outcome.FAILED, exc.report.counts, _joined(exc.report.errors, exc)
        )
        raise
    except BaseException as exc:
        runs.finish(ctx.db, run_id, runs.Outcome.FAILED, {}, str(exc) or repr(exc))
        raise
    runs.finish(ctx.db, run_id, result.outcome, result.counts(), "; ".join(result.errors()) or None)
    return result


def _joined(errors: list[str], exc: Exception) -> str:
    return "; ".join(errors) or str(exc)
