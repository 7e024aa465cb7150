"""Read-backs across clients: what the hub holds now, counted and tallied, of the clients the
acting user may see.

Each report reads the hub's own tables in one transaction and returns typed rows, for a front
end that shows the state of the whole hub at a glance (``hub demo``'s summary, a console's
dashboard still to come): cases by stage and state, letters and fees held against each
country's law (:data:`LAW`), collection cases, recurring invoices made and the runs recorded.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.amounts import ZERO
from hub.db import tables as t
from hub.dunning.law import LAW, CountryLaw
from hub.dunning.states import CloseCode, Stage
from hub.operations import access
from hub.operations.context import Context

__all__ = [
    "LAW",
    "ClientCases",
    "CollectionCase",
    "CountryLaw",
    "LawTally",
    "RecurringMade",
    "case_counts",
    "collection_cases",
    "law_tallies",
    "recurring_made",
    "run_counts",
]


@dataclass(frozen=True)
class ClientCases:
    """A client's cases counted by ``(stage, state)``, and how many closed by themselves when
    the books showed them paid (R1, R2)."""

    client: str
    by_stage_and_state: Counter[tuple[str, str]]
    closed_when_paid: int


@dataclass(frozen=True)
class LawTally:
    """A client's letters and fees, with the figures the law limits."""

    client: str
    country: str
    currency: str
    letters: dict[str, int]  # by kind
    fee_letters: int
    fees: Decimal
    highest_fee: Decimal
    most_fees_per_claim: int  # per invoice, over every letter that covered it
    closest_fee_days: int | None  # days between two fees on one invoice
    earliest_fee_days: int | None  # days after its due date an invoice got a fee
    delivered: int


@dataclass(frozen=True)
class CollectionCase:
    """A case in the collection stage (D1), open or closed."""

    client: str
    invoices: str  # its invoice numbers, or ``customer <number>`` for a customer case
    amount: Decimal
    currency: str
    state: str
    paid_in_accounting: bool
    success_fee: Decimal | None
    close_code: str | None


@dataclass(frozen=True)
class RecurringMade:
    """An invoice or order an agreement recorded (G6), with the lines it asked for."""

    client: str
    customer: str
    kind: str  # invoice or order
    invoice_date: dt.date
    reference: str | None
    net: Decimal
    currency: str  # the agreement's
    lines: tuple[str, ...]  # each ``description quantity x unit price``


def _clients(ctx: Context, session: Session) -> list[t.Client]:
    """The clients the acting user may see, by name: every report reads only theirs."""
    return list(
        session.scalars(
            select(t.Client).where(access.seen_names(ctx, t.Client.name)).order_by(t.Client.name)
        )
    )


def case_counts(ctx: Context) -> list[ClientCases]:
    """Every client's cases by stage and state, clients by name."""
    with ctx.db.session() as session:
        names = {c.id: c.name for c in _clients(ctx, session)}
        counts: dict[int, Counter[tuple[str, str]]] = {id_: Counter() for id_ in names}
        paid: Counter[int] = Counter()
        for client_id, stage, state, code, count in session.execute(
            select(t.Case.client_id, t.Case.stage, t.Case.state, t.Case.close_code, func.count())
            .where(access.seen_ids(ctx, t.Case.client_id))
            .group_by(t.Case.client_id, t.Case.stage, t.Case.state, t.Case.close_code)
        ):
            counts[client_id][(stage, state)] += count
            if code == CloseCode.PAID_IN_ACCOUNTING:
                paid[client_id] += count
    return [ClientCases(name, counts[id_], paid[id_]) for id_, name in names.items()]


def _law_tally(session: Session, client: t.Client) -> LawTally:
    letters: dict[str, int] = {}
    delivered = 0
    for kind, count, sent in session.execute(
        select(t.Message.kind, func.count(), func.count(t.Message.sent_on))
        .where(t.Message.client_id == client.id)
        .group_by(t.Message.kind)
        .order_by(t.Message.kind)
    ):
        letters[kind] = count
        delivered += sent
    fees = list(
        session.scalars(
            select(t.Message.fee).where(t.Message.client_id == client.id, t.Message.fee > ZERO)
        )
    )
    days: dict[int, list[dt.date]] = defaultdict(list)
    after_due: list[int] = []
    for invoice_id, on, due in session.execute(
        select(t.MessageInvoice.invoice_id, t.Message.created_on, t.Invoice.due_date)
        .join(t.Message, t.Message.id == t.MessageInvoice.message_id)
        .join(t.Invoice, t.Invoice.id == t.MessageInvoice.invoice_id)
        .where(t.Message.client_id == client.id, t.Message.fee > ZERO)
        .order_by(t.Message.created_on)
    ):
        days[invoice_id].append(on)
        after_due.append((on - due).days)
    gaps = [(after - before).days for dates in days.values() for before, after in pairwise(dates)]
    return LawTally(
        client=client.name,
        country=client.country,
        currency=client.currency,
        letters=letters,
        fee_letters=len(fees),
        fees=sum(fees, ZERO),
        highest_fee=max(fees, default=ZERO),
        most_fees_per_claim=max((len(dates) for dates in days.values()), default=0),
        closest_fee_days=min(gaps, default=None),
        earliest_fee_days=min(after_due, default=None),
        delivered=delivered,
    )


def law_tallies(ctx: Context) -> list[LawTally]:
    """Every client's letters and fees, tallied for holding them against its country's law;
    clients by name."""
    with ctx.db.session() as session:
        return [_law_tally(session, client) for client in _clients(ctx, session)]


def collection_cases(ctx: Context) -> list[CollectionCase]:
    """Every case in the collection stage, in the order they were started."""
    with ctx.db.session() as session:
        owners = {c.id: c for c in _clients(ctx, session)}
        found = []
        for case, invoice in session.execute(
            select(t.Case, t.Invoice.invoice_number)
            .outerjoin(t.Invoice, t.Invoice.id == t.Case.invoice_id)
            .where(t.Case.stage == Stage.COLLECTION.value, access.seen_ids(ctx, t.Case.client_id))
            .order_by(t.Case.id)
        ):
            owner = owners[case.client_id]
            found.append(
                CollectionCase(
                    client=owner.name,
                    invoices=invoice or f"customer {case.customer_number}",
                    amount=case.collection_amount or ZERO,
                    currency=owner.currency,
                    state=case.state,
                    paid_in_accounting=case.paid_in_accounting,
                    success_fee=case.success_fee,
                    close_code=case.close_code,
                )
            )
    return found


def recurring_made(
    ctx: Context, client: str | None = None, *, through: dt.date | None = None
) -> list[RecurringMade]:
    """The invoices and orders recurring agreements recorded (of ``client``; made on or before
    ``through``), in the order they were recorded."""
    query = (
        select(
            t.RecurringInvoice,
            t.RecurringAgreement.customer_number,
            t.RecurringAgreement.currency,
            t.Client.name,
        )
        .join(t.RecurringAgreement, t.RecurringAgreement.id == t.RecurringInvoice.agreement_id)
        .join(t.Client, t.Client.id == t.RecurringAgreement.client_id)
        .where(access.seen_names(ctx, t.Client.name))
        .order_by(t.RecurringInvoice.id)
    )
    if client is not None:
        query = query.where(t.Client.name == client)
    if through is not None:
        query = query.where(t.RecurringInvoice.generate_on <= through)
    with ctx.db.session() as session:
        return [
            RecurringMade(
                client=name,
                customer=customer,
                kind=made.kind,
                invoice_date=made.invoice_date,
                reference=made.reference,
                net=made.total,
                currency=currency,
                lines=tuple(
                    f"{line['description']} {line['quantity']} x {line['unit_price']}"
                    for line in made.request["lines"]
                ),
            )
            for made, customer, currency, name in session.execute(query)
        ]


def run_counts(ctx: Context) -> Counter[tuple[str, str]]:
    """The runs recorded in the run history, counted by ``(job, outcome)``."""
    with ctx.db.session() as session:
        return Counter(
            {
                (job, outcome): count
                for job, outcome, count in session.execute(
                    select(t.JobRun.job, t.JobRun.outcome, func.count())
                    .where(access.seen_ids(ctx, t.JobRun.client_id))
                    .group_by(t.JobRun.job, t.JobRun.outcome)
                )
            }
        )
