"""``hub run``: the daemon. Maps the schedule file onto APScheduler 3 and runs the jobs.

- **One job per (job kind, client)**, id ``"<kind>:<client>"``, so one client's failure or
  slowness never blocks another; ``max_instances=1`` (a run due while the previous one is still
  going is skipped, and logged: never two beside each other) and ``coalesce`` (runs missed in a
  row become one). A bounded thread pool (``[daemon] max_workers``) runs them.
- **The job store is the hub's database** (table ``apscheduler_jobs``), so a restart keeps each
  job's next run time. **Misfires**: a run due while the daemon was down is never dropped by
  default; the missed runs of a job are coalesced into one, run as soon as the daemon is back
  (``misfire_grace_seconds`` drops those later than that instead).
- **Clients come and go**: every ``refresh_seconds`` the jobs are compared with the clients; a
  new client's jobs run at once (spread by their jitter), a removed client's jobs go. The
  schedule file is read when the daemon starts: at a start, a job whose schedule changed is
  rescheduled, an unchanged one keeps its next run time.
- **Runs that never happened**: a run handed to the pool waits there for a worker, in memory;
  APScheduler has already moved the job's next run time on. A run that did not start (the
  daemon was stopped or killed first) or did not finish (interrupted) is therefore run again
  as soon as the next daemon starts, judged from the run history, instead of a whole period
  later.
- **Stopping**: SIGTERM or SIGINT stops taking work and waits up to ``stop_timeout`` seconds
  for the runs in flight; a run still going then is abandoned safely (each unit of work is
  committed on its own and idempotent, so the next run finishes it) and recorded as
  ``interrupted``. Exit code 0. A second signal abandons at once.
- **Crashes**: runs left ``running`` by a daemon that was killed are marked ``interrupted``
  when the next one starts (:func:`hub.operations.runs.mark_interrupted`).
- **One daemon per database**: before anything else (a port, the run history, a job) the
  daemon takes the database's lease (:mod:`hub.operations.lease`) and renews it while it runs;
  a second ``hub run`` is refused, naming the first one's host and pid. A daemon whose lease
  was taken over stops (exit 1); one that could not renew it in time starts no run until it
  has. :meth:`Daemon.start` is the one place the lease is taken: the distributed mode (a later
  issue) replaces it there.
- **Shared rate budgets**: right after the lease the daemon installs the rate gate of the
  schedule file's ``[limits.*]`` (:func:`hub.operations.rate_budget.install_for`), which every
  plugin request of its jobs passes; it is uninstalled when the daemon stops.
- **The health port** is bound right after the lease, before any job can run: a port in use
  is a clear error and the daemon does not start. It serves the console too
  (:func:`hub.console.make_app`, as ``hub web``), so one daemon is one URL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from hub.daemon import health, jobs
from hub.daemon.health import HealthServer
from hub.daemon.schedules import Schedules, Trigger, warn_unknown_plugins
from hub.logging import get_logger
from hub.operations import lease, rate_budget, runs
from hub.operations.clients import list_clients
from hub.operations.context import Context
from hub.toolkit import budget

TABLE = "apscheduler_jobs"
log = get_logger("hub.daemon.scheduler")

# The context the scheduled jobs use, built once when the daemon starts. APScheduler stores a
# job as a reference to a module-level function and its arguments (kind, client), never the
# database or the secret box, so the running daemon puts them here.
_context: Context | None = None
_lease: lease.Lease | None = None
_in_flight: dict[str, float] = {}
_in_flight_lock = threading.Lock()
# Set when the daemon stops: a run the pool had queued and starts only now is not started.
_stopping = threading.Event()


def scheduled_job(job: str, client: str) -> None:
    """What APScheduler calls: one job for one client, recorded in the run history."""
    if _context is None:  # pragma: no cover - only a daemon schedules jobs
        raise RuntimeError("scheduled_job runs only inside a started daemon")
    key = f"{job}:{client}"
    with _in_flight_lock:
        if _stopping.is_set():
            return
        if _lease is not None and not _lease.held():
            log.warning("a run was skipped", job=key, why="the daemon's lease is not renewed")
            return
        _in_flight[key] = time.monotonic()
    try:
        jobs.run_job(_context, job, client)
    finally:
        with _in_flight_lock:
            _in_flight.pop(key, None)


class _Scheduler(BackgroundScheduler):  # type: ignore[misc]
    """APScheduler's background scheduler, whose loop survives a failing job store.

    APScheduler 3 catches errors of the job store only while it looks for due jobs; one raised
    while it stores a job's next run time (the database away for a moment) ends its thread,
    and with it all scheduling, while ``running`` still says True. Here such an error is logged
    and the loop tries again after ``jobstore_retry_interval``.
    """

    def _process_jobs(self) -> float | None:
        try:
            wait: float | None = super()._process_jobs()
        except Exception as exc:
            log.error("the scheduler could not process its jobs; trying again", error=str(exc))
            retry: float = self.jobstore_retry_interval  # seconds
            return retry
        return wait


@dataclass(frozen=True)
class PlannedJob:
    """A job the schedule file and the clients call for."""

    job: str
    client: str
    timezone: str
    trigger: Trigger

    @property
    def id(self) -> str:
        return f"{self.job}:{self.client}"

    @property
    def name(self) -> str:
        # The fingerprint tells a changed schedule from an unchanged one after a restart.
        return f"{self.job} for {self.client} [{self.trigger.fingerprint()}|{self.timezone}]"


def plan(ctx: Context, schedules: Schedules, *, strict: bool = True) -> list[PlannedJob]:
    """Every (job kind, client) the schedule enables, for the clients in the database.

    ``strict``: a client the schedule file names that does not exist is an error (at start,
    ``hub run --check``); while running it is not (the client was removed since): its
    override just applies to no one.
    """
    known = [(c.name, c.timezone) for c in list_clients(ctx)]
    if strict:
        schedules.check_clients(name for name, _ in known)
    planned = []
    for name, timezone in sorted(known):
        for kind in jobs.JOB_KINDS:
            schedule = schedules.for_client(name, kind)
            if schedule.enabled and schedule.trigger is not None:
                planned.append(PlannedJob(kind, name, timezone, schedule.trigger))
    return planned


def _previous_due(p: PlannedJob, next_run: dt.datetime) -> dt.datetime | None:
    """When the job was due before ``next_run`` (its stored next run time), at the earliest
    its jitter allows; None when that cannot be told (no earlier due time within a week)."""
    plain = dataclasses.replace(p.trigger, jitter=0).build(p.timezone)
    jitter = dt.timedelta(seconds=p.trigger.jitter)
    interval = getattr(plain, "interval", None)
    if isinstance(interval, dt.timedelta):
        return next_run - interval - jitter
    due, previous = plain.get_next_fire_time(None, next_run - dt.timedelta(days=7)), None
    for _ in range(10_000):
        if due is None or due >= next_run - jitter:
            break
        previous = due
        due = plain.get_next_fire_time(due, due + dt.timedelta(microseconds=1))
    return previous


def _undone(ctx: Context, stored: dict[str, Any], wanted: dict[str, PlannedJob]) -> set[str]:
    """The stored jobs whose last due run never started, or started and did not finish (the
    daemon was stopped or killed), judged from the run history."""
    latest = runs.latest_runs(ctx.db)
    undone = set()
    for job_id, job in stored.items():
        p = wanted.get(job_id)
        if p is None or job.next_run_time is None:
            continue
        previous = _previous_due(p, job.next_run_time)
        last = latest.get((p.job, p.client))
        if previous is None:
            continue
        if last is None:  # it was due, and no run of it ever started
            undone.add(job_id)
            continue
        started, outcome = last
        if started < previous - dt.timedelta(seconds=1) or outcome in (
            runs.Outcome.RUNNING,
            runs.Outcome.INTERRUPTED,
        ):
            undone.add(job_id)
    return undone


@dataclass
class Daemon:
    """The scheduler, its job store in the hub's database, and the optional health endpoint."""

    ctx: Context
    schedules: Schedules
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    stop_timeout: float = 30.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _abandon: threading.Event = field(default_factory=threading.Event)
    _scheduler: BackgroundScheduler | None = None
    _health: HealthServer | None = None
    _lease: lease.Lease | None = None
    _keeper: lease.Renewal | None = None
    _previous_gate: budget.RateGate | None = None

    stop_signal: str | None = None

    def alive(self) -> bool:
        return (
            self._scheduler is not None
            and self._scheduler.running
            and self._scheduler_thread_alive()
            and not self._stop.is_set()
            and (self._lease is None or self._lease.held())
        )

    def start(self) -> None:
        """Take the database's lease, bind the health port, then start the scheduler.

        :raises lease.DaemonRunning: another daemon runs on this database (nothing started).
        :raises InputError: the health port cannot be bound (nothing started, lease given up).
        """
        global _context, _lease
        # The one place the lease is taken (the distributed mode will not take it).
        self._lease = lease.take(self.ctx.db)
        self._keeper = lease.keeper(self._lease, self._lease_lost).start()
        try:
            # Shared rate budgets ([limits.*]): every request of the jobs passes this gate.
            self._previous_gate = rate_budget.swap_in(self.ctx.db, self.schedules.limits)
            warn_unknown_plugins(self.schedules, self.ctx.registry.names(), distributed=False)
            if self.http_port is not None:
                self._health = health.bind(
                    self.ctx, self.alive, self.http_host, self.http_port, "hub run"
                )
            _context = self.ctx
            _lease = self._lease
            _stopping.clear()
            runs.act_as("daemon")
            self._start_scheduler()
        except BaseException:
            if self._health is not None:
                self._health.stop()
            if self._scheduler is not None and self._scheduler.running:
                self._scheduler.shutdown(wait=False)
            self._give_up_lease()
            budget.install(self._previous_gate)
            runs.act_as("cli")
            raise

    def _start_scheduler(self) -> None:
        interrupted = runs.mark_interrupted(self.ctx.db)
        if interrupted:
            log.warning("runs of a daemon that died marked interrupted", runs=interrupted)
        scheduler = _Scheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.ctx.db.engine, tablename=TABLE)},
            executors={"default": ThreadPoolExecutor(self.schedules.max_workers)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": self.schedules.misfire_grace_seconds,
            },
            timezone=dt.UTC,
        )
        scheduler.add_listener(self._skipped, EVENT_JOB_MAX_INSTANCES | EVENT_JOB_MISSED)
        scheduler.start(paused=True)
        self._scheduler = scheduler
        self.refresh(starting=True)
        scheduler.resume()
        if self._health is not None:
            self._health.start()
            url = f"http://{self.http_host}:{self._health.port}/"
            log.info("health and metrics", url=url)
            log.info("console", url=url, login=f"{url}login", api=f"{url}api/v1/")
        log.info(
            "daemon started",
            schedules=self.schedules.source,
            jobs=len(scheduler.get_jobs()),
            workers=self.schedules.max_workers,
        )

    def refresh(self, *, starting: bool = False) -> dict[str, int]:
        """Make the scheduler's jobs what the schedule and the clients call for; when
        ``starting``, also run at once what a stopped or killed daemon left undone."""
        assert self._scheduler is not None
        scheduler = self._scheduler
        wanted = {p.id: p for p in plan(self.ctx, self.schedules, strict=starting)}
        stored = {job.id: job for job in scheduler.get_jobs()}
        changes = {"added": 0, "rescheduled": 0, "removed": 0, "run_again": 0}
        for job_id in stored:
            if job_id not in wanted:
                scheduler.remove_job(job_id)
                changes["removed"] += 1
        now = dt.datetime.now(dt.UTC)
        undone = _undone(self.ctx, stored, wanted) if starting else set()
        for job_id, p in wanted.items():
            old = stored.get(job_id)
            if old is not None and old.name == p.name:
                if job_id in undone:
                    scheduler.modify_job(job_id, next_run_time=now)
                    changes["run_again"] += 1
                continue
            trigger = p.trigger.build(p.timezone)
            if old is not None:
                # One write: the name (the schedule's fingerprint) never says a trigger the
                # job does not have.
                scheduler.modify_job(
                    job_id,
                    name=p.name,
                    trigger=trigger,
                    next_run_time=now
                    if job_id in undone
                    else trigger.get_next_fire_time(None, now),
                )
                changes["rescheduled"] += 1
                continue
            # A new job runs at once, spread over its jitter so a thousand new clients do not
            # all start in the same second.
            first = now + dt.timedelta(seconds=random.uniform(0, p.trigger.jitter))
            scheduler.add_job(
                scheduled_job,
                trigger,
                args=[p.job, p.client],
                id=job_id,
                name=p.name,
                next_run_time=first,
                replace_existing=True,
            )
            changes["added"] += 1
        if any(changes.values()):
            log.info("jobs refreshed", **changes)
        return changes

    def _skipped(self, event: JobExecutionEvent) -> None:
        log.warning(
            "a run was skipped",
            job=event.job_id,
            why="the previous run is still going"
            if event.code == EVENT_JOB_MAX_INSTANCES
            else "it was due longer ago than misfire_grace_seconds",
        )

    def request_stop(self) -> None:
        if self._stop.is_set():
            self._abandon.set()
        self._stop.set()

    def _lease_lost(self) -> None:
        self._stop.set()  # serve() returns False: exit 1

    def _give_up_lease(self) -> None:
        lease.give_up(self._lease, self._keeper, "daemon")

    def serve(self) -> bool:
        """Refresh the jobs every ``refresh_seconds`` until asked to stop; False when the
        scheduler died under it (the process should end non-zero and be restarted)."""
        while not self._stop.wait(self.schedules.refresh_seconds):
            if not self._scheduler_thread_alive():
                log.error("the scheduler stopped by itself: stopping the daemon")
                return False
            try:
                self.refresh()
            except Exception as exc:  # the database is away for a moment: try again later
                log.error("could not refresh the jobs", error=str(exc))
        if self._lease is not None and self._lease.lost:
            log.error("the daemon's lease was taken over by another daemon: stopping")
            return False
        if self.stop_signal:
            log.info("stop requested", signal=self.stop_signal)
        return True

    def _scheduler_thread_alive(self) -> bool:
        thread = getattr(self._scheduler, "_thread", None)
        return thread is not None and thread.is_alive()

    def stop(self) -> list[str]:
        """Stop taking work, wait for the runs in flight; returns the jobs abandoned."""
        scheduler = self._scheduler
        if scheduler is not None and scheduler.running:
            scheduler.pause()  # nothing more is handed to the pool
        with _in_flight_lock:
            _stopping.set()  # and what the pool had queued does not start
        deadline = time.monotonic() + self.stop_timeout
        while _in_flight and time.monotonic() < deadline and not self._abandon.is_set():
            time.sleep(0.05)
        with _in_flight_lock:
            abandoned = sorted(_in_flight)
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=not abandoned)  # the pool's threads end with it
        try:  # ours still "running": abandoned now, or whose end could not be recorded
            runs.abandon_own(self.ctx.db)
        except Exception as exc:
            log.error("could not record the runs left unfinished", error=str(exc))
        if abandoned:
            log.warning("stopped with runs in flight, abandoned safely", jobs=abandoned)
        if self._health is not None:
            self._health.stop()
        self._give_up_lease()
        budget.install(self._previous_gate)
        runs.act_as("cli")
        log.info("daemon stopped")
        return abandoned


@contextmanager
def stop_on_signals(daemon: Daemon) -> Iterator[None]:
    """SIGTERM and SIGINT ask the daemon to stop (a second one: abandon the runs in flight)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        daemon.request_stop()  # first: a log call that fails must not lose the request
        daemon.stop_signal = signal.Signals(signum).name

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_until_stopped(daemon: Daemon) -> int:
    """Start the daemon, serve until SIGTERM/SIGINT, stop; exit code 0 (1 when the scheduler
    died under it, for the service manager to restart it)."""
    with stop_on_signals(daemon):
        daemon.start()
        healthy = daemon.serve()
        abandoned = daemon.stop()
    if not healthy:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    if abandoned:
        # The worker threads of runs abandoned would keep the interpreter alive at exit:
        # leave now; what they committed stays, what they did not, the next run does.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0
