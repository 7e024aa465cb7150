"""The daemon (``hub run``): jobs per (job kind, client) on the schedule file, the job store in
the hub's database, run history, misfires, clients coming and going, health and metrics, and
SIGTERM.

In-process tests drive :class:`hub.daemon.scheduler.Daemon` itself; the end-to-end ones run
``hub run``
as a child process against fake accounting servers over real HTTP, for several simulated days.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import delete, select, update

from hub import clients
from hub.cli.main import main
from hub.clock import Clock
from hub.daemon.jobs import JOB_KINDS
from hub.daemon.scheduler import TABLE, Daemon
from hub.daemon.schedules import Schedules, parse
from hub.db import tables as t
from hub.db.engine import Database
from hub.operations import runs
from hub.operations.context import Actor, Context, Services
from hub.operations.lease import DaemonRunning
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from hub.testing.fakes import economic as economic_fake
from tests import daemon_world
from tests.daemon_world import DAYS, DK, NO, World
from tests.helpers import run_history, wait_for

EVERY_SECOND = """
[daemon]
max_workers = 4
refresh_seconds = 1

[jobs.sync]
trigger = "interval"
seconds = {seconds}

[jobs.recurring]
trigger = "interval"
seconds = {seconds}

[jobs.postings]
trigger = "interval"
seconds = {seconds}
"""


#: The in-process tests' interval: each job runs at the start and not again within the test,
#: however loaded the machine (a run "due again" never lands in the middle of an assertion).
HOUR = 3600


def _schedule(seconds: int = 1, extra: str = "") -> Schedules:
    return parse(EVERY_SECOND.format(seconds=seconds) + extra, "test.toml")


@pytest.fixture
def ctx(db: Database) -> Context:
    """The daemon's context, its clock fixed on the world's first day."""
    return Context(Services(db, load_plugins(), SecretBox()), Actor("tester"), Clock(DAYS[0]))


@pytest.fixture
def world(db: Database, ctx: Context, tmp_path: Path) -> Iterator[World]:
    """The world on its first day (the in-process daemon's jobs see the same simulated day)."""
    with daemon_world.world(db, ctx, tmp_path / "outbox") as w:
        yield w


class Running:
    """A daemon started in this process, serving in a thread."""

    def __init__(self, ctx: Context, schedules: Schedules, **kwargs: Any) -> None:
        self.daemon = Daemon(ctx, schedules, **kwargs)
        self.daemon.start()
        self.thread = threading.Thread(target=self.daemon.serve, daemon=True)
        self.thread.start()

    def stop(self) -> list[str]:
        self.daemon.request_stop()
        self.thread.join(timeout=30)
        return self.daemon.stop()


def _stored_jobs(db: Database) -> dict[str, float]:
    with db.engine.connect() as conn:
        return {
            row.id: row.next_run_time
            for row in conn.execute(
                select(*(c for c in _job_table(db).c if c.name in ("id", "next_run_time")))
            )
        }


def _job_table(db: Database) -> Any:
    import sqlalchemy as sa

    return sa.Table(TABLE, sa.MetaData(), autoload_with=db.engine)


def _ok(rows: list[dict[str, Any]], pid: int | None = None) -> set[tuple[str, str]]:
    """(job, client) of the runs a daemon (the one with ``pid``, if given) finished ok."""
    prefix = "daemon " if pid is None else f"daemon {socket.gethostname()} {pid} "
    return {
        (r["job"], r["client"])
        for r in rows
        if r["outcome"] == "ok" and (r["runner"] or "").startswith(prefix)
    }


# --- in process ------------------------------------------------------------------------------


def test_one_job_per_kind_and_client_in_the_database_each_run_recorded(
    world: World, ctx: Context
) -> None:
    running = Running(ctx, _schedule(seconds=HOUR))
    try:
        every = {(job, client) for job in JOB_KINDS for client in (DK, NO)}
        wait_for(lambda: every <= _ok(run_history(ctx.db)), "every job to run once")
        assert set(_stored_jobs(ctx.db)) == {f"{job}:{client}" for job, client in every}
    finally:
        assert running.stop() == []
    rows = run_history(ctx.db)
    sync = next(r for r in rows if r["job"] == "sync" and r["client"] == DK and r["runner"])
    assert sync["runner"].startswith("daemon ")
    # Every Danish invoice seen once. The postings job runs beside the sync, so an invoice whose
    # credit note or write-off it posted first may come back updated or settled.
    seen = ("new", "updated", "unchanged", "settled")
    assert sum(sync["counts"][key] for key in seen) == 8, sync["counts"]
    assert sync["finished_at"] >= sync["started_at"] and sync["seconds"] >= 0
    postings = next(r for r in rows if r["job"] == "postings" and r["client"] == DK)
    assert postings["counts"] == {
        "credit_notes": 2,
        "write_offs": 2,
        "waiting": 0,
        "failed": 0,
        "busy": 0,
        "dropped": 0,
    }
    assert all(r["outcome"] != "running" for r in rows)


def _held(world: World) -> bool:
    """Whether e-conomic has a question it holds the answer to (a fault with ``hold``)."""
    with world.economic.lock:
        return any(
            r.fault is not None and r.fault.hold is not None for r in world.economic.requests
        )


def test_one_clients_slow_accounting_system_does_not_hold_up_another(
    world: World, ctx: Context
) -> None:
    # e-conomic holds its answer until the Norwegian sync is done: slower than anything else,
    # on any machine, without a guess at how much slower.
    answer = threading.Event()
    world.economic.fail_next(economic_fake.Fault(hold=answer, path_prefix="/invoices"))
    running = Running(ctx, _schedule(seconds=HOUR))
    try:
        wait_for(lambda: _held(world), "the Danish sync's question to e-conomic")
        wait_for(lambda: ("sync", NO) in _ok(run_history(ctx.db)), "the Norwegian sync")
        going = [(r["job"], r["client"]) for r in run_history(ctx.db) if r["outcome"] == "running"]
        assert ("sync", DK) in going
    finally:
        answer.set()
        running.stop()
    assert ("sync", DK) in _ok(run_history(ctx.db)), "and ended well once e-conomic answered"


def test_a_client_that_fails_is_recorded_and_the_others_go_on(world: World, ctx: Context) -> None:
    with ctx.db.session() as session:
        clients.add_client(session, "broken", "DK")  # no accounting plugin
    running = Running(ctx, _schedule(seconds=HOUR))
    try:
        wait_for(lambda: ("sync", DK) in _ok(run_history(ctx.db)), "the Danish sync")
        failed = wait_for(
            lambda: [
                r
                for r in run_history(ctx.db)
                if r["client"] == "broken" and r["job"] == "sync" and r["outcome"] != "running"
            ],
            "the broken client's sync",
        )
    finally:
        running.stop()
    assert failed[0]["outcome"] == "failed"
    assert "broken" in failed[0]["error"] and "plugin" in failed[0]["error"]


def test_clients_added_and_removed_while_running_and_changed_schedules(
    world: World, ctx: Context
) -> None:
    running = Running(ctx, _schedule(seconds=HOUR))
    try:
        wait_for(lambda: f"sync:{DK}" in _stored_jobs(ctx.db), "the jobs")
        with ctx.db.session() as session:
            clients.add_client(session, "newcomer", "NO")
        wait_for(lambda: "postings:newcomer" in _stored_jobs(ctx.db), "the newcomer's jobs")
        wait_for(
            lambda: ("postings", "newcomer") in _ok(run_history(ctx.db)), "the newcomer's first run"
        )
        with ctx.db.session() as session:
            session.execute(delete(t.Client).where(t.Client.name == "newcomer"))
        wait_for(lambda: "sync:newcomer" not in _stored_jobs(ctx.db), "the newcomer's jobs to go")
    finally:
        running.stop()
    before = _stored_jobs(ctx.db)

    # Restarted with the same schedule: each job keeps its next run time.
    again = Running(ctx, _schedule(seconds=HOUR))
    try:
        assert again.daemon.refresh() == {
            "added": 0,
            "rescheduled": 0,
            "removed": 0,
            "run_again": 0,
        }
        assert _stored_jobs(ctx.db) == before
    finally:
        again.stop()

    # Restarted with a changed schedule: the changed jobs are rescheduled, one switched off.
    changed = parse(
        EVERY_SECOND.format(seconds=HOUR).replace(f"seconds = {HOUR}", "seconds = 5400", 1)
        + f'\n[clients."{NO}".recurring]\nenabled = false\n',
        "changed.toml",
    )
    third = Running(ctx, changed)
    try:
        stored = _stored_jobs(ctx.db)
    finally:
        third.stop()
    assert f"recurring:{NO}" not in stored
    assert stored[f"recurring:{DK}"] == before[f"recurring:{DK}"]
    assert stored[f"sync:{DK}"] != before[f"sync:{DK}"]  # every 90 minutes now


def _sync_runs_after(db: Database, marker: int) -> list[dict[str, Any]]:
    """The Danish sync's runs recorded after the run ``marker``."""
    return [
        r for r in run_history(db) if r["job"] == "sync" and r["client"] == DK and r["id"] > marker
    ]


def _set_next_run_time(db: Database, job_id: str, when: dt.datetime) -> None:
    """Move a stored job's next run time, as hours passing while no daemon ran would leave it
    (the tests drive the daemon's time through its job store, never by waiting)."""
    store = SQLAlchemyJobStore(engine=db.engine, tablename=TABLE)
    job = store.lookup_job(job_id)
    job.next_run_time = when
    store.update_job(job)


def test_runs_missed_while_the_daemon_was_down_run_once_as_soon_as_it_is_back(
    world: World, ctx: Context
) -> None:
    schedule = _schedule(seconds=HOUR)
    first = Running(ctx, schedule)
    try:
        wait_for(lambda: ("sync", DK) in _ok(run_history(ctx.db)), "the first sync")
    finally:
        first.stop()
    # Down for three hours: three runs of the Danish sync missed, the next one due in 30 min.
    back = dt.datetime.now(dt.UTC)
    _set_next_run_time(ctx.db, f"sync:{DK}", back - dt.timedelta(hours=2, minutes=30))
    marker = max(r["id"] for r in run_history(ctx.db))
    second = Running(ctx, schedule)
    try:
        wait_for(
            lambda: [r for r in _sync_runs_after(ctx.db, marker) if r["outcome"] != "running"],
            "the missed sync",
        )
        wait_for(
            lambda: _stored_jobs(ctx.db)[f"sync:{DK}"] > back.timestamp(),
            "the sync's next run time to move past the missed ones",
        )
    finally:
        second.stop()
    missed = _sync_runs_after(ctx.db, marker)
    assert [r["outcome"] for r in missed] == ["ok"], "the three missed runs ran as one"
    next_due = dt.datetime.fromtimestamp(_stored_jobs(ctx.db)[f"sync:{DK}"], dt.UTC)
    assert abs(next_due - (back + dt.timedelta(minutes=30))) < dt.timedelta(seconds=1), next_due


def test_runs_that_never_started_or_finished_are_run_again_at_the_next_start(
    world: World, ctx: Context
) -> None:
    first = Running(ctx, _schedule(seconds=HOUR))
    try:
        every = {(job, client) for job in JOB_KINDS for client in (DK, NO)}
        wait_for(lambda: every <= _ok(run_history(ctx.db)), "every job to run once")
    finally:
        first.stop()
    with ctx.db.session() as session:
        ids = {c.name: c.id for c in session.scalars(select(t.Client))}
        # The sync of DK was handed to the pool and never started (the daemon stopped first):
        # no run of it since it was due. The postings of NO were cut off half-way.
        session.execute(
            delete(t.JobRun).where(t.JobRun.job == "sync", t.JobRun.client_id == ids[DK])
        )
        session.execute(
            update(t.JobRun)
            .where(t.JobRun.job == "postings", t.JobRun.client_id == ids[NO])
            .values(outcome="interrupted")
        )
    marker = max(r["id"] for r in run_history(ctx.db))
    second = Running(ctx, _schedule(seconds=HOUR))
    try:
        wait_for(
            lambda: (
                {("sync", DK), ("postings", NO)}
                <= {(r["job"], r["client"]) for r in run_history(ctx.db) if r["id"] > marker}
            ),
            "the two to run again",
        )
        time.sleep(1.0)
        again = {(r["job"], r["client"]) for r in run_history(ctx.db) if r["id"] > marker}
    finally:
        second.stop()
    assert again == {("sync", DK), ("postings", NO)}  # the others wait for their next time


def test_a_client_removed_while_its_schedule_names_it_is_no_error(
    world: World, ctx: Context
) -> None:
    schedule = _schedule(seconds=HOUR, extra=f'\n[clients."{NO}".sync]\nseconds = 120\n')
    running = Running(ctx, schedule)
    try:
        wait_for(lambda: f"sync:{NO}" in _stored_jobs(ctx.db), "the jobs")
        with ctx.db.session() as session:
            session.execute(delete(t.Client).where(t.Client.name == NO))
        wait_for(lambda: f"sync:{NO}" not in _stored_jobs(ctx.db), "its jobs to go")
        assert running.daemon.alive()
    finally:
        running.stop()


def test_runs_left_running_by_a_dead_daemon_of_this_host_are_marked_interrupted(
    world: World, ctx: Context
) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    host = socket.gethostname()
    gone = f"daemon {host} {dead.stdout.strip()} 0123456789ab"
    same_pid_earlier = f"daemon {host} {os.getpid()} 0123456789ab"  # a restarted container
    alive = f"cli {host} {os.getppid()} 0123456789ab"
    this_process = runs.this_runner()
    with ctx.db.session() as session:
        client_id = clients.get_client(session, DK).id
        for runner in (gone, same_pid_earlier, "daemon elsewhere 1 0123456789ab", alive):
            session.add(
                t.JobRun(
                    job="sync", client_id=client_id, outcome="running", counts={}, runner=runner
                )
            )
    running = Running(ctx, _schedule(seconds=HOUR))
    running.stop()
    left = {
        r["runner"]: r["outcome"]
        for r in run_history(ctx.db)
        if r["runner"] and r["outcome"] != "ok"
    }
    assert left[gone] == "interrupted"
    assert left[same_pid_earlier] == "interrupted"
    assert left["daemon elsewhere 1 0123456789ab"] == "running"  # only its own host can tell
    assert left[alive] == "running"
    assert this_process.startswith(f"cli {host} {os.getpid()} ")


# --- one daemon per database ------------------------------------------------------------------


def _another(ctx: Context, db_url: str) -> Context:
    """The same hub as ``ctx`` through a database connection of its own (another daemon)."""
    return Context(Services(Database(db_url), ctx.registry, ctx.box), ctx.actor, ctx.clock)


def _lease_row(db: Database) -> Any:
    with db.session() as session:
        row = session.get(t.DaemonLease, "scheduler")
        return None if row is None else (row.host, row.pid, row.holder)


def test_two_daemons_started_together_on_one_database_one_runs_every_job_once(
    world: World, ctx: Context, db_url: str
) -> None:
    contexts = [ctx, _another(ctx, db_url)]
    daemons = [Daemon(c, _schedule(seconds=HOUR)) for c in contexts]
    barrier = threading.Barrier(2)
    refused: list[BaseException] = []

    def start(daemon: Daemon) -> None:
        barrier.wait()
        try:
            daemon.start()
        except DaemonRunning as exc:
            refused.append(exc)

    threads = [threading.Thread(target=start, args=(d,)) for d in daemons]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert len(refused) == 1, refused
        [running] = [d for d in daemons if d._scheduler is not None]
        assert running.alive()
        message = str(refused[0])
        assert f"host {socket.gethostname()}, pid {os.getpid()}" in message
        assert "twice" in message
        every = {(job, client) for job in JOB_KINDS for client in (DK, NO)}
        wait_for(lambda: every <= _ok(run_history(ctx.db)), "every job to run once")
        time.sleep(1.5)
        ran = [(r["job"], r["client"]) for r in run_history(ctx.db) if r["runner"]]
        ran = [key for key in ran if key in every]
        # the world's set-up synced DK once, outside any daemon
        assert sorted(ran) == sorted([*every, ("sync", DK)]), "a job ran twice"
    finally:
        for daemon in daemons:
            if daemon._scheduler is not None:
                daemon.request_stop()
                daemon.stop()
        contexts[1].db.dispose()
    assert _lease_row(ctx.db) is None, "the lease is given up when the daemon stops"
    Running(_another(ctx, db_url), _schedule(seconds=HOUR)).stop()  # and the next one starts


def test_a_crashed_daemons_lease_is_taken_over_a_live_ones_never(
    world: World, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DAEMON_LEASE", "30")
    host = socket.gethostname()
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    holders = [
        # (host, pid, seconds since the last heartbeat, taken over?)
        ("elsewhere", 4242, 5, False),  # alive, another host
        (host, os.getppid(), 5, False),  # alive, this host
        ("elsewhere", 4242, 31, True),  # crashed: heartbeat stale
        (host, int(dead.stdout), 5, True),  # crashed: process gone
    ]
    for holder_host, pid, age, taken in holders:
        beat = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age)
        with ctx.db.session() as session:
            session.execute(delete(t.DaemonLease))
            session.add(
                t.DaemonLease(
                    name="scheduler",
                    holder=f"{holder_host} {pid} 0123456789ab",
                    host=holder_host,
                    pid=pid,
                    started_at=beat,
                    heartbeat_at=beat,
                )
            )
        daemon = Daemon(ctx, _schedule(seconds=HOUR))
        if not taken:
            with pytest.raises(DaemonRunning, match=f"host {holder_host}, pid {pid},"):
                daemon.start()
            assert daemon._scheduler is None
            assert _lease_row(ctx.db) == (holder_host, pid, f"{holder_host} {pid} 0123456789ab")
            continue
        daemon.start()
        try:
            assert _lease_row(ctx.db)[:2] == (host, os.getpid())
        finally:
            daemon.request_stop()
            daemon.stop()


def test_a_daemon_whose_lease_was_taken_over_stops_and_exits_non_zero(
    world: World, ctx: Context, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_DAEMON_LEASE", "3")
    daemon = Daemon(ctx, _schedule(seconds=HOUR))
    daemon.start()
    served: list[bool] = []
    thread = threading.Thread(target=lambda: served.append(daemon.serve()), daemon=True)
    thread.start()
    try:
        with ctx.db.session() as session:  # another daemon took it (this one froze too long)
            session.execute(update(t.DaemonLease).values(holder="elsewhere 1 0123456789ab"))
        thread.join(timeout=60)
        assert served == [False], "serve() returns False: hub run exits 1"
        assert not daemon.alive()
    finally:
        daemon.stop()
    assert _lease_row(ctx.db) == (socket.gethostname(), os.getpid(), "elsewhere 1 0123456789ab")


# --- hub run as a child process --------------------------------------------------------------


_children: list[subprocess.Popen[bytes]] = []


@pytest.fixture
def daemon_env(hub_env: Path, db_url: str) -> Iterator[dict[str, str]]:
    yield {**os.environ, "HUB_DATA_DIR": str(hub_env), "HUB_DATABASE_URL": db_url}
    while _children:  # a test that failed half-way leaves no daemon behind
        child = _children.pop()
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)


def _start(env: dict[str, str], day: dt.date, *args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("a") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "hub.cli.main", "--today", day.isoformat(), "run", *args],
            stdout=out,
            stderr=out,
            env=env,
        )
    _children.append(child)
    return child


def _health_url(log: Path, process: subprocess.Popen[bytes], after: int) -> str:
    def found() -> str | None:
        assert process.poll() is None, log.read_text()[-3000:]
        for line in log.read_text().splitlines()[after:]:
            if '"health and metrics"' in line:
                return str(json.loads(line)["url"])
        return None

    return str(wait_for(found, "the health endpoint"))


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.slow
def test_several_simulated_days_history_health_metrics_and_sigterm(
    world: World, daemon_env: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(EVERY_SECOND.format(seconds=1))
    log = tmp_path / "daemon.log"
    for day in DAYS[:3]:
        daemon_world.set_day(world, day)
        lines = len(log.read_text().splitlines()) if log.exists() else 0
        process = _start(daemon_env, day, "--schedules", str(schedule), "--http-port", "0", log=log)
        url = _health_url(log, process, lines)
        every = {(job, client) for job in JOB_KINDS for client in (DK, NO)}
        wait_for(lambda: every <= _ok(run_history(world.db), process.pid), f"a round on {day}")  # noqa: B023
        health = httpx.get(url + "healthz")
        assert health.status_code == 200, health.text
        body = health.json()
        assert body["status"] == "ok" and body["scheduler"]["alive"] is True
        assert body["clients"][DK]["age_seconds"] < 60
        metrics = _samples(httpx.get(url + "metrics").text)
        assert metrics[("hub_job_runs_total", (("job", "sync"), ("outcome", "ok")))] >= 2
        assert metrics[("hub_syncs_total", (("outcome", "ok"), ("plugin", "economic")))] >= 1
        requests = sum(
            v
            for (name, labels), v in metrics.items()
            if name == "hub_api_requests_total" and ("plugin", "norwegian_invoicing") in labels
        )
        assert requests >= 3
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, log.read_text()[-3000:]

    outcome = world.outcome()
    # (client, invoice, stage, state, ...)
    active = [c for c in outcome["cases"] if c[3] == "active"]
    assert len(active) == 4  # eight invoices: two credited, two written off
    assert metrics[("hub_open_cases", (("client", DK), ("stage", "reminder")))] == len(active)
    sent = outcome["message statuses"]["sent"]
    assert sent == outcome["letters"] == sum(outcome["messages"].values()) > 0
    assert metrics[("hub_messages", (("client", DK), ("status", "sent")))] == sent
    rows = run_history(world.db)
    assert {r["outcome"] for r in rows} == {"ok"}, "all ok, none left running"
    # The history as an operator reads it.
    capsys.readouterr()
    url = daemon_env["HUB_DATABASE_URL"]
    assert main(["--db", url, "runs", "list", "--client", DK, "--job", "sync", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {r["today"] for r in listed} == {d.isoformat() for d in DAYS[:3]}
    assert all(r["outcome"] == "ok" and r["client"] == DK for r in listed)
    newest = listed[0]
    # eight invoices, two credited; the two written off stay open until the journal is booked
    assert newest["today"] == DAYS[2].isoformat() and newest["counts"]["unchanged"] == 6


@pytest.mark.slow
def test_sigterm_with_a_run_in_flight_waits_then_abandons_it_safely(
    world: World, daemon_env: dict[str, str], tmp_path: Path
) -> None:
    # An answer held until the daemon is gone: waiting for it would be plain (it never comes).
    answer = threading.Event()
    world.economic.fail_next(economic_fake.Fault(hold=answer, path_prefix="/invoices/unpaid"))
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(EVERY_SECOND.format(seconds=60))
    log = tmp_path / "daemon.log"
    process = _start(
        daemon_env, DAYS[0], "--schedules", str(schedule), "--stop-timeout", "1", log=log
    )
    wait_for(
        lambda: [
            r
            for r in run_history(world.db)
            if r["outcome"] == "running" and r["client"] == DK and r["job"] == "sync"
        ],
        "the slow sync to start",
    )
    process.send_signal(signal.SIGTERM)
    # It waits the 1 s stop timeout, not for the answer.
    try:
        assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
    finally:
        answer.set()
    abandoned_rows = [
        r
        for r in run_history(world.db)
        if r["client"] == DK
        and r["job"] == "sync"
        and r["runner"]
        and r["runner"].startswith("daemon")
    ]
    assert len(abandoned_rows) == 1, abandoned_rows
    [abandoned] = abandoned_rows
    assert abandoned["outcome"] == "interrupted" and "stopped" in abandoned["error"]
    assert "abandoned safely" in log.read_text()


def test_runs_list_shows_the_history(
    world: World, capsys: pytest.CaptureFixture[str], db_url: str
) -> None:
    assert main(["--db", db_url, "runs", "list", "--client", DK, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["job"] for r in rows} == {"sync"}  # the world's set-up synced once
    assert set(rows[0]) == {
        "id",
        "job",
        "client",
        "today",
        "started_at",
        "finished_at",
        "seconds",
        "outcome",
        "counts",
        "error",
        "runner",
        "node",
    }
    assert rows[0]["today"] == DAYS[0].isoformat() and rows[0]["outcome"] == "ok"
    assert rows[0]["node"] == f"{socket.gethostname()} {os.getpid()}"  # "host pid" of the runner
    assert main(["--db", db_url, "runs", "list"]) == 0
    assert "sync" in capsys.readouterr().out
    assert main(["--db", db_url, "runs", "list", "--client", "ghost"]) == 2
    assert main(["--db", db_url, "runs", "list", "--limit", "0"]) == 2


def test_hub_run_refuses_a_bad_schedule_file_with_its_line(
    world: World, tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[jobs.sync]\ntrigger = "interval"\nhours = -1\n')
    assert main(["--db", db_url, "run", "--schedules", str(bad)]) == 2
    assert f"{bad}:3: jobs.sync.hours" in capsys.readouterr().err
    assert main(["--db", db_url, "run", "--check"]) == 0
    out = capsys.readouterr().out
    assert "every 2 h" in out and DK in out and NO in out
    assert main(["--db", db_url, "run", "--http-port", "70000"]) == 2


def test_hub_run_check_warns_of_limits_and_queues_naming_no_installed_plugin(
    world: World, tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """``[limits.tripletex]`` (the plugin is ``norwegian_invoicing``) would silently apply no
    budget: ``hub run --check`` says so, as a warning (the exit code stays 0: the plugin may be
    installed later)."""
    schedule = tmp_path / "typo.toml"
    schedule.write_text(
        '[jobs.sync]\ntrigger = "interval"\nhours = 2\n'
        "[limits.tripletex]\nrequests = 100\nseconds = 60\n"
        "[limits.economic]\nrequests = 9000\nseconds = 60\n"
        "[distributed.queues]\neconomic = 2\nvisma = 2\n"
    )
    assert main(["--db", db_url, "run", "--check", "--schedules", str(schedule)]) == 0
    captured = capsys.readouterr()
    assert "every 2 h" in captured.out
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, captured.err
    limits, queues = warnings
    assert f"{schedule}: [limits.*] names no installed plugin: tripletex" in limits
    assert "no rate budget applies to it" in limits and "norwegian_invoicing" in limits
    assert "economic," in limits  # the installed plugins are named
    assert "[distributed.queues] names no installed plugin: visma" in queues
    assert main(["--db", db_url, "run", "--check"]) == 0  # the default names only installed ones
    assert "warning" not in capsys.readouterr().err


def _runs_of(db: Database, pid: int) -> list[dict[str, Any]]:
    return [r for r in run_history(db) if f" {pid} " in (r["runner"] or "")]


@pytest.mark.slow
def test_a_second_hub_run_is_refused_naming_the_first_before_any_job_runs(
    world: World, daemon_env: dict[str, str], tmp_path: Path
) -> None:
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(EVERY_SECOND.format(seconds=1))
    log = tmp_path / "daemon.log"
    first = _start(daemon_env, DAYS[0], "--schedules", str(schedule), log=log)
    wait_for(lambda: _ok(run_history(world.db), first.pid), "the first daemon's runs")
    second_log = tmp_path / "second.log"
    second = _start(daemon_env, DAYS[0], "--schedules", str(schedule), log=second_log)
    assert second.wait(timeout=60) == 1, second_log.read_text()
    said = second_log.read_text()
    assert f"host {socket.gethostname()}, pid {first.pid}" in said, said
    assert "Traceback" not in said
    assert _runs_of(world.db, second.pid) == [], "the refused daemon ran nothing"
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0, log.read_text()[-3000:]


@pytest.mark.slow
def test_a_health_port_in_use_is_a_clear_error_before_any_job_runs(
    world: World, daemon_env: dict[str, str], tmp_path: Path
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(EVERY_SECOND.format(seconds=1))
    log = tmp_path / "daemon.log"
    try:
        process = _start(
            daemon_env, DAYS[0], "--schedules", str(schedule), "--http-port", str(port), log=log
        )
        assert process.wait(timeout=60) == 2, log.read_text()
    finally:
        taken.close()
    said = log.read_text()
    assert f"127.0.0.1:{port}" in said and "in use" in said, said
    assert "Traceback" not in said
    assert _runs_of(world.db, process.pid) == [], "no job ran"
    assert _lease_row(world.db) is None, "the lease was given up"


def test_in_a_terminal_the_daemon_logs_lines_a_person_reads_and_json_elsewhere(
    daemon_env: dict[str, str], tmp_path: Path
) -> None:
    """``--log-format auto`` (the default): on a terminal one readable line per event, without
    the scheduler's own chatter; into a pipe or a file (a log collector) JSON per line."""
    import pty

    main_fd, terminal_fd = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "hub.cli.main", "run"],
        stdout=terminal_fd,
        stderr=terminal_fd,
        env=daemon_env,
    )
    _children.append(child)
    os.close(terminal_fd)
    said: list[bytes] = []

    def read_the_terminal() -> None:
        """Read all the daemon writes, as a terminal does, until it closes: a terminal nobody
        reads fills up, and the daemon's next log line would wait for it for ever."""
        while True:
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:  # the daemon is gone (EIO)
                return
            if not chunk:
                return
            said.append(chunk)

    reader = threading.Thread(target=read_the_terminal, daemon=True)
    reader.start()
    try:
        wait_for(
            lambda: b"daemon started" in b"".join(said) or child.poll() is not None,
            "the daemon to start",
        )
    finally:
        child.send_signal(signal.SIGTERM)
        code = child.wait(timeout=60)
        reader.join(timeout=10)
        os.close(main_fd)
    seen = b"".join(said)
    assert code == 0, seen.decode()[-3000:]
    started = next(line for line in seen.decode().splitlines() if "daemon started" in line)
    assert not started.lstrip().startswith("{") and "[hub.daemon.scheduler]" in started
    assert "Added job" not in seen.decode() and "Scheduler started" not in seen.decode()

    log = tmp_path / "daemon.log"
    child = _start(daemon_env, DAYS[0], log=log)
    wait_for(lambda: "daemon started" in log.read_text(), "the daemon to start")
    child.send_signal(signal.SIGTERM)
    assert child.wait(timeout=60) == 0
    [started_json] = [json.loads(x) for x in log.read_text().splitlines() if "daemon started" in x]
    assert started_json["event"] == "daemon started"
