"""``hub run --distributed``: nodes on one PostgreSQL database, on procrastinate.

The nodes run as child processes (``hub run --distributed``) against the daemon tests' world
(tests/daemon_world.py: fake e-conomic and Tripletex servers over real HTTP in this process).
The 3-node SIGKILL test lives in its own file.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub import clients
from hub.cli.main import main
from hub.clock import Clock
from hub.daemon.jobs import JOB_KINDS
from hub.daemon.schedules import ScheduleError, parse
from hub.db.engine import Database
from hub.operations import runs
from hub.operations.context import Actor, Context, Services
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from tests import daemon_world
from tests.daemon_world import DAYS, DK, NO, World

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


def _runs(db: Database) -> list[dict[str, Any]]:
    with db.session() as session:
        return runs.run_rows(session, limit=100_000)


def _wait(condition: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


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
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
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


# --- nodes ---------------------------------------------------------------------------------------


@postgres_only
@pytest.mark.slow
def test_two_nodes_run_every_clients_jobs_never_one_job_twice_at_once_one_tick_per_period(
    world: World, node_env: dict[str, str], tmp_path: Path
) -> None:
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(EVERY_SECONDS.format(seconds=2))
    world.slow_down()
    logs = [tmp_path / "node1.log", tmp_path / "node2.log"]
    nodes = [
        _start(node_env, "--distributed", "--schedules", str(schedule), log=log) for log in logs
    ]
    every = {(job, client) for job in JOB_KINDS for client in (DK, NO)}

    def all_ran() -> bool:
        for node, log in zip(nodes, logs, strict=True):
            assert node.poll() is None, log.read_text()[-3000:]
        rows = _runs(world.db)
        done = {(r["job"], r["client"]) for r in rows if r["outcome"] == "ok"}
        return every <= done and all(_ok_by(rows, n.pid) for n in nodes)

    _wait(all_ran, "every client's jobs, on both nodes")
    for node, log in zip(nodes, logs, strict=True):
        _stop(node, log)
    rows = _runs(world.db)
    assert {r["outcome"] for r in rows} <= {"ok", "partial"}, rows
    assert _overlaps(world.db) == [], "two runs of one (job kind, client) at once"
    with world.db.engine.connect() as conn:
        ticks = Counter(
            conn.execute(
                sa.text(
                    "SELECT args->>'timestamp' FROM procrastinate_jobs"
                    " WHERE task_name = 'hub.dispatch'"
                )
            ).scalars()
        )
    assert len(ticks) >= 3 and max(ticks.values()) == 1, ticks
