"""What ``hub demo``'s timeline left in the database, read back and told as a summary.

Everything here is read from the hub's own tables, as ``hub cases list``, ``hub messages
list``, ``hub recurring list`` and ``hub runs list`` would show it: cases by stage and state,
letters and fees held against each country's law (:mod:`hub.dunning.law`), cases closed by
themselves, collection cases, recurring invoices and the runs recorded.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.amounts import ZERO
from hub.db import tables as t
from hub.demo.text import amount, plural
from hub.dunning.law import LAW
from hub.dunning.states import Stage


@dataclass
class LawTally:
    """A client's letters and fees, with the figures the law limits."""

    client: str
    country: str
    currency: str
    letters: dict[str, int] = field(default_factory=dict)  # by kind
    fee_letters: int = 0
    fees: Decimal = ZERO
    highest_fee: Decimal = ZERO
    most_fees_per_claim: int = 0  # per invoice, over every letter that covered it
    closest_fee_days: int | None = None  # days between two fees on one invoice
    earliest_fee_days: int | None = None  # days after its due date an invoice got a fee
    delivered: int = 0


@dataclass
class CollectionCase:
    client: str
    invoices: str
    amount: Decimal
    currency: str
    state: str
    paid_in_accounting: bool
    success_fee: Decimal | None
    close_code: str | None


@dataclass
class Summary:
    cases: dict[str, Counter[tuple[str, str]]]  # client: (stage, state): count
    law: list[LawTally]
    auto_closed: dict[str, int]  # client: cases closed as paid in accounting (R1, R2)
    collection: list[CollectionCase]
    recurring: list[tuple[str, str, dt.date, str | None, Decimal]]  # client, kind, date, ref, net
    runs: Counter[tuple[str, str]]  # (job, outcome): count


def _clients(session: Session) -> dict[int, t.Client]:
    return {c.id: c for c in session.scalars(select(t.Client).order_by(t.Client.name))}


def _law_tally(session: Session, client: t.Client) -> LawTally:
    tally = LawTally(client.name, client.country, client.currency)
    for kind, count, sent in session.execute(
        select(t.Message.kind, func.count(), func.count(t.Message.sent_on))
        .where(t.Message.client_id == client.id)
        .group_by(t.Message.kind)
        .order_by(t.Message.kind)
    ):
        tally.letters[kind] = count
        tally.delivered += sent
    fee_messages = select(t.Message).where(t.Message.client_id == client.id, t.Message.fee > ZERO)
    for message in session.scalars(fee_messages):
        tally.fee_letters += 1
        tally.fees += message.fee
        tally.highest_fee = max(tally.highest_fee, message.fee)
    days: dict[int, list[dt.date]] = defaultdict(list)
    for invoice_id, on, due in session.execute(
        select(t.MessageInvoice.invoice_id, t.Message.created_on, t.Invoice.due_date)
        .join(t.Message, t.Message.id == t.MessageInvoice.message_id)
        .join(t.Invoice, t.Invoice.id == t.MessageInvoice.invoice_id)
        .where(t.Message.client_id == client.id, t.Message.fee > ZERO)
        .order_by(t.Message.created_on)
    ):
        days[invoice_id].append(on)
        after_due = (on - due).days
        if tally.earliest_fee_days is None or after_due < tally.earliest_fee_days:
            tally.earliest_fee_days = after_due
    for dates in days.values():
        tally.most_fees_per_claim = max(tally.most_fees_per_claim, len(dates))
        for before, after in pairwise(dates):
            gap = (after - before).days
            if tally.closest_fee_days is None or gap < tally.closest_fee_days:
                tally.closest_fee_days = gap
    return tally


def _collection(session: Session, names: dict[int, t.Client]) -> list[CollectionCase]:
    found = []
    for case in session.scalars(
        select(t.Case).where(t.Case.stage == Stage.COLLECTION.value).order_by(t.Case.id)
    ):
        invoices = session.scalars(
            select(t.Invoice.invoice_number).where(t.Invoice.id == case.invoice_id)
        ).all()
        found.append(
            CollectionCase(
                names[case.client_id].name,
                ", ".join(invoices) or f"customer {case.customer_number}",
                case.collection_amount or ZERO,
                names[case.client_id].currency,
                case.state,
                case.paid_in_accounting,
                case.success_fee,
                case.close_code,
            )
        )
    return found


def collect(session: Session) -> Summary:
    """Read the summary of what is in the database now."""
    names = _clients(session)
    cases: dict[str, Counter[tuple[str, str]]] = {c.name: Counter() for c in names.values()}
    auto_closed: dict[str, int] = dict.fromkeys(cases, 0)
    for client_id, stage, state, code, count in session.execute(
        select(
            t.Case.client_id, t.Case.stage, t.Case.state, t.Case.close_code, func.count()
        ).group_by(t.Case.client_id, t.Case.stage, t.Case.state, t.Case.close_code)
    ):
        name = names[client_id].name
        cases[name][(stage, state)] += count
        if code == "paid_in_accounting":
            auto_closed[name] += count
    recurring = [
        (names[client_id].name, inv.kind, inv.invoice_date, inv.reference, inv.total)
        for inv, client_id in session.execute(
            select(t.RecurringInvoice, t.RecurringAgreement.client_id)
            .join(t.RecurringAgreement)
            .order_by(t.RecurringInvoice.invoice_date, t.RecurringInvoice.id)
        )
    ]
    runs: Counter[tuple[str, str]] = Counter()
    for job, outcome, count in session.execute(
        select(t.JobRun.job, t.JobRun.outcome, func.count()).group_by(
            t.JobRun.job, t.JobRun.outcome
        )
    ):
        runs[(job, outcome)] = count
    return Summary(
        cases=cases,
        law=[_law_tally(session, c) for c in names.values()],
        auto_closed=auto_closed,
        collection=_collection(session, names),
        recurring=recurring,
        runs=runs,
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
                f"      {'':<{width}}  {plural(x.fee_letters, 'fee')}, {amount(x.fees)}"
                f" {x.currency}: none above {amount(x.highest_fee)}; per invoice at most"
                f" {x.most_fees_per_claim}, at least {_days(x.closest_fee_days)} apart, none"
                f" before {_days(x.earliest_fee_days)} after the due date"
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
            fee = "" if c.success_fee is None else f", success fee {amount(c.success_fee)}"
            how += f", paid in accounting{fee}"
        lines.append(
            f"  {c.client:<{width}}  invoice {c.invoices}: {amount(c.amount)} {c.currency}, {how}"
        )
    lines.append("Recurring invoices and orders made, each once (G6):")
    for name, kind, on, ref, net in summary.recurring:
        lines.append(f"  {name:<{width}}  {kind} no. {ref} of {on}: {amount(net)} net")
    runs = ", ".join(
        f"{job} {count} {outcome}" for (job, outcome), count in sorted(summary.runs.items())
    )
    lines.append(f"Runs recorded in the run history: {runs}")
    return lines
