"""The outbox: the letters and e-mails the hub made, and their delivery (``hub messages
list``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from hub import clients
from hub.db import tables as t
from hub.operations.context import Context


@dataclass(frozen=True)
class MessageLine:
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

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def list_messages(
    ctx: Context, *, client: str | None = None, status: str | None = None
) -> list[MessageLine]:
    """Messages in the order they were made, of one client and one status if given."""
    with ctx.db.session() as session:
        query = (
            select(t.Message, t.Client.name, t.Case.customer_number)
            .join(t.Client, t.Client.id == t.Message.client_id)
            .join(t.Case, t.Case.id == t.Message.case_id)
            .order_by(t.Message.id)
        )
        if client:
            query = query.where(t.Message.client_id == clients.get_client(session, client).id)
        if status:
            query = query.where(t.Message.status == status)
        return [
            MessageLine(
                id=m.id,
                client=name,
                case_id=m.case_id,
                customer_number=customer,
                kind=m.kind,
                created_on=m.created_on,
                fee=m.fee,
                fee_currency=m.fee_currency,
                language=m.language,
                recipient_email=m.recipient_email,
                subject=m.subject,
                channel=m.channel,
                status=m.status,
                attempts=m.attempts,
                last_error=m.last_error,
                reference=m.reference,
            )
            for m, name, customer in session.execute(query)
        ]
