"""Writes to the books (a credit note, A3; a loss write-off, D4) under a lease, and the ways
out of one that cannot finish.

A posting is asked for in one unit of work (the case locked, :func:`hub.dunning.cases.lock_case`):
its idempotency key is stored on the case together with a *lease*: who posts it
(``posting_owner``: host, process, a token of the call and the person) and until when
(``posting_until``, wall-clock UTC). While the plugin works, a thread renews the lease every
third of its length, so a slow accounting system never lets it run out. A second command, or
the daemon's ``postings`` job, that finds the lease live refuses (the job skips the case); only
an expired lease is taken over, or one whose process on this host is gone (killed). When the
plugin's call ends, the lease is given back.

The ways out of a posting that cannot finish:

* refused before anything was booked (:func:`refused_before_posting`: a setting missing, a
  value the plugin refuses before sending, the accounting system's 4xx validation answer):
  the request is dropped with a ``posting_refused`` event saying why, and the case goes on
  (reminders, ``hub cases close``); a later credit note or write-off is a new request, built
  from the rules as they are then, under a new key;
* any other failure (a lost answer, a timeout, a server error) keeps the request: the books
  may hold it, and running it again sends the same request under the same key;
* :func:`abandon_posting`: a person who looked in the books drops an unfinished request
  (``hub cases abandon-posting N --reason ...``), recorded as a ``posting_abandoned`` event;
  refused while a lease is live.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from hub.db import tables as t
from hub.db.engine import Database
from hub.db.leases import Renewal, gone_here
from hub.dunning.cases import add_event, lock_case
from hub.dunning.states import EventKind
from hub.errors import (
    CapabilityMissing,
    ConflictError,
    HubError,
    InputError,
    RemoteRequestError,
)

#: How long a lease lasts unless renewed. The renewer renews it every third of this.
POSTING_LEASE = dt.timedelta(seconds=60)

#: Called with the unit of work that commits a person's request for a posting (the case
#: locked, the request and its lease recorded), for the caller to record its own with it.
OnRequest = Callable[[Session, t.Case], None]


class Posting(StrEnum):
    """Which write to the books: its key and reference columns on the case."""

    CREDIT_NOTE = "credit_note"
    WRITE_OFF = "write_off"

    @property
    def label(self) -> str:
        return "credit note" if self is Posting.CREDIT_NOTE else "write-off"

    @property
    def command(self) -> str:
        return "credit-note" if self is Posting.CREDIT_NOTE else "write-off"

    @property
    def key_prefix(self) -> str:
        return "creditnote" if self is Posting.CREDIT_NOTE else "writeoff"


class PostingBusy(ConflictError):
    """Another command (or the daemon) is posting this case's credit note or write-off now:
    its lease is live."""


class PostingRefused(InputError):
    """The accounting system (or the plugin, before sending) refused the posting; nothing was
    booked, and the request was dropped so the case goes on."""


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes: they were stored as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def new_owner(actor: str) -> str:
    """``"<host> <pid> <token> <actor>"``: who holds a lease, unique per call."""
    return f"{socket.gethostname()} {os.getpid()} {uuid.uuid4().hex[:12]} {actor}"


def _owner_text(owner: str) -> str:
    parts = owner.split(" ", 3)
    return f"{parts[3]} (host {parts[0]}, pid {parts[1]})" if len(parts) == 4 else owner


def _dead_here(owner: str) -> bool:
    """The owner is a process of this host that is gone (killed while posting)."""
    parts = owner.split(" ", 3)
    if len(parts) != 4 or not parts[1].isdigit() or int(parts[1]) == os.getpid():
        return False
    return gone_here(parts[0], int(parts[1]))


def lease_live(case: t.Case, at: dt.datetime | None = None) -> bool:
    """Someone holds the case's posting lease now."""
    if case.posting_owner is None or case.posting_until is None:
        return False
    if _aware(case.posting_until) <= (at or now()):
        return False
    return not _dead_here(case.posting_owner)


def pending(case: t.Case) -> Posting | None:
    """The posting asked for and not finished, if any."""
    if case.write_off_key is not None and case.write_off_ref is None:
        return Posting.WRITE_OFF
    if case.credit_note_key is not None and case.credit_note_ref is None:
        return Posting.CREDIT_NOTE
    return None


def refuse_if_busy(case: t.Case) -> None:
    """Refuse while another holds the lease of the case's unfinished posting."""
    what = pending(case)
    if what is not None and case.posting_owner is not None and lease_live(case):
        assert case.posting_until is not None
        raise PostingBusy(
            f"case {case.id}: its {what.label} is being posted right now by"
            f" {_owner_text(case.posting_owner)} (lease until"
            f" {_aware(case.posting_until):%Y-%m-%d %H:%M:%S} UTC); wait for it to finish,"
            f" then look at `hub cases show {case.id}`"
        )


def take_lease(case: t.Case, owner: str, lease: dt.timedelta) -> None:
    """Hold the case's posting lease (after :func:`refuse_if_busy`): a free or expired lease,
    or one whose process is gone, is taken over."""
    refuse_if_busy(case)
    case.posting_owner = owner
    case.posting_until = now() + lease


def next_key(session: Session, case: t.Case, what: Posting) -> str:
    """The key of a new request: ``writeoff:<case>`` (``creditnote:<case>``) the first time;
    after a request was dropped (refused or abandoned) a new one, ``writeoff:<case>:2`` and so
    on, so the accounting system never answers it with the dropped request's answer."""
    dropped = sum(
        1
        for data in session.scalars(
            select(t.CaseEvent.data).where(
                t.CaseEvent.case_id == case.id,
                t.CaseEvent.kind.in_(
                    [EventKind.POSTING_REFUSED.value, EventKind.POSTING_ABANDONED.value]
                ),
            )
        )
        if (data or {}).get("posting") == what.value
    )
    base = f"{what.key_prefix}:{case.id}"
    return base if dropped == 0 else f"{base}:{dropped + 1}"


def refused_before_posting(exc: BaseException) -> bool:
    """Whether a plugin's error means nothing was booked: refused before sending (a setting
    missing, a value the plugin cannot send, the capability missing) or answered with a 4xx
    validation error (:class:`RemoteRequestError`). A lost answer, a timeout, a server error,
    refused credentials or throttling may have been booked, or will go through later: no."""
    return isinstance(exc, (InputError, RemoteRequestError, CapabilityMissing))


def _clear(case: t.Case, what: Posting) -> str | None:
    key = case.write_off_key if what is Posting.WRITE_OFF else case.credit_note_key
    if what is Posting.WRITE_OFF:
        case.write_off_key = None
    else:
        case.credit_note_key = None
    case.posting_owner = None
    case.posting_until = None
    return key


def drop_refused(
    db: Database,
    case_id: int,
    what: Posting,
    owner: str,
    exc: BaseException,
    actor: str,
    today: dt.date,
) -> PostingRefused:
    """Drop the request the accounting system refused before booking it (``posting_refused``
    event, the refusal as its reason); the error to show."""
    with db.session() as session:
        case = lock_case(session, case_id)
        if pending(case) is what and case.posting_owner == owner:
            key = _clear(case, what)
            add_event(
                case,
                EventKind.POSTING_REFUSED,
                actor,
                today,
                str(exc),
                posting=what.value,
                key=key,
            )
    return PostingRefused(
        f"case {case_id}: the {what.label} was refused and nothing was booked: {exc}. The"
        f" request is dropped (history: posting_refused) and the case goes on; correct the"
        f" cause and run `hub cases {what.command} {case_id}` again to ask anew"
    )


def release(db: Database, case_id: int, owner: str) -> None:
    """Give the lease back (the plugin's call has ended), if it is still ours."""
    with db.session() as session:
        session.execute(
            update(t.Case)
            .where(t.Case.id == case_id, t.Case.posting_owner == owner)
            .values(posting_owner=None, posting_until=None)
        )


def renewal(db: Database, case_id: int, owner: str, lease: dt.timedelta) -> Renewal:
    """The renewal of the case's posting lease while the plugin works."""

    def renew() -> bool:
        with db.session() as session:
            result = session.execute(
                update(t.Case)
                .where(t.Case.id == case_id, t.Case.posting_owner == owner)
                .values(posting_until=now() + lease)
            )
            return bool(cast(CursorResult[Any], result).rowcount)

    return Renewal(renew, lease.total_seconds() / 3, name=f"posting-lease-case-{case_id}")


def abandon_posting(
    session: Session, case_id: int, reason: str, today: dt.date, *, actor: str
) -> tuple[t.Case, Posting, str]:
    """A person drops the case's unfinished credit note or write-off after looking in the
    books: the case goes on as if it had not been asked for (a ``posting_abandoned`` event
    keeps the reason and the dropped key). Refused while the posting's lease is live.

    Only for a request the books do not hold: one they hold is finished by running the
    command again (the same key finds it); abandoned, a new request would post a second.
    Returns the case, which posting was dropped, and its key.
    """
    if not reason.strip():
        raise InputError("abandoning a posting needs a reason (--reason)")
    case = lock_case(session, case_id)
    what = pending(case)
    if what is None:
        raise InputError(
            f"case {case.id} has no unfinished credit note or write-off; nothing to abandon"
        )
    refuse_if_busy(case)
    key = _clear(case, what)
    assert key is not None
    add_event(case, EventKind.POSTING_ABANDONED, actor, today, reason, posting=what.value, key=key)
    return case, what, key


def post_under_lease(
    db: Database,
    case_id: int,
    what: Posting,
    owner: str,
    lease: dt.timedelta,
    send: Callable[[], str],
    *,
    actor: str,
    today: dt.date,
) -> str:
    """Call ``send`` (the plugin's posting) with the lease renewed meanwhile; its reference.

    Refused before anything was booked: the request is dropped and :class:`PostingRefused`
    raised. Any other failure: the lease is given back and the error raised as it was; the
    request stays for a retry under the same key. On success the lease stays until the
    caller records the reference (:func:`hub.dunning.actions.record_posting` gives it back).
    """
    try:
        with renewal(db, case_id, owner, lease):
            return send()
    except Exception as exc:
        if refused_before_posting(exc):
            raise drop_refused(db, case_id, what, owner, exc, actor, today) from exc
        # A failure to give it back: the lease runs out by itself; the first error is shown.
        with contextlib.suppress(HubError):
            release(db, case_id, owner)
        raise
