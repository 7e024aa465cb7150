"""Faults to inject into a fake accounting server's next requests, and their queue."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["HOLD_LIMIT", "Fault", "FaultQueue", "seconds_text"]

#: The longest a ``hold`` keeps an answer back when the test never releases it.
HOLD_LIMIT = 300.0


@dataclass(frozen=True)
class Fault:
    """A failure for the next ``count`` requests that match ``path_prefix`` (``None``: any) and
    ``method`` (``None``: any); each fake documents what its answers look like.

    * ``status``: answer this status with the vendor's error body;
    * ``retry_after``: with 429, the seconds to wait the answer announces;
    * ``malformed``: answer ``status`` (default 200) with a body that is not JSON (cut off);
    * ``after_processing``: do the work first (state changes), *then* answer with the fault: an
      answer lost on its way back;
    * ``delay``: sleep this many seconds before answering (alone: a slow but normal answer);
    * ``delay_after``: do the work, then sleep this many seconds before answering: the write
      is made and its answer not yet sent (a crash test kills the client in that window);
    * ``hold``: before answering, wait until the test sets this event (at most
      :data:`HOLD_LIMIT` seconds): an answer exactly as slow as the test needs, however loaded
      the machine, where a ``delay`` would be a guess. Only for a fake served in the test's
      own process.
    """

    status: int | None = None
    retry_after: float | None = None
    count: int = 1
    path_prefix: str | None = None
    method: str | None = None
    malformed: bool = False
    after_processing: bool = False
    delay: float = 0.0
    delay_after: float = 0.0
    hold: threading.Event | None = None

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError("Fault.count must be at least 1")

    @property
    def replaces_answer(self) -> bool:
        return self.status is not None or self.malformed


F = TypeVar("F", bound=Fault)


@dataclass
class _Queued(Generic[F]):
    fault: F
    remaining: int


class FaultQueue(Generic[F]):
    """The faults queued for the next requests, first queued first, under the fake's lock.
    ``prefix`` maps a fault's ``path_prefix`` to the path the fake matches it against."""

    def __init__(
        self, lock: threading.RLock, prefix: Callable[[str], str] = lambda path: path
    ) -> None:
        self._lock = lock
        self._prefix = prefix
        self._queued: list[_Queued[F]] = []

    def add(self, fault: F) -> None:
        """Queue ``fault`` for the next ``fault.count`` matching requests."""
        with self._lock:
            self._queued.append(_Queued(fault, fault.count))

    def clear(self) -> None:
        with self._lock:
            self._queued.clear()

    def take(self, method: str, path: str) -> F | None:
        """The first fault that matches this request, counted as used once."""
        with self._lock:
            for queued in self._queued:
                fault = queued.fault
                if fault.path_prefix is not None and not path.startswith(
                    self._prefix(fault.path_prefix)
                ):
                    continue
                if fault.method is not None and fault.method.upper() != method:
                    continue
                queued.remaining -= 1
                if queued.remaining <= 0:
                    self._queued.remove(queued)
                return fault
        return None


def seconds_text(seconds: float) -> str:
    """Seconds as a header writes them: whole ones without a fraction (``1``, ``0.25``)."""
    return str(int(seconds)) if seconds == int(seconds) else str(seconds)
