"""The clock: a client's "today", which ``--today`` / ``HUB_TODAY`` can fix for simulation.

A run's :class:`Clock` is made once by its front end and asked once per client by the
operations layer (:mod:`hub.operations.context`); there is no module-level "today".
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.errors import InputError
from hub.limits import date_problem


def parse_date(raw: str, *, what: str) -> dt.date:
    """A date a person typed; refused unless it is one the hub can compute with
    (:data:`hub.limits.EARLIEST_DATE` to :data:`hub.limits.LATEST_DATE`)."""
    try:
        value = dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InputError(f"{what}: {raw!r} is not a date in the form YYYY-MM-DD") from None
    why = date_problem(value)
    if why is not None:
        raise InputError(f"{what}: {why}")
    return value


@dataclass(frozen=True)
class Clock:
    """Where a run's "today" comes from: ``fixed`` (``--today`` / ``HUB_TODAY``, for simulation
    and tests) for every client, else each client's own date in its time zone.

    A front end makes one when its run starts (:meth:`from_environment`) and hands it to the
    operations layer, which asks it once per client and run.
    """

    fixed: dt.date | None = None

    def __post_init__(self) -> None:
        # Refused here, when the run starts, so that nothing runs: a day near the end of the
        # calendar would make the first date computed from it overflow, midway through a run.
        if self.fixed is not None:
            why = date_problem(self.fixed)
            if why is not None:
                raise InputError(f"today: {why}")

    @classmethod
    def from_environment(cls, fixed: dt.date | None = None) -> Clock:
        """``fixed`` if given (``--today``), else ``HUB_TODAY`` if set, else the real clock."""
        if fixed is None:
            env = os.environ.get("HUB_TODAY")
            if env:
                fixed = parse_date(env, what="HUB_TODAY")
        return cls(fixed)

    def today(self, timezone: str) -> dt.date:
        """Today for a client in ``timezone``."""
        if self.fixed is not None:
            return self.fixed
        return dt.datetime.now(ZoneInfo(timezone)).date()


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"time zone {name!r} is not known (e.g. Europe/Copenhagen)") from None
    return name


def as_utc(value: dt.datetime) -> dt.datetime:
    """An aware UTC datetime; a naive one (SQLite keeps no offset) is UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)
