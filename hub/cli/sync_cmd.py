"""``hub sync``: fetch a client's invoices, run the dunning cycle, deliver its messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import typer

from hub.cli.options import JsonOption
from hub.cli.output import amount, emit_json, say, table, text
from hub.cli.state import state
from hub.errors import HubError
from hub.operations import runs
from hub.operations import sync as sync_ops
from hub.operations.sync import SyncFailed, SyncResult

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
    verbose: Annotated[
        bool,
        typer.Option(
            "--verbose",
            help="Also list what the dunning cycle did to each case (the global -v logs).",
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
    if json_out:
        emit_json(result.as_dict())
    else:
        _print_sync(result, verbose)
    if result.error is not None:
        raise HubError(
            f"sync of {name}: the invoices were synced, but the {result.failed_step} step"
            f" failed: {result.error}"
        )


def _counted(counts: Mapping[str, Any]) -> str:
    """``2 new, 1 settled``: the counts that are not zero, in their order."""
    return ", ".join(f"{n} {what}" for what, n in counts.items() if n)


def _print_sync(result: SyncResult, verbose: bool) -> None:
    """A few lines: what was fetched, what the dunning cycle did, what was delivered, what
    waits; with ``verbose``, a table of what happened to each case."""
    report, cycle, delivery = result.sync, result.cycle, result.delivery
    say(f"sync of {report.client} via {report.plugin} on {report.today.isoformat()}")
    fetched = _counted(
        {
            "new": report.new,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "settled": report.settled,
            "left the list unknown": report.unknown,
            "failed": report.failed,
        }
    )
    known = _counted({"customers": report.customers, "balances": report.balances})
    say(f"  invoices: {fetched or 'none'}" + (f"; {known}" if known else ""))
    if report.missing_customers:
        say(f"  no contact data for customers {', '.join(report.missing_customers)}")
    if cycle is not None:
        cases_done = _counted(
            {
                "started": cycle.started,
                "closed": cycle.closed,
                "reopened": cycle.reopened,
                "resumed": cycle.resumed,
                "moved to another stage": cycle.stage_moves,
                "warned of collection": cycle.collection_warnings,
                "sent to collection": cycle.collections_started,
                "failed": cycle.failed,
            }
        )
        letters = f"{cycle.messages} letter{'s' if cycle.messages != 1 else ''} made"
        if cycle.fees:
            letters += f", fees {amount(cycle.fees)}"
        if cycle.fees_waived:
            letters += f", {cycle.fees_waived} fee(s) waived"
        say(f"  dunning: {f'cases {cases_done}; ' if cases_done else ''}{letters}")
    if delivery is not None:
        say(f"  delivery: {delivery.sent} sent, {delivery.failed} failed")
        for error in delivery.errors:
            say(f"    {error}")
        if delivery.waiting and delivery.window_opens is not None:
            say(
                f"  {delivery.waiting} letter(s) wait for the sending window, which opens"
                f" {delivery.window_opens.isoformat(timespec='minutes')}"
            )
    if cycle is not None and cycle.awaiting_approval:
        say(
            f"  {cycle.awaiting_approval} letter(s) wait for approval:"
            f" `hub dispatch list --client {report.client}`"
        )
    for note in report.notes:  # what the plugin passed over on purpose, never silently
        say(f"  note: {note}")
    if cycle is None or not cycle.entries:
        return
    if verbose:
        table(
            "What happened to each case",
            ["case", "action", "detail"],
            [
                (
                    e["case"],
                    e["action"],
                    text({k: v for k, v in e.items() if k not in ("case", "action")}),
                )
                for e in cycle.entries
            ],
            wrap=("detail",),
        )
    else:
        touched = sorted({e["case"] for e in cycle.entries})
        shown = ", ".join(map(str, touched[:10])) + (", …" if len(touched) > 10 else "")
        say(f"  cases: {shown} (`hub cases show ID`; --verbose lists each event)")
