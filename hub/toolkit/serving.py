"""An ``http.server`` server run from a daemon thread: the daemon's health endpoint and the
fake accounting servers of tests and the demo are both one."""

from __future__ import annotations

import threading
from socketserver import BaseServer
from typing import Self

from hub.toolkit.closing import Closing


class BackgroundServer(Closing):
    """``server`` (already bound) served from a daemon thread named ``name``; a context
    manager. :meth:`stop` ends serving and closes the socket."""

    def __init__(self, server: BaseServer, *, name: str, poll_interval: float = 0.2) -> None:
        self._server = server
        self._name = name
        self._poll_interval = poll_interval
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])  # type: ignore[index]

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])  # type: ignore[index]

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Self:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": self._poll_interval},
                name=self._name,
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()

    close = stop  # leaving a ``with`` block stops the server

    def __enter__(self) -> Self:
        return self.start()
