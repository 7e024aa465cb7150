"""``hub recurring``: recurring invoice agreements (seed 004, rules G1–G6)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated, Any

import typer

from hub import clients, clock
from hub.cli.output import emit_json, say, table
from hub.cli.state import state
from hub.dunning.actions import current_user
from hub.errors import InputError
from hub.recurring import agreements
from hub.recurring.generator import run_recurring
from hub.recurring.schedule import PRICE_FACTORS, UNITS, PlannedInvoice, Terms, plan

app = typer.Typer(
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
    str | None, typer.Option("--end-date", help="The last day the agreement covers.")
]
MaxCount = Annotated[int | None, typer.Option("--max-count", help="Stop after this many invoices.")]
NoCreditDays = Annotated[bool, typer.Option("--no-credit-days", help="Due date = invoice date.")]
PaymentDays = Annotated[
    int, typer.Option("--payment-days", help="Days from invoice date to due date.")
]
Lines = Annotated[
    list[str],
    typer.Option(
        "--line",
        help="'description;quantity;unit price;price factor[;VAT code]', price factor one of"
        f" {', '.join(PRICE_FACTORS)}. Repeat for more lines.",
    ),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _optional_date(raw: str | None, what: str) -> dt.date | None:
    return clock.parse_date(raw, what=what) if raw is not None else None


def _terms(
    *,
    every: int,
    unit: str,
    produce: str,
    next_invoice_date: str,
    prep_days: int,
    agreement_date: str | None,
    end_date: str | None,
    max_count: int | None,
    no_credit_days: bool,
    payment_days: int,
    lines: list[str],
    currency: str,
) -> Terms:
    if not lines:
        raise InputError("--line: an agreement needs at least one line")
    return Terms(
        every=every,
        unit=unit.lower(),
        produce=produce.lower(),
        first_invoice_date=clock.parse_date(next_invoice_date, what="--next-invoice-date"),
        prep_days=prep_days,
        agreement_date=_optional_date(agreement_date, "--agreement-date"),
        end_date=_optional_date(end_date, "--end-date"),
        max_count=max_count,
        no_credit_days=no_credit_days,
        payment_days=payment_days,
        currency=currency.upper(),
        lines=tuple(agreements.parse_line(raw) for raw in lines),
    )


def _show_plan(title: str, invoices: list[PlannedInvoice]) -> None:
    table(
        title,
        ["#", "made on", "invoice date", "due date", "lines", "total"],
        [
            (
                p.sequence + 1,
                p.generate_on,
                p.invoice_date,
                p.due_date,
                "\n".join(f"{line.description}: {line.amount}" for line in p.lines),
                f"{p.total} {p.currency}",
            )
            for p in invoices
        ],
        right=["total"],
    )


@app.command("add")
def add(
    client: Annotated[str, typer.Option("--client", help="Client name.")],
    customer: Annotated[str, typer.Option("--customer", help="Customer number.")],
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
    backdate: Annotated[
        bool,
        typer.Option(
            "--backdate",
            help="Allow a first invoice due to be made before today: the next run makes every"
            " invoice due since, back-dated.",
        ),
    ] = False,
    json_out: JsonOut = False,
) -> None:
    """Add a recurring agreement for a client's customer. The client's accounting plugin
    must be able to create what it produces (capability create_invoice or create_order)."""
    with state.db().session() as session:
        found = clients.get_client(session, client)
        today = state.context().clock.today(found.timezone)
        terms = _terms(
            every=every,
            unit=unit,
            produce=produce,
            next_invoice_date=next_invoice_date,
            prep_days=prep_days,
            agreement_date=agreement_date,
            end_date=end_date,
            max_count=max_count,
            no_credit_days=no_credit_days,
            payment_days=payment_days,
            lines=line,
            currency=found.currency,
        )
        _require_capability(found, terms.produce)
        _refuse_backdating(terms, today, backdate)
        agreement = agreements.add_agreement(session, client, customer, terms, current_user())
        summary = agreements.summarize(session, agreement)
    first = next(plan(terms))
    if json_out:
        emit_json({**summary.as_dict(), "first_invoice": first.as_dict()})
        return
    say(
        f"recurring agreement {summary.id} added for customer {customer} of {client}:"
        f" {summary.interval}, first {terms.produce} made on {first.generate_on},"
        f" dated {first.invoice_date}, {first.total} {first.currency}"
    )


def _refuse_backdating(terms: Terms, today: dt.date, backdate: bool) -> None:
    """A first invoice to be made before today is most often a mistyped date: the next run
    would send every invoice since at once. Allowed only when asked for."""
    overdue = 0
    for invoice in plan(terms):
        if invoice.generate_on >= today or overdue == 1000:
            break
        overdue += 1
    if overdue and not backdate:
        raise InputError(
            f"--next-invoice-date {terms.first_invoice_date}: the first {terms.produce} would be"
            f" made on {terms.first_invoice_date - dt.timedelta(days=terms.prep_days)}, before"
            f" today ({today}), and the next run would make {overdue}"
            f"{'+' if overdue == 1000 else ''} back-dated at once; pass --backdate if that is"
            " what you want"
        )


def _require_capability(client: Any, produce: str) -> None:
    """Refuse an agreement the client's plugin could never carry out."""
    cp = clients.enabled_plugin(client)
    if cp is None:
        raise InputError(
            f"client {client.name!r} has no accounting plugin enabled to make its invoices"
            f" (`hub clients enable {client.name} PLUGIN`)"
        )
    capability = "create_order" if produce == "order" else "create_invoice"
    info = state.registry.info(cp.plugin)
    if capability not in info.capabilities:
        raise InputError(
            f"plugin {cp.plugin!r} of client {client.name!r} cannot make an {produce}"
            f" (it lacks the capability {capability})"
        )


@app.command("preview")
def preview(
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
    currency: Annotated[str, typer.Option("--currency", help="The lines' currency.")] = "NOK",
    count: Annotated[int, typer.Option("--count", help="Show this many invoices.")] = 12,
    json_out: JsonOut = False,
) -> None:
    """Show the invoices an agreement with these terms would make; no client, nothing stored."""
    if count < 1:
        raise InputError(f"--count {count} must be 1 or more")
    terms = _terms(
        every=every,
        unit=unit,
        produce=produce,
        next_invoice_date=next_invoice_date,
        prep_days=prep_days,
        agreement_date=agreement_date,
        end_date=end_date,
        max_count=max_count,
        no_credit_days=no_credit_days,
        payment_days=payment_days,
        lines=line,
        currency=currency,
    )
    invoices = list(itertools.islice(plan(terms), count))
    if json_out:
        emit_json([p.as_dict() for p in invoices])
        return
    _show_plan(f"The first {len(invoices)} {terms.produce}s", invoices)


@app.command("list")
def list_(
    client: Annotated[str | None, typer.Option("--client", help="Only this client.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="active or inactive.")] = None,
    json_out: JsonOut = False,
) -> None:
    """The agreements, with how many invoices each has made and its next invoice date."""
    if status is not None and status not in ("active", "inactive"):
        raise InputError(f"--status {status!r} is not active or inactive")
    with state.db().session() as session:
        summaries = [
            agreements.summarize(session, a)
            for a in agreements.list_agreements(session, client, status=status)
        ]
    if json_out:
        emit_json([s.as_dict() for s in summaries])
        return
    if not summaries:
        say("no recurring agreements")
        return
    table(
        "Recurring agreements",
        ["id", "client", "customer", "interval", "produces", "status", "made", "next"],
        [
            (
                s.id,
                s.client,
                s.customer_number,
                s.interval,
                s.produce,
                s.status if not s.status_reason else f"{s.status} ({s.status_reason})",
                f"{s.generated}" + (f" (+{s.pending} pending)" if s.pending else ""),
                s.next_invoice_date,
            )
            for s in summaries
        ],
    )


@app.command("show")
def show(
    agreement_id: Annotated[int, typer.Argument(help="Agreement id.")],
    upcoming: Annotated[int, typer.Option("--upcoming", help="Planned invoices to show.")] = 3,
    json_out: JsonOut = False,
) -> None:
    """An agreement: its terms, lines, what it has made, and what comes next."""
    with state.db().session() as session:
        agreement = agreements.get_agreement(session, agreement_id)
        summary = agreements.summarize(session, agreement)
        terms = agreements.terms_of(agreement)
        made = agreements.history(session, agreement_id)
        recorded = len(made)
        lines = list(agreement.lines)
    planned = (
        list(itertools.islice(plan(terms, recorded), max(upcoming, 0)))
        if summary.status == "active"
        else []
    )
    data = {
        **summary.as_dict(),
        "terms": {
            "every": terms.every,
            "unit": terms.unit,
            "first_invoice_date": terms.first_invoice_date.isoformat(),
            "prep_days": terms.prep_days,
            "agreement_date": terms.agreement_date.isoformat() if terms.agreement_date else None,
            "end_date": terms.end_date.isoformat() if terms.end_date else None,
            "max_count": terms.max_count,
            "no_credit_days": terms.no_credit_days,
            "payment_days": terms.payment_days,
            "currency": terms.currency,
        },
        "lines": [
            {
                "description": line.description,
                "quantity": str(line.quantity),
                "unit_price": str(line.unit_price),
                "price_factor": line.price_factor,
                "vat_code": line.vat_code,
            }
            for line in lines
        ],
        "history": [
            {
                "sequence": row.sequence,
                "kind": row.kind,
                "state": row.state,
                "generate_on": row.generate_on.isoformat(),
                "invoice_date": row.invoice_date.isoformat(),
                "due_date": row.due_date.isoformat(),
                "period_start": row.period_start.isoformat(),
                "period_end": row.period_end.isoformat(),
                "total": str(row.total),
                "reference": row.reference,
                "attempts": row.attempts,
                "last_error": row.last_error,
            }
            for row in made
        ],
        "upcoming": [p.as_dict() for p in planned],
    }
    if json_out:
        emit_json(data)
        return
    say(
        f"recurring agreement {summary.id} of {summary.client}, customer"
        f" {summary.customer_number}: {summary.interval}, produces {summary.produce},"
        f" {summary.status}" + (f" ({summary.status_reason})" if summary.status_reason else "")
    )
    table(
        "Lines",
        ["description", "quantity", "unit price", "price factor", "VAT code"],
        [(x.description, x.quantity, x.unit_price, x.price_factor, x.vat_code) for x in lines],
        right=["quantity", "unit price"],
    )
    if made:
        table(
            "Made",
            ["#", "kind", "state", "invoice date", "due date", "period", "total", "reference"],
            [
                (
                    row.sequence + 1,
                    row.kind,
                    row.state if not row.last_error else f"{row.state}: {row.last_error}",
                    row.invoice_date,
                    row.due_date,
                    f"{row.period_start} – {row.period_end}",
                    f"{row.total} {row.currency}",
                    row.reference,
                )
                for row in made
            ],
            right=["total"],
        )
    if planned:
        _show_plan("Next", planned)


@app.command("deactivate")
def deactivate(
    agreement_id: Annotated[int, typer.Argument(help="Agreement id.")],
    client: Annotated[str, typer.Option("--client", help="The agreement's client.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (kept with the agreement).")
    ] = "deactivated by a person",
) -> None:
    """Stop an agreement: it makes nothing more."""
    with state.db().session() as session:
        agreements.deactivate(session, agreement_id, client, f"{reason} ({current_user()})")
    say(f"recurring agreement {agreement_id} of {client} is inactive")


@app.command("abandon")
def abandon(
    agreement_id: Annotated[int, typer.Argument(help="Agreement id.")],
    client: Annotated[str, typer.Option("--client", help="The agreement's client.")],
    number: Annotated[
        int, typer.Option("--invoice", help="Which invoice of the agreement (1 is the first).")
    ],
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the history).")],
) -> None:
    """Give up on an invoice the accounting system keeps refusing. Only once you have made
    sure it is not in the books: the agreement then goes on with the next one, and the
    period is not billed by it (bill it by hand, or deactivate the agreement and add a
    corrected one)."""
    if number < 1:
        raise InputError(f"--invoice {number} must be 1 or more")
    with state.db().session() as session:
        agreements.abandon(
            session,
            agreement_id,
            client,
            number - 1,
            f"{reason} ({current_user()})",
            dt.datetime.now(dt.UTC),
        )
    say(f"invoice {number} of recurring agreement {agreement_id} is abandoned")


@app.command("run")
def run(
    client: Annotated[str, typer.Option("--client", help="Client name.")],
    json_out: JsonOut = False,
) -> None:
    """Make the invoices and orders the client's agreements have due by today (run it daily,
    e.g. from cron). Exits 1 if any could not be made; they are retried next time under the
    same key, never made twice."""
    with state.db().session() as session:
        today = state.context().clock.today(clients.get_client(session, client).timezone)
    report = run_recurring(state.db(), state.registry, state.box, client, today)
    if json_out:
        emit_json(report.as_dict())
    else:
        if report.generated:
            table(
                f"Recurring invoices of {client} ({today})",
                ["agreement", "#", "kind", "invoice date", "total", "reference"],
                [
                    (
                        g["agreement"],
                        g["sequence"] + 1,
                        g["kind"],
                        g["invoice_date"],
                        g["total"],
                        g["reference"],
                    )
                    for g in report.generated
                ],
                right=["total"],
            )
        else:
            say(f"nothing due for {client} by {today}")
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
