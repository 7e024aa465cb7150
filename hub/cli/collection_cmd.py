"""``hub collection``: who still owes after the last reminder (D3)."""

from __future__ import annotations

import typer

from hub.cli.options import ClientOption, JsonOption
from hub.cli.output import amount, emit_json, say, table
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
    currencies = {i["currency"] for row in rows for i in row["invoices"]}
    one = next(iter(currencies)) if len(currencies) == 1 else None
    table(
        f"Collection overview of {client}" + (f", amounts in {one}" if one else ""),
        ["customer", "name", "invoice", "due", "outstanding", "case", "stage", "last reminder"],
        [
            (
                row["customer_number"],
                row["customer_name"] or "",
                invoice["invoice_number"],
                invoice["due_date"],
                amount(invoice["outstanding_amount"], None if one else invoice["currency"]),
                invoice["case"],
                "collection" if invoice["in_collection"] else (invoice["stage"] or ""),
                "yes" if invoice["last_reminder_sent"] else "",
            )
            for row in rows
            for invoice in row["invoices"]
        ],
        right=("outstanding",),
        wrap=("name",),
        optional=("last reminder", "due"),
    )
    for row in rows:
        totals = ", ".join(
            amount(total, currency) for currency, total in row["outstanding"].items()
        )
        cases_ = sorted({i["case"] for i in row["invoices"] if i["case"] is not None})
        hand_over = (
            f"; hand over with `hub cases collect {cases_[0]}`"
            if len(cases_) == 1
            and not any(i["in_collection"] or i["collection_deadline"] for i in row["invoices"])
            else ""
        )
        say(f"customer {row['customer_number']} owes {totals}{hand_over}")
