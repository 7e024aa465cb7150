"""Recurring agreements in the database: add, list, show, deactivate, and their terms."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from hub import clients
from hub.amounts import parse_amount
from hub.db import tables as t
from hub.errors import InputError, NotFoundError
from hub.plugins import PluginRegistry
from hub.records import NOT_IN_JSON, json_name, made_from, record_dict
from hub.recurring.schedule import (
    PRICE_FACTORS,
    AgreementLine,
    Terms,
    next_invoice_date,
    plan,
    planned,
)


def parse_line(raw: str) -> AgreementLine:
    """``description;quantity;unit price;price factor[;VAT code]`` as typed after ``--line``
    (``Hosting;1;499.00;month;3``). Amounts are exact, with at most two decimals."""
    parts = [p.strip() for p in raw.split(";")]
    if len(parts) not in (4, 5):
        raise InputError(
            f"--line {raw!r}: give 'description;quantity;unit price;price factor' and"
            f" optionally ';VAT code' (price factor one of {', '.join(PRICE_FACTORS)})"
        )
    description, quantity, price, factor = parts[:4]
    vat_code = parts[4] if len(parts) == 5 and parts[4] else None
    return AgreementLine(
        description=description,
        quantity=parse_amount(quantity, what=f"--line {raw!r}: quantity"),
        unit_price=parse_amount(price, what=f"--line {raw!r}: unit price"),
        price_factor=factor.lower(),
        vat_code=vat_code,
    )


def set_if(
    session: Session, entity: type[t.Base], *conditions: ColumnElement[bool], **values: Any
) -> bool:
    """Compare and set: ``values`` on the one row of ``entity`` that meets ``conditions``;
    False if none does (another run changed it first). Compared by the database, not in
    Python: SQLite gives a stored time back without its time zone."""
    done = session.execute(
        update(entity)
        .where(*conditions)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def unleased(row_id: int, now: dt.datetime) -> tuple[ColumnElement[bool], ...]:
    """The conditions of a pending recorded invoice that no run holds at ``now``: never
    claimed, or its lease lapsed."""
    return (
        t.RecurringInvoice.id == row_id,
        t.RecurringInvoice.state == "pending",
        or_(t.RecurringInvoice.claimed_until.is_(None), t.RecurringInvoice.claimed_until < now),
    )


def terms_of(agreement: t.RecurringAgreement) -> Terms:
    """The stored agreement as the schedule arithmetic's :class:`Terms`."""
    return made_from(
        Terms, agreement, lines=tuple(made_from(AgreementLine, line) for line in agreement.lines)
    )


def require_capability(registry: PluginRegistry, client: t.Client, produce: str) -> None:
    """Refuse an agreement the client's plugin could never carry out: it must be able to
    create what the agreement produces (capability create_invoice or create_order)."""
    cp = clients.enabled_plugin(client)
    if cp is None:
        raise InputError(
            f"client {client.name!r} has no accounting plugin enabled to make its invoices"
            f" (`hub clients enable {client.name} PLUGIN`)"
        )
    capability = "create_order" if produce == "order" else "create_invoice"
    info = registry.info(cp.plugin)
    if capability not in info.capabilities:
        raise InputError(
            f"plugin {cp.plugin!r} of client {client.name!r} cannot make an {produce}"
            f" (it lacks the capability {capability})"
        )


def refuse_backdating(terms: Terms, today: dt.date, backdate: bool) -> None:
    """A first invoice to be made before ``today`` is most often a mistyped date: the next run
    would send every invoice since at once. Allowed only when asked for (``backdate``)."""
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


def add_agreement(
    session: Session, client_name: str, customer_number: str, terms: Terms, created_by: str
) -> t.RecurringAgreement:
    """Record an agreement for a client. Its currency must be the client's: the hub follows
    a client's receivables in one currency."""
    client = clients.get_client(session, client_name)
    if not customer_number.strip():
        raise InputError("--customer: the customer number is empty")
    planned(terms, 0)  # the first invoice can be made: amounts the hub can store
    if terms.currency != client.currency:
        raise InputError(
            f"the agreement is in {terms.currency}, but client {client.name!r} bills in"
            f" {client.currency}"
        )
    columns = record_dict(terms)
    del columns["lines"]
    agreement = t.RecurringAgreement(
        **columns,
        uid=secrets.token_hex(16),
        client_id=client.id,
        customer_number=customer_number.strip(),
        status="active",
        created_by=created_by,
    )
    agreement.lines = [
        t.RecurringLine(position=i, **record_dict(line))
        for i, line in enumerate(terms.lines, start=1)
    ]
    session.add(agreement)
    session.flush()
    return agreement


def get_agreement(
    session: Session, agreement_id: int, client_name: str | None = None
) -> t.RecurringAgreement:
    agreement = session.get(t.RecurringAgreement, agreement_id)
    if agreement is None:
        raise NotFoundError(f"no recurring agreement {agreement_id} (see `hub recurring list`)")
    if client_name is not None:
        client = clients.get_client(session, client_name)
        if agreement.client_id != client.id:
            raise NotFoundError(
                f"recurring agreement {agreement_id} is not an agreement of client {client_name!r}"
            )
    return agreement


@dataclass(frozen=True)
class MadeInvoice:
    """An invoice (or order) an agreement has recorded, made or not yet."""

    sequence: int
    kind: str
    state: str
    generate_on: dt.date
    invoice_date: dt.date
    due_date: dt.date
    period_start: dt.date
    period_end: dt.date
    total: Decimal
    currency: str = field(metadata=NOT_IN_JSON)
    reference: str | None
    attempts: int
    last_error: str | None

    def as_dict(self) -> dict[str, Any]:
        return record_dict(self, text=True)


def history(session: Session, agreement_id: int) -> list[MadeInvoice]:
    """What the agreement has recorded, in order: made, pending or abandoned."""
    return [
        MadeInvoice(**row._asdict())
        for row in session.execute(
            select(*(getattr(t.RecurringInvoice, f.name) for f in fields(MadeInvoice)))
            .where(t.RecurringInvoice.agreement_id == agreement_id)
            .order_by(t.RecurringInvoice.sequence)
        )
    ]


@dataclass(frozen=True)
class AgreementSummary:
    """An agreement as ``hub recurring list`` shows it."""

    id: int
    client: str
    customer_number: str = field(metadata=json_name("customer"))
    interval: str
    produce: str
    status: str
    status_reason: str | None
    generated: int
    pending: int
    next_invoice_date: dt.date | None

    def as_dict(self) -> dict[str, Any]:
        return record_dict(self, text=True)


def interval_text(agreement: t.RecurringAgreement) -> str:
    unit = agreement.unit if agreement.every == 1 else f"{agreement.unit}s"
    return f"every {agreement.every} {unit}"


def summarize(session: Session, agreement: t.RecurringAgreement) -> AgreementSummary:
    counts = dict(
        session.execute(
            select(t.RecurringInvoice.state, func.count())
            .where(t.RecurringInvoice.agreement_id == agreement.id)
            .group_by(t.RecurringInvoice.state)
        ).all()
    )
    recorded = sum(counts.values())
    client = session.get(t.Client, agreement.client_id)
    assert client is not None
    terms = terms_of(agreement)
    upcoming = next_invoice_date(terms, recorded) if agreement.status == "active" else None
    return made_from(
        AgreementSummary,
        agreement,
        client=client.name,
        interval=interval_text(agreement),
        generated=counts.get("created", 0),
        pending=counts.get("pending", 0),
        next_invoice_date=upcoming,
    )


def list_agreements(
    session: Session, client_name: str | None = None, *, status: str | None = None
) -> list[t.RecurringAgreement]:
    query = select(t.RecurringAgreement).order_by(t.RecurringAgreement.id)
    if client_name is not None:
        query = query.where(
            t.RecurringAgreement.client_id == clients.get_client(session, client_name).id
        )
    if status is not None:
        query = query.where(t.RecurringAgreement.status == status)
    return list(session.scalars(query))


def deactivate(
    session: Session, agreement_id: int, client_name: str, reason: str
) -> t.RecurringAgreement:
    """Stop an agreement: it generates nothing more. An invoice already recorded but not yet
    confirmed by the accounting system is still reconciled (it may exist there already)."""
    agreement = get_agreement(session, agreement_id, client_name)
    if agreement.status != "active":
        raise InputError(
            f"recurring agreement {agreement_id} is already inactive"
            f" ({agreement.status_reason or 'no reason recorded'})"
        )
    agreement.status = "inactive"
    agreement.status_reason = reason
    return agreement


def abandon(
    session: Session,
    agreement_id: int,
    client_name: str,
    sequence: int,
    reason: str,
    now: dt.datetime,
) -> t.RecurringInvoice:
    """Give up on a recorded invoice the accounting system keeps refusing (a VAT code or
    customer it does not know): a person confirms it is not in the books, and the agreement
    goes on with the next one. The period is then not billed by the agreement."""
    get_agreement(session, agreement_id, client_name)
    row = session.scalar(
        select(t.RecurringInvoice).where(
            t.RecurringInvoice.agreement_id == agreement_id,
            t.RecurringInvoice.sequence == sequence,
        )
    )
    if row is None:
        raise NotFoundError(
            f"recurring agreement {agreement_id} has recorded no invoice {sequence + 1}"
        )
    if row.state != "pending":
        raise InputError(
            f"invoice {sequence + 1} of recurring agreement {agreement_id} is {row.state}"
            f" ({row.reference or 'no reference'}): only a pending invoice can be abandoned"
        )
    note = f"abandoned: {reason}" + (f" (last error: {row.last_error})" if row.last_error else "")
    taken = set_if(
        session,
        t.RecurringInvoice,
        *unleased(row.id, now),
        state="abandoned",
        last_error=note,
        claimed_until=None,
    )
    if not taken:
        raise InputError(
            f"invoice {sequence + 1} of recurring agreement {agreement_id} is being sent right"
            " now; try again once that run has finished"
        )
    session.refresh(row)
    return row
