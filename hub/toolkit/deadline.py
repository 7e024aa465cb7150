"""The deadline of a whole job (a sync's fetch), seen by every HTTP request made inside it.

The core opens one with :func:`within` around the plugin calls of a sync; every request a
plugin sends through :mod:`hub.toolkit.http` in that thread meanwhile is bounded by it: a
request under way when it passes is given up on, and no retry or next page is started after
it. The error (:class:`hub.errors.DeadlineError`) names the request's URL and the deadline.

A plugin that does not use :mod:`hub.toolkit.http` may call :func:`check` between its own
steps.

The deadline is held in a :class:`contextvars.ContextVar`: it is the current thread's (or
task's), so parallel syncs each have their own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from hub.errors import DeadlineError

__all__ = ["Deadline", "check", "current", "within"]


@dataclass(frozen=True)
class Deadline:
    """``seconds`` from when it was opened; ``at`` on :func:`time.monotonic`'s clock.

    ``what`` names it in messages (``"the deadline of the sync of 'acme'"``), ``setting`` says
    where it is configured (``"HUB_SYNC_DEADLINE"``)."""

    what: str
    seconds: float
    setting: str
    at: float

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def passed(self) -> bool:
        return self.remaining() <= 0

    def describe(self) -> str:
        return f"{self.what} of {self.seconds:g} s ({self.setting})"


_current: ContextVar[Deadline | None] = ContextVar("hub_job_deadline", default=None)


def current() -> Deadline | None:
    """The deadline of the job running in this thread, if any."""
    return _current.get()


@contextmanager
def within(seconds: float, what: str, setting: str) -> Iterator[Deadline]:
    """Run the block under a deadline ``seconds`` from now (an outer, earlier one still holds)."""
    deadline = Deadline(what, seconds, setting, time.monotonic() + seconds)
    outer = _current.get()
    token = _current.set(deadline if outer is None or deadline.at < outer.at else outer)
    try:
        yield deadline
    finally:
        _current.reset(token)


def check(where: str, *, plugin: str | None = None) -> None:
    """Raise :class:`~hub.errors.DeadlineError` if the current deadline has passed.

    ``where`` names what was about to be done (``"economic: GET https://.../invoices"``)."""
    deadline = _current.get()
    if deadline is not None and deadline.passed():
        raise DeadlineError(f"{where}: {deadline.describe()} has passed", plugin=plugin)
