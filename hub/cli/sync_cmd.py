"""``hub sync``: fetch a client's invoices and customers from its accounting plugin."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.output import emit_json, table
from hub.cli.state import state
from hub.sync import SyncFailed, sync_client


def sync(
    name: Annotated[str, typer.Argument(help="Client name.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fetch the client's open invoices and customers and store them (all or nothing)."""
    try:
        report = sync_client(state.db(), state.registry, state.box, name)
    except SyncFailed as exc:
        if json_out:
            emit_json({**exc.report.as_dict(), "outcome": "failed"})
        raise
    if json_out:
        emit_json({**report.as_dict(), "outcome": "ok"})
        return
    table(
        f"Sync of {name} via {report.plugin} ({report.today.isoformat()})",
        list(report.counts),
        [list(report.counts.values())],
    )
