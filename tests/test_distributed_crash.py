"""Several nodes under SIGKILL: three ``hub run --distributed`` nodes on one PostgreSQL database
share the jobs of six clients; each simulated day one of them is killed in the middle of a
run and the other two carry on. The day still ends exactly where a run without crashes ends:
no reminder, fee, letter, credit note, voucher or recurring invoice made twice, and none lost.

And what the nodes promise one another (docs/operators.md, "Many nodes"): the killed node's
run is marked ``interrupted``, its task is taken over by another node once the node has been
silent for ``stalled_seconds``, and no two runs of one (job kind, client) ever overlap, on
whichever nodes they ran.

The nodes are child processes, as an operator runs them; the accounting systems are fakes served
over real HTTP by this process, slowed down so that a kill lands in the middle of a sync, a
delivery or a posting. The reference is the same world, built afresh, on which the same job
functions run in this process without a crash (tests/crash_harness.py).
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import signal
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from hub.db import tables as t
from hub.operations.context import Actor, Context, Services
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from tests import daemon_world
from tests.crash_harness import (
    DaemonProcess,
    assert_nothing_twice_nothing_lost,
    aware,
    child_env,
    database,
    kill_children,
    outcomes,
    running_runs,
    wait_for_round,
)
from tests.daemon_world import DAYS, World

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PAIRS = 3  # six clients: three on e-conomic, three on Tripletex
NODES = 3
#: The first reminder, the second ten days on (renteloven § 9 b), and the next recurring month;
#: every node started afresh each day (a node's day is fixed when it starts, as with --today).
NODE_DAYS = (DAYS[0], DAYS[1], DAYS[3])
#: Every job every second or two, so a run is always near; a node silent for three seconds is
#: dead; leases and claims short enough that what a killed node held is taken again soon.
SCHEDULE = """
[daemon]
max_workers = 4

[distributed]
tick_seconds = 1
heartbeat_seconds = 1
stalled_seconds = 3

[distributed.queues]
economic = 3
norwegian_invoicing = 3

[jobs.sync]
trigger = "interval"
seconds = 2

[jobs.recurring]
trigger = "interval"
seconds = 1

[jobs.postings]
trigger = "interval"
seconds = 2
"""


@dataclass
class Kill:
    """A node killed, when, and the runs it had going (frozen: the node is dead)."""

    pid: int
    at: dt.datetime
    runs: list[tuple[int, str, str]]  # (run id, job, client)


@pytest.fixture
def node_env(hub_env: Path, db_url: str) -> Iterator[dict[str, str]]:
    yield child_env(hub_env, db_url)
    kill_children()  # a test that failed half-way leaves no node behind


@pytest.fixture
def crashing_world(db_url: str, tmp_path: Path) -> Iterator[World]:
    db = database(db_url)
    ctx = Context(Services(db, load_plugins(), SecretBox()), Actor("tester"))
    try:
        with daemon_world.world(db, ctx, tmp_path / "outbox", PAIRS) as w:
            yield w
    finally:
        db.dispose()


def _kill_one_at_work(w: World, nodes: list[DaemonProcess], rng: random.Random) -> Kill:
    """Wait until one of ``nodes`` has a run going, then SIGKILL it somewhere in that run."""
    deadline = time.monotonic() + 60
    pause = rng.uniform(0.0, 0.2)  # somewhere in a run: a request, a write, a commit
    while True:
        busy = [node for node in nodes if running_runs(w.db, node)]
        if busy:
            doomed = rng.choice(busy)
            time.sleep(pause)
            if running_runs(w.db, doomed):  # still in a run (not between two)
                break
        for node in nodes:
            assert node.process.poll() is None, node.log.read_text()[-3000:]
        assert time.monotonic() < deadline, "no node ever started a run"
        time.sleep(0.02)
    doomed.kill()
    at = dt.datetime.now(dt.UTC)
    nodes.remove(doomed)
    return Kill(doomed.pid, at, running_runs(w.db, doomed))


def _wait_interrupted(w: World, kill: Kill, survivors: list[DaemonProcess]) -> None:
    """Wait until the runs the killed node had going are marked ``interrupted`` (by a tick of
    another node, once the dead node's lease is stale)."""
    ids = [run_id for run_id, _, _ in kill.runs]
    deadline = time.monotonic() + 30
    while True:
        with w.db.session() as session:
            left = session.scalars(
                select(t.JobRun.outcome).where(t.JobRun.id.in_(ids), t.JobRun.outcome == "running")
            ).all()
        if not left:
            return
        assert time.monotonic() < deadline, (
            f"runs {ids} of killed node {kill.pid} still running",
            survivors[0].log.read_text()[-3000:],
        )
        time.sleep(0.2)


def _history(w: World) -> list[tuple[int, str, str, dt.datetime, dt.datetime | None, str, str]]:
    """(id, job, client, started, finished, outcome, runner) of every run."""
    with w.db.session() as session:
        return [
            (
                run_id,
                job,
                client,
                aware(started),
                aware(finished) if finished else None,
                outcome,
                runner or "",
            )
            for run_id, job, client, started, finished, outcome, runner in session.execute(
                select(
                    t.JobRun.id,
                    t.JobRun.job,
                    t.Client.name,
                    t.JobRun.started_at,
                    t.JobRun.finished_at,
                    t.JobRun.outcome,
                    t.JobRun.runner,
                ).join(t.Client, t.Client.id == t.JobRun.client_id)
            )
        ]


def _pid(runner: str) -> int | None:
    parts = runner.split(" ")  # "node <host> <pid> <token>"
    return int(parts[2]) if len(parts) >= 3 and parts[2].isdigit() else None


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_node_killed_in_the_middle_of_work_the_others_finish_it_nothing_twice_nothing_lost(
    crashing_world: World, node_env: dict[str, str], tmp_path: Path, db_url: str
) -> None:
    w = crashing_world
    clients = w.clients
    rng = random.Random(18)  # where the kills land: the same every time, so a failure repeats
    schedule = tmp_path / "schedule.toml"
    schedule.write_text(SCHEDULE)
    w.slow_down()
    kills: list[Kill] = []
    for day in NODE_DAYS:
        daemon_world.set_day(w, day)
        nodes = [
            DaemonProcess(
                node_env, schedule, tmp_path / f"node-{day}-{n}.log", day, ["--distributed"]
            )
            for n in range(NODES)
        ]
        kill = _kill_one_at_work(w, nodes, rng)
        assert kill.runs, f"node {kill.pid} was killed between runs"
        kills.append(kill)
        # The two left finish the day: every job of every client twice over after the kill;
        # the killed node's task holds its (job, client) lock until another node takes it
        # over, so the first round includes that take-over.
        first = wait_for_round(w.db, kill.at, nodes, clients, timeout=60)
        wait_for_round(w.db, first, nodes, clients, timeout=60)
        _wait_interrupted(w, kill, nodes)
        for node in nodes:  # stopped together, as a rollout or a shutdown stops them
            node.process.send_signal(signal.SIGTERM)
        for node in nodes:
            assert node.process.wait(timeout=60) == 0, node.log.read_text()[-3000:]

    ended = outcomes(w.db)
    assert ended.get("running", 0) == 0, "every run ended: ok, failed, or interrupted"
    history = _history(w)
    by_node = [h for h in history if not h[6].startswith("cli ")]  # the world's own set-up
    assert by_node and all(h[6].startswith("node ") for h in by_node), {h[6] for h in by_node}
    outcome_of = {h[0]: h[5] for h in history}
    for kill in kills:
        for run_id, job, client in kill.runs:
            assert outcome_of[run_id] == "interrupted", (run_id, job, client, outcome_of[run_id])
            # Taken over: the same (job, client) ran on another node after the kill.
            assert any(
                (j, c) == (job, client) and started > kill.at and _pid(runner) != kill.pid
                for _, j, c, started, _, _, runner in by_node
            ), f"{job} for {client}: no other node ran it after node {kill.pid} was killed"

    # Never two runs of one (job kind, client) at once, on whichever nodes: a killed node's run
    # ended when the node died.
    died = {kill.pid: kill.at for kill in kills}
    spans: dict[tuple[str, str], list[tuple[dt.datetime, dt.datetime, int]]] = defaultdict(list)
    for run_id, job, client, started, finished, outcome, runner in by_node:
        end = died[pid] if outcome == "interrupted" and (pid := _pid(runner)) in died else finished
        assert end is not None, run_id
        spans[(job, client)].append((started, end, run_id))
    for key, runs in spans.items():
        runs.sort()
        for (_, end, before), (start, _, after) in itertools.pairwise(runs):
            assert end <= start, f"{key}: run {after} started before run {before} ended"

    assert_nothing_twice_nothing_lost(w, tmp_path, db_url, PAIRS, NODE_DAYS)
