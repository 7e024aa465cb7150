"""What the database can hold: the length of each stored text, the characters text may have,
and the range of dates the hub computes with.

This is the one source of these numbers. :mod:`hub.db.tables` declares its ``String`` columns
with the lengths below, and every check of a value before it is stored uses them too: the
records plugins return (:mod:`hub.model`), a client's rules, flows and names. So a value the
database would refuse is refused where it enters, naming the thing, the field and the limit,
the same way on SQLite (which would store any length) and PostgreSQL (which refuses the whole
transaction, naming no row).

This module imports nothing of the hub: the plugin contract (:mod:`hub.model`) may use it.
"""

from __future__ import annotations

import datetime as dt
import re

# Lengths of the String columns (characters).
CLIENT_NAME = 100
CUSTOMER_NUMBER = 64
INVOICE_NUMBER = 64
CUSTOMER_NAME = 255
EMAIL = 255
POSTAL_CODE = 32
CITY = 128
COUNTRY_NAME = 64
LANGUAGE = 8
CREDITOR_NAME = 255
ACCOUNT = 32
USER_NAME = 64  # a console user's login name
TOKEN_NAME = 100  # what an API token is for

#: The dates the hub works with. Far enough back for any real invoice, and far enough from
#: ``datetime.date.max`` (9999-12-31) that the date arithmetic the hub does on them (flow
#: offsets of at most ten years, legal deadlines, recurring schedules) can never overflow.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)

#: The most days a flow step may be offset from its anchor (about ten years).
MAX_OFFSET_DAYS = 3650

# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators. A text of
# one line (a name, a number) may hold none of them; a text of several lines (an address,
# payment details, a note) may hold line breaks and tabs. NUL is never allowed: PostgreSQL
# cannot store it in text at all.
_ONE_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_MULTI_LINE_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def text_problem(value: str, limit: int | None = None, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored as a text of at most ``limit`` characters (None: no
    limit, a ``Text`` column) of one line (or of several with ``multiline``); None if it can.

    The reason reads after the field's name: ``"name is 300 characters long, ..."``.
    """
    if limit is not None and len(value) > limit:
        return f"is {len(value)} characters long, more than the {limit} the database holds"
    if value.isprintable():  # the usual case, and fast: no control character at all
        return None
    bad = (_MULTI_LINE_BAD if multiline else _ONE_LINE_BAD).search(value)
    if bad is not None:
        allowed = "only line breaks and tabs are allowed" if multiline else "it must be one line"
        return f"holds the control character {bad.group()!r} at position {bad.start()} ({allowed})"
    return None


def date_problem(value: dt.date) -> str | None:
    """Why the hub cannot work with ``value`` (it is outside the dates it computes with)."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        return (
            f"{value.isoformat()} is outside the dates the hub works with"
            f" ({EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()})"
        )
    return None
