"""The daemon under SIGKILL: killed in the middle of work and restarted, day after simulated
day, it ends exactly where a run without crashes ends: no reminder, fee, letter, credit note,
voucher or recurring invoice made twice, and none lost.

The daemon is a child process (``hub run``), as an operator runs it, on a schedule that runs
every job every second or two; the accounting systems are fakes served over real HTTP by this
process, slowed down so that a kill lands in the middle of a sync, a delivery or a posting,
often between a write and its answer. The reference is the same world, built afresh, on which
the same job functions run in this process without a crash.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.daemon.jobs import JOB_KINDS, run_job
from hub.db import tables as t
from hub.db.engine import Database, upgrade
from hub.operations.context import Actor, Context, Services
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from tests import daemon_world
from tests.daemon_world import DAYS, DK, NO, World

pytestmark = pytest.mark.slow

CLIENTS = (DK, NO)
#: Every job every two seconds, so a run is always near; leases and claims short enough that
#: what a killed daemon held is taken again within the test.
SCHEDULE = """
[daemon]
max_workers = 4
refresh_seconds = 1

[jobs.sync]
trigger = "interval"
seconds = 2

[jobs.recurring]
trigger = "interval"
seconds = 2

[jobs.postings]
trigger = "interval"
seconds = 2
"""
HOLD_SECONDS = 3


def _database(url: str) -> Database:
    db = Database(url, check_schema=False)
    upgrade(db.engine)
    return db


_children: list[subprocess.Popen[bytes]] = []


@pytest.fixture
def daemon_env(hub_env: Path, db_url: str) -> Iterator[dict[str, str]]:
    yield {
        **os.environ,
        "HUB_DATA_DIR": str(hub_env),
        "HUB_DATABASE_URL": db_url,
        "HUB_RECURRING_LEASE": str(HOLD_SECONDS),
        "HUB_DELIVERY_CLAIM": str(HOLD_SECONDS),
        "HUB_USER": "daemon",
    }
    while _children:  # a test that failed half-way leaves no daemon behind
        child = _children.pop()
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)


class DaemonProcess:
    """``hub run`` as a child process on one simulated day."""

    def __init__(self, env: dict[str, str], schedule: Path, log: Path, day: dt.date) -> None:
        self.log = log
        self.started = dt.datetime.now(dt.UTC)
        with log.open("a") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "hub.cli.main",
                    "--today",
                    day.isoformat(),
                    "run",
                    "--schedules",
                    str(schedule),
                    "--stop-timeout",
                    "20",
                ],
                stdout=out,
                stderr=out,
                env=env,
            )
        _children.append(self.process)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=30) == -signal.SIGKILL

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _ok_runs_since(db: Database, since: dt.datetime) -> dict[tuple[str, str], dt.datetime]:
    """(job, client) -> when its latest ok run that started after ``since`` finished."""
    with db.session() as session:
        rows = session.execute(
            select(t.JobRun.job, t.Client.name, t.JobRun.started_at, t.JobRun.finished_at)
            .join(t.Client, t.Client.id == t.JobRun.client_id)
            .where(t.JobRun.outcome == "ok")
        ).all()
    done: dict[tuple[str, str], dt.datetime] = {}
    for job, client, started, finished in rows:
        if _aware(started) > since and finished is not None:
            done[(job, client)] = max(_aware(finished), done.get((job, client), _aware(finished)))
    return done


def _wait_for_round(db: Database, since: dt.datetime, process: DaemonProcess) -> dt.datetime:
    """Wait until every job of every client ran ok after ``since``; when the last finished."""
    wanted = {(job, client) for job in JOB_KINDS for client in CLIENTS}
    deadline = time.monotonic() + 120
    while True:
        done = _ok_runs_since(db, since)
        if wanted <= set(done):
            return max(done[key] for key in wanted)
        assert process.process.poll() is None, process.log.read_text()[-3000:]
        assert time.monotonic() < deadline, (
            sorted(wanted - set(done)),
            process.log.read_text()[-3000:],
        )
        time.sleep(0.2)


def _wait_until_working(db: Database, process: DaemonProcess) -> None:
    """Wait until the daemon has a run going."""
    runner = f" {process.process.pid} "
    deadline = time.monotonic() + 60
    while True:
        with db.session() as session:
            going = session.scalar(
                select(func.count())
                .select_from(t.JobRun)
                .where(t.JobRun.outcome == "running", t.JobRun.runner.contains(runner))
            )
        if going:
            return
        assert process.process.poll() is None, process.log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the daemon never started a run"
        time.sleep(0.02)


def _reference(tmp_path: Path, db_url: str) -> dict[str, Any]:
    """The same days on a fresh world, each job run twice a day in this process, no crash."""
    url = db_url.replace("hub.sqlite3", "reference.sqlite3") if "sqlite" in db_url else db_url
    if url == db_url:  # PostgreSQL: the reference goes to a SQLite file of its own
        url = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    db = _database(url)
    ctx = Context(Services(db, load_plugins(), SecretBox()), Actor("tester"))
    try:
        with daemon_world.world(db, ctx, tmp_path / "reference-outbox") as w:
            for day in DAYS:
                daemon_world.set_day(w, day)
                on_day = daemon_world.on_day(ctx, day)
                for _ in range(2):
                    for client in CLIENTS:
                        for job in JOB_KINDS:
                            assert run_job(on_day, job, client).outcome == "ok"
            return w.outcome()
    finally:
        db.dispose()


@pytest.fixture
def crashing_world(db_url: str, tmp_path: Path) -> Iterator[World]:
    db = _database(db_url)
    ctx = Context(Services(db, load_plugins(), SecretBox()), Actor("tester"))
    try:
        with daemon_world.world(db, ctx, tmp_path / "outbox") as w:
            yield w
    finally:
        db.dispose()


def test_killed_in_the_middle_of_work_and_restarted_nothing_twice_nothing_lost(
    crashing_world: World, daemon_env: dict[str, str], tmp_path: Path, db_url: str
) -> None:
    w = crashing_world
    # Where the kills land: a seed of its own on each database (a minute each, so not every
    # seed on every database); the same every time, so a failure is run again as it was.
    rng = random.Random(1 if db_url.startswith("sqlite") else 2)
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(SCHEDULE)
    log = tmp_path / "daemon.log"
    w.slow_down()
    kills = 0
    for day in DAYS:
        daemon_world.set_day(w, day)
        # Killed once or twice mid-work, then left to finish the day.
        for _ in range(rng.choice((1, 2))):
            doomed = DaemonProcess(daemon_env, schedule, log, day)
            _wait_until_working(w.db, doomed)
            time.sleep(rng.uniform(0.0, 0.3))  # somewhere in a run: a request, a write, a commit
            doomed.kill()
            kills += 1
        time.sleep(HOLD_SECONDS)  # what the killed one held (a lease, a claim) is free again
        daemon = DaemonProcess(daemon_env, schedule, log, day)
        first = _wait_for_round(w.db, daemon.started, daemon)
        _wait_for_round(w.db, first, daemon)  # a whole second round after the first
        assert daemon.terminate() == 0, log.read_text()[-3000:]

    with w.db.session() as session:
        outcomes = dict(
            session.execute(select(t.JobRun.outcome, func.count()).group_by(t.JobRun.outcome)).all()
        )
    assert outcomes.get("running", 0) == 0, "every run ended: ok, failed, or interrupted"
    assert outcomes.get("interrupted", 0) >= kills, f"{kills} kills, {outcomes}"

    got = w.outcome()
    for documents in (
        "vouchers in e-conomic",
        "credit notes in e-conomic",
        "invoices in Tripletex",
    ):
        assert set(got[documents].values()) == {1}, (documents, got[documents])
    assert set(got["messages"].values()) == {1}
    assert got == _reference(tmp_path, db_url)
