"""``hub collection``: who still owes after the last reminder (D3)."""

from __future__ import annotations

import typer

from hub.cli.options import ClientOption, JsonOption
from hub.cli.output import emit_json, say, table
from hub.cli.state import state
from hub.operations.collection import collection_overview

app = typer.Typer(
    epilog="Example: hub collection overview --client demo-dk",
    help="Collection: customers who still owe after reminders.",
    no_args_is_help=True,
)


@app.command("overview", epilog="Example: hub collection overview --client demo-dk")
def overview(
    client: ClientOption,
    json_out: JsonOption = False,
) -> None:
    """Customers with an outstanding balance after the last reminder, and the unpaid
    invoices that make it up (D3). It only shows: `hub cases collect` hands a case over."""
    rows = collection_overview(state.context(), client).rows
    if json_out:
        emit_json(rows)
        return
    if not rows:
        say(f"no customer of {client} owes anything after the last reminder")
        return
    table(
        f"Collection overview of {client}",
        ["customer", "name", "invoice", "due", "outstanding", "case", "stage", "last reminder"],
        [
            (
                row["customer_number"],
                row["customer_name"] or "",
                invoice["invoice_number"],
                invoice["due_date"],
                f"{invoice['outstanding_amount']} {invoice['currency']}",
                invoice["case"] or "",
                "collection" if invoice["in_collection"] else (invoice["stage"] or ""),
                "yes" if invoice["last_reminder_sent"] else "",
            )
            for row in rows
            for invoice in row["invoices"]
        ],
    )
    for row in rows:
        totals = ", ".join(
            f"{amount} {currency}" for currency, amount in row["outstanding"].items()
        )
        say(f"customer {row['customer_number']}: {totals}")
