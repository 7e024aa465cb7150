"""``hub messages``: the outbox of letters and e-mails."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from sqlalchemy import select

from hub import clients
from hub.cli.output import emit_json, table
from hub.cli.state import state
from hub.db import tables as t

app = typer.Typer(
    help="Letters and e-mails the hub made, and their delivery.", no_args_is_help=True
)


class StatusChoice(StrEnum):
    queued = "queued"
    sent = "sent"
    failed = "failed"


@app.command("list")
def list_(
    client: Annotated[str | None, typer.Option("--client")] = None,
    status: Annotated[StatusChoice | None, typer.Option("--status")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List messages: kind, case, day, fee, channel, delivery status."""
    with state.db().session() as session:
        query = (
            select(t.Message, t.Client.name, t.Case.customer_number)
            .join(t.Client, t.Client.id == t.Message.client_id)
            .join(t.Case, t.Case.id == t.Message.case_id)
            .order_by(t.Message.id)
        )
        if client:
            query = query.where(t.Message.client_id == clients.get_client(session, client).id)
        if status:
            query = query.where(t.Message.status == status.value)
        rows = [
            {
                "id": m.id,
                "client": name,
                "case_id": m.case_id,
                "customer_number": customer,
                "kind": m.kind,
                "created_on": m.created_on,
                "fee": m.fee,
                "fee_currency": m.fee_currency,
                "language": m.language,
                "recipient_email": m.recipient_email,
                "subject": m.subject,
                "channel": m.channel,
                "status": m.status,
                "attempts": m.attempts,
                "last_error": m.last_error,
                "reference": m.reference,
            }
            for m, name, customer in session.execute(query)
        ]
    if json_out:
        emit_json(rows)
        return
    table(
        "Messages",
        ["id", "client", "case", "kind", "created", "fee", "status", "error"],
        [
            (
                r["id"],
                r["client"],
                r["case_id"],
                r["kind"],
                r["created_on"],
                r["fee"],
                r["status"],
                r["last_error"],
            )
            for r in rows
        ],
        right=("fee",),
    )
