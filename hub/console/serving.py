"""An ASGI app served by uvicorn from a thread, guarded against slow and stuck clients.

``hub web`` serves the console with it, and ``hub run --http-port`` the console beside
``/healthz`` and ``/metrics`` (:class:`hub.daemon.health.HealthServer`). The socket is bound
when the server is made (``port=0`` picks a free one, :attr:`AppServer.port` says which), so a
port in use is an error before anything starts.

uvicorn's HTTP/1.1 protocol is given two guards (:class:`_Guarded`):

* at most ``max_connections`` connections at once: one more is answered ``503`` at once and
  closed, so a flood of idle connections costs nothing and is told so;
* a connection that keeps the server waiting on it for ``timeout`` seconds is dropped: one that
  does not finish sending its request (a slow or stuck client, a slowloris), that sends nothing
  more between requests, or that does not read the answer.

A request being answered (a slow database) is never cut off.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any, Self

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from hub.logging import get_logger

log = get_logger("hub.console.serving")

#: Seconds a connection may keep the server waiting on it.
TIMEOUT = 5.0
#: Connections served at once; one more is answered 503 and closed.
MAX_CONNECTIONS = 64

_BUSY_BODY = b"busy: too many connections\n"
_BUSY = (
    b"HTTP/1.0 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: %d\r\nRetry-After: 1\r\nConnection: close\r\n\r\n%s"
) % (len(_BUSY_BODY), _BUSY_BODY)


class _Guarded(H11Protocol):
    """uvicorn's h11 protocol with the connection limit and the waiting timeout."""

    max_connections = MAX_CONNECTIONS
    timeout = TIMEOUT

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._last = self.loop.time()
        self._watch: asyncio.TimerHandle | None = None
        self._busy = len(self.connections) > self.max_connections
        if self._busy:
            # Answered, then its end sent (FIN); what it sends is read and dropped until it
            # closes or a second passes: closed with its request unread, the socket would be
            # reset, and the client might lose the answer.
            log.warning("http.busy", client=self.client[0] if self.client else None)
            transport.write(_BUSY)
            if transport.can_write_eof():
                transport.write_eof()
            self._watch = self.loop.call_later(min(1.0, self.timeout), transport.close)
            return
        self._watch = self.loop.call_later(self.timeout, self._check)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._busy:
            return
        self._last = self.loop.time()
        super().data_received(data)

    def resume_writing(self) -> None:
        self._last = self.loop.time()
        super().resume_writing()

    def on_response_complete(self) -> None:
        self._last = self.loop.time()
        super().on_response_complete()

    def _waiting_on_client(self) -> bool:
        cycle = self.cycle
        if cycle is None or cycle.response_complete or cycle.more_body:
            return True  # no request yet, between requests, or its body still coming
        return self.flow.write_paused  # the answer is not being read

    def _check(self) -> None:
        self._watch = None
        if self.transport.is_closing():
            return
        idle = self.loop.time() - self._last
        if self._waiting_on_client():
            if idle >= self.timeout:
                log.info("http.connection_dropped", client=self.client[0] if self.client else None)
                self.transport.abort()
                return
            delay = self.timeout - idle
        else:
            delay = self.timeout
        self._watch = self.loop.call_later(max(delay, 0.05), self._check)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


class AppServer:
    """``app`` on ``(host, port)``, served by uvicorn from a daemon thread named ``name``; a
    context manager. :meth:`start` begins serving, :meth:`stop` ends it and closes the socket.

    :raises OSError: the address cannot be bound (in use, not this host's).
    """

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        timeout: float = TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
        name: str = "hub-web",
    ) -> None:
        self._socket = _bind(host, port)
        protocol = type(
            "GuardedH11", (_Guarded,), {"timeout": timeout, "max_connections": max_connections}
        )
        config = uvicorn.Config(
            app,
            http=protocol,
            loop="asyncio",
            lifespan="off",
            log_config=None,
            log_level="warning",
            access_log=False,
            server_header=False,
            timeout_keep_alive=max(1, round(timeout)),
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._name = name
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._socket.getsockname()[0])

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        """Serve from a thread; returns once the server accepts connections."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.run,
                kwargs={"sockets": [self._socket]},
                name=self._name,
                daemon=True,
            )
            self._thread.start()
            deadline = time.monotonic() + 30
            while not self._server.started:
                if not self._thread.is_alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"the HTTP server on {self.url} did not start")
                time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.should_exit = True
            self._thread.join(timeout=15)
            self._thread = None
        self._socket.close()

    def wait(self) -> None:
        """Block until the server stops (:meth:`stop` from another thread)."""
        if self._thread is not None:
            while self._thread.is_alive():
                self._thread.join(timeout=0.5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_until_stopped(server: AppServer) -> None:
    """Serve ``server`` from this (the main) thread's process until Ctrl-C or SIGTERM."""
    import signal

    stopping = threading.Event()

    def stop(_signum: int, _frame: object) -> None:
        stopping.set()

    previous = signal.signal(signal.SIGTERM, stop)
    server.start()
    try:
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop()
