"""``hub audit``: who changed what, when, before and after (secrets masked)."""

from __future__ import annotations

from typing import Annotated

import typer

from hub import clock
from hub.cli.options import JsonOption, SomeClientOption
from hub.cli.output import emit_json, say, table
from hub.cli.state import state
from hub.operations.audit import AuditFilter, list_audit

app = typer.Typer(
    epilog="Example: hub audit list --since 2026-01-01",
    help="The audit log: every change a person made.",
    no_args_is_help=True,
)


@app.command("list", epilog="Example: hub audit list --client demo-dk --user anna")
def list_(
    client: SomeClientOption = None,
    user: Annotated[str | None, typer.Option("--user", help="Who made the change.")] = None,
    action: Annotated[
        str | None,
        typer.Option(
            "--action", help="An action (case.close), or a first word for all of its (case)."
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option("--since", help="From this day on (YYYY-MM-DD, UTC).")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many first.")] = 0,
    json_out: JsonOption = False,
) -> None:
    """The latest changes: when, who, client, action, subject, and what changed."""
    page = list_audit(
        state.context(),
        AuditFilter(
            client=client,
            user=user,
            action=action,
            since=clock.parse_date(since, what="--since") if since else None,
            limit=limit,
            offset=offset,
        ),
    )
    if json_out:
        emit_json([entry.as_dict() for entry in page.entries])
        return
    if not page.entries:
        say("no changes recorded")
        return
    table(
        "Audit log",
        ["at (UTC)", "user", "client", "action", "subject", "changes"],
        [
            (_minute(e.at), e.actor, e.client or "", e.action, e.subject, e.changes())
            for e in page.entries
        ],
    )
    if page.next_offset is not None:
        say(f"more: --offset {page.next_offset}")


def _minute(at: str) -> str:
    """``2026-02-01 09:30`` of the entry's ISO ``2026-02-01T09:30:12+00:00`` (UTC)."""
    return at[:16].replace("T", " ")
