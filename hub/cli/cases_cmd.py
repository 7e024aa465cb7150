"""``hub cases``: start, list, show and act on cases (A1–A6)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer

from hub.amounts import CENT, parse_amount
from hub.cli.options import ClientOption, JsonOption, SomeClientOption
from hub.cli.output import Cell, amount, emit_json, json_or, listing, say, table
from hub.cli.state import state
from hub.clock import parse_date
from hub.operations import cases, collection
from hub.operations.cases import CaseView

app = typer.Typer(
    epilog="Example: hub cases list --client demo-dk --overdue",
    help="Cases: the hub's follow-up of unpaid invoices.",
    no_args_is_help=True,
)

CaseId = Annotated[int, typer.Argument(help="Case id (see `hub cases list`).")]


def _done(case: CaseView, what: str, json_out: bool = False) -> None:
    if json_out:
        emit_json(case.as_dict())
        return
    say(f"case {case.id}: {what} ({case.stage}, {case.state})")


@app.command("start", epilog="Example: hub cases start --client demo-dk --invoice 1042")
def start(
    client: ClientOption,
    invoice: Annotated[str, typer.Option("--invoice", help="Invoice number.")],
    json_out: JsonOption = False,
) -> None:
    """Start a case for an open invoice (as synced from the accounting system)."""
    case = cases.start_case(state.context(), client=client, invoice=invoice)
    _done(case, f"started for invoice {invoice}", json_out)


@app.command("list", epilog="Example: hub cases list --client demo-dk --stage reminder")
def list_(
    client: SomeClientOption = None,
    stage: Annotated[cases.Stage | None, typer.Option("--stage")] = None,
    state_: Annotated[cases.CaseState | None, typer.Option("--state")] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer number's cases.")
    ] = None,
    overdue: Annotated[
        bool,
        typer.Option("--overdue", help="Only open cases pursuing something past its due date."),
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """List cases with what they pursue and their next step."""
    request = cases.CaseFilter(client, stage, state_, customer, overdue)
    rows = cases.list_cases(state.context(), request).rows
    columns: dict[str, Cell] = {
        "id": "id",
        "client": "client",
        "invoice": lambda r: ", ".join(r["invoice_numbers"]),
        "customer": "customer_number",
        "stage": "stage",
        "state": lambda r: (
            r["state"] + (" (paid in accounting)" if r["paid_in_accounting"] else "")
        ),
        "outstanding": "outstanding_amount",
        "fees": "fees_amount",
        "next step": "next_step",
        "on": "next_step_on",
    }
    if client is not None:
        del columns["client"]  # said in the title
    listing(
        f"Cases of {client}" if client else "Cases",
        rows,
        json_out,
        columns,
        money=("outstanding", "fees"),
        currency="currency",
        wrap=("invoice", "state"),
        empty="no cases match",
        optional=("customer", "fees", "on", "stage"),
    )
    if not json_out and rows:
        say(_case_summary(rows))


def _case_summary(rows: Sequence[Mapping[str, Any]]) -> str:
    """``12 cases: 8 active, 4 closed``."""
    by_state = Counter(r["state"] for r in rows)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(by_state.items()))
    return f"{len(rows)} case{'s' if len(rows) != 1 else ''}: {counts}"


@app.command("show", epilog="Example: hub cases show 12")
def show(case_id: CaseId, json_out: JsonOption = False) -> None:
    """Show a case: invoice, amounts, steps, messages and its whole history."""
    json_or(cases.show_case(state.context(), case_id).as_dict(), json_out, _print_case)


def _print_case(detail: dict[str, Any]) -> None:
    invoices = ", ".join(detail["invoice_numbers"]) or "-"
    currency = detail["currency"]
    say(
        f"case {detail['id']} of {detail['client']}: invoice {invoices},"
        f" customer {detail['customer_number']}, {detail['stage']} stage, {detail['state']}"
    )
    say(
        f"pursues {amount(detail['outstanding_amount'], currency)},"
        f" fees {amount(detail['fees_amount'], currency)}"
    )
    if detail["next_step"]:
        say(f"next: {detail['next_step']} on {detail['next_step_on']}")
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
    if detail["messages"]:
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
        wrap=("reason",),
    )


@app.command(
    "close", epilog="Example: hub cases close 12 --code dispute --reason customer_disputes_claim"
)
def close(
    case_id: CaseId,
    code: Annotated[str, typer.Option("--code", help="Closing code (A1).")],
    reason: Annotated[str, typer.Option("--reason", help="Detailed reason for the code.")],
    notify: Annotated[
        bool, typer.Option("--notify", help="Send the closing confirmation.")
    ] = False,
) -> None:
    """Close a case with a closing code and reason (A1)."""
    case = cases.close_case(state.context(), cases.CloseRequest(case_id, code, reason, notify))
    _done(case, f"closed ({code}: {reason})")


@app.command("payment", epilog="Example: hub cases payment 12 --amount 300.00 --date 2026-02-01")
def payment(
    case_id: CaseId,
    amount: Annotated[str, typer.Option("--amount", help="Amount paid, e.g. 250.00 or 250,00.")],
    date: Annotated[str, typer.Option("--date", help="Day paid, YYYY-MM-DD.")],
) -> None:
    """Register a partial payment (A2): lowers what is pursued; not booked."""
    value = parse_amount(amount, what="--amount", minimum=CENT)
    paid_on = parse_date(date, what="--date")
    case = cases.register_payment(state.context(), cases.PaymentRequest(case_id, value, paid_on))
    _done(case, f"payment of {value} registered")


@app.command("credit-note", epilog="Example: hub cases credit-note 12")
def credit_note(case_id: CaseId) -> None:
    """Credit the invoice in full in the accounting system and close the case (A3)."""
    case = cases.credit_note(state.context(), case_id)
    _done(case, f"credit note {case.reference} created")


@app.command(
    "pause",
    epilog='Example: hub cases pause 12 --reason "payment plan agreed" --resume-on 2026-03-01',
)
def pause(
    case_id: CaseId,
    reason: Annotated[str, typer.Option("--reason")],
    note: Annotated[str | None, typer.Option("--note")] = None,
    resume_on: Annotated[str | None, typer.Option("--resume-on", help="YYYY-MM-DD")] = None,
) -> None:
    """Pause a case (A4), optionally until a day it resumes by itself."""
    day = parse_date(resume_on, what="--resume-on") if resume_on else None
    case = cases.pause_case(state.context(), cases.PauseRequest(case_id, reason, note, day))
    _done(case, "paused")


@app.command("resume", epilog="Example: hub cases resume 12")
def resume(case_id: CaseId) -> None:
    """Resume a paused case (A4)."""
    _done(cases.resume_case(state.context(), case_id), "resumed")


@app.command("change-flow", epilog="Example: hub cases change-flow 12 --to reminder")
def change_flow(
    case_id: CaseId,
    to: Annotated[cases.Stage, typer.Option("--to", help="invoice, reminder or collection.")],
) -> None:
    """Move a case to another stage's flow (A5); collection is one way, through the
    collection warning (as `hub cases collect`)."""
    case = cases.change_flow(state.context(), case_id, to)
    _done(case, f"moved to the {to.value} flow")


@app.command("collect", epilog="Example: hub cases collect 12")
def collect(case_id: CaseId) -> None:
    """Send to collection (D1): the collection warning with the statutory deadline (DK 10,
    NO 14 days) goes out now (with the client's other queued letters); unpaid, the case enters
    collection the day after the deadline, counted from the day the warning went out."""
    case = collection.collect(state.context(), case_id)
    if case.delivery_failed:
        say(
            f"the warning is not delivered yet ({'; '.join(case.delivery_errors)});"
            " collection waits"
        )
    _done(case, f"collection warning made; collection starts after {case.deadline} unless paid")


@app.command(
    "write-off", epilog="Example: hub cases write-off 12 --reason amount_too_small_to_pursue"
)
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
    case = collection.write_off(
        state.context(), collection.WriteOffRequest(case_id, reason, confirm)
    )
    entry = case.entry
    lines = ", ".join(f"{line.account or 'customer ' + str(line.customer_number)} {line.amount}"
                      for line in entry.lines)  # fmt: skip
    what = "written off" if case.posted else "was written off already; nothing posted again"
    _done(case, f"{what}: voucher {case.reference} ({entry.currency} {lines})")


@app.command(
    "abandon-posting",
    epilog='Example: hub cases abandon-posting 12 --reason "credited by hand in e-conomic"',
)
def abandon_posting(
    case_id: CaseId,
    reason: Annotated[
        str,
        typer.Option("--reason", help="Why it is dropped (kept in the case's history)."),
    ],
) -> None:
    """Drop a credit note or write-off that was asked for and never finished.

    For a request the accounting system will not take and the hub could not tell (look in
    the books first: one the books hold is finished by running its command again, which finds
    it; dropped, a new request would post a second). The case goes on (reminders, close) and
    the history keeps the reason and the dropped key. Refused while another command or the
    daemon is posting it (its lease is live).
    """
    case = cases.abandon_posting(state.context(), cases.AbandonRequest(case_id, reason))
    _done(case, "unfinished posting abandoned")


@app.command("restart-flow", epilog="Example: hub cases restart-flow 12")
def restart_flow(case_id: CaseId) -> None:
    """Run the current flow again from its first step (A6)."""
    _done(cases.restart_flow(state.context(), case_id), "flow restarted")
