"""One long-lived HTTP client per hub client and credential, and how clients are built.

A plugin keeps one client object per hub client (its connections, its session), made on the
first hook call and reused by the next. :class:`ClientPool` keys them by the hub client's id
and a fingerprint of what the client was made from (:func:`fingerprint`: a digest of URL and
tokens, so the pool holds no token): one client's connections and tokens never serve another's
call, and a client whose settings changed gets a new object. The old one is retired, not closed
at once (another thread may still be in a request on it), and closed with the rest by
:meth:`ClientPool.close` (at exit, and when :meth:`ClientPool.configure` changes how clients are
built).

:class:`HttpOptions` says how clients are built (retry policy, the sleep between retries, the
transport, timeout, page size): production keeps the defaults, tests configure fast retries.
:class:`AttemptCounter` counts the attempts of the current call, for error messages.
"""

from __future__ import annotations

import atexit
import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import httpx

from hub.toolkit.http import RetryPolicy

__all__ = ["AttemptCounter", "ClientPool", "Closable", "HttpOptions", "fingerprint"]

#: Records a page a list request asks for, unless the plugin or its tests say otherwise.
PAGE_SIZE = 1000


@dataclass(frozen=True)
class HttpOptions:
    """How a plugin's clients are built. The defaults are for production; tests set a small
    policy, a recording sleep, a transport or a smaller page with :meth:`ClientPool.configure`."""

    retry: RetryPolicy | None = None  # None: hub.toolkit.http's default policy
    sleep: Callable[[float], None] = time.sleep
    transport: httpx.BaseTransport | None = None
    timeout: float = 30.0
    #: Records a list request asks for, where the system lets the plugin choose.
    page_size: int = PAGE_SIZE


def fingerprint(*parts: str) -> str:
    """A digest of ``parts`` (URL, tokens, ...): a pool key that holds no token."""
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()


class Closable(Protocol):
    def close(self) -> None: ...


C = TypeVar("C", bound=Closable)


class ClientPool(Generic[C]):
    """The long-lived clients of one plugin, one per hub client and fingerprint.

    ``build(options)`` is what :meth:`get` calls to make a client; the pool is closed at exit.
    """

    def __init__(self, options: HttpOptions | None = None) -> None:
        self.options = options or HttpOptions()
        self._clients: dict[int, tuple[str, C]] = {}
        #: Clients replaced by newer settings, closed with the rest (see the module docstring).
        self._retired: list[C] = []
        self._lock = threading.Lock()
        atexit.register(self.close)

    def get(
        self,
        client_id: int,
        key: str,
        build: Callable[[HttpOptions], C],
        *,
        update: Callable[[C], None] | None = None,
    ) -> C:
        """The client of hub client ``client_id`` made for ``key`` (a :func:`fingerprint`);
        made with ``build`` when there is none, or the one there was made for another key.
        ``update``, if given, is applied to the client (new or kept) under the pool's lock:
        settings that are not part of the key may have changed."""
        with self._lock:
            current = self._clients.get(client_id)
            if current is not None and current[0] == key:
                client = current[1]
            else:
                client = build(self.options)
                self._clients[client_id] = (key, client)
                if current is not None:
                    self._retired.append(current[1])
            if update is not None:
                update(client)
        return client

    def close(self) -> None:
        """Close every client, current and retired. A call still running on one fails: call
        it when none runs."""
        with self._lock:
            clients = [client for _, client in self._clients.values()] + self._retired
            self._clients.clear()
            self._retired.clear()
        for client in clients:
            client.close()

    def configure(self, options: HttpOptions) -> HttpOptions:
        """Build clients with ``options`` from now on (closing the current ones); return the
        options used until now."""
        self.close()
        previous, self.options = self.options, options
        return previous

    @contextmanager
    def configured(self, options: HttpOptions) -> Iterator[HttpOptions]:
        """Clients built with ``options`` inside the block, the options before restored after."""
        previous = self.configure(options)
        try:
            yield options
        finally:
            self.configure(previous)


class AttemptCounter:
    """A sleep that counts: :mod:`hub.toolkit.http` sleeps once before every retry, so the
    sleeps of one call (in one thread) count its attempts. Pass it as ``sleep`` to
    :func:`~hub.toolkit.http.make_client`; :meth:`start` before a call, :attr:`attempts` after."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self.sleep = sleep
        self._local = threading.local()

    def __call__(self, seconds: float) -> None:
        self._local.retries = getattr(self._local, "retries", 0) + 1
        self.sleep(seconds)

    def start(self) -> None:
        self._local.retries = 0

    @property
    def attempts(self) -> int:
        return 1 + getattr(self._local, "retries", 0)
