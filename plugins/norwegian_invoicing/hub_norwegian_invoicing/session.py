"""Tripletex session tokens: when they expire and when to make a new one.

A session token is made from the consumer and employee tokens with an expiration *date*
(``POST /token/session/:create``, ``expirationDate``) and is valid until that date begins.
The plugin asks for :data:`SESSION_DAYS` days ahead and makes a new session once less than a
day is left, so a session in use never runs out in the middle of a sync.

"Today" is reckoned as the later of the real date (UTC) and the hub's ``ctx.today``: the hub
may run with a simulated today (``--today``, a demo, the conformance kit's fixed date), and a
session must be valid for the server's today, which is real, and for a fake server whose
clock follows the simulated day. Taking the later of the two is valid for both; a simulated
today in the past changes nothing, one in the future asks for a longer session than needed.

Should Tripletex end a session early (it expires at another hour than assumed, an
administrator revokes it), the next call gets a 401 and the client makes a new session once
(:meth:`hub_norwegian_invoicing.client.TripletexClient.request`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from hub.errors import InvalidDataError
from hub_norwegian_invoicing.errors import NAME

#: Days from today to the session's expiration date.
SESSION_DAYS = 2


@dataclass(frozen=True)
class Session:
    """A session token and the date it expires. The token never appears in its repr."""

    token: str = field(repr=False)
    expires: dt.date

    def renew_due(self, today: dt.date) -> bool:
        """Less than a day left (or past it): make a new session before the next call."""
        return today + dt.timedelta(days=1) >= self.expires


def reckoned_today(ctx_today: dt.date | None) -> dt.date:
    """The later of the real date (UTC) and the hub's today for the client."""
    real = dt.datetime.now(dt.UTC).date()
    return real if ctx_today is None else max(real, ctx_today)


def expiration_date(today: dt.date) -> dt.date:
    return today + dt.timedelta(days=SESSION_DAYS)


def from_answer(answer: Any, expires: dt.date, where: str) -> Session:
    """The session of ``POST /token/session/:create``'s answer (``{"value": {"token": ...}}``),
    expiring on the date asked for (a session Tripletex ends earlier is renewed on its 401)."""
    value = answer.get("value") if isinstance(answer, dict) else None
    token = value.get("token") if isinstance(value, dict) else None
    if not isinstance(token, str) or not token.strip():
        raise InvalidDataError(
            "the answer to creating a session holds no value.token", plugin=NAME, where=where
        )
    return Session(token=token.strip(), expires=expires)
