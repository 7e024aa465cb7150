"""``hub recurring``: recurring invoice agreements (seed 004, rules G1–G6)."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any

import typer

from hub import clock
from hub.cli.options import ClientOption, JsonOption
from hub.cli.output import amount, emit_json, say, table
from hub.cli.state import state
from hub.operations import recurring
from hub.operations.recurring import PRICE_FACTORS, UNITS, PlannedInvoice, TermsRequest

app = typer.Typer(
    epilog="Example: hub recurring list --client demo-no",
    help="Recurring invoice agreements: invoices (or orders) made on a schedule.",
    no_args_is_help=True,
)

# The options `add` and `preview` share: an agreement's terms.
Every = Annotated[int, typer.Option("--every", help="Repeat every N units.")]
Unit = Annotated[str, typer.Option("--unit", help=f"One of {', '.join(UNITS)}.")]
Produce = Annotated[
    str,
    typer.Option("--produce", help="invoice (goes out when made) or order (waits for a person)."),
]
NextDate = Annotated[
    str, typer.Option("--next-invoice-date", help="The first invoice date, YYYY-MM-DD.")
]
PrepDays = Annotated[
    int, typer.Option("--prep-days", help="Make each invoice this many days before its date.")
]
AgreementDate = Annotated[
    str | None,
    typer.Option(
        "--agreement-date",
        help="The day before billing starts: with a periodic price, the first invoice also"
        " bills the days after it up to the first invoice date.",
    ),
]
EndDate = Annotated[
    str | None,
    typer.Option(
        "--end-date",
        help="The last day the agreement covers: every invoice dated up to it is made (the"
        " last one's periodic lines prorated to it), and the agreement ends on that day.",
    ),
]
MaxCount = Annotated[int | None, typer.Option("--max-count", help="Stop after this many invoices.")]
NoCreditDays = Annotated[
    bool,
    typer.Option(
        "--no-credit-days",
        help="Due date = invoice date, whatever the customer's payment terms.",
    ),
]
PaymentDays = Annotated[
    int,
    typer.Option(
        "--payment-days",
        help="Days from invoice date to due date, whatever the customer's payment terms.",
    ),
]
Lines = Annotated[
    list[str],
    typer.Option(
        "--line",
        help="'description;quantity;unit price;price factor[;VAT code]', price factor one of"
        f" {', '.join(PRICE_FACTORS)}. Repeat for more lines.",
    ),
]
AgreementId = Annotated[int, typer.Argument(help="Agreement id.")]
AgreementClient = Annotated[str, typer.Option("--client", help="The agreement's client.")]


def _terms(
    every: Every,
    unit: Unit,
    next_invoice_date: NextDate,
    line: Lines,
    produce: Produce = "invoice",
    prep_days: PrepDays = 0,
    agreement_date: AgreementDate = None,
    end_date: EndDate = None,
    max_count: MaxCount = None,
    no_credit_days: NoCreditDays = False,
    payment_days: PaymentDays = 14,
) -> TermsRequest:
    """The options of an agreement's terms, which `add` and `preview` share."""
    return TermsRequest(
        every=every,
        unit=unit,
        first_invoice_date=clock.parse_date(next_invoice_date, what="--next-invoice-date"),
        lines=tuple(line),
        produce=produce,
        prep_days=prep_days,
        agreement_date=clock.parse_date(agreement_date, what="--agreement-date")
        if agreement_date is not None
        else None,
        end_date=clock.parse_date(end_date, what="--end-date") if end_date is not None else None,
        max_count=max_count,
        no_credit_days=no_credit_days,
        payment_days=payment_days,
    )


def _with_terms(command: Callable[..., None]) -> Callable[..., None]:
    """Give ``command`` the options of :func:`_terms` in place of its parameter ``terms``, and
    call it with them as one :class:`TermsRequest`: the options are declared once."""
    options = inspect.signature(_terms, eval_str=True).parameters
    own = inspect.signature(command, eval_str=True).parameters
    at = list(own).index("terms")
    parameters = [*list(own.values())[:at], *options.values(), *list(own.values())[at + 1 :]]

    @functools.wraps(command)
    def with_terms(**given: Any) -> None:
        terms = _terms(**{name: given.pop(name) for name in options})
        command(terms=terms, **given)

    with_terms.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return with_terms


def _show_plan(title: str, invoices: tuple[PlannedInvoice, ...]) -> None:
    """The planned invoices, each line's amount beside its description (an agreement's
    invoices are all in its one currency, said in the title)."""
    currencies = {p.currency for p in invoices}
    table(
        f"{title}, amounts in {invoices[0].currency}" if len(currencies) == 1 else title,
        ["#", "made on", "dated", "due date", "lines", "total"],
        [
            (
                p.sequence + 1,
                p.generate_on,
                p.invoice_date,
                p.due_date,
                "\n".join(f"{line.description}: {amount(line.amount)}" for line in p.lines),
                amount(p.total) if len(currencies) == 1 else amount(p.total, p.currency),
            )
            for p in invoices
        ],
        right=["total"],
        wrap=["lines"],
    )


@app.command(
    "add",
    epilog=(
        "Example: hub recurring add --client demo-no --customer 10001 --every 1"
        ' --unit month --next-invoice-date 2026-02-01 --line "Lisens;1;3100.00;month"'
    ),
)
@_with_terms
def add(
    client: ClientOption,
    customer: Annotated[str, typer.Option("--customer", help="Customer number.")],
    terms: TermsRequest,
    backdate: Annotated[
        bool,
        typer.Option(
            "--backdate",
            help="Allow a first invoice due to be made before today: the next run makes every"
            " invoice due since, back-dated.",
        ),
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Add a recurring agreement for a client's customer. The client's accounting plugin
    must be able to create what it produces (capability create_invoice or create_order)."""
    added = recurring.add_agreement(
        state.context(), recurring.AddAgreement(client, customer, terms, backdate)
    )
    if json_out:
        emit_json(added.as_dict())
        return
    first = added.first
    say(
        f"recurring agreement {added.summary.id} added for customer {customer} of {client}:"
        f" {added.summary.interval}, first {added.produce} made on {first.generate_on},"
        f" dated {first.invoice_date}, {amount(first.total, first.currency)}"
    )


@app.command(
    "preview",
    epilog=(
        "Example: hub recurring preview --every 1 --unit month"
        ' --next-invoice-date 2026-02-01 --line "Lisens;1;3100.00;month" --count 3'
    ),
)
@_with_terms
def preview(
    terms: TermsRequest,
    currency: Annotated[str, typer.Option("--currency", help="The lines' currency.")] = "NOK",
    count: Annotated[int, typer.Option("--count", help="Show this many invoices.")] = 12,
    json_out: JsonOption = False,
) -> None:
    """Show the invoices an agreement with these terms would make; no client, nothing stored."""
    planned = recurring.preview(terms, currency=currency, count=count)
    if json_out:
        emit_json(planned.as_list())
        return
    _show_plan(f"The first {len(planned.invoices)} {planned.produce}s", planned.invoices)


@app.command("list", epilog="Example: hub recurring list --client demo-no")
def list_(
    client: Annotated[str | None, typer.Option("--client", help="Only this client.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="active or inactive.")] = None,
    json_out: JsonOption = False,
) -> None:
    """The agreements, with how many invoices each has made and its next invoice date."""
    summaries = recurring.list_agreements(state.context(), client, status)
    if json_out:
        emit_json([s.as_dict() for s in summaries])
        return
    if not summaries:
        say("no recurring agreements")
        return
    columns = ["id", "client", "customer", "makes", "status", "made", "next"]
    rows = [
        [
            s.id,
            s.client,
            s.customer_number,
            f"{s.produce} {s.interval}",
            s.status if not s.status_reason else f"{s.status} ({s.status_reason})",
            f"{s.generated}" + (f" (+{s.pending} pending)" if s.pending else ""),
            s.next_invoice_date,
        ]
        for s in summaries
    ]
    if client is not None:  # the title names it
        columns.pop(1)
        rows = [row[:1] + row[2:] for row in rows]
    table(f"Recurring agreements of {client}" if client else "Recurring agreements", columns, rows)


@app.command("show", epilog="Example: hub recurring show 1 --upcoming 3")
def show(
    agreement_id: AgreementId,
    upcoming: Annotated[int, typer.Option("--upcoming", help="Planned invoices to show.")] = 3,
    json_out: JsonOption = False,
) -> None:
    """An agreement: its terms, lines, what it has made, and what comes next."""
    view = recurring.show_agreement(state.context(), agreement_id, upcoming=upcoming)
    summary, made, planned = view.summary, view.made, view.upcoming
    if json_out:
        emit_json(view.as_dict())
        return
    say(f"recurring agreement {summary.id} of {summary.client}, customer {summary.customer_number}")
    say(
        f"makes an {summary.produce} {summary.interval}, {summary.status}"
        + (f" ({summary.status_reason})" if summary.status_reason else "")
    )
    table(
        "Lines",
        ["description", "quantity", "unit price", "price factor", "VAT code"],
        [(x.description, x.quantity, x.unit_price, x.price_factor, x.vat_code) for x in view.lines],
        right=["quantity", "unit price"],
    )
    if made:
        currencies = {row.currency for row in made}
        one = f", amounts in {made[0].currency}" if len(currencies) == 1 else ""
        table(
            f"Made ({summary.produce}s){one}",
            ["#", "state", "dated", "due date", "period", "total", "reference"],
            [
                (
                    row.sequence + 1,
                    row.state if not row.last_error else f"{row.state}: {row.last_error}",
                    row.invoice_date,
                    row.due_date,
                    f"{row.period_start} – {row.period_end}",
                    row.total if len(currencies) == 1 else amount(row.total, row.currency),
                    row.reference,
                )
                for row in made
            ],
            right=["total"],
            wrap=["state"],  # with the error a failed invoice gave
            optional=["due date"],
        )
    if planned:
        _show_plan("Next", planned)


@app.command(
    "deactivate",
    epilog='Example: hub recurring deactivate 1 --client demo-no --reason "contract ended"',
)
def deactivate(
    agreement_id: AgreementId,
    client: AgreementClient,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (kept with the agreement).")
    ] = "deactivated by a person",
) -> None:
    """Stop an agreement: it makes nothing more."""
    recurring.deactivate(state.context(), agreement_id, client, reason)
    say(f"recurring agreement {agreement_id} of {client} is inactive")


@app.command(
    "abandon",
    epilog=(
        'Example: hub recurring abandon 1 --client demo-no --invoice 3 --reason "customer closed"'
    ),
)
def abandon(
    agreement_id: AgreementId,
    client: AgreementClient,
    number: Annotated[
        int, typer.Option("--invoice", help="Which invoice of the agreement (1 is the first).")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the history).")],
) -> None:
    """Give up on an invoice the accounting system keeps refusing. Only once you have made
    sure it is not in the books: the agreement then goes on with the next one, and the
    period is not billed by it (bill it by hand, or deactivate the agreement and add a
    corrected one)."""
    recurring.abandon(state.context(), agreement_id, client, number, reason)
    say(f"invoice {number} of recurring agreement {agreement_id} is abandoned")


@app.command("run", epilog="Example: hub recurring run --client demo-no")
def run(
    client: ClientOption,
    json_out: JsonOption = False,
) -> None:
    """Make the invoices and orders the client's agreements have due by today (run it daily,
    e.g. from cron). Exits 1 if any could not be made; they are retried next time under the
    same key, never made twice."""
    report = recurring.run_due_named(state.context(), client)
    if json_out:
        emit_json(report.as_dict())
    else:
        if report.generated:
            table(
                f"Recurring invoices of {client} ({report.today})",
                ["agreement", "#", "kind", "invoice date", "total", "reference"],
                [
                    (
                        g["agreement"],
                        g["sequence"] + 1,
                        g["kind"],
                        g["invoice_date"],
                        amount(Decimal(g["total"])),
                        g["reference"],
                    )
                    for g in report.generated
                ],
                right=["total"],
            )
        else:
            say(f"nothing due for {client} by {report.today}")
        for agreement_id in report.finished:
            say(f"recurring agreement {agreement_id} has made its last invoice and is inactive")
        for agreement_id in report.busy:
            say(f"recurring agreement {agreement_id}: another run is sending its invoice")
        for failure in report.failed:
            say(
                f"recurring agreement {failure['agreement']}, invoice {failure['sequence'] + 1}:"
                f" not made: {failure['error']} (it is retried next run under the same key)"
            )
    if report.failed:
        raise typer.Exit(1)
