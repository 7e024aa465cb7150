"""``hub run``: the daemon. Maps the schedule file onto APScheduler 3 and runs the jobs.

- **One job per (job kind, client)**, id ``"<kind>:<client>"``, so one client's failure or
  slowness never blocks another; ``max_instances=1`` (a run still going when the next is due
  makes the next wait, never a second one beside it) and ``coalesce`` (runs missed in a row
  become one). A bounded thread pool (``[daemon] max_workers``) runs them.
- **The job store is the hub's database** (table ``apscheduler_jobs``), so a restart keeps each
  job's next run time. **Misfires**: a run due while the daemon was down is never dropped by
  default; the missed runs of a job are coalesced into one, run as soon as the daemon is back
  (``misfire_grace_seconds`` drops those later than that instead).
- **Clients come and go**: every ``refresh_seconds`` the jobs are compared with the clients and
  the schedule file; a new client's jobs run at once (spread by their jitter), a removed
  client's jobs go, a job whose schedule changed is rescheduled, an unchanged one keeps its
  next run time.
- **Stopping**: SIGTERM or SIGINT stops taking work and waits up to ``stop_timeout`` seconds
  for the runs in flight; a run still going then is abandoned safely (each unit of work is
  committed on its own and idempotent, so the next run finishes it) and recorded as
  ``interrupted``. Exit code 0. A second signal abandons at once.
- **Crashes**: runs left ``running`` by a daemon that was killed are marked ``interrupted``
  when the next one starts (:func:`hub.runs.mark_interrupted`).
"""

from __future__ import annotations

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
from sqlalchemy import select

from hub import jobs, runs
from hub.db import tables as t
from hub.health import HealthServer
from hub.logging import get_logger
from hub.schedules import Schedules

TABLE = "apscheduler_jobs"
log = get_logger("hub.daemon")

# The runtime the scheduled jobs use. APScheduler stores a job as a reference to a module-level
# function and its arguments (kind, client), never the database or the secret box, so the
# running daemon puts them here.
_runtime: jobs.Runtime | None = None
_in_flight: dict[str, float] = {}
_in_flight_lock = threading.Lock()
# Set when the daemon stops: a run the pool had queued and starts only now is not started.
_stopping = threading.Event()


def scheduled_job(job: str, client: str) -> None:
    """What APScheduler calls: one job for one client, recorded in the run history."""
    if _runtime is None:  # pragma: no cover - only a daemon schedules jobs
        raise RuntimeError("scheduled_job runs only inside a started daemon")
    key = f"{job}:{client}"
    with _in_flight_lock:
        if _stopping.is_set():
            return
        _in_flight[key] = time.monotonic()
    try:
        jobs.run_job(_runtime, job, client)
    finally:
        with _in_flight_lock:
            _in_flight.pop(key, None)


@dataclass(frozen=True)
class PlannedJob:
    """A job the schedule file and the clients call for."""

    job: str
    client: str
    timezone: str
    trigger: Any  # schedules.Trigger

    @property
    def id(self) -> str:
        return f"{self.job}:{self.client}"

    @property
    def name(self) -> str:
        # The fingerprint tells a changed schedule from an unchanged one after a restart.
        return f"{self.job} for {self.client} [{self.trigger.fingerprint()}|{self.timezone}]"


def plan(rt: jobs.Runtime, schedules: Schedules) -> list[PlannedJob]:
    """Every (job kind, client) the schedule enables, for the clients in the database."""
    with rt.db.session() as session:
        known = list(session.execute(select(t.Client.name, t.Client.timezone)))
    schedules.check_clients(name for name, _ in known)
    planned = []
    for name, timezone in sorted(known):
        for kind in jobs.JOB_KINDS:
            schedule = schedules.for_client(name, kind)
            if schedule.enabled and schedule.trigger is not None:
                planned.append(PlannedJob(kind, name, timezone, schedule.trigger))
    return planned


@dataclass
class Daemon:
    """The scheduler, its job store in the hub's database, and the optional health endpoint."""

    rt: jobs.Runtime
    schedules: Schedules
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    stop_timeout: float = 30.0
    _stop: threading.Event = field(default_factory=threading.Event)
    _abandon: threading.Event = field(default_factory=threading.Event)
    _scheduler: BackgroundScheduler | None = None
    _health: HealthServer | None = None

    def alive(self) -> bool:
        return self._scheduler is not None and self._scheduler.running and not self._stop.is_set()

    def start(self) -> None:
        global _runtime
        _runtime = self.rt
        _stopping.clear()
        runs.act_as("daemon")
        interrupted = runs.mark_interrupted(self.rt.db)
        if interrupted:
            log.warning("runs of a daemon that died marked interrupted", runs=interrupted)
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.rt.db.engine, tablename=TABLE)},
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
        self.refresh()
        scheduler.resume()
        if self.http_port is not None:
            self._health = HealthServer(self.rt.db, self.alive, self.http_host, self.http_port)
            self._health.start()
            log.info("health and metrics", url=f"http://{self.http_host}:{self._health.port}/")
        log.info(
            "daemon started",
            schedules=self.schedules.source,
            jobs=len(scheduler.get_jobs()),
            workers=self.schedules.max_workers,
        )

    @property
    def health_port(self) -> int | None:
        return self._health.port if self._health else None

    def refresh(self) -> dict[str, int]:
        """Make the scheduler's jobs what the schedule and the clients call for."""
        assert self._scheduler is not None
        scheduler = self._scheduler
        wanted = {p.id: p for p in plan(self.rt, self.schedules)}
        stored = {job.id: job for job in scheduler.get_jobs()}
        changes = {"added": 0, "rescheduled": 0, "removed": 0}
        for job_id in stored:
            if job_id not in wanted:
                scheduler.remove_job(job_id)
                changes["removed"] += 1
        now = dt.datetime.now(dt.UTC)
        for job_id, p in wanted.items():
            old = stored.get(job_id)
            if old is not None and old.name == p.name:
                continue
            trigger = p.trigger.build(p.timezone)
            if old is not None:
                scheduler.modify_job(job_id, name=p.name)
                scheduler.reschedule_job(job_id, trigger=trigger)
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

    def serve(self) -> None:
        """Refresh the jobs every ``refresh_seconds`` until asked to stop."""
        while not self._stop.wait(self.schedules.refresh_seconds):
            try:
                self.refresh()
            except Exception as exc:  # the database is away for a moment: try again later
                log.error("could not refresh the jobs", error=str(exc))

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
        if abandoned:
            runs.abandon_own(self.rt.db)
            log.warning("stopped with runs in flight, abandoned safely", jobs=abandoned)
        if self._health is not None:
            self._health.stop()
        runs.act_as("cli")
        log.info("daemon stopped")
        return abandoned


@contextmanager
def stop_on_signals(daemon: Daemon) -> Iterator[None]:
    """SIGTERM and SIGINT ask the daemon to stop (a second one: abandon the runs in flight)."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("stop requested", signal=signal.Signals(signum).name)
        daemon.request_stop()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_until_stopped(daemon: Daemon) -> int:
    """Start the daemon, serve until SIGTERM/SIGINT, stop; the exit code (0)."""
    with stop_on_signals(daemon):
        daemon.start()
        daemon.serve()
        abandoned = daemon.stop()
    if abandoned:
        # The worker threads of runs abandoned would keep the interpreter alive at exit:
        # leave now; what they committed stays, what they did not, the next run does.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
    return 0
