"""``hub messages``: the outbox of letters and e-mails."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from hub.cli.output import emit_json, table
from hub.cli.state import state
from hub.operations.messages import list_messages

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
    rows = [
        m.as_dict()
        for m in list_messages(
            state.context(), client=client, status=status.value if status else None
        )
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
