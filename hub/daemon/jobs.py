"""The units of scheduled work, as plain functions of (job kind, client).

The daemon (:mod:`hub.daemon.scheduler`) runs them on its schedule, ``hub demo`` runs them day
by day; nothing here knows about APScheduler, so the same functions can run as tasks of another
engine. Each is safe to run again at any moment, and after a crash: every step of every unit is
committed on its own and written so that doing it again finds it done.

Job kinds:

``sync``
    Fetch the client's invoices and customers (all or nothing; R3), then run the dunning
    cycle on the fresh data (start, close, resume, move and remind cases; expire collection
    warnings' deadlines), then deliver the queued messages: :func:`hub.operations.sync.sync_chain`,
    as ``hub sync`` runs it.
``recurring``
    Generate the recurring invoices the client's agreements have due (G1–G6).
``postings``
    Finish the credit notes and loss write-offs a person asked for whose posting did not
    finish (a crash, a timeout, the system down): each is sent again under its idempotency key,
    which the accounting system answers with the same document, never a second one. A
    write-off whose invoice the books meanwhile show settled waits for a person
    (``hub cases write-off --confirm``), since the hub cannot tell which happened.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.daemon import metrics
from hub.errors import HubError, InputError, NotFoundError
from hub.logging import get_logger
from hub.operations import runs
from hub.operations.clients import client_day
from hub.operations.context import ClientDay, Context
from hub.operations.postings import finish_postings
from hub.operations.recurring import run_due
from hub.operations.sync import SyncFailed, sync_chain
from hub.records import NOT_IN_JSON, Record, json_name

JOB_KINDS = runs.JOB_KINDS


@dataclass
class JobResult(Record):
    """How a run of a job ended: its counts, and the errors of the units that failed.

    ``outcome``: ``ok``; ``partial`` when the job did its work but some of its units failed
    (a letter not delivered, an agreement refused, a posting still refused); ``failed`` when
    its work failed (a sync that stored nothing, the hub itself).
    """

    job: str
    client: str
    # the client's day the run acts for
    today: dt.date | None = field(default=None, metadata=NOT_IN_JSON)
    run_id: int | None = field(default=None, metadata=json_name("run"))
    outcome: str = runs.Outcome.OK
    counts: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    plugin: str | None = field(default=None, metadata=NOT_IN_JSON)
    seconds: float = field(default=0.0, metadata=NOT_IN_JSON)


def _sync(ctx: Context, client: ClientDay, result: JobResult) -> None:
    try:
        done = sync_chain(ctx, client, run_id=result.run_id)
    except SyncFailed as exc:
        result.plugin = exc.report.plugin
        result.counts |= exc.report.counts
        raise
    result.plugin = done.sync.plugin
    result.counts |= done.counts()
    if done.error is not None:  # a step after the sync failed: the run failed
        raise HubError("; ".join(done.errors()))
    result.errors += done.errors()


def _recurring(ctx: Context, client: ClientDay, result: JobResult) -> None:
    report = run_due(ctx, client)
    result.counts |= {
        "generated": len(report.generated),
        "reconciled": report.reconciled,
        "finished": len(report.finished),
        "busy": len(report.busy),
        "failed": len(report.failed),
    }
    result.errors += [
        f"agreement {f['agreement']} invoice {f['sequence'] + 1}: {f['error']}"
        for f in report.failed
    ]


def _postings(ctx: Context, client: ClientDay, result: JobResult) -> None:
    report = finish_postings(ctx, client)
    result.counts |= report.counts()
    result.errors += report.errors


JOBS: dict[str, Callable[[Context, ClientDay, JobResult], None]] = {
    runs.JobKind.SYNC: _sync,
    runs.JobKind.RECURRING: _recurring,
    runs.JobKind.POSTINGS: _postings,
}
assert tuple(JOBS) == JOB_KINDS


def run_job(ctx: Context, job: str, client: str) -> JobResult:
    """Run one job for one client, recorded in the run history from start to end.

    The client is looked up once and its today fixed once, from ``ctx``'s clock, when the run
    starts: every step of the run acts for that day, even across midnight.

    Never raises for the job's own failures (they are the run's outcome and errors): one
    client's failure must not stop the daemon or the other clients. A client that no longer
    exists is no failure of anyone's: nothing is recorded.
    """
    if job not in JOBS:
        raise InputError(f"job {job!r}: not a job kind; choose one of {', '.join(JOB_KINDS)}")
    result = JobResult(job=job, client=client)
    try:
        day = client_day(ctx, client)
    except NotFoundError:
        result.outcome = runs.Outcome.FAILED
        result.errors.append(f"no client named {client!r} (see `hub clients list`)")
        return result
    log = get_logger("hub.daemon.jobs", client=client, job=job)
    started = time.monotonic()
    result.today = day.today
    result.run_id = runs.start(ctx.db, job, day.id, day.today)
    try:
        JOBS[job](ctx, day, result)
    except Exception as exc:  # the run's outcome; the daemon goes on with the others
        result.errors.insert(0, str(exc) if isinstance(exc, HubError) else repr(exc))
        result.outcome = runs.Outcome.FAILED
        if not isinstance(exc, HubError):
            log.exception("job failed in the hub itself")
    else:
        if result.errors:
            result.outcome = runs.Outcome.PARTIAL
    result.seconds = time.monotonic() - started
    metrics.observe_run(job, result.outcome, result.seconds, plugin=result.plugin)
    error = "; ".join(result.errors) or None
    try:
        runs.finish(ctx.db, result.run_id, result.outcome, result.counts, error)
    except Exception as exc:  # the database is gone: say so, the run stays "running"
        log.error("could not record the end of the run", error=repr(exc))
    (log.info if result.outcome == runs.Outcome.OK else log.warning)(
        "job done", outcome=result.outcome, seconds=round(result.seconds, 3), **result.counts
    )
    return result
