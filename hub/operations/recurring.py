"""Recurring invoice agreements (seed 004, rules G1–G6): add, preview, list, show, deactivate,
abandon, and make what is due (``hub recurring``, the daemon's ``recurring`` job).

The schedule arithmetic is :mod:`hub.recurring.schedule`, the stored agreements
:mod:`hub.recurring.agreements`, and the exactly-once generator :mod:`hub.recurring.generator`;
this module resolves the client once, fixes its today once, and passes both and the acting
user down.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import tables as t
from hub.errors import InputError
from hub.operations import access
from hub.operations.context import ClientDay, Context
from hub.recurring import agreements
from hub.recurring.agreements import AgreementSummary, MadeInvoice
from hub.recurring.generator import RecurringReport, run_recurring
from hub.recurring.schedule import (
    PRICE_FACTORS,
    UNITS,
    AgreementLine,
    PlannedInvoice,
    Terms,
    TermsOptions,
    plan,
)

__all__ = [
    "PRICE_FACTORS",
    "UNITS",
    "AddAgreement",
    "AgreementAdded",
    "AgreementLine",
    "AgreementPlan",
    "AgreementSummary",
    "AgreementView",
    "MadeInvoice",
    "PlannedInvoice",
    "RecurringReport",
    "TermsRequest",
    "abandon",
    "add_agreement",
    "deactivate",
    "list_agreements",
    "preview",
    "run_due",
    "run_due_named",
    "show_agreement",
]

STATUSES = ("active", "inactive")


@dataclass(frozen=True)
class TermsRequest(TermsOptions):
    """An agreement's terms as a person gives them; ``lines`` each
    ``description;quantity;unit price;price factor[;VAT code]``."""

    every: int
    unit: str
    first_invoice_date: dt.date
    lines: Sequence[str]

    def terms(self, currency: str) -> Terms:
        """The schedule's :class:`Terms`, in ``currency``; refused if they make no agreement."""
        if not self.lines:
            raise InputError("--line: an agreement needs at least one line")
        given = {f.name: getattr(self, f.name) for f in fields(self)}
        return Terms(
            **{
                **given,
                "unit": self.unit.lower(),
                "produce": self.produce.lower(),
                "currency": currency.upper(),
                "lines": tuple(agreements.parse_line(raw) for raw in self.lines),
            }
        )


@dataclass(frozen=True)
class AddAgreement:
    client: str
    customer: str  # the customer number
    terms: TermsRequest
    backdate: bool = False  # allow a first invoice due to be made before the client's today


@dataclass(frozen=True)
class AgreementAdded:
    summary: AgreementSummary
    produce: str
    first: PlannedInvoice

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary.as_dict(), "first_invoice": self.first.as_dict()}


def add_agreement(ctx: Context, request: AddAgreement) -> AgreementAdded:
    """Record an agreement for a client's customer, by the acting user. Refused if the client's
    plugin cannot make what it produces, or (unless ``backdate``) if its first invoice would
    be made before the client's today."""
    with ctx.db.session() as session:
        client = access.client_row(ctx, session, request.client)
        with access.changing(
            session,
            ctx,
            action="recurring.add",
            client=request.client,
            subject=f"an agreement with customer {request.customer}",
        ) as change:
            today = ctx.day_of(client).today
            terms = request.terms.terms(client.currency)
            agreements.require_capability(ctx.registry, client, terms.produce)
            agreements.refuse_backdating(terms, today, request.backdate)
            agreement = agreements.add_agreement(
                session, request.client, request.customer, terms, ctx.actor.name
            )
            summary = agreements.summarize(session, agreement)
            change.subject = f"agreement {agreement.id}"
            change.after = {**summary.as_dict(), "lines": list(request.terms.lines)}
    return AgreementAdded(summary, terms.produce, next(plan(terms)))


@dataclass(frozen=True)
class AgreementPlan:
    """The invoices an agreement with some terms would make."""

    produce: str
    invoices: tuple[PlannedInvoice, ...]

    def as_list(self) -> list[dict[str, object]]:
        return [p.as_dict() for p in self.invoices]


def preview(terms: TermsRequest, *, currency: str, count: int) -> AgreementPlan:
    """The first ``count`` invoices of an agreement with these terms; no client, nothing
    stored (so no context)."""
    if count < 1:
        raise InputError(f"--count {count} must be 1 or more")
    planned = terms.terms(currency)
    return AgreementPlan(planned.produce, tuple(itertools.islice(plan(planned), count)))


def list_agreements(
    ctx: Context, client: str | None = None, status: str | None = None
) -> list[AgreementSummary]:
    """The agreements (of ``client``, in ``status`` active or inactive), each summarized."""
    if status is not None and status not in STATUSES:
        raise InputError(f"--status {status!r} is not active or inactive")
    with ctx.db.session() as session:
        if client is not None:
            access.client_row(ctx, session, client)
        seen = set(
            session.scalars(select(t.Client.id).where(access.seen_names(ctx, t.Client.name)))
        )
        return [
            agreements.summarize(session, a)
            for a in agreements.list_agreements(session, client, status=status)
            if a.client_id in seen
        ]


@dataclass(frozen=True)
class AgreementView:
    """An agreement: its terms and lines, what it has made, and what comes next."""

    summary: AgreementSummary
    terms: Terms
    made: tuple[MadeInvoice, ...]
    upcoming: tuple[PlannedInvoice, ...]

    @property
    def lines(self) -> tuple[AgreementLine, ...]:
        return self.terms.lines

    def as_dict(self) -> dict[str, Any]:
        terms = self.terms
        return {
            **self.summary.as_dict(),
            "terms": {
                "every": terms.every,
                "unit": terms.unit,
                "first_invoice_date": terms.first_invoice_date.isoformat(),
                "prep_days": terms.prep_days,
                "agreement_date": terms.agreement_date.isoformat()
                if terms.agreement_date
                else None,
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
                for line in self.lines
            ],
            "history": [row.as_dict() for row in self.made],
            "upcoming": [p.as_dict() for p in self.upcoming],
        }


def show_agreement(ctx: Context, agreement_id: int, *, upcoming: int = 3) -> AgreementView:
    """The agreement with its history and, while active, its next ``upcoming`` invoices."""
    with ctx.db.session() as session:
        agreement = _agreement(ctx, session, agreement_id)
        summary = agreements.summarize(session, agreement)
        terms = agreements.terms_of(agreement)
        made = tuple(agreements.history(session, agreement_id))
    planned = (
        tuple(itertools.islice(plan(terms, len(made)), max(upcoming, 0)))
        if summary.status == "active"
        else ()
    )
    return AgreementView(summary, terms, made, planned)


def _agreement(ctx: Context, session: Session, agreement_id: int) -> t.RecurringAgreement:
    """The agreement; NotFoundError if there is none or the acting user may not see its
    client (the same message either way)."""
    agreement = agreements.get_agreement(session, agreement_id)
    client = session.get_one(t.Client, agreement.client_id)
    access.refuse_unseen(
        ctx, client.name, f"no recurring agreement {agreement_id} (see `hub recurring list`)"
    )
    return agreement


def deactivate(ctx: Context, agreement_id: int, client: str, reason: str) -> None:
    """Stop an agreement: it makes nothing more. The acting user is kept with the reason."""
    with ctx.db.session() as session:
        access.client_row(ctx, session, client)
        agreement = agreements.get_agreement(session, agreement_id, client)
        with access.changing(
            session,
            ctx,
            action="recurring.deactivate",
            client=client,
            subject=f"agreement {agreement_id}",
            before=agreements.summarize(session, agreement).as_dict(),
        ) as change:
            agreement = agreements.deactivate(
                session, agreement_id, client, f"{reason} ({ctx.actor.name})"
            )
            change.after = agreements.summarize(session, agreement).as_dict()


def _made(row: t.RecurringInvoice) -> dict[str, Any]:
    """A recorded invoice of an agreement, as the audit log keeps it."""
    return {
        "kind": row.kind,
        "state": row.state,
        "invoice_date": row.invoice_date,
        "due_date": row.due_date,
        "period": f"{row.period_start.isoformat()}..{row.period_end.isoformat()}",
        "total": row.total,
        "currency": row.currency,
        "reference": row.reference,
        "last_error": row.last_error,
    }


def abandon(ctx: Context, agreement_id: int, client: str, number: int, reason: str) -> None:
    """Give up on invoice ``number`` (1 is the first) of an agreement, which the accounting
    system keeps refusing; the acting user is kept with the reason in the history."""
    if number < 1:
        raise InputError(f"--invoice {number} must be 1 or more")
    with ctx.db.session() as session:
        access.client_row(ctx, session, client)
        agreements.get_agreement(session, agreement_id, client)
        row = session.scalar(
            select(t.RecurringInvoice).where(
                t.RecurringInvoice.agreement_id == agreement_id,
                t.RecurringInvoice.sequence == number - 1,
            )
        )
        with access.changing(
            session,
            ctx,
            action="recurring.abandon",
            client=client,
            subject=f"agreement {agreement_id} invoice {number}",
            before=None if row is None else _made(row),
        ) as change:
            abandoned = agreements.abandon(
                session,
                agreement_id,
                client,
                number - 1,
                f"{reason} ({ctx.actor.name})",
                dt.datetime.now(dt.UTC),
            )
            change.after = {**_made(abandoned), "reason": reason}


def run_due(ctx: Context, client: ClientDay) -> RecurringReport:
    """Make what the client's agreements have due by its today, each invoice exactly once
    (G6): the ``recurring`` job's body. Automatic work: checked, not in the audit log."""
    access.permit(ctx, action="recurring.run", client=client.name, subject="due invoices")
    return run_recurring(ctx.db, ctx.registry, ctx.box, client.name, client.today)


def run_due_named(ctx: Context, client: str) -> RecurringReport:
    """``hub recurring run``: :func:`run_due` for the client named ``client`` (its today fixed
    now), started by a person: each invoice it records is in the audit log
    (``recurring.invoice``), written with the invoice's record."""
    with ctx.db.session() as session:
        day = ctx.client(session, client)
    change = access.permit(ctx, action="recurring.run", client=day.name, subject="due invoices")

    def recorded(session: Session, row: t.RecurringInvoice) -> None:
        dataclasses.replace(
            change,
            action="recurring.invoice",
            subject=f"agreement {row.agreement_id} invoice {row.sequence + 1}",
            after=_made(row),
        ).record(session)

    return run_recurring(ctx.db, ctx.registry, ctx.box, day.name, day.today, on_record=recorded)
