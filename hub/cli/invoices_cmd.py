"""``hub invoices``: the invoices the hub mirrors."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from hub.cli.output import emit_json, table
from hub.cli.state import state
from hub.operations.invoices import list_invoices

app = typer.Typer(help="Invoices mirrored from the accounting system.", no_args_is_help=True)


class StateFilter(StrEnum):
    open = "open"
    all = "all"


@app.command("list")
def list_(
    client: Annotated[str, typer.Option("--client", help="Client name.")],
    state_filter: Annotated[
        StateFilter, typer.Option("--state", help="open (default) or all.")
    ] = StateFilter.open,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a client's invoices as last synced."""
    open_only = state_filter is StateFilter.open
    rows = [i.as_dict() for i in list_invoices(state.context(), client, open_only=open_only)]
    if json_out:
        emit_json(rows)
        return
    table(
        f"Invoices of {client} ({state_filter.value})",
        [
            "invoice",
            "customer",
            "name",
            "invoice date",
            "due date",
            "currency",
            "gross",
            "outstanding",
            "state",
        ],
        [
            (
                r["invoice_number"],
                r["customer_number"],
                r["customer_name"],
                r["invoice_date"],
                r["due_date"],
                r["currency"],
                r["gross_amount"],
                r["outstanding_amount"],
                r["state"],
            )
            for r in rows
        ],
        right=("gross", "outstanding"),
    )
