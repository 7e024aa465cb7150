"""The clock: a client's "today", which ``--today`` / ``HUB_TODAY`` can fix for simulation, and
the moment "now" in a client's time zone (for its sending window), which ``--now`` / ``HUB_NOW``
can fix.

A run's :class:`Clock` is made once by its front end and asked once per client by the
operations layer (:mod:`hub.operations.context`); there is no module-level "today".
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.amounts import plain_decimal
from hub.errors import InputError
from hub.limits import date_problem


def duration_seconds(raw: str) -> float:
    """``raw``, a number of seconds written the plain way (``120``, ``0.5``, ``-3``), as the
    seconds that ``time.monotonic()``, socket timeouts and sleeps count in.

    Read exactly by the parser of every typed number (:func:`hub.amounts.plain_decimal`: no
    ``inf``, ``nan``, ``1e3`` or other spellings), then made the runtime's unit of time by
    :func:`runtime_seconds`: a duration is never an amount, but it is read like one. A
    ``ValueError`` says why ``raw`` is not such a number (or has too many digits)."""
    return runtime_seconds(plain_decimal(raw))


def runtime_seconds(seconds: Decimal) -> float:
    """Exact ``seconds`` as the runtime counts time (sleeps, ``time.monotonic()``): rounded half
    up to the microsecond, then divided as whole microseconds."""
    micro = int(seconds.scaleb(6).to_integral_value(rounding=ROUND_HALF_UP))
    try:
        return micro / 1_000_000
    except OverflowError:
        raise ValueError("too many digits for a number of seconds") from None


def exact_seconds(runtime: float) -> Decimal:
    """Seconds the runtime counted (a ``time.monotonic()`` difference, a server's wait) as an
    exact number, to the microsecond: what arithmetic that must not drift is done in."""
    return Decimal(runtime).quantize(_MICROSECOND, rounding=ROUND_HALF_UP)


_MICROSECOND = Decimal("0.000001")


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


def parse_moment(raw: str, *, what: str) -> dt.datetime:
    """A moment a person typed, ISO 8601 with its UTC offset (``2026-10-26T07:30+01:00``,
    ``...Z``); refused without an offset (whose clock would it be?) or outside the dates the
    hub computes with."""
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        raise InputError(
            f"{what}: {raw!r} is not a moment in the form YYYY-MM-DDTHH:MM+HH:MM"
        ) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise InputError(
            f"{what}: {raw!r} has no UTC offset; write it as e.g. {raw.strip()}+01:00 or"
            f" {raw.strip()}Z"
        )
    why = date_problem(value.date())
    if why is not None:
        raise InputError(f"{what}: {why}")
    return value


@dataclass(frozen=True)
class Clock:
    """Where a run's "today" comes from: ``fixed`` (``--today`` / ``HUB_TODAY``, for simulation
    and tests) for every client, else each client's own date in its time zone.

    A front end makes one when its run starts (:meth:`from_environment`) and hands it to the
    operations layer, which asks it once per client and run.

    ``fixed_now`` (``--now`` / ``HUB_NOW``, an aware moment) fixes :meth:`now` and, where no
    ``fixed`` day is given, the day too (its date in the client's time zone). A ``fixed`` day
    without ``fixed_now`` keeps the real time of day: a simulation that sets only the day sends
    as it would at this hour of that day.
    """

    fixed: dt.date | None = None
    fixed_now: dt.datetime | None = None

    def __post_init__(self) -> None:
        # Refused here, when the run starts, so that nothing runs: a day near the end of the
        # calendar would make the first date computed from it overflow, midway through a run.
        if self.fixed is not None:
            why = date_problem(self.fixed)
            if why is not None:
                raise InputError(f"today: {why}")
        if self.fixed_now is not None:
            if self.fixed_now.tzinfo is None or self.fixed_now.utcoffset() is None:
                raise InputError(f"now: {self.fixed_now.isoformat()} has no UTC offset")
            why = date_problem(self.fixed_now.date())
            if why is not None:
                raise InputError(f"now: {why}")

    @classmethod
    def from_environment(
        cls, fixed: dt.date | None = None, *, now: dt.datetime | None = None
    ) -> Clock:
        """``fixed`` if given (``--today``), else ``HUB_TODAY`` if set, else the real clock;
        ``now`` if given (``--now``), else ``HUB_NOW`` if set."""
        if fixed is None:
            env = os.environ.get("HUB_TODAY")
            if env:
                fixed = parse_date(env, what="HUB_TODAY")
        if now is None:
            env = os.environ.get("HUB_NOW")
            if env:
                now = parse_moment(env, what="HUB_NOW")
        return cls(fixed, now)

    def today(self, timezone: str) -> dt.date:
        """Today for a client in ``timezone``."""
        if self.fixed is not None:
            return self.fixed
        return self.now(timezone).date()

    def now(self, timezone: str) -> dt.datetime:
        """This moment for a client in ``timezone`` (aware, in that zone): for its sending
        window. See the class's docstring for what fixes it."""
        zone = ZoneInfo(timezone)
        if self.fixed_now is not None:
            return self.fixed_now.astimezone(zone)
        real = dt.datetime.now(zone)
        if self.fixed is not None:
            return dt.datetime.combine(self.fixed, real.time(), tzinfo=zone)
        return real


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
