"""The daemon's health and metrics endpoint, and the console beside them: one HTTP server in a
daemon thread (:class:`hub.console.serving.AppServer`, uvicorn).

``GET /healthz`` answers JSON: whether the scheduler is alive, whether the database answers,
and each client's last successful sync with its age; 200 when the scheduler is alive and the
database answers, else 503. ``GET /metrics`` is the Prometheus exposition
(:func:`hub.daemon.metrics.render`). Nothing of a client's settings or secrets is ever shown.

Every other path is the console's (``hub run --http-port`` serves :func:`hub.console.make_app`
here), so one daemon is one URL.

Slow or stuck clients cannot take the server down: a connection that keeps the server waiting
on it for :data:`TIMEOUT` seconds (not sending its request, not reading the answer) is dropped,
and at most :data:`MAX_CONNECTIONS` are served at once; one more is answered ``503`` at once
and closed. The server is one event loop: no thread per connection.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Self

from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.console.serving import AppServer
from hub.daemon import metrics
from hub.db.engine import Database, error_reason
from hub.errors import InputError, StorageError
from hub.logging import get_logger
from hub.operations.context import Context
from hub.operations.health import last_successful_syncs

__all__ = ["HealthServer", "bind", "health_report"]

log = get_logger("hub.daemon.health")

#: Seconds a connection may keep the server waiting (not sending its request, not reading).
TIMEOUT = 5.0
#: Connections served at once (browsers of the console among them); more are answered 503.
MAX_CONNECTIONS = 64


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


_TEXT = "text/plain; charset=utf-8"


def health_app(
    db: Database, scheduler_alive: Callable[[], bool], console: ASGIApp | None = None
) -> ASGIApp:
    """``GET /healthz`` and ``GET /metrics``; any other path goes to ``console`` (the
    console's app, :func:`hub.console.make_app`), or is 404 without one. Neither answers
    anything but GET (405)."""

    def answer(path: str) -> Response:
        if path == "/healthz":
            healthy, report = health_report(db, scheduler_alive)
            body = json.dumps(report, indent=2).encode() + b"\n"
            status = HTTPStatus.OK if healthy else HTTPStatus.SERVICE_UNAVAILABLE
            return Response(body, status, media_type="application/json")
        return Response(metrics.render(db), HTTPStatus.OK, media_type=CONTENT_TYPE_LATEST)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path not in _PATHS:
            if console is not None:
                await console(scope, receive, send)
            elif scope["type"] == "http":
                await Response(b"not found\n", 404, media_type=_TEXT)(scope, receive, send)
            return
        if scope["method"] != "GET":
            response = Response(
                b"method not allowed: use GET\n", 405, {"Allow": "GET"}, media_type=_TEXT
            )
        else:
            try:  # in a worker thread: the database must not hold up the event loop
                response = await run_in_threadpool(answer, path)
            except Exception as exc:
                log.exception("health.request_failed", path=path, error=type(exc).__name__)
                response = Response(b"internal error\n", 500, media_type=_TEXT)
        response.headers["Cache-Control"] = "no-store"
        await response(scope, receive, send)

    return app


_PATHS = frozenset({"/healthz", "/metrics"})


class HealthServer(AppServer):
    """``/healthz`` and ``/metrics`` (and the console, if given) on ``(host, port)``, served
    from a daemon thread (:class:`hub.console.serving.AppServer`: the socket bound when the
    server is made, ``port=0`` picks a free port, :attr:`port` says which; :meth:`start`
    begins serving, :meth:`stop` ends it and closes the socket)."""

    def __init__(
        self,
        db: Database,
        scheduler_alive: Callable[[], bool],
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        timeout: float | None = None,
        max_connections: int | None = None,
        console: ASGIApp | None = None,
    ) -> None:
        super().__init__(
            health_app(db, scheduler_alive, console),
            host,
            port,
            timeout=TIMEOUT if timeout is None else timeout,
            max_connections=MAX_CONNECTIONS if max_connections is None else max_connections,
            name="hub-health",
        )

    def start(self) -> Self:
        if self._thread is None:
            super().start()
            log.info("health.listening", host=self.host, port=self.port)
        return self


def bind(ctx: Context, alive: Callable[[], bool], host: str, port: int, what: str) -> HealthServer:
    """The health server of a daemon (``alive``: its probe) with the console beside it, its
    socket bound, not yet serving (:meth:`HealthServer.start`). A port in use is an
    :class:`~hub.errors.InputError` saying another process, perhaps another ``what``
    (``"hub run"``, ``"node"``), uses it."""
    from hub.console import make_app  # the console's pages and API share the port

    console = make_app(ctx.services, ctx.clock)
    try:
        return HealthServer(ctx.db, alive, host, port, console=console)
    except OSError as exc:
        raise InputError(
            f"--http-port: cannot listen on {host}:{port} for health and metrics:"
            f" {exc.strerror or exc}; another process uses it (another {what}?), or choose"
            " another port. Nothing was started"
        ) from exc
