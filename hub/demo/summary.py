"""What ``hub demo``'s timeline left in the database, read back and told as a summary.

Everything here is read back through the operations' reports (:mod:`hub.operations.reports`),
as ``hub cases list``, ``hub messages list``, ``hub recurring list`` and ``hub runs list``
would show it: cases by stage and state, letters and fees held against each country's law,
cases closed by themselves, collection cases, recurring invoices and the runs recorded.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from hub.demo.text import amount, plural
from hub.operations import reports
from hub.operations.cases import Stage
from hub.operations.context import Context
from hub.operations.reports import LAW, CollectionCase, LawTally


@dataclass
class Summary:
    cases: dict[str, Counter[tuple[str, str]]]  # client: (stage, state): count
    law: list[LawTally]
    auto_closed: dict[str, int]  # client: cases closed as paid in accounting (R1, R2)
    collection: list[CollectionCase]
    #: client, kind, date, reference, net, currency
    recurring: list[tuple[str, str, dt.date, str | None, Decimal, str]]
    runs: Counter[tuple[str, str]]  # (job, outcome): count


def collect(ctx: Context) -> Summary:
    """Read the summary of what is in the database now."""
    counted = reports.case_counts(ctx)
    made = sorted(reports.recurring_made(ctx), key=lambda m: m.invoice_date)
    return Summary(
        cases={c.client: c.by_stage_and_state for c in counted},
        law=reports.law_tallies(ctx),
        auto_closed={c.client: c.closed_when_paid for c in counted},
        collection=reports.collection_cases(ctx),
        recurring=[
            (m.client, m.kind, m.invoice_date, m.reference, m.net, m.currency) for m in made
        ],
        runs=reports.run_counts(ctx),
    )


def _days(days: int | None) -> str:
    return "-" if days is None else plural(days, "day")


def _cases(summary: Summary, width: int) -> list[str]:
    cells = {
        name: [
            ", ".join(f"{n} {state}" for (s, state), n in sorted(counts.items()) if s == stage)
            or "-"
            for stage in Stage
        ]
        for name, counts in summary.cases.items()
    }
    widths = [
        max(len(stage), *(len(c[i]) for c in cells.values())) for i, stage in enumerate(Stage)
    ]
    rows: list[tuple[str, list[str]]] = [("", [stage.value for stage in Stage])]
    lines = ["Cases by stage and state:"]
    for name, row in [*rows, *cells.items()]:
        text = "   ".join(f"{cell:<{w}}" for cell, w in zip(row, widths, strict=True))
        lines.append(f"  {name:<{width}}   {text}".rstrip())
    return lines


def _law(summary: Summary, width: int) -> list[str]:
    lines = ["Letters and fees, held against each country's law (hub/dunning/law.py):"]
    for country, law in LAW.items():
        tallies = [x for x in summary.law if x.country == country]
        if not tallies:
            continue
        rules = dict.fromkeys((law.fee_rule, law.count_rule, law.spacing_rule, law.after_due_rule))
        lines += [f"  {country if i == 0 else '':<3} {rule}" for i, rule in enumerate(rules)]
        for x in tallies:
            letters = ", ".join(f"{n} {kind}" for kind, n in x.letters.items())
            lines.append(f"      {x.client:<{width}}  {letters}; {x.delivered} delivered")
            lines.append(
                f"      {'':<{width}}  {plural(x.fee_letters, 'fee')},"
                f" {amount(x.fees, x.currency)} in all: none above"
                f" {amount(x.highest_fee, x.currency)}, at most {x.most_fees_per_claim} per"
                f" invoice, at least {_days(x.closest_fee_days)} apart, none earlier than"
                f" {_days(x.earliest_fee_days)} after the due date"
            )
    return lines


def render(summary: Summary) -> list[str]:
    """The summary as lines for people."""
    width = max(len(name) for name in summary.cases)
    lines = _cases(summary, width)
    closed = ", ".join(f"{name} {n}" for name, n in summary.auto_closed.items())
    lines.append(f"Closed by themselves when the books showed them paid (R1, R2): {closed}")
    lines += _law(summary, width)
    lines.append("Collection cases (D1; the hub never closes one itself, R6):")
    for c in summary.collection:
        how = c.state if c.close_code is None else f"{c.state} ({c.close_code})"
        if c.paid_in_accounting:
            fee = (
                ""
                if c.success_fee is None
                else f", success fee {amount(c.success_fee, c.currency)}"
            )
            how += f", paid in accounting{fee}"
        lines.append(
            f"  {c.client:<{width}}  invoice {c.invoices}: {amount(c.amount, c.currency)}, {how}"
        )
    lines.append("Recurring invoices and orders made, each once (G6):")
    for name, kind, on, ref, net, currency in summary.recurring:
        lines.append(f"  {name:<{width}}  {kind} no. {ref} of {on}: {amount(net, currency)} net")
    runs = ", ".join(
        f"{job} {count} {outcome}" for (job, outcome), count in sorted(summary.runs.items())
    )
    lines.append(f"Runs recorded in the run history: {runs}")
    return lines
