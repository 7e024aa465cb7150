"""``hub invoices``: the invoices the hub mirrors."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from hub.cli.options import ClientOption, JsonOption
from hub.cli.output import Cell, listing
from hub.cli.state import state
from hub.operations.invoices import list_invoices

app = typer.Typer(
    epilog="Example: hub invoices list --client demo-dk",
    help="Invoices mirrored from the accounting system.",
    no_args_is_help=True,
)


class StateFilter(StrEnum):
    open = "open"
    all = "all"


@app.command("list", epilog="Example: hub invoices list --client demo-dk --state all")
def list_(
    client: ClientOption,
    state_filter: Annotated[
        StateFilter, typer.Option("--state", help="open (default) or all.")
    ] = StateFilter.open,
    json_out: JsonOption = False,
) -> None:
    """List a client's invoices as last synced."""
    open_only = state_filter is StateFilter.open
    rows = [i.as_dict() for i in list_invoices(state.context(), client, open_only=open_only)]
    columns: dict[str, Cell] = {
        "invoice": "invoice_number",
        "customer": "customer_number",
        "name": "customer_name",
        "invoice date": "invoice_date",
        "due date": "due_date",
        "gross": "gross_amount",
        "outstanding": "outstanding_amount",
        "state": "state",
    }
    if open_only:
        del columns["state"]  # every one is open
    listing(
        f"Invoices of {client} ({state_filter.value})",
        rows,
        json_out,
        columns,
        money=("gross", "outstanding"),
        currency="currency",
        wrap=("name",),
        empty=f"no {'open ' if open_only else ''}invoices of {client}",
        optional=("invoice date", "gross"),
    )
