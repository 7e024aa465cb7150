"""The outbox: the letters and e-mails the hub made, and their delivery (``hub messages
list``), and one letter as it was made and sent (``hub messages show``)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.sql import Select

from hub.db import tables as t
from hub.dunning.letters import KINDS
from hub.dunning.states import MessageStatus
from hub.errors import InputError, NotFoundError
from hub.operations import access
from hub.operations.context import Context
from hub.records import Record, made_from

__all__ = [
    "KINDS",
    "STATUSES",
    "MessageFilter",
    "MessageLine",
    "MessagePage",
    "MessageText",
    "list_messages",
    "page_messages",
    "show_message",
]

#: The statuses a message may have (``hub messages list --status``).
STATUSES: tuple[str, ...] = tuple(status.value for status in MessageStatus)

#: A reminder's kind as a message holds it: its number in the flow, ``reminder_2``.
NUMBERED_REMINDER = re.compile(r"reminder_[1-9][0-9]{0,2}")


@dataclass(frozen=True)
class MessageLine(Record):
    """One message; ``as_dict`` is one row of ``hub messages list --json``."""

    id: int
    client: str
    case_id: int
    customer_number: str
    kind: str
    created_on: dt.date
    fee: Decimal
    fee_currency: str
    language: str
    recipient_email: str | None
    subject: str
    channel: str | None
    status: str
    attempts: int
    last_error: str | None
    reference: str | None


@dataclass(frozen=True)
class MessageText(MessageLine):
    """One message with what it says, exactly as stored (and sent): ``hub messages show
    --json``. ``body`` is plain text; ``sent_on`` the client's day it went out."""

    recipient_name: str
    sent_on: dt.date | None
    body: str


@dataclass(frozen=True)
class MessageFilter:
    """Which messages: of one client, status, kind, case or customer number (None: any).
    ``kind`` is a letter's kind (:data:`KINDS`; ``reminder`` is every numbered reminder) or a
    numbered reminder (``reminder_2``)."""

    client: str | None = None
    status: str | None = None
    kind: str | None = None
    case_id: int | None = None
    customer: str | None = None


@dataclass(frozen=True)
class MessagePage:
    """``items``, from the ``offset``-th of ``total`` messages matching (all without a limit)."""

    items: list[MessageLine]
    total: int


def _matching(ctx: Context, request: MessageFilter) -> Select[t.Message, str, str]:
    if request.status is not None and request.status not in STATUSES:
        raise InputError(f"message status {request.status!r} is not one of {', '.join(STATUSES)}")
    if (
        request.kind is not None
        and request.kind not in KINDS
        and not NUMBERED_REMINDER.fullmatch(request.kind)
    ):
        kinds = ", ".join(sorted(KINDS))
        raise InputError(f"letter kind {request.kind!r} is not one of {kinds} or reminder_N")
    query = (
        select(t.Message, t.Client.name, t.Case.customer_number)
        .join(t.Client, t.Client.id == t.Message.client_id)
        .join(t.Case, t.Case.id == t.Message.case_id)
    )
    query = query.where(access.seen_names(ctx, t.Client.name))
    if request.status is not None:
        query = query.where(t.Message.status == request.status)
    if request.kind == "reminder":
        query = query.where(t.Message.kind.startswith("reminder_"))
    elif request.kind is not None:
        query = query.where(t.Message.kind == request.kind)
    if request.case_id is not None:
        query = query.where(t.Message.case_id == request.case_id)
    if request.customer is not None:
        query = query.where(t.Case.customer_number == request.customer)
    return query


def page_messages(
    ctx: Context, request: MessageFilter, *, limit: int | None = None, offset: int = 0
) -> MessagePage:
    """The messages matching ``request`` (of the clients the acting user may see) in the
    order they were made; with ``limit``, at most that many from the ``offset``-th.

    :raises NotFoundError: ``request.client`` does not exist or the user may not see it.
    :raises InputError: a status or kind that no message can have.
    """
    with ctx.db.session() as session:
        query = _matching(ctx, request)
        if request.client:
            query = query.where(t.Message.client_id == ctx.client(session, request.client).id)
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        query = query.order_by(t.Message.id).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        items = [
            made_from(MessageLine, m, client=name, customer_number=customer)
            for m, name, customer in session.execute(query)
        ]
    return MessagePage(items, total or 0)


def list_messages(
    ctx: Context, *, client: str | None = None, status: str | None = None
) -> list[MessageLine]:
    """Messages in the order they were made, of one client and one status if given."""
    return page_messages(ctx, MessageFilter(client=client, status=status)).items


def show_message(ctx: Context, message_id: int) -> MessageText:
    """Message ``message_id`` with its subject and body as stored: what was (or will be)
    sent, word for word.

    :raises NotFoundError: no such message, or one of a client the user may not see (the
        same message either way).
    """
    with ctx.db.session() as session:
        found = session.execute(
            _matching(ctx, MessageFilter()).where(t.Message.id == message_id)
        ).first()
        if found is None:
            raise NotFoundError(f"no message {message_id} (see `hub messages list`)")
        message, name, customer = found
        return made_from(MessageText, message, client=name, customer_number=customer)
