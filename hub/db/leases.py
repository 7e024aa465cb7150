"""Leases held in the database: keeping one alive while slow work runs, and telling whether
its holder on this host is gone.

The hub holds four kinds of lease, each a row it owns until a time: a credit note or write-off
being posted, a recurring invoice being sent, letters being delivered, and the daemon's own.
Each is renewed the same way, by a :class:`Renewal`: from a thread, every so often (a third of
the lease, so two renewals may fail before it lapses), each renewal a unit of work of its own.
A renewal the database refuses for a moment is logged and tried at the next beat; one that finds
the lease another's stops renewing, so the work's owner can tell (``lost``, ``on_lost``).

A lease (or a run) records its holder's host and pid, so that one killed on this host can be
taken over at once instead of after its lease lapses: :func:`gone_here`.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Self

from hub.errors import StorageError
from hub.logging import get_logger

__all__ = ["Renewal", "gone_here", "process_alive"]

log = get_logger("hub.db.leases")


class Renewal:
    """Calls ``renew`` every ``every`` seconds from a daemon thread until stopped.

    ``renew`` renews the lease and returns whether it is still ours. When it is not, the
    renewal stops, :attr:`lost` is set and ``on_lost`` (if given) is called once. Use it as a
    ``with`` block around the slow work, or :meth:`start` / :meth:`stop`.
    """

    def __init__(
        self,
        renew: Callable[[], bool],
        every: float,
        *,
        name: str,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.lost = False
        self._renew = renew
        self._every = every
        self._on_lost = on_lost
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._every):
            try:
                ours = self._renew()
            except (StorageError, OSError) as exc:  # the database away for a moment
                log.warning("lease not renewed; trying again", lease=self.name, error=str(exc))
                continue
            if not ours:
                self.lost = True
                log.warning("lease lost to another holder", lease=self.name)
                if self._on_lost is not None:
                    self._on_lost()
                return

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop renewing (the lease then lapses unless given back) and wait for the thread,
        unless called from it (``on_lost`` may stop what holds the renewal)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def process_alive(pid: int) -> bool:
    """Whether a process with this pid runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to someone else
        return True
    return True


def gone_here(host: str, pid: int) -> bool:
    """The holder ``host``/``pid`` is a process of this host that no longer runs. Another
    host's holder is never judged gone here: only its lease's expiry tells."""
    return host == socket.gethostname() and not process_alive(pid)
