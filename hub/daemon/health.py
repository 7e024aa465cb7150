"""The daemon's health and metrics endpoint: a small HTTP server in a daemon thread.

``GET /healthz`` answers JSON: whether the scheduler is alive, whether the database answers,
and each client's last successful sync with its age; 200 when the scheduler is alive and the
database answers, else 503. ``GET /metrics`` is the Prometheus exposition
(:func:`hub.daemon.metrics.render`). Nothing of a client's settings or secrets is ever shown.

Slow or stuck clients cannot take the server down: each connection has a socket timeout
(:data:`TIMEOUT`, a client that sends or reads nothing for that long is dropped), and at most
:data:`MAX_CONNECTIONS` are served at once; one more is answered ``503`` at once and closed,
from the accepting thread, so the process never grows a thread per connection.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from hub.daemon import metrics
from hub.db.engine import Database, error_reason
from hub.errors import StorageError
from hub.logging import get_logger
from hub.operations.health import last_successful_syncs
from hub.toolkit.serving import BackgroundServer

__all__ = ["HealthServer", "health_report"]

log = get_logger("hub.daemon.health")

#: Seconds a connection may stay silent (not sending its request, not reading the answer).
TIMEOUT = 5.0
#: Connections served at once (one thread each); more are answered 503 and closed.
MAX_CONNECTIONS = 16
_BUSY_BODY = b"busy: too many connections\n"
_BUSY = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s"
) % (len(_BUSY_BODY), _BUSY_BODY)


def _database_error(exc: Exception) -> str:
    if isinstance(exc, DBAPIError):
        return f"{type(exc.orig).__name__}: {error_reason(exc)}"
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def health_report(
    db: Database, scheduler_alive: Callable[[], bool], *, now: dt.datetime | None = None
) -> tuple[bool, dict[str, Any]]:
    """(healthy, the JSON body of ``/healthz``)."""
    try:
        alive = bool(scheduler_alive())
    except Exception as exc:  # a broken probe says the scheduler is not known to be alive
        log.warning("health.scheduler_probe_failed", error=f"{type(exc).__name__}: {exc}")
        alive = False
    error: str | None = None
    clients: dict[str, dict[str, Any]] = {}
    try:
        syncs = last_successful_syncs(db)
    except (SQLAlchemyError, StorageError, OSError) as exc:
        error = _database_error(exc)
        log.warning("health.database_unreachable", error=error)
    else:
        current = now or dt.datetime.now(dt.UTC)
        for name, at in syncs.items():
            clients[name] = {
                "last_successful_sync": None if at is None else at.isoformat(),
                "age_seconds": None if at is None else int((current - at).total_seconds()),
            }
    healthy = alive and error is None
    return healthy, {
        "status": "ok" if healthy else "unhealthy",
        "scheduler": {"alive": alive},
        "database": {"reachable": error is None, "error": error},
        "clients": clients,
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.connection_timeout)

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        try:
            if path == "/healthz":
                healthy, report = health_report(self.server.db, self.server.scheduler_alive)
                body = json.dumps(report, indent=2).encode() + b"\n"
                status = HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE
                self._answer(status, "application/json", body)
            elif path == "/metrics":
                self._answer(HTTPStatus.OK, CONTENT_TYPE_LATEST, metrics.render(self.server.db))
            else:
                self._answer(HTTPStatus.NOT_FOUND, "text/plain; charset=utf-8", b"not found\n")
        except Exception as exc:
            log.exception("health.request_failed", path=path, error=type(exc).__name__)
            self._answer(
                HTTPStatus.INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", b"internal error\n"
            )

    def _not_allowed(self) -> None:
        self._answer(
            HTTPStatus.METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            b"method not allowed: use GET\n",
            extra={"Allow": "GET"},
        )

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _not_allowed

    def _answer(
        self,
        status: HTTPStatus,
        content_type: str,
        body: bytes,
        extra: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("health.request", client=self.client_address[0], line=format % args)


class _Server(ThreadingHTTPServer):
    """A thread per connection, at most ``max_connections`` at once, each with a timeout."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(
        self,
        db: Database,
        scheduler_alive: Callable[[], bool],
        host: str,
        port: int,
        *,
        timeout: float = TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        if ":" in host:  # an IPv6 address
            self.address_family = socket.AF_INET6
        super().__init__((host, port), _Handler)
        self.db = db
        self.scheduler_alive = scheduler_alive
        self.connection_timeout = timeout
        self._slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning("health.busy", client=client_address[0])
            try:
                request.settimeout(0.5)
                request.sendall(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client gone or too slow while its answer was written: a line, not a traceback.
        log.info("health.connection_dropped", client=client_address[0])

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class HealthServer(BackgroundServer):
    """``/healthz`` and ``/metrics`` on ``(host, port)``, served from a daemon thread.

    The socket is bound when the server is made (``port=0`` picks a free port, :attr:`port`
    says which); :meth:`start` begins serving, :meth:`stop` ends it and closes the socket.
    """

    def __init__(
        self,
        db: Database,
        scheduler_alive: Callable[[], bool],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        timeout: float | None = None,
        max_connections: int | None = None,
    ) -> None:
        server = _Server(
            db,
            scheduler_alive,
            host,
            port,
            timeout=TIMEOUT if timeout is None else timeout,
            max_connections=MAX_CONNECTIONS if max_connections is None else max_connections,
        )
        super().__init__(server, name="hub-health")

    def start(self) -> Self:
        if self._thread is None:
            super().start()
            log.info("health.listening", host=self.host, port=self.port)
        return self
