"""A client at a glance: its open amount by how long it is overdue, and its cases by stage.

The console's overview page and ``GET /api/v1/overview/{client}`` show it; both read it here.

Ages count days past the due date on the client's today: an invoice due today or later is
*not due*; one due yesterday is 1 day past due. The buckets are 0–30 (1 to 30 days past due),
31–60, 61–90 and 90+ (91 days and more), as a receivables ageing report has them. The amounts
are the open invoices' outstanding amounts as the books show them (the last sync), per
currency, in exact Decimal; a payment registered in the hub (A2) is not booked and is not
subtracted here (the case shows it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from hub.amounts import ZERO
from hub.db import tables as t
from hub.dunning.states import CaseState, Stage
from hub.model import InvoiceState
from hub.operations.context import Context
from hub.records import Record

__all__ = [
    "AGE_BUCKETS",
    "AgeBuckets",
    "ClientOverview",
    "StageCount",
    "age_bucket",
    "client_overview",
]

#: The ageing buckets: (JSON key, first day past due, last day past due or None: no end).
AGE_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("days_0_30", 1, 30),
    ("days_31_60", 31, 60),
    ("days_61_90", 61, 90),
    ("days_over_90", 91, None),
)


def age_bucket(days_past_due: int) -> str | None:
    """The key of the bucket for an invoice ``days_past_due`` days past its due date; None
    for one not due yet (0 or fewer days)."""
    for key, first, last in AGE_BUCKETS:
        if days_past_due >= first and (last is None or days_past_due <= last):
            return key
    return None


@dataclass(frozen=True)
class AgeBuckets(Record):
    """A client's open amount in one currency by age; ``overdue`` is the four buckets' sum,
    ``invoices`` how many open invoices make up ``not_due`` and ``overdue``."""

    currency: str
    not_due: Decimal
    days_0_30: Decimal
    days_31_60: Decimal
    days_61_90: Decimal
    days_over_90: Decimal
    overdue: Decimal
    invoices: int

    def bucket(self, key: str) -> Decimal:
        """The amount of bucket ``key`` (one of :data:`AGE_BUCKETS`' keys, or ``not_due``)."""
        value = getattr(self, key)
        assert isinstance(value, Decimal)
        return value


@dataclass(frozen=True)
class StageCount(Record):
    """A client's cases in one stage that are not closed: active and paused."""

    stage: str
    active: int
    paused: int

    @property
    def open(self) -> int:
        return self.active + self.paused


@dataclass(frozen=True)
class ClientOverview:
    """What the overview shows of ``client`` on its ``today``; ``as_dict`` is the API's JSON.

    ``ages``: one row per currency the client has open invoices in, its own currency first
    (a row of zeros when it has none); ``stages``: invoice, reminder, collection, always all
    three."""

    client: str
    currency: str
    today: dt.date
    ages: list[AgeBuckets]
    stages: list[StageCount]

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "currency": self.currency,
            "today": self.today,
            "ages": [row.as_dict() for row in self.ages],
            "stages": [row.as_dict() for row in self.stages],
        }


def _ages(
    currency: str, rows: list[tuple[str, dt.date, Decimal]], today: dt.date
) -> list[AgeBuckets]:
    sums: dict[str, dict[str, Decimal]] = {}
    counts: dict[str, int] = {}
    keys = ["not_due", *(key for key, _, _ in AGE_BUCKETS)]
    for row_currency, due_date, outstanding in rows:
        buckets = sums.setdefault(row_currency, dict.fromkeys(keys, ZERO))
        key = age_bucket((today - due_date).days) or "not_due"
        buckets[key] += outstanding
        counts[row_currency] = counts.get(row_currency, 0) + 1
    sums.setdefault(currency, dict.fromkeys(keys, ZERO))
    ordered = [currency, *sorted(c for c in sums if c != currency)]
    return [
        AgeBuckets(
            currency=code,
            not_due=sums[code]["not_due"],
            days_0_30=sums[code]["days_0_30"],
            days_31_60=sums[code]["days_31_60"],
            days_61_90=sums[code]["days_61_90"],
            days_over_90=sums[code]["days_over_90"],
            overdue=sum((sums[code][key] for key, _, _ in AGE_BUCKETS), ZERO),
            invoices=counts.get(code, 0),
        )
        for code in ordered
    ]


def client_overview(ctx: Context, client: str) -> ClientOverview:
    """``client``'s open amount by age and its cases by stage, on its today.

    :raises NotFoundError: no such client, or one the acting user may not see.
    """
    with ctx.db.session() as session:
        day = ctx.client(session, client)
        invoices = [
            (currency, due_date, outstanding)
            for currency, due_date, outstanding in session.execute(
                select(t.Invoice.currency, t.Invoice.due_date, t.Invoice.outstanding_amount).where(
                    t.Invoice.client_id == day.id,
                    t.Invoice.state == InvoiceState.OPEN.value,
                    t.Invoice.outstanding_amount > ZERO,
                )
            )
        ]
        counted: dict[tuple[str, str], int] = {
            (stage, state): count
            for stage, state, count in session.execute(
                select(t.Case.stage, t.Case.state, func.count())
                .where(t.Case.client_id == day.id, t.Case.state != CaseState.CLOSED.value)
                .group_by(t.Case.stage, t.Case.state)
            )
        }
    stages = [
        StageCount(
            stage.value,
            counted.get((stage.value, CaseState.ACTIVE.value), 0),
            counted.get((stage.value, CaseState.PAUSED.value), 0),
        )
        for stage in Stage
    ]
    return ClientOverview(
        day.name, day.currency, day.today, _ages(day.currency, invoices, day.today), stages
    )
