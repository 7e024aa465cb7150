"""What the crash tests share: ``hub run`` child processes to kill, waits on the run history,
and the crash-free reference a crashed world is compared with (tests/test_daemon_crash.py
for one daemon, tests/test_distributed_crash.py for several nodes).
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hub.daemon.jobs import JOB_KINDS, run_job
from hub.db import tables as t
from hub.db.engine import Database, upgrade
from hub.operations.context import Actor, Context, Services
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from tests import daemon_world
from tests.daemon_world import DAYS, World

#: How long what a killed daemon held (a recurring invoice's lease, a letter's claim) stays
#: held: short, so that it is taken again within the test.
HOLD_SECONDS = 3


def child_env(hub_env: Path, db_url: str) -> dict[str, str]:
    """The environment of a daemon or node child process: the test's data directory and
    database, short leases and claims, and the acting user ``daemon``."""
    return {
        **os.environ,
        "HUB_DATA_DIR": str(hub_env),
        "HUB_DATABASE_URL": db_url,
        "HUB_RECURRING_LEASE": str(HOLD_SECONDS),
        "HUB_DELIVERY_CLAIM": str(HOLD_SECONDS),
        "HUB_USER": "daemon",
    }


#: Every child process a test started; the test's fixture kills what is left of them.
children: list[subprocess.Popen[bytes]] = []


def database(url: str) -> Database:
    db = Database(url, check_schema=False)
    upgrade(db.engine)
    return db


def kill_children() -> None:
    """Kill what a test that failed half-way left running."""
    while children:
        child = children.pop()
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)


class DaemonProcess:
    """``hub run`` (with ``extra`` options, e.g. ``--distributed``) as a child process on one
    simulated day."""

    def __init__(
        self,
        env: dict[str, str],
        schedule: Path,
        log: Path,
        day: dt.date,
        extra: Sequence[str] = (),
    ) -> None:
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
                    *extra,
                    "--schedules",
                    str(schedule),
                    "--stop-timeout",
                    "20",
                ],
                stdout=out,
                stderr=out,
                env=env,
            )
        children.append(self.process)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        assert self.process.wait(timeout=30) == -signal.SIGKILL

    def terminate(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def ok_runs_since(db: Database, since: dt.datetime) -> dict[tuple[str, str], dt.datetime]:
    """(job, client) -> when its latest ok run that started after ``since`` finished."""
    with db.session() as session:
        rows = session.execute(
            select(t.JobRun.job, t.Client.name, t.JobRun.started_at, t.JobRun.finished_at)
            .join(t.Client, t.Client.id == t.JobRun.client_id)
            .where(t.JobRun.outcome == "ok")
        ).all()
    done: dict[tuple[str, str], dt.datetime] = {}
    for job, client, started, finished in rows:
        if aware(started) > since and finished is not None:
            done[(job, client)] = max(aware(finished), done.get((job, client), aware(finished)))
    return done


def wait_for_round(
    db: Database,
    since: dt.datetime,
    processes: Iterable[DaemonProcess],
    clients: Iterable[str],
    timeout: float = 120,
) -> dt.datetime:
    """Wait until every job of every client ran ok after ``since`` (while ``processes`` stay
    alive); when the last of those runs finished."""
    wanted = {(job, client) for job in JOB_KINDS for client in clients}
    alive = list(processes)
    deadline = time.monotonic() + timeout
    while True:
        done = ok_runs_since(db, since)
        if wanted <= set(done):
            return max(done[key] for key in wanted)
        for process in alive:
            assert process.process.poll() is None, process.log.read_text()[-3000:]
        assert time.monotonic() < deadline, (
            sorted(wanted - set(done)),
            alive[0].log.read_text()[-3000:],
        )
        time.sleep(0.2)


def running_runs(db: Database, process: DaemonProcess) -> list[tuple[int, str, str]]:
    """(run id, job, client) of the runs ``process`` has ``running`` now."""
    runner = f" {process.pid} "
    with db.session() as session:
        return [
            (run_id, job, client)
            for run_id, job, client in session.execute(
                select(t.JobRun.id, t.JobRun.job, t.Client.name)
                .join(t.Client, t.Client.id == t.JobRun.client_id)
                .where(t.JobRun.outcome == "running", t.JobRun.runner.contains(runner))
            )
        ]


def wait_until_working(db: Database, process: DaemonProcess, timeout: float = 60) -> None:
    """Wait until ``process`` has a run going."""
    deadline = time.monotonic() + timeout
    while not running_runs(db, process):
        assert process.process.poll() is None, process.log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the daemon never started a run"
        time.sleep(0.02)


def outcomes(db: Database) -> dict[str, int]:
    """How many runs ended each way."""
    with db.session() as session:
        return dict(
            session.execute(  # type: ignore[arg-type]
                select(t.JobRun.outcome, func.count()).group_by(t.JobRun.outcome)
            ).all()
        )


def reference(
    tmp_path: Path, db_url: str, pairs: int = 1, days: Sequence[dt.date] = DAYS
) -> dict[str, Any]:
    """The same days on a fresh world, each job run twice a day in this process, no crash."""
    url = db_url.replace("hub.sqlite3", "reference.sqlite3") if "sqlite" in db_url else db_url
    if url == db_url:  # PostgreSQL: the reference goes to a SQLite file of its own
        url = f"sqlite:///{tmp_path / 'reference.sqlite3'}"
    db = database(url)
    ctx = Context(Services(db, load_plugins(), SecretBox()), Actor("tester"))
    try:
        with daemon_world.world(db, ctx, tmp_path / "reference-outbox", pairs) as w:
            for day in days:
                daemon_world.set_day(w, day)
                on_day = daemon_world.on_day(ctx, day)
                for _ in range(2):
                    for client in w.clients:
                        for job in JOB_KINDS:
                            assert run_job(on_day, job, client).outcome == "ok"
            return w.outcome()
    finally:
        db.dispose()


def assert_nothing_twice_nothing_lost(
    w: World, tmp_path: Path, db_url: str, pairs: int = 1, days: Sequence[dt.date] = DAYS
) -> None:
    """No document made twice in the books, no message twice, and the whole outcome the
    crash-free reference's."""
    got = w.outcome()
    for documents in (
        "vouchers in e-conomic",
        "credit notes in e-conomic",
        "invoices in Tripletex",
    ):
        assert set(got[documents].values()) == {1}, (documents, got[documents])
    assert set(got["messages"].values()) == {1}
    assert got == reference(tmp_path, db_url, pairs, days)
