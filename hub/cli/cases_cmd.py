"""``hub cases``: start, list, show and act on cases (A1–A6)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

import typer
from sqlalchemy import select

from hub import clients, clock
from hub.amounts import parse_amount
from hub.cli.output import emit_json, say, table
from hub.cli.state import state
from hub.db import tables as t
from hub.dunning import actions
from hub.dunning import rules as dunning_rules
from hub.dunning import write_off as write_offs
from hub.dunning.cases import get_case, start_case
from hub.dunning.messages import deliver_pending
from hub.dunning.states import Actor, Stage
from hub.dunning.views import case_detail, case_rows
from hub.errors import InputError, NotFoundError

app = typer.Typer(help="Cases: the hub's follow-up of unpaid invoices.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CaseId = Annotated[int, typer.Argument(help="Case id (see `hub cases list`).")]


class StageChoice(StrEnum):
    invoice = "invoice"
    reminder = "reminder"
    collection = "collection"


class StateChoice(StrEnum):
    active = "active"
    paused = "paused"
    closed = "closed"


def _client_today(session: Any, client_id: int) -> dt.date:
    client = session.get(t.Client, client_id)
    return state.context().clock.today(client.timezone)


def _done(case_id: int, what: str, json_out: bool = False) -> None:
    with state.db().session() as session:
        detail = case_detail(session, get_case(session, case_id))
    if json_out:
        emit_json(detail)
        return
    say(f"case {case_id}: {what} ({detail['stage']}, {detail['state']})")


@app.command("start")
def start(
    client: Annotated[str, typer.Option("--client", help="Client name.")],
    invoice: Annotated[str, typer.Option("--invoice", help="Invoice number.")],
    json_out: JsonOption = False,
) -> None:
    """Start a case for an open invoice (as synced from the accounting system)."""
    with state.db().session() as session:
        c = clients.get_client(session, client)
        inv = session.scalar(
            select(t.Invoice).where(
                t.Invoice.client_id == c.id, t.Invoice.invoice_number == invoice
            )
        )
        if inv is None:
            raise NotFoundError(
                f"client {client!r} has no invoice {invoice!r} (run `hub sync {client}` first)"
            )
        if dunning_rules.rules_of(session, c).reminder_mode == "customer":
            raise InputError(
                f"client {client!r} is in customer mode: its cases follow customers and start"
                " by themselves for overdue invoices (C1)"
            )
        case = start_case(
            session,
            c,
            inv,
            state.context().clock.today(c.timezone),
            actions.current_user(),
            Actor.USER,
        )
        session.flush()
        case_id = case.id
    _done(case_id, f"started for invoice {invoice}", json_out)


@app.command("list")
def list_(
    client: Annotated[str | None, typer.Option("--client", help="Client name.")] = None,
    stage: Annotated[StageChoice | None, typer.Option("--stage")] = None,
    state_: Annotated[StateChoice | None, typer.Option("--state")] = None,
    json_out: JsonOption = False,
) -> None:
    """List cases with what they pursue and their next step."""
    with state.db().session() as session:
        owner = clients.get_client(session, client) if client else None
        rows = case_rows(
            session, owner, stage.value if stage else None, state_.value if state_ else None
        )
    if json_out:
        emit_json(rows)
        return
    table(
        "Cases",
        [
            "id",
            "client",
            "invoice",
            "customer",
            "stage",
            "state",
            "outstanding",
            "fees",
            "next step",
            "on",
        ],
        [
            (
                r["id"],
                r["client"],
                ", ".join(r["invoice_numbers"]),
                r["customer_number"],
                r["stage"],
                r["state"] + (" (paid in accounting)" if r["paid_in_accounting"] else ""),
                r["outstanding_amount"],
                r["fees_amount"],
                r["next_step"],
                r["next_step_on"],
            )
            for r in rows
        ],
        right=("outstanding", "fees"),
    )


@app.command("show")
def show(case_id: CaseId, json_out: JsonOption = False) -> None:
    """Show a case: invoice, amounts, steps, messages and its whole history."""
    with state.db().session() as session:
        detail = case_detail(session, get_case(session, case_id))
    if json_out:
        emit_json(detail)
        return
    invoices = ", ".join(detail["invoice_numbers"])
    say(
        f"case {detail['id']} of {detail['client']}: invoice {invoices},"
        f" customer {detail['customer_number']}, {detail['stage']} stage, {detail['state']}"
    )
    say(
        f"pursues {detail['outstanding_amount']} {detail['currency']}, fees"
        f" {detail['fees_amount']}; next: {detail['next_step'] or '-'}"
        f" {detail['next_step_on'] or ''}"
    )
    table(
        "Steps",
        ["step", "template", "fee", "offset", "anchor", "done"],
        [
            (
                s["step"],
                s["template"],
                s["fee"],
                s["offset_days"],
                s["anchor"],
                "yes" if s["done"] else "",
            )
            for s in detail["steps"]
        ],
    )
    table(
        "Messages",
        ["id", "kind", "created", "fee", "channel", "status"],
        [
            (m["id"], m["kind"], m["created_on"], m["fee"], m["channel"], m["status"])
            for m in detail["messages"]
        ],
    )
    table(
        "History",
        ["on", "kind", "by", "reason"],
        [(e["on"], e["kind"], e["by"], e["reason"]) for e in detail["events"]],
    )


@app.command("close")
def close(
    case_id: CaseId,
    code: Annotated[str, typer.Option("--code", help="Closing code (A1).")],
    reason: Annotated[str, typer.Option("--reason", help="Detailed reason for the code.")],
    notify: Annotated[
        bool, typer.Option("--notify", help="Send the closing confirmation.")
    ] = False,
) -> None:
    """Close a case with a closing code and reason (A1)."""
    with state.db().session() as session:
        today = _client_today(session, get_case(session, case_id).client_id)
        actions.close(session, case_id, code, reason, today, notify=notify)
    _done(case_id, f"closed ({code}: {reason})")


@app.command("payment")
def payment(
    case_id: CaseId,
    amount: Annotated[str, typer.Option("--amount", help="Amount paid, e.g. 250.00.")],
    date: Annotated[str, typer.Option("--date", help="Day paid, YYYY-MM-DD.")],
) -> None:
    """Register a partial payment (A2): lowers what is pursued; not booked."""
    value = parse_amount(amount, what="--amount", minimum=Decimal("0.01"))
    paid_on = clock.parse_date(date, what="--date")
    with state.db().session() as session:
        today = _client_today(session, get_case(session, case_id).client_id)
        actions.register_payment(session, case_id, value, paid_on, today)
    _done(case_id, f"payment of {value} registered")


@app.command("credit-note")
def credit_note(case_id: CaseId) -> None:
    """Credit the invoice in full in the accounting system and close the case (A3)."""
    with state.db().session() as session:
        today = _client_today(session, get_case(session, case_id).client_id)
    case = actions.credit_note(state.db(), state.registry, state.box, case_id, today)
    _done(case_id, f"credit note {case.credit_note_ref} created")


@app.command("pause")
def pause(
    case_id: CaseId,
    reason: Annotated[str, typer.Option("--reason")],
    note: Annotated[str | None, typer.Option("--note")] = None,
    resume_on: Annotated[str | None, typer.Option("--resume-on", help="YYYY-MM-DD")] = None,
) -> None:
    """Pause a case (A4), optionally until a day it resumes by itself."""
    day = clock.parse_date(resume_on, what="--resume-on") if resume_on else None
    with state.db().session() as session:
        today = _client_today(session, get_case(session, case_id).client_id)
        actions.pause(session, case_id, reason, note, day, today)
    _done(case_id, "paused")


@app.command("resume")
def resume(case_id: CaseId) -> None:
    """Resume a paused case (A4)."""
    with state.db().session() as session:
        today = _client_today(session, get_case(session, case_id).client_id)
        actions.resume(session, case_id, today)
    _done(case_id, "resumed")


@app.command("change-flow")
def change_flow(
    case_id: CaseId,
    to: Annotated[StageChoice, typer.Option("--to", help="invoice, reminder or collection.")],
) -> None:
    """Move a case to another stage's flow (A5); collection is one way, through the
    collection warning (as `hub cases collect`)."""
    with state.db().session() as session:
        today = _client_today(session, get_case(session, case_id).client_id)
        actions.change_flow(session, case_id, Stage(to.value), today)
    _done(case_id, f"moved to the {to.value} flow")


@app.command("collect")
def collect(case_id: CaseId) -> None:
    """Send to collection (D1): the collection warning with the statutory deadline (DK 10,
    NO 14 days) goes out now (with the client's other queued letters); unpaid, the case enters
    collection the day after the deadline, counted from the day the warning went out."""
    with state.db().session() as session:
        today = _client_today(session, get_case(session, case_id).client_id)
        case = actions.send_to_collection(session, case_id, today)
        deadline = case.collection_deadline
        client_id = case.client_id
    # Delivered at once: the statutory days count from the day the warning goes out.
    delivery = deliver_pending(state.db(), state.registry, state.box, client_id, today)
    if delivery.failed:
        say(f"the warning is not delivered yet ({'; '.join(delivery.errors)}); collection waits")
    _done(case_id, f"collection warning made; collection starts after {deadline} unless paid")


@app.command("write-off")
def write_off(
    case_id: CaseId,
    reason: Annotated[
        str, typer.Option("--reason", help="loss_confirmed or amount_too_small_to_pursue.")
    ] = "loss_confirmed",
    confirm: Annotated[
        bool,
        typer.Option(
            "--confirm", help="Finish a write-off although the books show the invoice settled."
        ),
    ] = False,
) -> None:
    """Write the loss off in the books (D4) and close the case as written off.

    Posts one voucher through the client's plugin: the receivable cleared, net to the loss
    account, VAT to the output-VAT account (rules loss_account, output_vat_account). Run it
    again after a failure: the same voucher is posted under the same key, never a second one.
    """
    with state.db().session() as session:
        today = _client_today(session, get_case(session, case_id).client_id)
    case, entry, posted = write_offs.write_off(
        state.db(), state.registry, state.box, case_id, reason, today, confirm=confirm
    )
    lines = ", ".join(f"{line.account or 'customer ' + str(line.customer_number)} {line.amount}"
                      for line in entry.lines)  # fmt: skip
    what = "written off" if posted else "was written off already; nothing posted again"
    _done(case_id, f"{what}: voucher {case.write_off_ref} ({entry.currency} {lines})")


@app.command("restart-flow")
def restart_flow(case_id: CaseId) -> None:
    """Run the current flow again from its first step (A6)."""
    with state.db().session() as session:
        today = _client_today(session, get_case(session, case_id).client_id)
        actions.restart_flow(session, case_id, today)
    _done(case_id, "flow restarted")
