"""The chain a sync runs: fetch the client's invoices and customers (all or nothing, R3), run
the dunning cycle on the fresh data, deliver the queued messages. Written once, for
``hub sync`` and the daemon's ``sync`` job alike: the client is resolved once and its today
fixed once, and every step acts for that day. The cycle runs only after a successful sync, so
no reminder is ever sent on stale data.

A sync that trips the client's settle guard stores nothing and fails (the cycle does not run);
only a person's ``SyncRequest(confirm_settle=True)`` (``hub sync --confirm-settle``) lets it
through, once. The daemon's job never confirms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.dunning.cycle import CycleReport, run_cycle
from hub.dunning.messages import DeliveryReport, deliver_pending
from hub.operations import runs
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


@dataclass(frozen=True)
class SyncRequest:
    """``hub sync NAME``: the client, and whether a person confirmed a sync that trips the
    client's settle guard (``--confirm-settle``; it holds for this one sync)."""

    client: str
    confirm_settle: bool = False


@dataclass(frozen=True)
class SyncResult:
    """What the chain did; ``as_dict`` is ``hub sync --json``."""

    sync: SyncReport
    cycle: CycleReport
    delivery: DeliveryReport

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.sync.as_dict(),
            "outcome": runs.Outcome.OK.value,
            "dunning": self.cycle.as_dict(),
            "delivery": {
                "sent": self.delivery.sent,
                "failed": self.delivery.failed,
                "errors": self.delivery.errors,
            },
        }


def fetch_invoices(
    ctx: Context, client: ClientDay, *, run_id: int | None = None, confirm_settle: bool = False
) -> SyncReport:
    """The sync itself (:func:`hub.sync.sync_client`), its run recorded with its data: as a
    new run, or in the run a job runner started (``run_id``).

    :raises SyncFailed: nothing was stored (also when the settle guard tripped and
        ``confirm_settle`` is false); the failed run is recorded.
    """
    record = runs.sync_recorder(client.id, run_id)
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
    return run_cycle(ctx.db, client.id, client.today, registry=ctx.registry)


def deliver_messages(ctx: Context, client: ClientDay) -> DeliveryReport:
    """Deliver the client's queued (and earlier failed) messages, as sent on its today."""
    return deliver_pending(ctx.db, ctx.registry, ctx.box, client.id, client.today)


def sync_chain(
    ctx: Context, client: ClientDay, *, run_id: int | None = None, confirm_settle: bool = False
) -> SyncResult:
    """Sync, then the dunning cycle, then delivery, all for ``client``'s one day.

    :raises SyncFailed: the sync stored nothing (the cycle and delivery did not run).
    """
    report = fetch_invoices(ctx, client, run_id=run_id, confirm_settle=confirm_settle)
    cycle = dunning_cycle(ctx, client)
    delivery = deliver_messages(ctx, client)
    return SyncResult(report, cycle, delivery)


def sync(ctx: Context, request: SyncRequest) -> SyncResult:
    """``hub sync NAME``: the chain for the client named ``request.client`` on its today."""
    return sync_chain(ctx, client_day(ctx, request.client), confirm_settle=request.confirm_settle)
