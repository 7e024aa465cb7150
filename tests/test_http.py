"""hub.toolkit.http against a real scripted HTTP server on 127.0.0.1 (no mocks of our own code).

Retry waits go to a recording ``sleep`` instead of :func:`time.sleep`, so the tests assert what
would have been slept without sleeping it.
"""

from __future__ import annotations

import dataclasses
import email.utils
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sqlalchemy as sa
from structlog.testing import capture_logs

from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import (
    AuthError,
    DeadlineError,
    InputError,
    InvalidDataError,
    RemoteRequestError,
    RemoteServerError,
    ThrottledError,
)
from hub.plugins import get_registry
from hub.secrets import SecretBox
from hub.sync import SyncFailed
from hub.toolkit import deadline
from hub.toolkit.http import HubHttpClient, RetryPolicy, make_client, parse_retry_after
from tests import helpers
from tests.helpers import add_client_with_plugin

READ_TIMEOUT = 0.5
#: How long a stalled or trickling server keeps a request waiting: far longer than a request
#: that gives up on it takes even on a loaded machine, so "it did not wait" is asserted as
#: "it ended in less than half of this" (timing figures are bench/'s, not the tests').
STALL = 60.0
#: The client's read timeout where a server trickles a byte every 0.2 s: that must never trip
#: it (a deadline must end the exchange), even when a loaded machine delays a byte.
TRICKLE_READ_TIMEOUT = 5.0
POLICY = RetryPolicy(max_attempts=4, initial_backoff=0.01, max_backoff=0.05, max_retry_after=60)
OK_BODY = b'{"ok": true}'


# -- the scripted server ---------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One scripted answer. ``hang``: seconds to stall first; ``drop``: close without answering."""

    status: int = 200
    body: bytes = OK_BODY
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    hang: float = 0.0
    drop: bool = False


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class ScriptedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.scripts: dict[str, list[Reply]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.release = threading.Event()  # set on teardown so hanging handlers end at once

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, path: str, *replies: Reply) -> None:
        """Answer requests to ``path`` with ``replies`` in turn; the last one repeats."""
        self.scripts[path] = list(replies)

    def requests_to(self, path: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.path == path]

    def next_reply(self, seen: Seen) -> Reply:
        with self.lock:
            self.seen.append(seen)
            replies = self.scripts.get(seen.path)
            if not replies:
                return Reply(status=404, body=b'{"message": "no script"}')
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hung up on a stalled handler: expected, keep test output clean


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ScriptedServer

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, self.path.split("?", 1)[0], dict(self.headers.items()), body)
        reply = self.server.next_reply(seen)
        if reply.hang:
            self.server.release.wait(reply.hang)
        if reply.drop:
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    srv = ScriptedServer()
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield srv
    srv.release.set()
    srv.shutdown()
    srv.server_close()
    thread.join(timeout=5)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(server: ScriptedServer, sleeps: list[float]) -> Iterator[HubHttpClient]:
    with make_client(
        base_url=server.base_url,
        plugin="e-conomic",
        timeout=READ_TIMEOUT,
        retry=POLICY,
        sleep=sleeps.append,
    ) as c:
        yield c


# -- reads -----------------------------------------------------------------------------------


def test_get_returns_parsed_json(server: ScriptedServer, client: HubHttpClient) -> None:
    server.script("/customers", Reply(body=b'{"collection": [{"customerNumber": 1}]}'))

    response = client.get("/customers", params={"pagesize": 100})

    assert response.status_code == 200
    assert client.json(response) == {"collection": [{"customerNumber": 1}]}
    assert [s.method for s in server.requests_to("/customers")] == ["GET"]


def test_get_retried_on_5xx_until_success(
    server: ScriptedServer, client: HubHttpClient, sleeps: list[float]
) -> None:
    server.script("/invoices", Reply(status=503), Reply(status=500), Reply())

    with capture_logs() as logs:
        response = client.get("/invoices")

    assert response.status_code == 200
    assert len(server.requests_to("/invoices")) == 3
    assert len(sleeps) == 2
    assert all(0 <= w <= POLICY.max_backoff for w in sleeps)  # jittered backoff, capped
    attempts = [e for e in logs if e["event"] == "http.request"]
    assert [(e["attempt"], e["status"]) for e in attempts] == [(1, 503), (2, 500), (3, 200)]
    assert all(e["method"] == "GET" and e["path"] == "/invoices" for e in attempts)
    assert all(isinstance(e["duration_ms"], float) for e in attempts)


def test_retry_after_seconds_is_honoured(
    server: ScriptedServer, client: HubHttpClient, sleeps: list[float]
) -> None:
    server.script("/throttled", Reply(status=429, headers={"Retry-After": "2"}), Reply())

    assert client.get("/throttled").status_code == 200

    assert sleeps == [2.0]
    assert len(server.requests_to("/throttled")) == 2


def test_retry_after_http_date_is_honoured(
    server: ScriptedServer, client: HubHttpClient, sleeps: list[float]
) -> None:
    # Whole seconds: the wait is at most 30 s, and less only by the time the request took.
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    server.script("/throttled", Reply(status=503, headers={"Retry-After": when}), Reply())

    assert client.get("/throttled").status_code == 200

    assert len(sleeps) == 1
    assert 15 < sleeps[0] <= 30.0


def test_retry_after_above_cap_raises_throttled_at_once(
    server: ScriptedServer, client: HubHttpClient, sleeps: list[float]
) -> None:
    server.script("/throttled", Reply(status=429, headers={"Retry-After": "120"}), Reply())

    with pytest.raises(ThrottledError) as info:
        client.get("/throttled")

    assert sleeps == []  # raised at once: the 120 s were not waited
    assert len(server.requests_to("/throttled")) == 1
    assert info.value.retry_after == 120.0
    assert info.value.plugin == "e-conomic"
    assert "GET /throttled" in str(info.value) and "429" in str(info.value)


def test_a_named_throttle_header_is_the_wait_on_a_429_only(
    server: ScriptedServer, sleeps: list[float]
) -> None:
    """Tripletex says how long a 429 lasts in X-Rate-Limit-Reset, and sends it on every answer:
    a policy that names it waits that long on a 429, and backs off as usual on a 503."""
    policy = dataclasses.replace(POLICY, throttle_reset_headers=("X-Rate-Limit-Reset",))
    reset = {"X-Rate-Limit-Reset": "4"}
    server.script("/t", Reply(status=429, headers=reset), Reply(status=503, headers=reset), Reply())
    with make_client(base_url=server.base_url, retry=policy, sleep=sleeps.append) as c:
        assert c.get("/t").status_code == 200
    assert sleeps[0] == 4.0
    assert sleeps[1] <= POLICY.max_backoff and len(sleeps) == 2
    server.script("/long", Reply(status=429, headers={"X-Rate-Limit-Reset": "120"}))
    with (
        make_client(base_url=server.base_url, retry=policy, sleep=sleeps.append) as c,
        pytest.raises(ThrottledError) as info,
    ):
        c.get("/long")
    assert info.value.retry_after == 120.0 and len(server.requests_to("/long")) == 1


def test_throttled_until_attempts_run_out(
    server: ScriptedServer, client: HubHttpClient, sleeps: list[float]
) -> None:
    server.script("/throttled", Reply(status=429, headers={"Retry-After": "1"}))

    with pytest.raises(ThrottledError) as info:
        client.get("/throttled")

    assert len(server.requests_to("/throttled")) == POLICY.max_attempts
    assert sleeps == [1.0] * (POLICY.max_attempts - 1)
    assert info.value.retry_after == 1.0
    assert f"after {POLICY.max_attempts} attempts" in str(info.value)


def test_always_500_raises_remote_server_error_after_all_attempts(
    server: ScriptedServer, client: HubHttpClient, sleeps: list[float]
) -> None:
    server.script("/broken", Reply(status=500, body=b'{"message": "boom"}'))

    with pytest.raises(RemoteServerError) as info:
        client.get("/broken")

    assert len(server.requests_to("/broken")) == POLICY.max_attempts
    assert len(sleeps) == POLICY.max_attempts - 1
    message = str(info.value)
    assert "e-conomic" in message and "GET /broken" in message and "HTTP 500" in message
    assert info.value.plugin == "e-conomic"


def test_read_timeout_is_retried_then_succeeds(
    server: ScriptedServer, client: HubHttpClient
) -> None:
    server.script("/slow", Reply(hang=STALL), Reply())  # released at teardown

    started = time.monotonic()
    with capture_logs() as logs:
        response = client.get("/slow")

    assert response.status_code == 200
    assert time.monotonic() - started < STALL / 2  # gave up on the stall, did not wait it out
    assert len(server.requests_to("/slow")) == 2
    first = next(e for e in logs if e["event"] == "http.request")
    assert first["error"] == "ReadTimeout" and first["status"] is None


def test_dropped_connection_is_retried_then_succeeds(
    server: ScriptedServer, client: HubHttpClient
) -> None:
    server.script("/flaky", Reply(drop=True), Reply())

    assert client.get("/flaky").status_code == 200
    assert len(server.requests_to("/flaky")) == 2


def test_unreachable_server_raises_remote_server_error(sleeps: list[float]) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        make_client(
            base_url=f"http://127.0.0.1:{port}",
            plugin="tripletex",
            retry=POLICY,
            sleep=sleeps.append,
        ) as c,
        pytest.raises(RemoteServerError) as info,
    ):
        c.get("/v2/customer")

    assert "tripletex: GET /v2/customer" in str(info.value)
    assert "ConnectError" in str(info.value)
    assert len(sleeps) == POLICY.max_attempts - 1


# -- writes ----------------------------------------------------------------------------------


def test_post_without_idempotency_key_is_tried_once(
    server: ScriptedServer, client: HubHttpClient, sleeps: list[float]
) -> None:
    server.script("/vouchers", Reply(status=500), Reply(status=201))

    with pytest.raises(RemoteServerError) as info:
        client.request("POST", "/vouchers", json={"amount": "100.00"})

    assert len(server.requests_to("/vouchers")) == 1
    assert sleeps == []
    assert "POST /vouchers" in str(info.value) and "HTTP 500" in str(info.value)


@pytest.mark.parametrize(
    ("reply", "error"),
    [(Reply(drop=True), RemoteServerError), (Reply(status=429), ThrottledError)],
    ids=["dropped-connection", "throttled"],
)
def test_post_without_key_is_not_retried_on_lost_answer_or_throttling(
    server: ScriptedServer, client: HubHttpClient, reply: Reply, error: type[Exception]
) -> None:
    server.script("/vouchers", reply, Reply(status=201))

    with pytest.raises(error):
        client.request("POST", "/vouchers", json={"amount": "100.00"})

    assert len(server.requests_to("/vouchers")) == 1


def test_post_with_idempotency_key_is_retried_with_the_same_key(
    server: ScriptedServer, client: HubHttpClient
) -> None:
    server.script("/vouchers", Reply(status=500), Reply(status=201, body=b'{"voucherNumber": 7}'))

    response = client.request(
        "POST", "/vouchers", json={"amount": "100.00"}, idempotency_key="writeoff:42"
    )

    assert client.json(response) == {"voucherNumber": 7}
    seen = server.requests_to("/vouchers")
    assert len(seen) == 2
    assert [s.headers["Idempotency-Key"] for s in seen] == ["writeoff:42", "writeoff:42"]
    assert seen[0].body == seen[1].body
    assert json.loads(seen[0].body) == {"amount": "100.00"}


# -- final error mapping ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_raise_auth_error_without_retry(
    server: ScriptedServer, client: HubHttpClient, sleeps: list[float], status: int
) -> None:
    server.script("/self", Reply(status=status, body=b'{"message": "bad token"}'))

    with pytest.raises(AuthError) as info:
        client.get("/self")

    assert len(server.requests_to("/self")) == 1
    assert sleeps == []
    message = str(info.value)
    assert "refused the credentials" in message and f"HTTP {status}" in message
    assert "e-conomic: GET /self" in message


def test_404_raises_remote_request_error_with_body_excerpt(
    server: ScriptedServer, client: HubHttpClient
) -> None:
    body = json.dumps({"errorCode": "E04300", "message": "Customer not found" + " x" * 500})
    server.script("/customers/9", Reply(status=404, body=body.encode()))

    with pytest.raises(RemoteRequestError) as info:
        client.get("/customers/9")

    message = str(info.value)
    assert "GET /customers/9" in message and "HTTP 404" in message and "E04300" in message
    assert len(message) < 400  # an excerpt, not the whole body
    assert len(server.requests_to("/customers/9")) == 1


def test_raise_for_status_false_returns_4xx_for_vendor_mapping(
    server: ScriptedServer, client: HubHttpClient
) -> None:
    server.script("/customers/9", Reply(status=404, body=b'{"errorCode": "E04300"}'))

    response = client.get("/customers/9", raise_for_status=False)

    assert response.status_code == 404
    assert client.json(response) == {"errorCode": "E04300"}
    with pytest.raises(RemoteRequestError):
        client.raise_for_status(response)  # the fallback a plugin uses after its own mapping


def test_invalid_json_raises_invalid_data_error_naming_the_url(
    server: ScriptedServer, client: HubHttpClient
) -> None:
    server.script("/customers", Reply(body=b"<html>maintenance</html>", content_type="text/html"))
    response = client.get("/customers", params={"token": "query-secret"})

    with pytest.raises(InvalidDataError) as info:
        client.json(response)

    assert info.value.where == f"{server.base_url}/customers"
    assert "not valid JSON" in str(info.value)
    assert "query-secret" not in str(info.value) and "maintenance" not in str(info.value)


# -- logging and lifecycle -------------------------------------------------------------------


def test_secret_headers_and_query_never_logged(server: ScriptedServer, sleeps: list[float]) -> None:
    server.script("/customers", Reply(status=503), Reply())
    secrets = ["app-secret-1", "grant-token-2", "Basic dXNlcjpwdw==", "api-id-3", "call-tok-4"]
    with (
        capture_logs() as logs,
        make_client(
            base_url=server.base_url,
            plugin="e-conomic",
            headers={
                "X-AppSecretToken": secrets[0],
                "X-AgreementGrantToken": secrets[1],
                "Authorization": secrets[2],
                "X-Api-Id": secrets[3],
                "Accept-Language": "da",
            },
            secret_headers=["x-api-id"],
            retry=POLICY,
            sleep=sleeps.append,
        ) as c,
    ):
        c.request(
            "GET", "/customers", params={"apikey": "query-secret"}, headers={"X-Token": secrets[4]}
        )

    seen = server.requests_to("/customers")
    assert len(seen) == 2 and seen[0].headers["X-AppSecretToken"] == secrets[0]  # really sent
    text = repr(logs)
    for secret in [*secrets, "query-secret"]:
        assert secret not in text
    attempts = [e for e in logs if e["event"] == "http.request"]
    assert [e["attempt"] for e in attempts] == [1, 2]
    assert attempts[0]["headers"]["x-api-id"] == "[redacted]"
    assert attempts[0]["headers"]["accept-language"] == "da"  # headers are logged, redacted
    assert all(e["path"] == "/customers" for e in attempts)


def test_closed_client_refuses_requests(server: ScriptedServer) -> None:
    server.script("/customers", Reply())
    with make_client(base_url=server.base_url, retry=POLICY) as c:
        assert c.get("/customers").status_code == 200

    with pytest.raises(RuntimeError):
        c.get("/customers")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2.0),
        (" 0.5 ", 0.5),
        ("-3", 0.0),
        ("Wed, 01 Jan 2025 00:00:10 GMT", 10.0),
        ("Wed, 01 Jan 2025 00:01:00 -0000", 60.0),
        ("Tue, 31 Dec 2024 23:59:00 GMT", 0.0),  # in the past
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime(2025, 1, 1, tzinfo=UTC)
    assert parse_retry_after(value, now=now) == expected


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "1e3", "1_000", "9" * 400])
def test_a_retry_after_that_is_no_plain_number_is_no_wait(value: str) -> None:
    """Delta-seconds are read like every number the hub is given (hub.clock.duration_seconds),
    so a server's ``inf`` or ``1e3`` falls back to the client's own backoff."""
    assert parse_retry_after(value) is None


# -- deadlines: a server trickling its answer ------------------------------------------------


class TrickleServer:
    """A loopback HTTP server that answers every request a byte every ``interval`` seconds:
    the whole status line and headers at once, then the body (``trickle="body"``), or the
    headers themselves byte by byte (``trickle="headers"``). It gives up on a connection after
    ``lasts`` seconds and closes it, so a client without a deadline ends too (later)."""

    def __init__(self, *, interval: float = 0.2, lasts: float = STALL, trickle: str = "body"):
        self.interval = interval
        self.lasts = lasts
        self.trickle = trickle
        self.requests = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        host, port = self._sock.getsockname()[:2]
        self.url = f"http://{host}:{port}"

    def __enter__(self) -> TrickleServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=5)

    def _serve(self) -> None:
        self._sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:  # timeout, or closed by __exit__
                continue
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                request += chunk
            self.requests += 1
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n"
            )
            if self.trickle == "body":
                conn.sendall(head)
                drip = b" " * 100000
            else:
                drip = head
            ends = time.monotonic() + self.lasts
            for byte in drip:
                if self._stop.wait(self.interval) or time.monotonic() > ends:
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:  # the client gave up
                    return


DEADLINE_POLICY = RetryPolicy(max_attempts=2, initial_backoff=0.01, max_backoff=0.01)


@pytest.mark.parametrize("trickle", ["body", "headers"])
def test_a_trickling_answer_ends_at_the_request_deadline(
    trickle: str, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    # A byte every 0.2 s never trips the 5 s read timeout; the 0.6 s deadline must end it.
    monkeypatch.setenv("HUB_HTTP_DEADLINE", "0.6")
    with (
        TrickleServer(trickle=trickle) as server,
        make_client(
            base_url=server.url,
            plugin="economic",
            timeout=TRICKLE_READ_TIMEOUT,
            retry=DEADLINE_POLICY,
            sleep=sleeps.append,
        ) as client,
    ):
        started = time.monotonic()
        with pytest.raises(RemoteServerError) as caught:
            client.get("/invoices/booked", params={"token": "not-in-messages"})
        elapsed = time.monotonic() - started

    assert elapsed < STALL / 2, f"took {elapsed:.1f} s: the server's trickle, not 2 × 0.6 s"
    assert type(caught.value).__name__ == "DeadlineError"
    message = str(caught.value)
    assert f"economic: GET {server.url}/invoices/booked: no complete answer" in message
    assert "request deadline of 0.6 s (HUB_HTTP_DEADLINE) after 2 attempts" in message
    assert "not-in-messages" not in message
    assert server.requests == 2  # a timeout: the GET was retried once, as the policy says


def test_a_request_deadline_can_be_given_to_make_client(sleeps: list[float]) -> None:
    with (
        TrickleServer() as server,
        make_client(
            base_url=server.url,
            timeout=TRICKLE_READ_TIMEOUT,
            retry=dataclasses.replace(DEADLINE_POLICY, max_attempts=1),
            sleep=sleeps.append,
            request_deadline=0.4,
        ) as client,
    ):
        started = time.monotonic()
        with pytest.raises(RemoteServerError, match=r"request deadline of 0\.4 s"):
            client.get("/customers")
        assert time.monotonic() - started < STALL / 2  # not the server's whole trickle


def test_a_bad_deadline_setting_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_HTTP_DEADLINE", "soon")
    with pytest.raises(InputError, match="HUB_HTTP_DEADLINE: 'soon' is not a number of seconds"):
        make_client(base_url="http://127.0.0.1:9")


def test_the_jobs_deadline_ends_a_trickling_answer_without_a_retry(sleeps: list[float]) -> None:
    with (
        TrickleServer() as server,
        make_client(
            base_url=server.url,
            plugin="economic",
            timeout=TRICKLE_READ_TIMEOUT,
            retry=POLICY,
            sleep=sleeps.append,
        ) as client,
        deadline.within(0.7, "the sync deadline", "HUB_SYNC_DEADLINE"),
    ):
        started = time.monotonic()
        with pytest.raises(DeadlineError) as caught:
            client.get("/invoices/booked")
        elapsed = time.monotonic() - started

    assert elapsed < STALL / 2  # not the server's whole trickle
    assert str(caught.value) == (
        f"economic: GET {server.url}/invoices/booked: the sync deadline of 0.7 s"
        " (HUB_SYNC_DEADLINE) passed during attempt 1"
    )
    assert server.requests == 1 and sleeps == []


def test_no_retry_is_started_that_the_jobs_deadline_leaves_no_time_for(
    server: ScriptedServer, client: HubHttpClient, sleeps: list[float]
) -> None:
    server.script("/invoices", Reply(503, headers={"Retry-After": "50"}))

    with (
        deadline.within(20, "the sync deadline", "HUB_SYNC_DEADLINE"),
        pytest.raises(DeadlineError) as caught,
    ):
        client.get("/invoices")

    assert sleeps == []  # the 50 s wait would outlast the deadline: not waited for
    assert len(server.requests_to("/invoices")) == 1
    assert "the sync deadline of 20 s (HUB_SYNC_DEADLINE) would pass before the next attempt" in (
        str(caught.value)
    )
    assert "(last: HTTP 503, after 1 attempt)" in str(caught.value)


def test_no_page_is_asked_for_after_the_jobs_deadline(
    server: ScriptedServer, client: HubHttpClient
) -> None:
    server.script("/invoices", Reply())

    with deadline.within(2, "the sync deadline", "HUB_SYNC_DEADLINE") as job:
        client.get("/invoices")  # well within the deadline, however loaded the machine
        while not job.passed():
            time.sleep(max(job.remaining(), 0.01))
        with pytest.raises(DeadlineError, match=r"GET http://.*/invoices\?*.*has passed"):
            client.get("/invoices", params={"page": 2})

    assert len(server.requests_to("/invoices")) == 1


def test_a_sync_from_a_trickling_server_ends_at_the_sync_deadline_storing_nothing(
    db: Database, box: SecretBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    # e-conomic's plugin with its production retry policy and request deadline (2 minutes):
    # only HUB_SYNC_DEADLINE is short.
    monkeypatch.setenv("HUB_SYNC_DEADLINE", "1")
    registry = get_registry()
    with TrickleServer() as server:
        add_client_with_plugin(
            db,
            registry,
            box,
            "acme",
            "economic",
            {
                "app_secret_token": "app",
                "agreement_grant_token": "grant",
                "base_url": server.url,
                "journal_number": "1",
                "product_number": "1",
            },
        )
        started = time.monotonic()
        with pytest.raises(SyncFailed) as caught:
            helpers.sync_client(db, registry, box, "acme")
        elapsed = time.monotonic() - started

    assert elapsed < STALL / 2, f"took {elapsed:.1f} s: the server's trickle, not the 1 s deadline"
    message = str(caught.value)
    assert message.startswith(f"sync of 'acme' stored nothing: economic: GET {server.url}/")
    assert message.endswith(
        ": the sync deadline of 1 s (HUB_SYNC_DEADLINE) passed during attempt 1"
    )
    assert server.requests == 1  # no retry after the deadline
    with db.session() as session:
        assert session.scalars(sa.select(t.Invoice)).all() == []
        assert session.scalars(sa.select(t.Customer)).all() == []
        (run,) = session.scalars(sa.select(t.JobRun)).all()
        assert (run.outcome, run.error) == ("failed", caught.value.report.errors[0])
    assert "HUB_SYNC_DEADLINE" in caught.value.report.errors[0]
