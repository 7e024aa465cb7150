"""``hub run --distributed``: nodes on one PostgreSQL database, on procrastinate.

The nodes run as child processes (``hub run --distributed``) against the daemon tests' world
(tests/daemon_world.py: fake e-conomic and Tripletex servers over real HTTP in this process).
The 3-node SIGKILL test lives in its own file.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from hub import clients
from hub.cli.main import main
from hub.clock import Clock
from hub.daemon.distributed.dispatcher import decide
from hub.daemon.distributed.node import Node
from hub.daemon.distributed.runtime import Runtime
from hub.daemon.jobs import JOB_KINDS
from hub.daemon.scheduler import PlannedJob
from hub.daemon.schedules import ScheduleError, Trigger, load, parse
from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import InputError
from hub.operations import job_schedule, lease, runs
from hub.operations.context import Actor, Context, Services
from hub.operations.job_schedule import Due
from hub.operations.lease import DaemonRunning
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from tests import daemon_world
from tests.daemon_world import DAYS, DK, NO, World
from tests.helpers import run_history, wait_for

EVERY_SECONDS = """
[daemon]
max_workers = 4

[distributed]
tick_seconds = 1
heartbeat_seconds = 1
stalled_seconds = 5

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


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL schema at the newest revision (procrastinate's tables included)."""
    yield request.getfixturevalue("db_url")


postgres_only = pytest.mark.parametrize(
    "db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def ctx(db: Database) -> Context:
    return Context(Services(db, load_plugins(), SecretBox()), Actor("tester"), Clock(DAYS[0]))


@pytest.fixture
def world(db: Database, ctx: Context, tmp_path: Path) -> Iterator[World]:
    with daemon_world.world(db, ctx, tmp_path / "outbox") as w:
        yield w


_children: list[subprocess.Popen[bytes]] = []


@pytest.fixture
def node_env(hub_env: Path, db_url: str) -> Iterator[dict[str, str]]:
    yield {**os.environ, "HUB_DATA_DIR": str(hub_env), "HUB_DATABASE_URL": db_url}
    while _children:  # a test that failed half-way leaves no node behind
        child = _children.pop()
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)


def _start(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("a") as out:
        child = subprocess.Popen(
            [sys.executable, "-m", "hub.cli.main", "--today", DAYS[0].isoformat(), "run", *args],
            stdout=out,
            stderr=out,
            env=env,
        )
    _children.append(child)
    return child


def _ok_by(rows: list[dict[str, Any]], pid: int) -> set[tuple[str, str]]:
    node = f"{socket.gethostname()} {pid}"
    return {(r["job"], r["client"]) for r in rows if r["outcome"] == "ok" and r["node"] == node}


def _stop(process: subprocess.Popen[bytes], log: Path) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log.read_text()[-3000:]


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _overlaps(db: Database) -> list[tuple[str, str]]:
    """(job, client) pairs of which two runs were ever going at the same time."""
    by_key: dict[tuple[str, str], list[tuple[dt.datetime, dt.datetime]]] = {}
    now = dt.datetime.now(dt.UTC)
    with db.engine.connect() as conn:
        for job, client, started, finished in conn.execute(
            sa.text("SELECT job, client_id, started_at, finished_at FROM job_runs")
        ):
            by_key.setdefault((job, client), []).append(
                (_aware(started), _aware(finished) if finished else now)
            )
    found = []
    for key, spans in by_key.items():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                found.append(key)
    return found


# --- refusals and the schedule file ------------------------------------------------------------


def test_distributed_is_refused_on_sqlite_saying_why(
    hub_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    assert main(["--db", url, "db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["--db", url, "run", "--distributed"]) == 2
    said = " ".join(capsys.readouterr().err.split())
    assert "--distributed needs PostgreSQL" in said
    assert "queue, locks and heartbeats" in said


def test_the_distributed_table_is_read_and_checked() -> None:
    text = EVERY_SECONDS.format(seconds=5) + "\n[distributed.queues]\neconomic = 3\n"
    settings = parse(text, "s.toml").distributed
    assert (settings.tick_seconds, settings.heartbeat_seconds, settings.stalled_seconds) == (
        1,
        1,
        5,
    )
    assert dict(settings.queues) == {"economic": 3}
    assert settings.tick_cron() == "* * * * * */1"
    assert parse("[distributed]\ntick_seconds = 120\n", "s").distributed.tick_cron() == (
        "*/2 * * * * 0"
    )
    assert parse("", "s").distributed.tick_seconds == 15  # the defaults without the table

    def error(text: str) -> str:
        with pytest.raises(ScheduleError) as caught:
            parse(text, "s.toml")
        return str(caught.value)

    assert error("[distributed]\ntick = 5\n").startswith("s.toml:2: distributed.tick: unknown key")
    assert error("[distributed]\ntick_seconds = 7\n").startswith(
        "s.toml:2: distributed.tick_seconds: must divide a minute"
    )
    assert error("[distributed]\nheartbeat_seconds = 10\nstalled_seconds = 15\n").startswith(
        "s.toml:3: distributed.stalled_seconds: must be at least twice heartbeat_seconds"
    )
    assert error("[distributed.queues]\ndefault = 2\n").startswith(
        "s.toml:2: distributed.queues.default: must be an accounting plugin's name"
    )
    assert error("[distributed.queues]\neconomic = 0\n").startswith(
        "s.toml:2: distributed.queues.economic: must be a whole number >= 1, not 0"
    )
    assert error("[distributed]\nqueues = 3\n").startswith(
        "s.toml:2: distributed.queues: must be a table"
    )


def test_the_dispatchers_due_times_are_stored_updated_and_dropped(db: Database) -> None:
    at = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    job_schedule.save(db, {("sync", "a"): Due(at, "x"), ("sync", "b"): Due(at, "x")})
    later = at + dt.timedelta(hours=1)
    job_schedule.save(db, {("sync", "a"): Due(later, "y")}, dropped=[("sync", "b")])
    assert job_schedule.load(db) == {("sync", "a"): Due(later, "y")}


def test_a_run_handed_back_is_due_at_once(db: Database) -> None:
    """A node whose lease is late runs nothing and hands the run back: due now, so the next
    tick queues it again, for any node."""
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    job_schedule.save(db, {("sync", "a"): Due(later, "x"), ("sync", "b"): Due(later, "x")})
    job_schedule.due_again(db, "sync", "a")
    due = job_schedule.load(db)
    assert due[("sync", "a")].at <= dt.datetime.now(dt.UTC) < due[("sync", "b")].at
    assert due[("sync", "a")].fingerprint == "x"  # the schedule it follows is unchanged


@pytest.mark.parametrize(
    ("stop_timeout", "heartbeat", "stalled", "graceful"),
    [(30, 10, 60, 30), (30, 1, 5, 3), (30, 1, 2, 0), (2, 1, 5, 2)],
)
def test_a_stop_never_waits_until_another_node_would_take_its_runs_for_dead(
    ctx: Context, stop_timeout: float, heartbeat: int, stalled: int, graceful: float
) -> None:
    """A stopping node beats no more: it waits for its runs at most ``stalled_seconds`` less a
    heartbeat and a second, and leaves before another node could run them a second time."""
    text = f"[distributed]\nheartbeat_seconds = {heartbeat}\nstalled_seconds = {stalled}\n"
    node = Node(ctx, parse(text, "s.toml"), stop_timeout=stop_timeout)
    assert node.graceful_seconds() == graceful


def test_the_tick_keeps_the_distributed_table_the_nodes_started_with(
    ctx: Context, tmp_path: Path
) -> None:
    """The tick reads the schedule file again, but ``[distributed]`` (queues, heartbeats) applies
    when the nodes restart: a tick judging nodes by a shorter stalled_seconds than they beat for
    would take live ones for dead; one queueing to a queue no worker reads would strand runs."""
    path = tmp_path / "s.toml"
    path.write_text("[distributed]\nstalled_seconds = 60\n[distributed.queues]\neconomic = 2\n")
    runtime = Runtime(ctx, load(path), path)
    path.write_text("[distributed]\nstalled_seconds = 20\n[distributed.queues]\nother = 2\n")
    with capture_logs() as logs:
        fresh = runtime.reload()
        runtime.reload()
    assert fresh.distributed.stalled_seconds == 20  # read, ...
    assert runtime.distributed.stalled_seconds == 60  # ... but not in force
    assert dict(runtime.distributed.queues) == {"economic": 2}
    said = [e["event"] for e in logs if "[distributed]" in e["event"]]
    assert said == ["[distributed] changed in the schedule file: it applies when the nodes restart"]


def test_the_tick_decides_what_is_due_added_rescheduled_and_dropped() -> None:
    """The dispatcher's decision, without a database: a new job is due within its jitter, a
    due one is deferred and moved to its next fire time, a changed schedule is rescheduled from
    now without a run, a job no longer planned is dropped, a job not yet due is left alone."""
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    hourly = Trigger("interval", (("hours", 1),), None, 0)
    jittered = Trigger("interval", (("hours", 1),), None, 30)
    planned = [
        PlannedJob("sync", "new", "Europe/Oslo", jittered),
        PlannedJob("sync", "due", "Europe/Oslo", hourly),
        PlannedJob("sync", "changed", "Europe/Oslo", hourly),
        PlannedJob("sync", "later", "Europe/Oslo", hourly),
    ]
    fingerprint = f"{hourly.fingerprint()}|Europe/Oslo"
    stored = {
        ("sync", "due"): Due(now - dt.timedelta(seconds=1), fingerprint),
        ("sync", "changed"): Due(now - dt.timedelta(seconds=1), "interval[hours=2] tz=- jitter=0"),
        ("sync", "later"): Due(now + dt.timedelta(minutes=5), fingerprint),
        ("sync", "gone"): Due(now, fingerprint),
    }
    decision = decide(planned, stored, now)
    assert decision.dropped == [("sync", "gone")]
    assert ("sync", "later") not in decision.changed
    new = decision.changed[("sync", "new")]
    assert now <= new.at <= now + dt.timedelta(seconds=30)
    assert decision.changed[("sync", "due")].at == now + dt.timedelta(hours=1)
    assert decision.changed[("sync", "changed")] == Due(now + dt.timedelta(hours=1), fingerprint)
    due = {p.client for p in decision.due}
    assert due == {"due"} | ({"new"} if new.at <= now else set())
    assert decision.counts["removed"] == 1 and decision.counts["rescheduled"] == 1


# --- nodes ---------------------------------------------------------------------------------------


def _ticks_of(db: Database) -> int:
    """How many dispatcher ticks were queued."""
    with db.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = 'hub.dispatch'")
            ).scalar_one()
        )


@postgres_only
@pytest.mark.slow
def test_two_nodes_run_every_clients_jobs_never_one_job_twice_at_once_one_tick_per_period(
    world: World, node_env: dict[str, str], tmp_path: Path
) -> None:
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(
        EVERY_SECONDS.format(seconds=2) + "\n[distributed.queues]\neconomic = 2\nvisma = 1\n"
        # not plugins here: each node warns at start, naming them (a typo would else be silent)
        "[limits.tripletex]\nrequests = 100\nseconds = 60\n"
    )
    world.slow_down()
    logs = [tmp_path / "node1.log", tmp_path / "node2.log"]
    nodes = [
        _start(node_env, "--distributed", "--schedules", str(schedule), log=log) for log in logs
    ]
    every = {(job, client) for job in JOB_KINDS for client in (DK, NO)}

    def all_ran() -> bool:
        for node, log in zip(nodes, logs, strict=True):
            assert node.poll() is None, log.read_text()[-3000:]
        rows = run_history(world.db)
        done = {(r["job"], r["client"]) for r in rows if r["outcome"] == "ok"}
        return (
            every <= done and all(_ok_by(rows, n.pid) for n in nodes) and _ticks_of(world.db) >= 3
        )

    wait_for(all_ran, "every client's jobs, on both nodes")
    for node, log in zip(nodes, logs, strict=True):
        _stop(node, log)
    for log in logs:
        said = [line for line in log.read_text().splitlines() if "names no installed" in line]
        assert len(said) == 2, said
        assert "[limits.*] names no installed plugin" in said[0] and "tripletex" in said[0]
        assert "[distributed.queues] names no installed plugin" in said[1] and "visma" in said[1]
    rows = run_history(world.db)
    assert {r["outcome"] for r in rows} <= {"ok", "partial"}, rows
    assert _overlaps(world.db) == [], "two runs of one (job kind, client) at once"
    with world.db.engine.connect() as conn:  # each period's tick deferred once
        ticks = Counter(
            conn.execute(
                sa.text(
                    "SELECT args->>'timestamp' FROM procrastinate_jobs"
                    " WHERE task_name = 'hub.dispatch'"
                )
            ).scalars()
        )
    assert len(ticks) >= 3 and max(ticks.values()) == 1, ticks
    with world.db.engine.connect() as conn:
        queues = dict(
            conn.execute(
                sa.text(
                    "SELECT DISTINCT args->>'client', queue_name FROM procrastinate_jobs"
                    " WHERE task_name = 'hub.run_job'"
                )
            ).all()
        )
    assert queues == {DK: "economic", NO: "default"}  # DK's plugin has a queue of its own


#: The hub's budget for the one e-conomic app of the next test: 10 requests in any 2 s.
BUDGET_REQUESTS, BUDGET_SECONDS = 10, 2
SHARED_APP = "app-shared"


@postgres_only
@pytest.mark.slow
def test_nodes_together_keep_to_the_budget_of_a_vendor_app_counted_at_the_fake(
    db: Database, ctx: Context, node_env: dict[str, str], tmp_path: Path
) -> None:
    """Two nodes sync three Danish clients of one e-conomic app every second, far more than
    the schedule file's ``[limits.economic]`` allows: counted where the vendor would count them
    (at the fake, per app), no 2 s ever hold more than 10 of the app's requests, whichever node
    sent them, and the vendor (whose own limit is a little above) never answered 429; both nodes
    did the work, and every client was synced."""
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(
        EVERY_SECONDS.format(seconds=1)
        + f"\n[limits.economic]\nrequests = {BUDGET_REQUESTS}\nseconds = {BUDGET_SECONDS}\n"
    )
    with daemon_world.world(db, ctx, tmp_path / "outbox", pairs=3, shared_app=SHARED_APP) as w:
        with w.economic.lock:  # the vendor's own limit, a little above the hub's budget
            w.economic.rate_limit, w.economic.rate_window = BUDGET_REQUESTS + 2, BUDGET_SECONDS
        danish = {name for name in w.clients if name.startswith(DK)}
        logs = [tmp_path / "node1.log", tmp_path / "node2.log"]
        started = time.monotonic()  # the world's own requests (its postings asked for) before
        nodes = [
            _start(node_env, "--distributed", "--schedules", str(schedule), log=log) for log in logs
        ]

        def busy_for_long() -> bool:
            for node, log in zip(nodes, logs, strict=True):
                assert node.poll() is None, log.read_text()[-3000:]
            rows = run_history(db)
            synced = {r["client"] for r in rows if r["job"] == "sync" and r["outcome"] == "ok"}
            by_both = all(any(client in danish for _, client in _ok_by(rows, n.pid)) for n in nodes)
            sent = [t for t in w.economic.request_times.get(SHARED_APP, []) if t >= started]
            return danish <= synced and by_both and len(sent) >= 4 * BUDGET_REQUESTS

        wait_for(
            busy_for_long,
            "three Danish clients synced by both nodes, four budgets spent",
            timeout=90,
        )
        for node, log in zip(nodes, logs, strict=True):
            _stop(node, log)
        times = sorted(t for t in w.economic.request_times[SHARED_APP] if t >= started)
        answers = [r.status for r in w.economic.requests if r.at >= started]
    for i, first in enumerate(times):
        held = sum(1 for t in times[i:] if t - first <= BUDGET_SECONDS)
        # one of slack: a request arrives a little after its token, by an unequal delay
        assert held <= BUDGET_REQUESTS + 1, (
            f"{held} requests in the {BUDGET_SECONDS} s from {first}"
        )
    assert 429 not in answers


def test_a_node_and_a_plain_daemon_exclude_each_other(db: Database) -> None:
    """The leases themselves, on both databases: a plain daemon's refuses beside a live node,
    a node's beside a live plain daemon; a dead node (stale heartbeat) is no obstacle."""
    runs.act_as("node")
    try:
        node = lease.take_node(db, runs.this_runner(), length=60)
    finally:
        runs.act_as("cli")
    with pytest.raises(DaemonRunning) as refused:
        lease.take(db)
    said = str(refused.value)
    assert f"a node on host {socket.gethostname()}, pid {os.getpid()}" in said, said
    assert "--distributed" in said
    with db.session() as session:  # the node goes silent: dead after its length
        session.get(t.DaemonLease, node.name).heartbeat_at = dt.datetime.now(dt.UTC) - (
            dt.timedelta(seconds=61)
        )
    assert [n.name for n in lease.dead_nodes(db, 60)] == [node.name]
    plain = lease.take(db)
    with pytest.raises(DaemonRunning) as refused:
        lease.take_node(db, f"node {socket.gethostname()} {os.getpid()} other", length=60)
    assert f"pid {os.getpid()}" in str(refused.value)
    assert "does not start beside a plain hub run" in str(refused.value)
    plain.release()


@postgres_only
def test_a_node_whose_health_port_is_in_use_gives_its_lease_and_the_gate_back(
    ctx: Context,
) -> None:
    """The start a node shares with the plain daemon (the gate swapped in, the health port bound
    by :func:`hub.daemon.health.bind`, the lease given up by :func:`lease.give_up`): a port in
    use is a clear error, and the node leaves nothing behind."""
    from hub.daemon.distributed import Node
    from hub.operations.rate_budget import MemoryGate
    from hub.toolkit import budget

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    before = MemoryGate({})
    previous = budget.install(before)
    node = Node(ctx, parse(EVERY_SECONDS.format(seconds=60), "s.toml"), http_port=port)
    try:
        with pytest.raises(InputError) as refused:
            node.start()
    finally:
        taken.close()
        installed = budget.install(previous)
    said = str(refused.value)
    assert f"cannot listen on 127.0.0.1:{port}" in said and "(another node?)" in said, said
    assert installed is before, "the gate the node replaced is back"
    assert lease.live_nodes(ctx.db, 60) == [], "the node's lease was given up"
    assert runs.this_runner().startswith("cli "), "the process no longer records runs as a node"


def _start_together(*takes: Callable[[], lease.Lease]) -> tuple[list[lease.Lease], list[str]]:
    """Run the ``takes`` in threads released at the same moment: the leases taken, and the
    refusals."""
    barrier = threading.Barrier(len(takes))
    started: list[lease.Lease] = []
    refused: list[str] = []

    def start(take: Callable[[], lease.Lease]) -> None:
        barrier.wait()
        try:
            started.append(take())
        except DaemonRunning as exc:
            refused.append(str(exc))

    threads = [threading.Thread(target=start, args=(take,)) for take in takes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return started, refused


@postgres_only
def test_a_plain_daemon_and_a_node_starting_at_the_same_moment_never_both_start(
    db: Database,
) -> None:
    """Looking at the leases and claiming one is one step: of a plain daemon and a node that
    start together, round after round, exactly one gets in."""
    for round_ in range(15):
        holder = f"node {socket.gethostname()} {os.getpid()} round{round_}"
        started, refused = _start_together(
            lambda: lease.take(db),
            functools.partial(lease.take_node, db, holder, length=60),
        )
        assert len(started) == 1 and len(refused) == 1, (round_, started, refused)
        started[0].release()


@postgres_only
@pytest.mark.slow
def test_one_node_picks_up_clients_and_schedule_changes_and_refuses_a_plain_daemon(
    world: World, ctx: Context, node_env: dict[str, str], tmp_path: Path
) -> None:
    schedule = tmp_path / "schedule.toml"
    hourly = EVERY_SECONDS.format(seconds=3600)
    schedule.write_text(hourly)
    log = tmp_path / "node.log"
    node = _start(node_env, "--distributed", "--schedules", str(schedule), log=log)
    every = {(job, client) for job in JOB_KINDS for client in (DK, NO)}

    def ran(wanted: set[tuple[str, str]]) -> Callable[[], bool]:
        def check() -> bool:
            assert node.poll() is None, log.read_text()[-3000:]
            return wanted <= _ok_by(run_history(world.db), node.pid)

        return check

    wait_for(ran(every), "every client's jobs")

    # A plain hub run beside it is refused, naming the node.
    plain_log = tmp_path / "plain.log"
    plain = _start(node_env, "--schedules", str(schedule), log=plain_log)
    assert plain.wait(timeout=60) == 1, plain_log.read_text()
    said = " ".join(plain_log.read_text().split())
    assert f"a node on host {socket.gethostname()}, pid {node.pid}" in said, said

    # A client added is picked up without a restart, and dropped when removed.
    with world.db.session() as session:
        clients.add_client(session, "newcomer", "NO")
    wait_for(ran({("postings", "newcomer")}), "the newcomer's first run")
    with world.db.session() as session:
        session.query(t.Client).filter(t.Client.name == "newcomer").delete()
    wait_for(
        lambda: not any(c == "newcomer" for _, c in job_schedule.load(world.db)),
        "the newcomer's schedule to go",
    )

    # A schedule file that no longer reads is logged and the last good one kept; a changed
    # one is applied at the next tick.
    schedule.write_text(hourly + "\n[jobs.bogus]\n")
    wait_for(
        lambda: "the last good one stays in force" in log.read_text(),
        "the bad file logged",
        timeout=90,
    )
    schedule.write_text(hourly + f'\n[clients."{NO}".recurring]\nenabled = false\n')
    wait_for(
        lambda: ("recurring", NO) not in job_schedule.load(world.db),
        "the switched-off job to go",
    )
    assert ("recurring", DK) in job_schedule.load(world.db)
    assert node.poll() is None, log.read_text()[-3000:]
    _stop(node, log)
    with world.db.session() as session:
        assert session.query(t.DaemonLease).count() == 0, "the node gave its lease up"
