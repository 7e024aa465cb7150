"""``hub sync``: fetch a client's invoices, run the dunning cycle, deliver its messages."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hub.cli.output import emit_json, table
from hub.cli.state import state
from hub.dunning.cycle import run_cycle
from hub.dunning.messages import deliver_pending
from hub.sync import SyncFailed, sync_client


def sync(
    name: Annotated[str, typer.Argument(help="Client name.")],
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fetch the client's invoices and customers (all or nothing), then close, resume, move
    and remind cases as due today, then deliver the messages."""
    try:
        report = sync_client(state.db(), state.registry, state.box, name)
    except SyncFailed as exc:
        if json_out:
            emit_json({**exc.report.as_dict(), "outcome": "failed"})
        raise
    cycle = run_cycle(state.db(), name)
    delivery = deliver_pending(state.db(), state.registry, state.box, name)
    data: dict[str, Any] = {
        **report.as_dict(),
        "outcome": "ok",
        "dunning": cycle.as_dict(),
        "delivery": {"sent": delivery.sent, "failed": delivery.failed, "errors": delivery.errors},
    }
    if json_out:
        emit_json(data)
        return
    table(
        f"Sync of {name} via {report.plugin} ({report.today.isoformat()})",
        list(report.counts),
        [list(report.counts.values())],
    )
    dunning = cycle.as_dict()
    del dunning["today"]
    table("Dunning", list(dunning), [list(dunning.values())])
    table("Delivery", ["sent", "failed"], [(delivery.sent, delivery.failed)])
