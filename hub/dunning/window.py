"""A client's sending window: the days and hours its letters may go out, in its time zone.

Written ``DAYS HH:MM-HH:MM``: ``mon-fri 08:00-18:00``, ``mon,wed,fri 09:00-12:00``,
``mon-sat 07:30-24:00``. ``DAYS`` is a comma list of day names (``mon`` … ``sun``) and ranges
within one week (``mon-fri``; a range that wraps past Sunday, ``fri-mon``, is written
``mon,fri-sun``). The window opens at the first time and closes at the second (not included;
``24:00`` is the end of the day), on each of those days; it does not run past midnight.

Outside the window delivery sends nothing and leaves the client's letters queued; the first
delivery run inside it sends them (:func:`hub.dunning.messages.deliver_pending`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from hub.errors import InputError

DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"(\d{2}):(\d{2})")
_WHAT = "rule sending_window"
_FORM = "write it as DAYS HH:MM-HH:MM, e.g. 'mon-fri 08:00-18:00'"


@dataclass(frozen=True)
class SendingWindow:
    """The days (0 Monday … 6 Sunday) and the hours ``[opens, closes)`` letters may go out;
    ``closes`` None is the end of the day (``24:00``)."""

    days: frozenset[int]
    opens: dt.time
    closes: dt.time | None

    @property
    def text(self) -> str:
        """The window as it is stored and shown: days in order, ranges joined."""
        runs: list[str] = []
        ordered = sorted(self.days)
        start = previous = ordered[0]
        for day in [*ordered[1:], None]:
            if day is not None and day == previous + 1:
                previous = day
                continue
            name = DAY_NAMES[start]
            if previous == start + 1:
                runs += [name, DAY_NAMES[previous]]
            elif previous > start:
                runs.append(f"{name}-{DAY_NAMES[previous]}")
            else:
                runs.append(name)
            if day is not None:
                start = previous = day
        closes = "24:00" if self.closes is None else f"{self.closes:%H:%M}"
        return f"{','.join(runs)} {self.opens:%H:%M}-{closes}"

    def contains(self, moment: dt.datetime) -> bool:
        """Whether letters may go out at ``moment`` (in the client's time zone)."""
        clock = moment.time().replace(tzinfo=None)
        return (
            moment.weekday() in self.days
            and clock >= self.opens
            and (self.closes is None or clock < self.closes)
        )

    def next_opening(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` itself if the window is open then, else the moment it next opens (in
        ``moment``'s time zone)."""
        if self.contains(moment):
            return moment
        zone = moment.tzinfo
        for ahead in range(8):
            day = moment.date() + dt.timedelta(days=ahead)
            if day.weekday() not in self.days:
                continue
            opening = dt.datetime.combine(day, self.opens, tzinfo=zone)
            if opening > moment:
                return opening
        raise AssertionError("a window with a day opens within a week")  # pragma: no cover


def _days(raw: str) -> frozenset[int]:
    days: set[int] = set()
    for item in raw.split(","):
        if not item:
            raise InputError(f"{_WHAT}: {raw!r} has an empty day in its list; {_FORM}")
        first, dash, last = item.partition("-")
        names = [first, last] if dash else [first]
        for name in names:
            if name not in DAY_NAMES:
                raise InputError(f"{_WHAT}: {name!r} is not a day; days are {', '.join(DAY_NAMES)}")
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(names[-1])
        if end < start:
            before = "sun" if first == "sun" else f"{first}-sun"
            after = "mon" if last == "mon" else f"mon-{last}"
            raise InputError(
                f"{_WHAT}: the range {item!r} runs past Sunday; write it as two: '{after},{before}'"
            )
        span = set(range(start, end + 1))
        if span & days:
            raise InputError(f"{_WHAT}: {raw!r} names a day twice")
        days |= span
    return frozenset(days)


def _time(raw: str, *, end: bool) -> dt.time | None:
    match = _TIME.fullmatch(raw)
    if match is None:
        raise InputError(f"{_WHAT}: {raw!r} is not a time HH:MM (24-hour clock); {_FORM}")
    hours, minutes = int(match[1]), int(match[2])
    if end and (hours, minutes) == (24, 0):
        return None
    if hours > 23 or minutes > 59:
        raise InputError(f"{_WHAT}: {raw!r} is not a time of day (00:00 to 23:59, or 24:00)")
    return dt.time(hours, minutes)


def parse_window(raw: str) -> SendingWindow:
    """A window as a person writes it (see the module's docstring); refused, naming what is
    wrong, unless it is exactly that form."""
    parts = raw.strip().lower().split()
    if len(parts) != 2:
        raise InputError(f"{_WHAT}: {raw!r} is not a window; {_FORM}")
    days_text, hours_text = parts
    opens_text, dash, closes_text = hours_text.partition("-")
    if not dash:
        raise InputError(f"{_WHAT}: {hours_text!r} is not a span of hours HH:MM-HH:MM; {_FORM}")
    opens = _time(opens_text, end=False)
    assert opens is not None
    closes = _time(closes_text, end=True)
    if closes is not None and closes <= opens:
        raise InputError(
            f"{_WHAT}: it closes ({closes_text}) before it opens ({opens_text}); a window"
            " runs within one day (at most 00:00-24:00)"
        )
    return SendingWindow(_days(days_text), opens, closes)


def window_of(stored: str | None) -> SendingWindow | None:
    """The client's stored window (None: letters may go at any time)."""
    return None if not stored else parse_window(stored)
