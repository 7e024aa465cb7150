"""Shared rate budgets (issue 18): the gate protocol and keys (hub.toolkit.budget), the HTTP
client asking it, the two gates (hub.operations.rate_budget: PostgreSQL's token bucket, the
in-memory one), the schedule file's ``[limits.*]``, and three processes keeping to one budget
at the fake e-conomic."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from hub.daemon.schedules import ScheduleError, parse
from hub.db.engine import Database
from hub.errors import DeadlineError
from hub.operations.rate_budget import MemoryGate, PostgresGate, install_for
from hub.testing.fakes.economic import EconomicServer, FakeEconomic, Fault
from hub.toolkit import budget, deadline
from hub.toolkit.budget import Budget, RateGate
from hub.toolkit.http import HubHttpClient, RetryPolicy, make_client
from tests.conftest import Migrated, _drop_schema, _postgres_base_url

REPO = Path(__file__).resolve().parents[1]
SECRET = "app-secret-4f1d9c-very-secret"
KEY = budget.key("economic", SECRET)
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def pg_url(migrated: Migrated) -> Iterator[str]:
    base, required = _postgres_base_url()
    url, schema = migrated.postgres_schema(base, required)
    try:
        yield url
    finally:
        _drop_schema(base, schema)


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[Database]:
    db = Database(pg_url)
    yield db
    db.dispose()


@pytest.fixture(autouse=True)
def no_gate_left() -> Iterator[None]:
    previous = budget.install(None)
    yield
    budget.install(previous)


class Clock:
    """Seconds since :data:`T0`, moved by the test."""

    def __init__(self) -> None:
        self.t = 0.0

    def seconds(self) -> float:
        return self.t

    def datetime(self) -> dt.datetime:
        return T0 + dt.timedelta(seconds=self.t)


GateMaker = Callable[[dict[str, Budget], Clock], "MemoryGate | PostgresGate"]


@pytest.fixture(params=["memory", pytest.param("postgresql", marks=pytest.mark.postgres)])
def make_gate(request: pytest.FixtureRequest) -> Iterator[GateMaker]:
    """A gate on the test's clock: in memory, or PostgreSQL's (a database of its own)."""
    if request.param == "memory":
        yield lambda limits, clock: MemoryGate(limits, clock=clock.seconds)
        return
    db: Database = request.getfixturevalue("pg_db")
    yield lambda limits, clock: PostgresGate(db, limits, clock=clock.datetime)


# -- keys ---------------------------------------------------------------------------------------


def test_a_key_is_the_plugin_and_16_hex_digits_of_the_secrets_sha256() -> None:
    key = budget.key("economic", SECRET)
    assert key.startswith("economic:") and len(key) == len("economic:") + 16
    assert SECRET not in key and "secret" not in key
    assert budget.key("economic", SECRET) == key != budget.key("economic", SECRET + "x")
    assert budget.plugin_of(key) == "economic"


def test_make_client_keeps_only_the_digest_of_the_rate_key() -> None:
    client = make_client(base_url="http://127.0.0.1:9", plugin="economic", rate_key=SECRET)
    assert client.rate_key == KEY
    assert SECRET not in repr(vars(client))
    client.close()
    assert make_client(base_url="http://127.0.0.1:9", plugin="economic").rate_key is None


def test_no_gate_is_installed_by_default_and_install_gives_back_the_previous() -> None:
    assert budget.installed() is None
    gate = MemoryGate({})
    assert isinstance(gate, RateGate)
    assert budget.install(gate) is None and budget.installed() is gate
    assert budget.install(None) is gate and budget.installed() is None


# -- the token bucket (both gates, on the test's clock) -----------------------------------------


def test_the_bucket_starts_full_refills_continuously_and_never_beyond_its_size(
    make_gate: GateMaker,
) -> None:
    clock = Clock()
    limit = Budget(400, 2)  # a burst of 4, then the other 396 over 2 s: 198 tokens a second
    assert limit.burst == 4 and limit.rate == 198
    gate = make_gate({"economic": limit}, clock)
    assert [gate.take(KEY, limit) for _ in range(4)] == [0.0] * 4
    assert gate.take(KEY, limit) == pytest.approx(1 / 198, rel=1e-3)  # the next token in 1/198 s
    clock.t = 0.5 / 198
    assert gate.take(KEY, limit) == pytest.approx(0.5 / 198, rel=1e-3)
    clock.t = 1 / 198
    assert gate.take(KEY, limit) == 0.0
    assert gate.take(KEY, limit) == pytest.approx(1 / 198, rel=1e-3)
    clock.t = 100.0  # a long quiet spell: full again, not more
    assert [gate.take(KEY, limit) for _ in range(5)][-2:] == [0.0, pytest.approx(1 / 198, rel=1e-3)]
    other = budget.key("economic", "another app")
    assert gate.take(other, limit) == 0.0  # each key its own bucket


@pytest.mark.parametrize(
    "limit", [Budget(1, 10), Budget(20, 2), Budget(99, 1), Budget(400, 2), Budget(9000, 60)]
)
def test_no_window_of_the_budgets_seconds_ever_holds_more_than_its_requests(
    make_gate: GateMaker, limit: Budget
) -> None:
    """Taken as fast as the bucket gives, after a quiet spell (the bucket full): the tokens
    taken in any window of ``seconds``, sliding or fixed, are at most ``requests``, and while
    busy the budget is used (to within a tenth here: a wait is at least a millisecond, and
    PostgreSQL's clock has microseconds)."""
    clock = Clock()
    gate = make_gate({"economic": limit}, clock)
    taken: list[float] = []
    horizon = 3 * limit.seconds
    while clock.t < horizon:
        wait = gate.take(KEY, limit)
        if wait <= 0:
            taken.append(clock.t)
        else:
            clock.t += wait
    start = 0
    for end, at in enumerate(taken):  # windows [at - seconds, at], closed: the tightest
        while taken[start] < at - limit.seconds - 1e-9:
            start += 1
        assert end - start + 1 <= max(limit.requests, 2 if limit.requests == 1 else 0), at
    in_first_window = sum(1 for t in taken if t < limit.seconds)
    assert in_first_window >= limit.requests * 0.9 - 1


def test_a_429_pauses_the_key_and_empties_its_bucket(make_gate: GateMaker) -> None:
    clock = Clock()
    limit = Budget(11, 1)  # a burst of 1, then 10 a second
    gate = make_gate({"economic": limit}, clock)
    assert gate.take(KEY, limit) == 0.0
    with capture_logs() as logs:
        gate.throttled(KEY, 3.0)
    assert logs[0]["key"] == KEY and SECRET not in repr(logs)
    clock.t = 2.5
    assert gate.take(KEY, limit) == pytest.approx(0.5)  # paused until 3 s
    gate.throttled(KEY, 0.1)  # a shorter pause does not shorten the longer one
    assert gate.take(KEY, limit) == pytest.approx(0.5)
    clock.t = 3.0
    assert gate.take(KEY, limit) == pytest.approx(0.1)  # empty: refills from the pause's end
    clock.t = 3.1
    assert gate.take(KEY, limit) == 0.0


def test_acquire_waits_for_a_token_and_gives_up_at_once_when_it_cannot_wait(
    make_gate: GateMaker,
) -> None:
    clock = Clock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.t += seconds

    gate = make_gate({"economic": Budget(1, 10)}, clock)
    gate._sleep = sleep
    assert gate.acquire(KEY) and slept == []
    assert gate.acquire(KEY) and 10.0 <= sum(slept) <= 11.0  # 10 s, plus up to 10 % jitter
    slept.clear()
    assert gate.acquire(KEY, wait_at_most=5.0) is False and slept == []
    assert gate.acquire("tripletex:0123456789abcdef", wait_at_most=0)  # no budget: no gate


def test_a_429_pauses_a_key_without_a_budget_too_which_then_passes_freely(
    make_gate: GateMaker,
) -> None:
    """A plugin without ``[limits.*]`` takes no token, but a 429 of its credential still pauses
    every user of the gate until its wait is over (issue 18: "a 429 slows every node using
    that credential")."""
    clock = Clock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.t += seconds

    tripletex = budget.key("norwegian_invoicing", "consumer-1")
    gate = make_gate({"economic": Budget(1, 60)}, clock)  # no budget for norwegian_invoicing
    gate._sleep = sleep
    assert gate.acquire(tripletex, wait_at_most=0) and slept == []  # no pause: at once
    with capture_logs() as logs:
        gate.throttled(tripletex, 3.0)
    assert logs[0]["key"] == tripletex
    clock.t = 1.0
    assert gate.acquire(tripletex, wait_at_most=1.0) is False and slept == []  # 2 s left
    assert gate.describe(tripletex) == f"the pause a 429 set on {tripletex} (no rate budget)"
    assert gate.acquire(tripletex) and 2.0 <= sum(slept) <= 2.2 + 1e-9  # waited the pause out
    slept.clear()
    for _ in range(50):  # then free again: no token taken, no wait
        assert gate.acquire(tripletex, wait_at_most=0)
    assert slept == []
    other = budget.key("norwegian_invoicing", "consumer-2")
    assert gate.acquire(other, wait_at_most=0)  # the pause was that credential's only


def test_the_postgresql_bucket_is_one_row_per_key_holding_no_secret(pg_db: Database) -> None:
    gate = PostgresGate(pg_db, {"economic": Budget(5, 1)})
    for _ in range(3):
        assert gate.acquire(KEY)
    gate.throttled(KEY, 0.01)
    with pg_db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM rate_buckets")).all()
    assert [row.key for row in rows] == [KEY]
    assert SECRET not in repr(rows)
    tokens, updated_at, paused_until = gate.bucket(KEY) or (None, None, None)
    assert tokens == 0 and paused_until is not None and updated_at >= paused_until


def test_install_for_picks_the_gate_of_the_database(db: Database) -> None:
    gate = install_for(db, {"economic": Budget(9000, 60)})
    assert budget.installed() is gate
    expected = PostgresGate if db.engine.dialect.name == "postgresql" else MemoryGate
    assert type(gate) is expected
    assert gate.describe(KEY) == f"the rate budget {KEY} (9000 requests per 60 s)"


# -- the HTTP client and the gate ----------------------------------------------------------------


def _fake_app(fake: FakeEconomic) -> str:
    fake.add_agreement(SECRET, "grant-1", "Firma 1 ApS")
    return SECRET


def _economic_client(fake: FakeEconomic, *, retry: RetryPolicy | None = None) -> HubHttpClient:
    return make_client(
        base_url="https://restapi.e-conomic.com",
        headers={"X-AppSecretToken": SECRET, "X-AgreementGrantToken": "grant-1"},
        transport=fake.transport(),
        plugin="economic",
        retry=retry or RetryPolicy(max_attempts=3, initial_backoff=0, max_backoff=0),
        sleep=lambda _s: None,
        rate_key=SECRET,
    )


def test_every_attempt_passes_the_gate_and_a_429s_wait_pauses_the_key() -> None:
    fake = FakeEconomic()
    _fake_app(fake)
    asked: list[tuple[str, str, float | None]] = []

    class Recording(MemoryGate):
        def acquire(self, key: str, *, wait_at_most: float | None = None) -> bool:
            asked.append(("acquire", key, wait_at_most))
            return True

        def throttled(self, key: str, seconds: float) -> None:
            asked.append(("throttled", key, seconds))

    budget.install(Recording({"economic": Budget(10, 1)}))
    fake.fail_next(Fault(status=429, retry_after=2))
    http = _economic_client(fake)
    with capture_logs() as logs:
        http.get("/self")
    assert asked == [("acquire", KEY, None), ("throttled", KEY, 2.0), ("acquire", KEY, None)]
    assert SECRET not in repr(logs)
    with deadline.within(30, "the deadline of the sync of 'acme'", "HUB_SYNC_DEADLINE"):
        http.get("/self")
    assert asked[-1][2] is not None and 29 < asked[-1][2] <= 30


def test_a_wait_for_the_budget_past_the_jobs_deadline_raises_naming_the_budget() -> None:
    fake = FakeEconomic()
    _fake_app(fake)
    budget.install(MemoryGate({"economic": Budget(1, 60)}))
    http = _economic_client(fake)
    http.get("/self")
    started = time.monotonic()
    with (
        deadline.within(5, "the deadline of the sync of 'acme'", "HUB_SYNC_DEADLINE"),
        pytest.raises(DeadlineError) as caught,
    ):
        http.get("/self")
    assert time.monotonic() - started < 1  # not waited for: it could not be in time
    message = str(caught.value)
    assert f"the rate budget {KEY} (1 requests per 60 s)" in message
    assert "the deadline of the sync of 'acme' of 5 s (HUB_SYNC_DEADLINE)" in message
    assert "GET https://restapi.e-conomic.com/self" in message and SECRET not in message
    assert len(fake.requests) == 1


def test_the_economic_plugin_draws_on_its_apps_budget_and_tripletex_on_its_consumers() -> None:
    from hub_economic.client import EconomicClient
    from hub_economic.settings import load_config as economic_config
    from hub_norwegian_invoicing.client import TripletexClient
    from hub_norwegian_invoicing.settings import load_config as tripletex_config

    economic = EconomicClient(
        economic_config({"app_secret_token": SECRET, "agreement_grant_token": "grant-1"})
    )
    assert economic.http.rate_key == budget.key("economic", SECRET)
    economic.close()
    tripletex = TripletexClient(
        tripletex_config(
            {"consumer_token": "consumer-1", "employee_token": "employee-1", "company_id": "0"}
        )
    )
    assert tripletex.http.rate_key == budget.key("norwegian_invoicing", "consumer-1")
    tripletex.close()


# -- the schedule file ---------------------------------------------------------------------------


def test_the_default_schedule_budgets_economic_under_its_10000_a_minute() -> None:
    from hub.daemon.schedules import load

    assert dict(load().limits) == {"economic": Budget(9000, 60)}
    assert dict(load(REPO / "schedules" / "default.toml").limits) == dict(load().limits)
    assert parse("", "s.toml").limits == {}


def test_the_defaults_commented_tripletex_budget_is_valid_when_uncommented() -> None:
    from hub.daemon.schedules import default_text

    text = default_text()
    example = text[text.index("# [limits.norwegian_invoicing]") :].split("\n\n", 1)[0]
    uncommented = re.sub(r"(?m)^# ?", "", example)
    assert parse(text + "\n" + uncommented, "copy.toml").limits["norwegian_invoicing"] == Budget(
        100, 60
    )


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[limits.economic]\nrequests = 0\nseconds = 60\n", "s.toml:2: limits.economic.requests: "),
        ("[limits.economic]\nrequests = 9\nseconds = 1.5\n", "s.toml:3: limits.economic.seconds: "),
        ('[limits.economic]\nrequests = "9"\nseconds = 1\n', "s.toml:2: limits.economic.requests"),
        ("[limits.economic]\nrequests = true\nseconds = 1\n", "s.toml:2: limits.economic.requests"),
        ("[limits.economic]\nrequests = 9\n", "s.toml:1: limits.economic: no seconds"),
        (
            "[limits.economic]\nrequests = 9\nseconds = 1\nburst = 2\n",
            "s.toml:4: limits.economic.burst: unknown key",
        ),
        ("[limits]\neconomic = 9000\n", "s.toml:2: limits.economic: must be a table"),
        ("limits = 1\n", "s.toml:1: limits: must be a table"),
    ],
)
def test_a_limits_table_is_checked_naming_file_line_and_key(text: str, error: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse(text, "s.toml")
    assert str(caught.value).startswith(error)


def test_a_limits_table_gives_each_plugin_its_budget() -> None:
    text = (
        "[limits.economic]\nrequests = 20\nseconds = 2\n"
        "[limits.norwegian_invoicing]\nrequests = 5\nseconds = 1\n"
    )
    assert dict(parse(text, "s.toml").limits) == {
        "economic": Budget(20, 2),
        "norwegian_invoicing": Budget(5, 1),
    }


# -- three processes, one app, one budget --------------------------------------------------------

WORKERS = 3
PER_WORKER = 25
LIMIT = Budget(20, 2)  # a burst of 1, then 19 over 2 s: never more than 20 in any 2 s
PAUSE = 2  # the Retry-After of the 429 injected mid-run


@pytest.mark.postgres
def test_three_processes_sharing_one_app_keep_to_its_budget_and_pause_on_a_429(
    pg_url: str,
) -> None:
    """Three processes, each its own database connection, gate and plugin client (a hub client
    of one e-conomic app each: three agreements), hammer the fake e-conomic. Counted at the fake:
    the app's requests keep to the budget (never more than 20 in any 2 s); after one process
    gets a 429
    saying wait 2 s, no process's request arrives until it is over; all the work is done.

    Three ``python -m tests.rate_budget_worker`` processes rather than three ``hub sync``: the
    gate is what is under test, and ``hub sync`` installs none (only the daemons do); each
    worker builds its client as the e-conomic plugin does, so the plugin's ``rate_key`` is the
    one exercised."""
    fake = FakeEconomic(rate_limit_per="app")
    for i in range(WORKERS):
        fake.add_agreement(SECRET, f"grant-{i}", f"Firma {i} ApS")
    server = EconomicServer(fake).start()
    env = {**os.environ, "HUB_LOG_LEVEL": "warning"}
    start_at = time.time() + 3.0  # after every interpreter has started
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.rate_budget_worker",
                pg_url,
                server.url,
                SECRET,
                f"grant-{i}",
                str(PER_WORKER),
                str(LIMIT.requests),
                str(LIMIT.seconds),
                str(start_at),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(WORKERS)
    ]
    try:
        # Once a third of the work is done, the next request gets a 429 (Retry-After: 2).
        total = WORKERS * PER_WORKER
        while len(fake.request_times.get(SECRET, [])) < total // 3:
            assert all(w.poll() is None for w in workers), "a worker ended early"
            time.sleep(0.01)
        fake.fail_next(Fault(status=429, retry_after=PAUSE))
        outputs = [w.communicate(timeout=60) for w in workers]
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        server.stop()
    for w, (out, err) in zip(workers, outputs, strict=True):
        assert w.returncode == 0, err.decode()
        assert json.loads(out.decode().strip().splitlines()[-1])["done"] == PER_WORKER

    times = sorted(fake.request_times[SECRET])
    assert len(times) == WORKERS * PER_WORKER + 1  # every request, and the one refused
    by_agreement = {r.headers["x-agreementgranttoken"] for r in fake.requests}
    assert by_agreement == {f"grant-{i}" for i in range(WORKERS)}

    # The budget's promise: no 2 s hold more than 20 requests (one of slack: a request's
    # arrival is a little later than its token, by an unequal delay).
    for i, first in enumerate(times):
        held = sum(1 for t in times[i:] if t - first <= LIMIT.seconds)
        assert held <= LIMIT.requests + 1, f"{held} requests in the {LIMIT.seconds} s from {first}"
    # The 429: nothing from any process until its Retry-After is over (the requests already
    # past the gate when it came may arrive just after it).
    refused = [r for r in fake.requests if r.status == 429]
    assert len(refused) == 1
    at = refused[0].at
    during = [t - at for t in times if at + 0.3 < t < at + PAUSE - 0.02]
    assert during == [], f"requests during the pause, seconds after the 429: {during}"
    after = [t for t in times if t >= at + PAUSE - 0.02]
    assert after, "the work went on after the pause"
    # Every process resumed after it.
    resumed = {
        r.headers["x-agreementgranttoken"] for r in fake.requests if r.at >= at + PAUSE - 0.02
    }
    assert resumed == {f"grant-{i}" for i in range(WORKERS)}


# -- the daemon installs the gate ----------------------------------------------------------------


def test_the_daemon_installs_the_schedules_budgets_after_its_lease_and_removes_them_on_stop(
    db: Database,
) -> None:
    from hub.clock import Clock
    from hub.daemon.scheduler import Daemon
    from hub.operations.context import Actor, Context, Services
    from hub.plugins import load_plugins
    from hub.secrets import SecretBox

    ctx = Context(Services(db, load_plugins(), SecretBox()), Actor("tester"), Clock())
    text = '[jobs.sync]\ntrigger = "interval"\nhours = 1\n'
    text += "[limits.economic]\nrequests = 20\nseconds = 2\n"
    text += "[limits.tripletex]\nrequests = 20\nseconds = 2\n"  # not a plugin: a warning
    text += "[distributed.queues]\nvisma = 2\n"  # not read by the plain daemon: no warning
    daemon = Daemon(ctx, parse(text, "test.toml"))
    with capture_logs() as logs:
        daemon.start()
    try:
        unknown = [e for e in logs if "names no installed plugin" in e["event"]]
        assert [(e["event"], e["unknown"]) for e in unknown] == [
            ("[limits.*] names no installed plugin: no rate budget applies to it", ["tripletex"])
        ]
        assert unknown[0]["log_level"] == "warning" and "economic" in unknown[0]["plugins"]
        gate = budget.installed()
        expected = PostgresGate if db.engine.dialect.name == "postgresql" else MemoryGate
        assert type(gate) is expected
        assert isinstance(gate, MemoryGate | PostgresGate)
        assert dict(gate.limits) == {"economic": Budget(20, 2), "tripletex": Budget(20, 2)}
    finally:
        daemon.request_stop()
        daemon.stop()
    assert budget.installed() is None
