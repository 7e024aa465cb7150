"""The daemon's /healthz and /metrics over real HTTP on loopback, against the real database.

The process-wide counters (job runs, API requests) live in prometheus_client's default
registry and so carry over between tests: they are compared before and after, never absolutely.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from hub import clients
from hub.daemon.health import HealthServer
from hub.daemon.metrics import observe_run
from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import RemoteRequestError, RemoteServerError
from hub.secrets import SecretBox
from hub.testing.fakes.http import FakeHttpServer
from hub.toolkit.http import RetryPolicy, make_client
from tests.helpers import add_client_with_plugin, registry_with
from tests.sample_plugins import RecordingPlugin

SECRET_TOKEN = "tok-9f3a-very-secret"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


# -- helpers ---------------------------------------------------------------------------------


class Probe:
    """What the health server asks: is the scheduler alive?"""

    def __init__(self) -> None:
        self.alive = True

    def __call__(self) -> bool:
        return self.alive


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest.fixture
def server(db: Database, probe: Probe) -> Iterator[HealthServer]:
    health = HealthServer(db, probe, port=0).start()
    yield health
    health.stop()


def get(server: HealthServer, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{server.port}{path}", timeout=10)


def scrape(server: HealthServer) -> Samples:
    response = get(server, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def add_client(db: Database, name: str) -> int:
    with db.session() as session:
        return clients.add_client(session, name, "DK").id


def add_run(
    db: Database, client_id: int, *, job: str, outcome: str, finished: dt.datetime | None
) -> None:
    with db.session() as session:
        started = (finished or dt.datetime.now(dt.UTC)) - dt.timedelta(seconds=30)
        session.add(
            t.JobRun(
                job=job,
                client_id=client_id,
                started_at=started,
                finished_at=finished,
                outcome=outcome,
            )
        )


def add_case(db: Database, client_id: int, *, stage: str, state: str) -> int:
    with db.session() as session:
        case = t.Case(client_id=client_id, customer_number="C1", stage=stage, state=state)
        session.add(case)
        session.flush()
        return case.id


def add_message(db: Database, client_id: int, case_id: int, *, step: int, status: str) -> None:
    with db.session() as session:
        session.add(
            t.Message(
                client_id=client_id,
                case_id=case_id,
                kind="reminder",
                stage="reminder",
                round=1,
                step=step,
                created_on=dt.date(2025, 3, 1),
                fee=Decimal("100.00"),
                fee_currency="DKK",
                language="da",
                recipient_name="Kunde A/S",
                subject="Rykker",
                body="Betal venligst.",
                status=status,
            )
        )


def broken_url(url: str, tmp_path: Path) -> str:
    """A URL of the same kind as ``url`` where no database answers."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        directory = tmp_path / "not-a-database"
        directory.mkdir()
        return f"sqlite:///{directory}"  # a directory: SQLite cannot open it
    return parsed.set(host="127.0.0.1", port=1).render_as_string(hide_password=False)


# -- /healthz --------------------------------------------------------------------------------


def test_healthz_gives_each_clients_last_successful_sync_and_its_age(
    db: Database, server: HealthServer, box: SecretBox
) -> None:
    registry = registry_with(RecordingPlugin("alpha"))
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": SECRET_TOKEN})
    bolt = add_client(db, "bolt")  # synced: its last good sync counts, nothing else does
    fresh = add_client(db, "fresh")  # only failed syncs and other jobs: never synced
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    last_ok = now - dt.timedelta(minutes=10)
    add_run(db, bolt, job="sync", outcome="ok", finished=now - dt.timedelta(hours=3))
    add_run(db, bolt, job="sync", outcome="ok", finished=last_ok)
    add_run(db, bolt, job="sync", outcome="failed", finished=now - dt.timedelta(minutes=1))
    add_run(db, bolt, job="sync", outcome="running", finished=None)
    add_run(db, bolt, job="recurring", outcome="ok", finished=now)
    add_run(db, fresh, job="sync", outcome="failed", finished=now)
    add_run(db, fresh, job="postings", outcome="ok", finished=now)

    response = get(server, "/healthz")

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    report = response.json()
    assert report["status"] == "ok"
    assert report["scheduler"] == {"alive": True}
    assert report["database"] == {"reachable": True, "error": None}
    assert set(report["clients"]) == {"acme", "bolt", "fresh"}
    assert report["clients"]["acme"] == {"last_successful_sync": None, "age_seconds": None}
    assert report["clients"]["fresh"] == {"last_successful_sync": None, "age_seconds": None}
    bolt = report["clients"]["bolt"]
    assert dt.datetime.fromisoformat(bolt["last_successful_sync"]) == last_ok
    assert 600 <= bolt["age_seconds"] < 660
    assert SECRET_TOKEN not in response.text
    assert "api_token" not in response.text


def test_healthz_is_503_when_the_scheduler_is_not_alive(
    db: Database, server: HealthServer, probe: Probe
) -> None:
    add_client(db, "acme")
    probe.alive = False

    response = get(server, "/healthz")

    assert response.status_code == 503
    report = response.json()
    assert report["status"] == "unhealthy"
    assert report["scheduler"] == {"alive": False}
    assert report["database"] == {"reachable": True, "error": None}
    assert report["clients"] == {"acme": {"last_successful_sync": None, "age_seconds": None}}

    probe.alive = True
    assert get(server, "/healthz").status_code == 200


def test_healthz_is_503_and_metrics_say_database_down_when_no_database_answers(
    db_url: str, tmp_path: Path
) -> None:
    gone = Database(broken_url(db_url, tmp_path), check_schema=False)
    health = HealthServer(gone, lambda: True).start()
    try:
        response = get(health, "/healthz")
        assert response.status_code == 503
        report = response.json()
        assert report["status"] == "unhealthy"
        assert report["scheduler"] == {"alive": True}
        assert report["database"]["reachable"] is False
        assert report["database"]["error"]
        assert report["clients"] == {}

        samples = scrape(health)  # a scrape still answers, with the database marked down
        assert value(samples, "hub_database_up") == 0
        assert not any(name == "hub_open_cases" for name, _ in samples)
    finally:
        health.stop()
        gone.dispose()


def test_healthz_turns_503_when_the_sqlite_database_goes_away(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite3"
    db = Database(f"sqlite:///{path}")
    add_client(db, "acme")
    health = HealthServer(db, lambda: True).start()
    try:
        assert get(health, "/healthz").status_code == 200
        assert value(scrape(health), "hub_database_up") == 1

        db.dispose()
        for leftover in tmp_path.glob("hub.sqlite3*"):
            leftover.unlink()
        path.mkdir()  # where the database was, SQLite now finds a directory

        response = get(health, "/healthz")
        assert response.status_code == 503
        assert response.json()["database"]["reachable"] is False
        assert "unable to open database file" in response.json()["database"]["error"]
        assert value(scrape(health), "hub_database_up") == 0
    finally:
        health.stop()
        db.dispose()
        shutil.rmtree(path, ignore_errors=True)


# -- /metrics --------------------------------------------------------------------------------


def test_metrics_show_open_cases_messages_and_last_syncs_per_client(
    db: Database, server: HealthServer
) -> None:
    acme = add_client(db, "acme")
    bolt = add_client(db, "bolt")
    add_client(db, "fresh")
    first = add_case(db, acme, stage="reminder", state="active")
    add_case(db, acme, stage="reminder", state="paused")
    add_case(db, acme, stage="collection", state="active")
    add_case(db, acme, stage="invoice", state="closed")
    add_case(db, bolt, stage="invoice", state="active")
    for step, status in enumerate(["queued", "queued", "sent", "failed", "cancelled"]):
        add_message(db, acme, first, step=step, status=status)
    synced = dt.datetime(2025, 3, 1, 12, 30, 15, tzinfo=dt.UTC)
    add_run(db, acme, job="sync", outcome="ok", finished=synced)
    add_run(db, acme, job="sync", outcome="failed", finished=synced + dt.timedelta(hours=2))

    samples = scrape(server)

    assert value(samples, "hub_database_up") == 1
    open_cases = {
        dict(labels)["client"] + "/" + dict(labels)["stage"]: n
        for (name, labels), n in samples.items()
        if name == "hub_open_cases"
    }
    assert open_cases == {
        "acme/invoice": 0,
        "acme/reminder": 2,
        "acme/collection": 1,
        "bolt/invoice": 1,
        "bolt/reminder": 0,
        "bolt/collection": 0,
        "fresh/invoice": 0,
        "fresh/reminder": 0,
        "fresh/collection": 0,
    }
    assert value(samples, "hub_messages", client="acme", status="queued") == 2
    assert value(samples, "hub_messages", client="acme", status="sending") == 0
    assert value(samples, "hub_messages", client="acme", status="sent") == 1
    assert value(samples, "hub_messages", client="acme", status="failed") == 1
    assert value(samples, "hub_messages", client="acme", status="cancelled") == 1
    assert value(samples, "hub_messages", client="bolt", status="queued") == 0
    last_syncs = {
        dict(labels)["client"]: at
        for (name, labels), at in samples.items()
        if name == "hub_last_successful_sync_timestamp_seconds"
    }
    assert last_syncs == {"acme": synced.timestamp()}  # never synced: no sample


def test_a_finished_run_moves_the_job_and_sync_counters(server: HealthServer) -> None:
    plugin = f"plug-{uuid.uuid4().hex[:8]}"
    before = scrape(server)

    observe_run("sync", "ok", 1.5, plugin=plugin)
    observe_run("sync", "failed", 0.02, plugin=plugin)
    observe_run("recurring", "ok", 4000.0)

    after = scrape(server)

    def moved(name: str, **labels: str) -> float:
        return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)

    assert moved("hub_job_runs_total", job="sync", outcome="ok") == 1
    assert moved("hub_job_runs_total", job="sync", outcome="failed") == 1
    assert moved("hub_job_runs_total", job="recurring", outcome="ok") == 1
    assert moved("hub_syncs_total", plugin=plugin, outcome="ok") == 1
    assert moved("hub_syncs_total", plugin=plugin, outcome="failed") == 1
    assert moved("hub_job_duration_seconds_count", job="sync") == 2
    assert moved("hub_job_duration_seconds_sum", job="sync") == pytest.approx(1.52)
    assert moved("hub_job_duration_seconds_bucket", job="sync", le="0.05") == 1
    assert moved("hub_job_duration_seconds_bucket", job="sync", le="1.0") == 1
    assert moved("hub_job_duration_seconds_bucket", job="sync", le="2.5") == 2
    assert moved("hub_job_duration_seconds_bucket", job="recurring", le="1800.0") == 0
    assert moved("hub_job_duration_seconds_bucket", job="recurring", le="+Inf") == 1


# -- API requests and retries ----------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class ScriptedApi:
    """Answers each path with its scripted statuses in turn; the last one repeats."""

    def __init__(self, scripts: dict[str, list[int]]) -> None:
        self.scripts = scripts
        self.lock = threading.Lock()

    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes, base_url: str, /
    ) -> _Answer:
        with self.lock:
            script = self.scripts[path]
            status = script.pop(0) if len(script) > 1 else script[0]
        extra = {"Retry-After": "0"} if status in (429, 503) else {}
        return _Answer(status, {"Content-Type": "application/json", **extra}, b"{}")


def api_count(plugin: str, method: str, status: str) -> float:
    labels = {"plugin": plugin, "method": method, "status": status}
    return REGISTRY.get_sample_value("hub_api_requests_total", labels) or 0.0


def retry_count(plugin: str) -> float:
    return REGISTRY.get_sample_value("hub_api_retries_total", {"plugin": plugin}) or 0.0


def test_api_requests_and_retries_are_counted_per_attempt() -> None:
    plugin = f"api-{uuid.uuid4().hex[:8]}"
    policy = RetryPolicy(max_attempts=3, initial_backoff=0, max_backoff=0)
    api = ScriptedApi({"/ok": [200], "/busy": [503, 429, 200], "/gone": [404]})
    with (
        FakeHttpServer(api) as fake,
        make_client(base_url=fake.url, plugin=plugin, retry=policy, sleep=lambda _: None) as http,
    ):
        http.get("/ok")
        assert (api_count(plugin, "GET", "200"), retry_count(plugin)) == (1, 0)

        http.get("/busy")
        assert api_count(plugin, "GET", "503") == 1
        assert api_count(plugin, "GET", "429") == 1
        assert api_count(plugin, "GET", "200") == 2
        assert retry_count(plugin) == 2

        with pytest.raises(RemoteRequestError, match="HTTP 404"):
            http.get("/gone")
        assert api_count(plugin, "GET", "404") == 1
        assert retry_count(plugin) == 2  # a 404 is not retried


def test_a_request_without_an_answer_counts_as_error() -> None:
    plugin = f"api-{uuid.uuid4().hex[:8]}"
    policy = RetryPolicy(max_attempts=2, initial_backoff=0, max_backoff=0)
    with make_client(
        base_url="http://127.0.0.1:1", plugin=plugin, retry=policy, sleep=lambda _: None
    ) as http:
        with pytest.raises(RemoteServerError):
            http.get("/anything")
        assert api_count(plugin, "GET", "error") == 2
        assert retry_count(plugin) == 1


# -- other paths and methods -----------------------------------------------------------------


def test_unknown_paths_are_404_and_other_methods_405(server: HealthServer) -> None:
    base = f"http://127.0.0.1:{server.port}"
    missing = httpx.get(f"{base}/nope", timeout=10)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/plain")

    assert httpx.get(f"{base}/healthz?verbose=1", timeout=10).status_code == 200
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        refused = httpx.request(method, f"{base}/healthz", timeout=10)
        assert refused.status_code == 405, method
        assert refused.headers["allow"] == "GET"
    assert httpx.head(f"{base}/metrics", timeout=10).status_code == 405


# -- slow clients ----------------------------------------------------------------------------


def test_slow_clients_are_dropped_threads_stay_bounded_and_healthz_still_answers(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Clients that connect and never finish their request (a stuck prober, a slowloris) are
    dropped after the timeout; however many there are, the server serves a bounded number at
    once (one more is answered 503 at once), and /healthz is answered again within the timeout."""
    from hub.daemon import health as health_module

    monkeypatch.setattr(health_module, "TIMEOUT", 1.0, raising=False)
    monkeypatch.setattr(health_module, "MAX_CONNECTIONS", 4, raising=False)
    health = HealthServer(db, lambda: True).start()
    before = threading.active_count()
    slow: list[socket.socket] = []
    try:
        for _ in range(60):
            conn = socket.create_connection((health.host, health.port), timeout=10)
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # the request never ends
            slow.append(conn)
        time.sleep(0.5)
        assert threading.active_count() - before <= 4, "a thread per slow connection"
        for conn in slow:  # each is answered 503 (too many) or dropped by the 1 s timeout
            received = b""
            try:
                while chunk := conn.recv(4096):
                    received += chunk
            except TimeoutError:  # the socket's own 10 s, ten times the server's timeout
                pytest.fail("a slow connection was held past the server's 1 s timeout")
            assert received in (b"",) or received.startswith(b"HTTP/1.0 503"), received[:80]
        deadline = time.monotonic() + 30
        while (response := get(health, "/healthz")).status_code != 200:
            assert time.monotonic() < deadline, response.text
            time.sleep(0.1)
        assert response.json()["status"] == "ok"
    finally:
        for conn in slow:
            conn.close()
        health.stop()
