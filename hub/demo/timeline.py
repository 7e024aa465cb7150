"""The demo's one timeline: simulated days, each run the way the daemon runs it.

Every simulated day, for each client in turn, the world moves first (the scenario's
``morning``: the fake server's today, payments, what a person does through the operations),
then the daemon's own jobs run (:func:`hub.daemon.jobs.run_job`, each recorded in the run
history), each followed by what it did worth telling (new invoices, settled ones, cases
started and closed, collections, write-offs) and what the scenario sees come of it
(``after``). That is the story printed day by day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass

from hub.clock import Clock
from hub.daemon.jobs import JobResult, run_job
from hub.demo.text import plural
from hub.operations import runs
from hub.operations.context import Context
from hub.operations.runs import JobKind

#: The first simulated day and how many there are: every client's story fits in them.
START = dt.date(2026, 9, 15)
DAYS = 91

#: Called after each simulated day with the day; a progress bar moves one step.
Tick = Callable[[dt.date], None]
#: Makes the ticker for a timeline of so many days, for the length of the ``with`` block.
Progress = Callable[[int], AbstractContextManager[Tick]]


@contextmanager
def no_progress(total: int) -> Iterator[Tick]:
    """No progress shown."""
    yield lambda day: None


class Scenario:
    """One client's part of the demo: its setup, what happens to it, and what it tells."""

    client: str = ""
    #: The daemon's jobs run for this client every simulated day, in this order.
    jobs: tuple[str, ...] = (JobKind.SYNC,)

    def start(self, ctx: Context, stack: ExitStack) -> list[str]:
        """Set the client up (``ctx``'s clock fixed on ``START``; servers go on ``stack``);
        what it is, in lines."""
        raise NotImplementedError

    def morning(self, ctx: Context, n: int, day: dt.date) -> list[str]:
        """Move the world on day ``n`` (0 is ``START``) before the jobs run, ``ctx``'s clock
        fixed on ``day``; what happened."""
        return []

    def after(self, ctx: Context, n: int, day: dt.date, result: JobResult) -> list[str]:
        """What came of one of the day's jobs, beyond its counts (``ctx`` as for ``morning``)."""
        return []

    def finish(self) -> None:
        """Note what the fake server saw, after the last day (its server still up)."""


@dataclass
class TimelineReport:
    first: dt.date
    last: dt.date
    runs: int = 0
    seconds: float = 0.0


#: What a sync's counts say worth telling: (count, singular, plural).
_SYNC_NOTES = (
    ("new", "new invoice", "new invoices"),
    ("settled", "settled in the books", "settled in the books"),
    ("cases_started", "case started", "cases started"),
    ("cases_closed", "case closed", "cases closed"),
    ("collections_started", "case in collection", "cases in collection"),
)


def notable(result: JobResult) -> str | None:
    """What a job did worth telling on the timeline, or None for an ordinary day."""
    if result.outcome != runs.Outcome.OK:
        return f"{result.job} {result.outcome}: {'; '.join(result.errors)}"
    counts = result.counts
    if result.job == JobKind.SYNC:
        said = [plural(counts[key], one, many) for key, one, many in _SYNC_NOTES if counts.get(key)]
    elif result.job == JobKind.RECURRING:
        return None  # the scenario tells what was made
    else:
        said = [
            plural(counts[key], word)
            for key, word in (("write_offs", "write-off"), ("credit_notes", "credit note"))
            if counts.get(key)
        ]
        said = [f"{', '.join(said)} finished"] if said else []
    return f"{result.job}: {', '.join(said)}" if said else None


def run_timeline(
    ctx: Context,
    scenarios: Sequence[Scenario],
    say: Callable[[str], None],
    progress: Progress = no_progress,
    *,
    start: dt.date = START,
    days: int = DAYS,
) -> TimelineReport:
    """Simulate ``days`` days from ``start`` for every scenario's client (module docstring).

    Each day's jobs run with ``ctx``'s services and actor and a clock fixed on that day.
    """
    width = max(len(s.client) for s in scenarios)
    report = TimelineReport(start, start + dt.timedelta(days=days - 1))
    began = time.monotonic()
    with progress(days) as tick:
        for n in range(days):
            day = start + dt.timedelta(days=n)
            on_day = dataclasses.replace(ctx, clock=Clock(fixed=day))
            for scenario in scenarios:
                lines = scenario.morning(on_day, n, day)
                for job in scenario.jobs:
                    result = run_job(on_day, job, scenario.client)
                    report.runs += 1
                    note = notable(result)
                    lines += [note] if note else []
                    lines += scenario.after(on_day, n, day, result)
                for line in lines:
                    say(f"{day}  {scenario.client:<{width}}  {line}")
            tick(day)
    report.seconds = time.monotonic() - began
    return report
