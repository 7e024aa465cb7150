"""The audit log: every change a person made, from any front end, with who, when, which
client, what, and the thing before and after (``hub audit list``, the console's page).

An entry is written by :func:`record` in the very transaction of the change it describes, so
a change that is refused or fails leaves no entry and a change never lacks one. The
operations record through :func:`hub.operations.access.permit` (or
:func:`~hub.operations.access.changing`), which first checks that the acting user may make
the change: the check and the entry cannot drift apart. The automatic work (the daemon's
cycle, its letters, its postings) records none: the case histories hold it.

``before`` and ``after`` are JSON; a secret setting's value is never in them, only the mask
``hub clients show`` prints (:data:`hub.logging.MASK`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from hub.clock import as_utc
from hub.db import tables as t
from hub.errors import InputError, NotFoundError
from hub.operations.context import Context
from hub.records import Record

__all__ = ["AuditFilter", "AuditLine", "AuditPage", "jsonable", "list_audit", "record"]

#: An action's name: dotted lower-case words, ``client.settings``, ``case.write_off``.
ACTION = re.compile(r"[a-z_]+(\.[a-z_]+)+")
#: The longest subject kept (the column's length); a longer one is cut, never refused.
SUBJECT = 255
#: The most entries one page of :func:`list_audit` holds.
MAX_LIMIT = 1000


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON: amounts as strings with their decimals, dates and times ISO,
    enums by value, sets sorted; a new structure, so a row changed later does not change it."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return as_utc(value).isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot keep a {type(value).__name__} in the audit log")


def record(
    session: Session,
    ctx: Context,
    *,
    action: str,
    client: str | None,
    subject: str,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """Add one entry to the audit log in ``session``: ``ctx.actor`` did ``action`` to
    ``subject`` of ``client``, now. Stable; front ends and other operations call it.

    - ``session``: the unit of work that makes the change. The entry is committed with it
      and rolled back with it, so call this in that same ``with ctx.db.session()`` block,
      after the change is made (a refusal raised later in the block drops both).
    - ``action``: dotted lower-case words naming what was done: ``client.add``,
      ``user.add``, ``token.revoke``, ``dispatch.approve`` (``ValueError`` otherwise: a bug).
    - ``client``: the client's name, kept as text (the entry outlives the client); None for
      a change of no one client's (users, tokens, the secret key). Entries of no client are
      shown to admins only.
    - ``subject``: the thing changed, in words: ``case 12``, ``plugin economic``,
      ``user carla``.
    - ``before``, ``after``: the thing's state as JSON-able mappings (amounts, dates and
      enums are converted by :func:`jsonable`); None where there is none (before an add,
      after a removal). **Mask every secret first**: a password, a token or a secret
      setting's value must never be given here (use :data:`hub.logging.MASK`).

    It checks nothing: check first with :func:`hub.operations.access.permit`, which returns
    a :class:`~hub.operations.access.Change` whose ``record`` calls this.
    """
    if not ACTION.fullmatch(action):
        raise ValueError(f"audit action {action!r} is not dotted lower-case words")
    session.add(
        t.AuditEntry(
            at=dt.datetime.now(dt.UTC),
            actor=ctx.actor.name,
            client=client,
            action=action,
            subject=subject if len(subject) <= SUBJECT else subject[: SUBJECT - 3] + "...",
            before=None if before is None else jsonable(before),
            after=None if after is None else jsonable(after),
        )
    )


@dataclass(frozen=True)
class AuditFilter:
    """Which entries to list: of a client, by a user (their name), of an action (``case``
    gives every ``case.*``; ``case.close`` that one), at or after ``since`` (a date: from
    its start, UTC), ``limit`` entries from ``offset``, newest first."""

    client: str | None = None
    user: str | None = None
    action: str | None = None
    since: dt.date | dt.datetime | None = None
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class AuditLine(Record):
    """One entry; ``as_dict`` is one row of ``hub audit list --json``."""

    id: int
    at: str  # UTC, ISO with seconds
    actor: str
    client: str | None
    action: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    def changes(self) -> str:
        """What changed, in a line: each key whose value differs, ``key: old → new``."""
        before, after = self.before or {}, self.after or {}
        if not before and not after:
            return ""
        if not before:
            return "added: " + _brief(after)
        if not after:
            return "removed: " + _brief(before)
        keys = [k for k in {**before, **after} if before.get(k) != after.get(k)]
        return "; ".join(f"{k}: {_short(before.get(k))} → {_short(after.get(k))}" for k in keys)


def _short(value: Any) -> str:
    """A value as a person reads it, never a Python repr: ``true``, ``a, b``, ``key=value``."""
    text = _plain(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={_plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(_plain(v) for v in value)
    return str(value)


def _brief(values: Mapping[str, Any]) -> str:
    """What was added or removed: each key with a value, but the id and the client (the
    entry's subject and client say them)."""
    shown = {
        k: v
        for k, v in values.items()
        if k not in ("id", "client") and v is not None and v != "" and v != [] and v != {}
    }
    return "; ".join(f"{k}: {_short(v)}" for k, v in shown.items())


@dataclass(frozen=True)
class AuditPage:
    """A page of entries; ``next_offset`` is the next page's offset (None: this is the last);
    ``total`` how many entries match in all (the console's pages say "21–40 of 75")."""

    entries: list[AuditLine]
    limit: int
    offset: int
    next_offset: int | None
    total: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "entries": [e.as_dict() for e in self.entries],
            "limit": self.limit,
            "offset": self.offset,
            "next_offset": self.next_offset,
            "total": self.total,
        }


def list_audit(ctx: Context, request: AuditFilter) -> AuditPage:
    """The entries matching ``request`` that the acting user may see, newest first: an admin
    every entry; anyone else the entries of the clients they may see, never those of no
    client (users, tokens, the secret key).

    :raises NotFoundError: ``request.client`` is a client the user may not see (as if it did
        not exist). A client that no longer exists is no error: its history outlives it.
    :raises InputError: a limit or offset out of range.
    """
    actor = ctx.actor
    if not 1 <= request.limit <= MAX_LIMIT:
        raise InputError(f"--limit: {request.limit} must be from 1 to {MAX_LIMIT}")
    if request.offset < 0:
        raise InputError(f"--offset: {request.offset} must be 0 or more")
    query = select(t.AuditEntry).order_by(t.AuditEntry.id.desc())
    if actor.role != "admin":
        query = query.where(t.AuditEntry.client.is_not(None))
    if actor.clients is not None:
        query = query.where(t.AuditEntry.client.in_(sorted(actor.clients)))
    if request.client is not None:
        if not actor.may_see(request.client):
            raise NotFoundError(f"no client named {request.client!r} (see `hub clients list`)")
        query = query.where(t.AuditEntry.client == request.client)
    if request.user is not None:
        query = query.where(t.AuditEntry.actor == request.user)
    if request.action is not None:
        action = request.action.strip().rstrip(".")
        query = query.where(
            or_(
                t.AuditEntry.action == action,
                t.AuditEntry.action.startswith(f"{action}.", autoescape=True),
            )
        )
    if request.since is not None:
        since = request.since
        if not isinstance(since, dt.datetime):
            since = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
        query = query.where(t.AuditEntry.at >= as_utc(since))
    with ctx.db.session() as session:
        rows = list(session.scalars(query.offset(request.offset).limit(request.limit + 1)))
        total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    more = len(rows) > request.limit
    entries = [
        AuditLine(
            id=row.id,
            at=as_utc(row.at).isoformat(timespec="seconds"),
            actor=row.actor,
            client=row.client,
            action=row.action,
            subject=row.subject,
            before=row.before,
            after=row.after,
        )
        for row in rows[: request.limit]
    ]
    return AuditPage(
        entries,
        request.limit,
        request.offset,
        request.offset + request.limit if more else None,
        total or 0,
    )
