"""``hub dispatch``: the plan of letters the cycle would send, and approving it."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.options import ClientOption, JsonOption
from hub.cli.output import Cell, amount, emit_json, listing, say, table
from hub.cli.state import state
from hub.clock import parse_date
from hub.operations.dispatch import (
    Approved,
    ApproveRequest,
    DispatchPlan,
    HoldRequest,
    approve_letters,
    hold_letter,
    list_waiting,
    plan_dispatch,
)

app = typer.Typer(
    epilog="Example: hub dispatch plan --client demo-economic",
    help="The dispatch plan: what the cycle would send, and approving it.",
    no_args_is_help=True,
)

_WAITING_COLUMNS: dict[str, Cell] = {
    "letter": "id",
    "case": "case_id",
    "customer": "customer_number",
    "name": "recipient_name",
    "kind": "kind",
    "made": "created_on",
    "fee": "fee",
    "amount": lambda r: "" if r["amount"] is None else amount(r["amount"], r["currency"]),
    "status": "status",
    "why": lambda r: (
        f"{r['held_by']}: {r['hold_reason']}" if r["status"] == "held" else r["last_error"]
    ),
}


def _show_plan(plan: DispatchPlan) -> None:
    approval = " (each waits for approval)" if plan.approval == "required" else ""
    window = f"; sending window {plan.sending_window}" if plan.sending_window else ""
    if not plan.letters:
        say(f"the cycle would send {plan.client} nothing on {plan.date}{window}")
    else:
        table(
            f"What the cycle would send for {plan.client} on {plan.date}{approval}{window}",
            ["case", "customer", "name", "kind", "invoices", "fee", "amount", "channel"],
            [
                (
                    letter.case_id if letter.case_id is not None else "new",
                    letter.customer_number,
                    letter.customer_name,
                    letter.kind,
                    ", ".join(letter.invoice_numbers),
                    amount(letter.fee, letter.fee_currency)
                    + (" (waived)" if letter.fee_waived else ""),
                    amount(letter.amount, letter.currency),
                    letter.channel,
                )
                for letter in plan.letters
            ],
            right=("fee", "amount"),
            wrap=("name", "invoices"),
            optional=("channel", "customer"),
        )
    for failure in plan.failures:
        say(f"case {failure['case'] or 'new'}: {failure['kind']} could not be made: "
            f"{failure['reason']}")  # fmt: skip
    if plan.waiting:
        say(
            f"{plan.waiting} letter(s) made earlier are not out yet:"
            f" `hub dispatch list --client {plan.client}`"
        )


@app.command("plan", epilog="Example: hub dispatch plan --client demo-economic --date 2026-02-02")
def plan(
    client: ClientOption,
    date: Annotated[
        str | None,
        typer.Option("--date", help="The day, YYYY-MM-DD (default: the client's today)."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """What the dunning cycle would send on a day: each letter's kind, case, customer, fee,
    channel and amount. Nothing is sent, stored or posted."""
    on = parse_date(date, what="--date") if date is not None else None
    result = plan_dispatch(state.context(), client, on=on)
    if json_out:
        emit_json(result.as_dict())
    else:
        _show_plan(result)


@app.command("list", epilog="Example: hub dispatch list --client demo-economic")
def list_(client: ClientOption, json_out: JsonOption = False) -> None:
    """The client's letters made and not out yet: waiting for approval, held back, queued for
    the sending window or failing."""
    rows = [letter.as_dict() for letter in list_waiting(state.context(), client)]
    if not rows and not json_out:
        say(f"no letter of {client} is waiting")
        return
    listing(
        f"Letters of {client} not out yet",
        rows,
        json_out,
        _WAITING_COLUMNS,
        right=("fee", "amount"),
        wrap=("name", "why"),
        optional=("made", "customer"),
    )


def _show_approved(result: Approved) -> None:
    if not result.letters:
        say(f"no letter of {result.client} waits for approval")
        return
    say(f"approved {len(result.letters)} letter(s) of {result.client}")
    delivery = result.delivery
    say(f"sent {delivery.sent}, failed {delivery.failed}")
    if delivery.waiting:
        opens = (
            delivery.window_opens.isoformat(timespec="minutes") if delivery.window_opens else "?"
        )
        say(f"{delivery.waiting} letter(s) wait for the sending window, which opens {opens}")
    for error in delivery.errors:
        say(f"delivery: {error}")


@app.command("approve", epilog="Example: hub dispatch approve --client demo-economic --all")
def approve(
    client: ClientOption,
    every: Annotated[
        bool, typer.Option("--all", help="Every letter waiting for approval (not held ones).")
    ] = False,
    letters: Annotated[
        list[int] | None,
        typer.Option("--letter", help="A letter to approve (waiting or held); repeatable."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Approve letters of the plan; they go out at once (within the sending window)."""
    result = approve_letters(
        state.context(), ApproveRequest(client, tuple(letters or ()), every=every)
    )
    if json_out:
        emit_json(result.as_dict())
    else:
        _show_approved(result)


@app.command(
    "hold",
    epilog='Example: hub dispatch hold --letter 40 --reason "customer called, paying Friday"',
)
def hold(
    letter: Annotated[int, typer.Option("--letter", help="The letter to hold back.")],
    reason: Annotated[str, typer.Option("--reason", help="Why it is held back (required).")],
    json_out: JsonOption = False,
) -> None:
    """Hold a letter back: it is not sent until approved (`hub dispatch approve --letter`)."""
    held = hold_letter(state.context(), HoldRequest(letter, reason))
    if json_out:
        emit_json(held.as_dict())
    else:
        say(f"letter {held.id} ({held.kind}, case {held.case_id}) is held: {held.hold_reason}")
