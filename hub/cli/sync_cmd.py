"""``hub sync``: fetch a client's invoices, run the dunning cycle, deliver its messages."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.options import JsonOption
from hub.cli.output import emit_json, say, table
from hub.cli.state import state
from hub.errors import HubError
from hub.operations import runs
from hub.operations import sync as sync_ops
from hub.operations.sync import SyncFailed

#: What ``hub sync --help`` ends with (see :class:`hub.cli.lazy.Lazy`).
EPILOG = "Example: hub --today 2026-02-01 sync demo-dk"


def sync(
    name: Annotated[str, typer.Argument(help="Client name.")],
    json_out: JsonOption = False,
    confirm_settle: Annotated[
        bool,
        typer.Option(
            "--confirm-settle",
            help="Store this sync although it would take more of the client's open invoices"
            " off the open list than its settle guard allows (rules settle_guard_percent,"
            " settle_guard_min). Only after checking that the export or the books did not"
            " lose rows; it holds for this one sync.",
        ),
    ] = False,
) -> None:
    """Fetch the client's invoices and customers (all or nothing), then close, reopen, resume,
    move and remind cases as due today, then deliver the messages.

    A sync that would settle more of the open invoices than the client's settle guard allows
    stores nothing and exits non-zero, saying how many of how many; see --confirm-settle."""
    try:
        result = sync_ops.sync(
            state.context(), sync_ops.SyncRequest(name, confirm_settle=confirm_settle)
        )
    except SyncFailed as exc:
        if json_out:
            emit_json({**exc.report.as_dict(), "outcome": runs.Outcome.FAILED.value})
        raise
    except HubError as exc:  # before the sync started (no such client): still a JSON answer
        if json_out:
            emit_json({"client": name, "outcome": runs.Outcome.FAILED.value, "error": str(exc)})
        raise
    report, cycle, delivery = result.sync, result.cycle, result.delivery
    if json_out:
        emit_json(result.as_dict())
    else:
        table(
            f"Sync of {name} via {report.plugin} ({report.today.isoformat()})",
            list(report.counts),
            [list(report.counts.values())],
        )
        if cycle is not None:
            dunning = cycle.as_dict()
            del dunning["today"]
            del dunning["awaiting_approval"]  # said below, in words, when there are any
            table("Dunning", list(dunning), [list(dunning.values())])
        if delivery is not None:
            table("Delivery", ["sent", "failed"], [(delivery.sent, delivery.failed)])
            if delivery.waiting and delivery.window_opens is not None:
                say(
                    f"{delivery.waiting} letter(s) wait for the sending window, which opens"
                    f" {delivery.window_opens.isoformat(timespec='minutes')}"
                )
        if cycle is not None and cycle.awaiting_approval:
            say(
                f"{cycle.awaiting_approval} letter(s) wait for approval:"
                f" `hub dispatch list --client {name}`"
            )
        if report.notes:  # what the plugin passed over on purpose, never silently
            say("\n".join(f"Note: {note}" for note in report.notes))
    if result.error is not None:
        raise HubError(
            f"sync of {name}: the invoices were synced, but the {result.failed_step} step"
            f" failed: {result.error}"
        )
