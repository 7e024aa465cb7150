"""The dispatcher's tick: the schedule file turned into tasks, and dead nodes' work taken over.

One tick runs per period across all nodes (procrastinate's periodic dedup, and a lock of its
own: :mod:`hub.daemon.distributed.app`). Each tick:

1. **reads the schedule file again** (a file that no longer reads is logged and the last good
   one kept: :meth:`~hub.daemon.distributed.runtime.Runtime.reload`); its ``[distributed]``
   table applies when the nodes restart, since their queues and heartbeats follow it;
2. **plans** every (job kind, client) the schedule enables for the clients in the database
   (:func:`hub.daemon.scheduler.plan`, as the plain daemon does) and compares the plan with the
   stored next due times (:mod:`hub.operations.job_schedule`): a new client's jobs are due at
   once, spread over their jitter; a removed client's rows are dropped; a job whose schedule
   (trigger fingerprint and time zone) changed is rescheduled from now; a due job is **deferred**
   (``lock`` and ``queueing_lock`` ``"<kind>:<client>"``: never two at once, a run due while
   one waits coalesced into it) and its next due time computed by its APScheduler trigger
   (:meth:`hub.daemon.schedules.Trigger.build`, used here only to compute fire times). The
   deferral comes before the new due time is stored: a tick that dies between the two defers
   again next time (coalesced, or one run more: every job is idempotent), never loses a run;
3. **retries the tasks of dead nodes**: a task ``doing`` on a procrastinate worker whose
   heartbeat is older than ``stalled_seconds`` is set back to ``todo`` (keeping its lock) and
   another node takes it (or, when a run of the same (job kind, client) was queued meanwhile,
   it is given up in favour of that one); the job functions finish what it left under the same
   idempotency keys and leases;
4. **marks the runs of dead nodes interrupted**: a node lease whose heartbeat is older than
   ``stalled_seconds`` (or whose process is seen gone on this host) is a dead node's; its runs
   still ``running`` become ``interrupted`` and its lease is dropped;
5. deletes the queue's finished jobs older than a day.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import random
from dataclasses import dataclass, field

from procrastinate import App
from procrastinate.exceptions import AlreadyEnqueued, UniqueViolation
from procrastinate.jobs import Status

from hub.daemon.distributed.runtime import Runtime, log
from hub.daemon.scheduler import PlannedJob, plan
from hub.daemon.schedules import DEFAULT_QUEUE, Distributed, Schedules
from hub.operations import job_schedule, lease, runs
from hub.operations.clients import list_clients
from hub.operations.context import Context
from hub.operations.job_schedule import Due, JobKey

__all__ = ["JOB_TASK", "Decision", "decide", "defer_job", "queue_of", "tick"]

JOB_TASK = "hub.run_job"
#: Finished tasks are kept this long in procrastinate_jobs (for a look at what ran), then deleted.
KEEP_FINISHED_HOURS = 24
#: A trigger that never fires again (a cron of a year gone) is parked this far ahead.
_NEVER = dt.timedelta(days=365 * 100)


def queue_of(plugin: str | None, distributed: Distributed) -> str:
    """The queue of a client whose accounting plugin is ``plugin``."""
    return plugin if plugin is not None and plugin in distributed.queues else DEFAULT_QUEUE


async def defer_job(app: App, kind: str, client: str, queue: str) -> bool:
    """Queue one run of ``kind`` for ``client``; False when one already waits (coalesced)."""
    key = f"{kind}:{client}"
    try:
        await app.configure_task(
            name=JOB_TASK, lock=key, queueing_lock=key, queue=queue
        ).defer_async(kind=kind, client=client)
    except AlreadyEnqueued:
        return False
    return True


def _fingerprint(p: PlannedJob) -> str:
    return f"{p.trigger.fingerprint()}|{p.timezone}"


def _next_due(p: PlannedJob, now: dt.datetime) -> dt.datetime:
    """The job's next fire time after ``now``, its jitter included. An interval counts from
    ``now`` (APScheduler's interval trigger would count from when it was built)."""
    trigger = p.trigger.build(p.timezone)
    interval = getattr(trigger, "interval", None)
    if isinstance(interval, dt.timedelta):
        return now + interval + dt.timedelta(seconds=random.uniform(0, p.trigger.jitter))
    fire = trigger.get_next_fire_time(None, now)
    return now + _NEVER if fire is None else fire.astimezone(dt.UTC)


@dataclass
class Decision:
    """What one tick does: the jobs to defer, the due times to store, the rows to drop."""

    due: list[PlannedJob] = field(default_factory=list)
    changed: dict[JobKey, Due] = field(default_factory=dict)
    dropped: list[JobKey] = field(default_factory=list)
    counts: dict[str, int] = field(
        default_factory=lambda: {"added": 0, "rescheduled": 0, "removed": 0, "due": 0}
    )


def decide(planned: list[PlannedJob], stored: dict[JobKey, Due], now: dt.datetime) -> Decision:
    """Compare the plan with the stored due times (pure: no database, no queue)."""
    decision = Decision()
    wanted = {(p.job, p.client): p for p in planned}
    for key in stored:
        if key not in wanted:
            decision.dropped.append(key)
            decision.counts["removed"] += 1
    for key, p in wanted.items():
        fingerprint = _fingerprint(p)
        old = stored.get(key)
        if old is None:  # a new client or job: at once, spread over the jitter
            at = now + dt.timedelta(seconds=random.uniform(0, p.trigger.jitter))
            old = decision.changed[key] = Due(at, fingerprint)
            decision.counts["added"] += 1
        elif old.fingerprint != fingerprint:
            decision.changed[key] = Due(_next_due(p, now), fingerprint)
            decision.counts["rescheduled"] += 1
            continue
        if old.at <= now:
            decision.due.append(p)
            decision.changed[key] = Due(_next_due(p, now), fingerprint)
            decision.counts["due"] += 1
    return decision


def _plan(ctx: Context, schedules: Schedules) -> tuple[list[PlannedJob], dict[str, str | None]]:
    planned = plan(ctx, schedules, strict=False)
    plugins = {c.name: c.plugin for c in list_clients(ctx)}
    return planned, plugins


async def tick(app: App, runtime: Runtime, timestamp: int) -> None:
    """One tick (see the module's docstring); ``timestamp`` is the period's (procrastinate's)."""
    schedules = await asyncio.to_thread(runtime.reload)
    settings = runtime.distributed  # as the nodes started: their queues, heartbeats
    db = runtime.ctx.db
    now = dt.datetime.now(dt.UTC)
    (planned, plugins), stored = await asyncio.gather(
        asyncio.to_thread(_plan, runtime.ctx, schedules), asyncio.to_thread(job_schedule.load, db)
    )
    decision = decide(planned, stored, now)
    coalesced = 0
    for p in decision.due:
        if not await defer_job(app, p.job, p.client, queue_of(plugins.get(p.client), settings)):
            coalesced += 1
    await asyncio.to_thread(job_schedule.save, db, decision.changed, decision.dropped)

    retried = 0
    for job in await app.job_manager.get_stalled_jobs(
        seconds_since_heartbeat=settings.stalled_seconds
    ):
        try:
            await app.job_manager.retry_job(job)
        except UniqueViolation:
            # A run of the same (job kind, client) was queued while the dead node's task was
            # ``doing`` (its queueing lock holds only ``todo`` tasks), so this one cannot go
            # back to ``todo``: it is coalesced into the queued one, as a run due while one
            # waits is. Given up, it frees its lock and the queued one runs.
            assert job.id is not None
            await app.job_manager.finish_job_by_id_async(job.id, Status.FAILED, delete_job=False)
            log.warning("a dead node's task given up for the one queued", lock=job.lock)
            continue
        retried += 1
        log.warning("a dead node's task is run again", task=job.task_name, lock=job.lock)

    dead = await asyncio.to_thread(lease.dead_nodes, db, settings.stalled_seconds)
    if dead:
        names = [n.name for n in dead]
        interrupted = await asyncio.to_thread(runs.mark_runners_interrupted, db, names)
        await asyncio.to_thread(lease.drop, db, names)
        log.warning(
            "dead nodes given up",
            nodes=[f"{n.host} {n.pid}" for n in dead],
            runs_interrupted=interrupted,
        )
    await app.job_manager.delete_old_jobs(nb_hours=KEEP_FINISHED_HOURS, include_failed=True)
    counts = {k: v for k, v in dataclasses.asdict(decision)["counts"].items() if v}
    if counts or retried or coalesced:
        log.info(
            "dispatcher tick", period=timestamp, coalesced=coalesced, retried=retried, **counts
        )
