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


def parse_date(raw: str, *, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw.strip())
    except ValueError:
        raise InputError(f"{what}: {raw!r} is not a date in the form YYYY-MM-DD") from None


@dataclass(frozen=True)
class Clock:
    """Where a run's "today" comes from: ``fixed`` (``--today`` / ``HUB_TODAY``, for simulation
    and tests) for every client, else each client's own date in its time zone.

    A front end makes one when its run starts (:meth:`from_environment`) and hands it to the
    operations layer, which asks it once per client and run.
    """

    fixed: dt.date | None = None

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
