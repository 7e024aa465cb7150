"""What a node's tasks need at hand: the hub's context, its lease, and the schedule file.

procrastinate hands each task a :class:`~procrastinate.JobContext`; the node puts one
:class:`Runtime` in its ``additional_context`` (key ``"hub"``), so the tasks find the database
and the secret box without module globals.

The schedule file is read again by every dispatcher tick (:meth:`Runtime.reload`): a file that
no longer parses or checks is logged, once per change, and the last good one kept, so a typo
made while the nodes run never stops the dispatching. Its ``[distributed]`` table is the
exception: each node's queues, heartbeat and stop follow it from the node's start, so the tick
keeps to the one the node started with (:attr:`Runtime.distributed`) and says once that a
change waits for the nodes' restart. A tick that judged dead nodes by a shorter
``stalled_seconds`` than the nodes beat for would take live ones for dead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from procrastinate import JobContext

from hub.daemon import schedules as schedule_file
from hub.daemon.schedules import Distributed, Schedules
from hub.errors import HubError
from hub.logging import get_logger
from hub.operations import lease
from hub.operations.context import Context

log = get_logger("hub.daemon.distributed")

KEY = "hub"


@dataclass
class Runtime:
    ctx: Context
    schedules: Schedules  # the last good schedule file
    schedules_file: Path | None  # None: the packaged default
    lease: lease.Lease | None = None
    _last_error: str | None = None
    _distributed_changed: bool = False
    #: The ``[distributed]`` table the node started with (see the module's docstring).
    distributed: Distributed = field(init=False)

    def __post_init__(self) -> None:
        self.distributed = self.schedules.distributed

    def reload(self) -> Schedules:
        """The schedule file as it is now, or the last good one when it does not read."""
        try:
            fresh = schedule_file.load(self.schedules_file)
        except HubError as exc:
            if str(exc) != self._last_error:
                log.error(
                    "the schedule file does not read: the last good one stays in force",
                    error=str(exc),
                )
                self._last_error = str(exc)
            return self.schedules
        if self._last_error is not None:
            log.info("the schedule file reads again", schedules=fresh.source)
            self._last_error = None
        changed = fresh.distributed != self.distributed
        if changed and not self._distributed_changed:
            log.warning(
                "[distributed] changed in the schedule file: it applies when the nodes restart",
                schedules=fresh.source,
            )
        self._distributed_changed = changed
        self.schedules = fresh
        return fresh


def runtime_of(context: JobContext) -> Runtime:
    """The node's :class:`Runtime`, from a task's context."""
    found = (context.additional_context or {}).get(KEY)
    if not isinstance(found, Runtime):  # pragma: no cover - only a node runs the tasks
        raise RuntimeError("the hub's tasks run only inside hub run --distributed")
    return found
