"""``hub invoices``: the invoices the hub mirrors."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from sqlalchemy import select

from hub import clients
from hub.cli.output import emit_json, table
from hub.cli.state import state
from hub.db import tables as t

app = typer.Typer(help="Invoices mirrored from the accounting system.", no_args_is_help=True)


class StateFilter(StrEnum):
    open = "open"
    all = "all"


#: The keys of ``hub invoices list --json``; amounts are strings ("1234.50"), dates ISO.
FIELDS = (
    "invoice_number",
    "customer_number",
    "customer_name",
    "invoice_date",
    "due_date",
    "currency",
    "net_amount",
    "vat_amount",
    "gross_amount",
    "outstanding_amount",
    "state",
)


@app.command("list")
def list_(
    client: Annotated[str, typer.Option("--client", help="Client name.")],
    state_filter: Annotated[
        StateFilter, typer.Option("--state", help="open (default) or all.")
    ] = StateFilter.open,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List a client's invoices as last synced."""
    with state.db().session() as session:
        c = clients.get_client(session, client)
        query = (
            select(t.Invoice, t.Customer.name)
            .outerjoin(
                t.Customer,
                (t.Customer.client_id == t.Invoice.client_id)
                & (t.Customer.customer_number == t.Invoice.customer_number),
            )
            .where(t.Invoice.client_id == c.id)
            .order_by(t.Invoice.due_date, t.Invoice.invoice_number)
        )
        if state_filter is StateFilter.open:
            query = query.where(t.Invoice.state == "open")
        rows: list[dict[str, Any]] = []
        for inv, customer_name in session.execute(query):
            row = {f: getattr(inv, f, None) for f in FIELDS}
            row["customer_name"] = customer_name
            rows.append(row)
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
