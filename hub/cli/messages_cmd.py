"""``hub messages``: the outbox of letters and e-mails."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from hub.cli.options import JsonOption
from hub.cli.output import listing
from hub.cli.state import state
from hub.operations.messages import list_messages

app = typer.Typer(
    help="Letters and e-mails the hub made, and their delivery.", no_args_is_help=True
)


class StatusChoice(StrEnum):
    pending_approval = "pending_approval"
    held = "held"
    queued = "queued"
    sent = "sent"
    failed = "failed"
    cancelled = "cancelled"


@app.command("list")
def list_(
    client: Annotated[str | None, typer.Option("--client")] = None,
    status: Annotated[StatusChoice | None, typer.Option("--status")] = None,
    json_out: JsonOption = False,
) -> None:
    """List messages: kind, case, day, fee, channel, delivery status."""
    rows = [
        m.as_dict()
        for m in list_messages(
            state.context(), client=client, status=status.value if status else None
        )
    ]
    listing(
        "Messages",
        rows,
        json_out,
        {
            "id": "id",
            "client": "client",
            "case": "case_id",
            "kind": "kind",
            "created": "created_on",
            "fee": "fee",
            "status": "status",
            "error": "last_error",
        },
        right=("fee",),
    )
