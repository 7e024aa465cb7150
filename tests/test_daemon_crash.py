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

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.operations.context import Actor, Context, Services
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from tests import daemon_world
from tests.crash_harness import (
    HOLD_SECONDS,
    DaemonProcess,
    assert_nothing_twice_nothing_lost,
    child_env,
    database,
    kill_children,
    outcomes,
    wait_for_round,
    wait_until_working,
)
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


@pytest.fixture
def daemon_env(hub_env: Path, db_url: str) -> Iterator[dict[str, str]]:
    yield child_env(hub_env, db_url)
    kill_children()  # a test that failed half-way leaves no daemon behind


@pytest.fixture
def crashing_world(db_url: str, tmp_path: Path) -> Iterator[World]:
    db = database(db_url)
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
            wait_until_working(w.db, doomed)
            time.sleep(rng.uniform(0.0, 0.3))  # somewhere in a run: a request, a write, a commit
            doomed.kill()
            kills += 1
        time.sleep(HOLD_SECONDS)  # what the killed one held (a lease, a claim) is free again
        daemon = DaemonProcess(daemon_env, schedule, log, day)
        first = wait_for_round(w.db, daemon.started, [daemon], CLIENTS)
        wait_for_round(w.db, first, [daemon], CLIENTS)  # a whole second round after the first
        assert daemon.terminate() == 0, log.read_text()[-3000:]

    ended = outcomes(w.db)
    assert ended.get("running", 0) == 0, "every run ended: ok, failed, or interrupted"
    assert ended.get("interrupted", 0) >= kills, f"{kills} kills, {ended}"
    assert_nothing_twice_nothing_lost(w, tmp_path, db_url)
