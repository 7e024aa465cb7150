"""The procrastinate app of ``hub run --distributed``: its connection and its two tasks.

- ``hub.run_job`` runs one job kind for one client (:func:`hub.daemon.jobs.run_job`, recorded
  in the run history). It is always deferred with ``lock`` and ``queueing_lock`` both
  ``"<kind>:<client>"`` (:func:`~hub.daemon.distributed.dispatcher.defer_job`): procrastinate
  never lets two jobs with one lock be ``doing`` at once (so never two runs of a (job kind,
  client) side by side, on any nodes), and refuses a second ``todo`` job with one queueing
  lock (so a run due while one waits is coalesced into it, never queued twice). Its queue is
  the client's accounting plugin's when ``[distributed.queues]`` names it, else ``default``:
  each queue has its own concurrency on every node, so one vendor's slowness never holds up
  another's clients.
- ``hub.dispatch`` is the dispatcher's tick (:mod:`hub.daemon.distributed.dispatcher`), a
  periodic task every ``tick_seconds``: every node's workers try to defer it for each period,
  and procrastinate's ``procrastinate_periodic_defers`` (unique per period) lets one through.
  It runs on its own queue with a lock of its own, so a slow tick is never run twice at once
  and never waits behind the clients' jobs. A tick left ``doing`` by a dead node would hold
  that lock for good (and the tick is what takes dead nodes' tasks over), so every node gives
  such a tick up itself (:func:`release_stalled_tick`, every heartbeat): the next period's
  tick runs.
"""

from __future__ import annotations

import asyncio

from procrastinate import App, JobContext, PsycopgConnector
from procrastinate.jobs import Status

from hub.daemon import jobs
from hub.daemon.distributed import dispatcher
from hub.daemon.distributed.connection import conninfo
from hub.daemon.distributed.dispatcher import JOB_TASK
from hub.daemon.distributed.runtime import log, runtime_of
from hub.daemon.schedules import Distributed
from hub.db.engine import Database
from hub.operations import job_schedule

__all__ = ["DISPATCH_QUEUE", "DISPATCH_TASK", "JOB_TASK", "build_app", "release_stalled_tick"]

DISPATCH_TASK = "hub.dispatch"
#: The tick's own queue (not a plugin's name: those are lower-case letters, digits and _).
DISPATCH_QUEUE = "hub-dispatch"
_DISPATCH_LOCK = "hub:dispatch"


def build_app(db: Database, distributed: Distributed, *, pool_size: int = 10) -> App:
    """The app on ``db``'s PostgreSQL database (not yet open), with the hub's tasks."""
    connector = PsycopgConnector(conninfo=conninfo(db), min_size=1, max_size=pool_size)
    app = App(connector=connector, periodic_defaults={"max_delay": 2 * distributed.tick_seconds})

    @app.task(name=JOB_TASK, pass_context=True)
    def run_job(context: JobContext, kind: str, client: str) -> None:
        runtime = runtime_of(context)
        if runtime.lease is not None and not runtime.lease.held():
            # This node may have been taken for dead, its runs marked interrupted: it runs
            # nothing, and hands the run back instead (due at once: the next tick queues it
            # again, for whichever node takes it).
            log.warning("a run handed back", job=f"{kind}:{client}", why="the lease is late")
            job_schedule.due_again(runtime.ctx.db, kind, client)
            return
        jobs.run_job(runtime.ctx, kind, client)

    @app.periodic(cron=distributed.tick_cron(), periodic_id="dispatch")
    @app.task(
        name=DISPATCH_TASK,
        queue=DISPATCH_QUEUE,
        lock=_DISPATCH_LOCK,
        queueing_lock=_DISPATCH_LOCK,
        pass_context=True,
    )
    async def dispatch(context: JobContext, timestamp: int) -> None:
        await dispatcher.tick(context.app, runtime_of(context), timestamp)

    _ = (run_job, dispatch)
    return app


async def release_stalled_tick(app: App, distributed: Distributed) -> None:
    """Every ``heartbeat_seconds``, give up a tick left ``doing`` by a node silent for
    ``stalled_seconds`` (runs until cancelled). Its period is gone anyway; what it did not do,
    the next tick does."""
    while True:
        await asyncio.sleep(distributed.heartbeat_seconds)
        try:
            for job in await app.job_manager.get_stalled_jobs(
                task_name=DISPATCH_TASK, seconds_since_heartbeat=distributed.stalled_seconds
            ):
                assert job.id is not None
                await app.job_manager.finish_job_by_id_async(
                    job.id, Status.FAILED, delete_job=False
                )
                log.warning("a dead node's tick given up", period=job.task_kwargs)
        except Exception as exc:  # another node gave it up first; the database away: next time
            log.info("could not give a dead node's tick up", error=repr(exc))
