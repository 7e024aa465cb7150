"""Serving a fake accounting API over real HTTP on loopback, for tests, benchmarks and the demo.

A fake is an object with ``handle(method, path, headers, body, base_url)`` returning an answer
with ``status``, ``headers`` and ``body`` (the e-conomic and Tripletex fakes); this module puts
it behind a ``ThreadingHTTPServer`` in a daemon thread, so that a plugin talks to it exactly as
to the vendor: through sockets, its own HTTP client, keep-alive and all.
"""

from __future__ import annotations

import json
import signal
from collections import Counter
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol

from hub.toolkit.serving import BackgroundServer


class Answer(Protocol):
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def body(self) -> bytes: ...


class FakeApi(Protocol):
    def handle(
        self, method: str, path: str, headers: dict[str, str], body: bytes, base_url: str, /
    ) -> Answer: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the client's pool reuses connections
    disable_nagle_algorithm = True  # answers go out at once, not 40 ms later (delayed ACK)
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_port}"
        answer = self.server.fake.handle(self.command, self.path, headers, body, f"http://{host}")
        self.send_response(answer.status)
        for name, value in answer.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the fakes record their requests themselves."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, fake: FakeApi, host: str, port: int) -> None:
        super().__init__((host, port), _Handler)
        self.fake = fake


class FakeHttpServer(BackgroundServer):
    """``fake`` served over real HTTP in a daemon thread (a context manager). ``port=0`` picks
    a free port; :attr:`url` is ``http://HOST:PORT`` plus ``path_prefix`` (Tripletex's
    ``/v2``)."""

    def __init__(
        self,
        fake: FakeApi,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        name: str = "fake-api",
        path_prefix: str = "",
    ) -> None:
        super().__init__(_Server(fake, host, port), name=name, poll_interval=0.05)
        self._prefix = path_prefix

    @property
    def url(self) -> str:
        return super().url + self._prefix

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted (a fake's ``python -m`` entry)."""
        self._server.serve_forever(poll_interval=0.2)


class _Recorded(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...


def serve_until_terminated(
    server: FakeHttpServer,
    requests: Sequence[_Recorded],
    stats_file: str | None = None,
) -> None:
    """A fake's ``python -m`` entry: print the URL, serve in this thread until SIGTERM or
    Ctrl-C; then, with
    ``stats_file``, write how many requests it answered, in all and by method and path, as
    JSON (the sync benchmarks count the plugin's requests with it)."""

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        if stats_file:
            by_path = Counter(f"{r.method} {r.path}" for r in requests)
            stats = {"requests": len(requests), "by_path": dict(by_path)}
            Path(stats_file).write_text(json.dumps(stats), encoding="utf-8")
