"""The outbox: the letters and e-mails the hub made, and their delivery (``hub messages
list``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from hub.db import tables as t
from hub.operations import access
from hub.operations.context import Context
from hub.records import Record, made_from


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


def list_messages(
    ctx: Context, *, client: str | None = None, status: str | None = None
) -> list[MessageLine]:
    """Messages in the order they were made, of one client and one status if given (of the
    clients the acting user may see)."""
    with ctx.db.session() as session:
        query = (
            select(t.Message, t.Client.name, t.Case.customer_number)
            .join(t.Client, t.Client.id == t.Message.client_id)
            .join(t.Case, t.Case.id == t.Message.case_id)
            .where(access.seen_names(ctx, t.Client.name))
            .order_by(t.Message.id)
        )
        if client:
            query = query.where(t.Message.client_id == access.client_row(ctx, session, client).id)
        if status:
            query = query.where(t.Message.status == status)
        return [
            made_from(MessageLine, m, client=name, customer_number=customer)
            for m, name, customer in session.execute(query)
        ]
