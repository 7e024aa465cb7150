"""The procrastinate app of ``hub run --distributed``: its connection and its two tasks.

- ``hub.run_job`` runs one job kind for one client (:func:`hub.daemon.jobs.run_job`, recorded in
  the run history). It is always deferred with ``lock`` and ``queueing_lock`` both
  ``"<kind>:<client>"`` (:func:`hub.daemon.distributed.dispatcher.defer_job`): procrastinate never lets two jobs with one lock be
  ``doing`` at once (so never two runs of a (job kind, client) side by side, on any nodes), and
  refuses a second ``todo`` job with one queueing lock (so a run due while one waits is
  coalesced into it, never queued twice). Its queue is the client's accounting plugin's when
  ``[distributed.queues]`` names it, else ``default``: each queue has its own concurrency on
  every node, so one vendor's slowness never holds up another's clients.
- ``hub.dispatch`` is the dispatcher's tick (:mod:`hub.daemon.distributed.dispatcher`), a
  periodic task every ``tick_seconds``: every node's workers try to defer it for each period,
  and procrastinate's ``procrastinate_periodic_defers`` (unique per period) lets one through.
  It runs on its own queue with a lock of its own, so a slow tick is never run twice at once
  and never waits behind the clients' jobs.
"""

from __future__ import annotations

from procrastinate import App, JobContext, PsycopgConnector

from hub.daemon import jobs
from hub.daemon.distributed import dispatcher
from hub.daemon.distributed.connection import conninfo
from hub.daemon.distributed.dispatcher import JOB_TASK
from hub.daemon.distributed.runtime import runtime_of
from hub.daemon.schedules import Distributed
from hub.db.engine import Database

__all__ = ["DISPATCH_QUEUE", "DISPATCH_TASK", "JOB_TASK", "build_app"]

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
            # This node may have been taken for dead: its task is retried by another one.
            raise RuntimeError(f"{kind}:{client} not run: this node's lease is not renewed")
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
