"""``hub messages``: the outbox of letters and e-mails."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from hub.cli.options import JsonOption
from hub.cli.output import Cell, emit_json, listing, prose, say
from hub.cli.state import state
from hub.operations.messages import MessageFilter, page_messages, show_message

app = typer.Typer(
    epilog="Example: hub messages list --client demo-dk --status queued",
    help="Letters and e-mails the hub made, and their delivery.",
    no_args_is_help=True,
)


class StatusChoice(StrEnum):
    pending_approval = "pending_approval"
    held = "held"
    queued = "queued"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


@app.command("list", epilog="Example: hub messages list --case 12")
def list_(
    client: Annotated[str | None, typer.Option("--client")] = None,
    status: Annotated[StatusChoice | None, typer.Option("--status")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="e.g. reminder.")] = None,
    case: Annotated[int | None, typer.Option("--case", help="Only this case's.")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer number's.")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """List messages: kind, case, day, fee, channel, delivery status."""
    request = MessageFilter(client, status.value if status else None, kind, case, customer)
    rows = [m.as_dict() for m in page_messages(state.context(), request).items]
    columns: dict[str, Cell] = {
        "id": "id",
        "client": "client",
        "case": "case_id",
        "kind": "kind",
        "created": "created_on",
        "fee": "fee",
        "channel": "channel",
        "status": "status",
        "error": "last_error",
    }
    if client is not None:
        del columns["client"]  # said in the title
    listing(
        f"Messages of {client}" if client else "Messages",
        rows,
        json_out,
        columns,
        money=("fee",),
        currency="fee_currency",
        wrap=("error",),
        optional=("channel", "created"),
        empty="no messages match",
    )


@app.command("show", epilog="Example: hub messages show 40")
def show(
    message_id: Annotated[int, typer.Argument(help="Message id (see `hub messages list`).")],
    json_out: JsonOption = False,
) -> None:
    """Show a letter or e-mail as it was made and sent: subject and text, word for word."""
    message = show_message(state.context(), message_id)
    if json_out:
        emit_json(message.as_dict())
        return
    say(f"message {message.id} of {message.client}, case {message.case_id}: {message.kind}")
    say(f"to {message.recipient_name} <{message.recipient_email or 'no e-mail'}>")
    say(
        f"made {message.created_on}, {message.status}"
        + (f" on {message.sent_on}" if message.sent_on else "")
        + (f" by {message.channel}" if message.channel else "")
    )
    prose(f"Subject: {message.subject}")
    say("")
    prose(message.body)
