"""Cases: starting one, its history, what it pursues, and its next step."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from hub.amounts import CENT, ZERO
from hub.db import tables as t
from hub.dunning.coverage import Share
from hub.dunning.flows import Anchor, Flow, FlowStep, earliest_send_date
from hub.dunning.law import law_for
from hub.dunning.states import (
    Actor,
    CaseMode,
    CaseState,
    CloseCode,
    EventKind,
    MessageStatus,
    Stage,
)
from hub.errors import InputError, NotFoundError
from hub.model import InvoiceState


def add_event(
    case: t.Case,
    what: EventKind,
    actor: str,
    today: dt.date,
    reason: str | None = None,
    **data: Any,
) -> None:
    """Append to the case's history (never rewritten). ``data`` must be JSON-able.

    The event is added to the case's session without loading the case's earlier history (a
    cycle over thousands of cases must not read every history to append one line).
    """
    session = object_session(case)
    assert session is not None, "add_event needs a case that belongs to a session"
    session.add(
        t.CaseEvent(
            case=case, kind=what.value, actor=actor, on_date=today, reason=reason, data=data
        )
    )
    case.updated_at = dt.datetime.now(dt.UTC)


def close_case(
    case: t.Case,
    code: CloseCode,
    reason: str,
    actor: str,
    today: dt.date,
    *,
    closed_by: Actor,
    **data: Any,
) -> None:
    """Close the case with ``code`` and ``reason``: the one way a case closes, by a person's
    decision (``closed_by`` :attr:`Actor.USER`) or by the hub itself (:attr:`Actor.AUTO`).

    A closed case no longer resumes by itself. The ``closed`` event records ``code`` and
    ``data`` (what the closer wants kept with it) and names ``actor``.
    """
    case.state = CaseState.CLOSED.value
    case.closed_on = today
    case.closed_by = closed_by.value
    case.close_code = code.value
    case.close_reason = reason
    case.resume_on = None
    add_event(case, EventKind.CLOSED, actor, today, reason, code=code.value, **data)


def stage_on_start(invoice: t.Invoice, today: dt.date) -> Stage:
    """A case starts in the invoice stage until the due date, then in the reminder stage."""
    return Stage.INVOICE if today <= invoice.due_date else Stage.REMINDER


def start_case(
    session: Session,
    client: t.Client,
    invoice: t.Invoice,
    today: dt.date,
    actor: str,
    started_by: str,
    *,
    known_unfollowed: bool = False,
) -> t.Case:
    """Start following an open invoice. Refused if it is not open or already followed.

    ``known_unfollowed``: the caller has already checked, for many invoices in one query, that
    no case follows this one (the automatic start); the unique index still guards it.
    """
    if invoice.state != InvoiceState.OPEN.value or invoice.outstanding_amount <= 0:
        raise InputError(
            f"invoice {invoice.invoice_number} of {client.name} is not open"
            f" ({invoice.state}, outstanding {invoice.outstanding_amount}); nothing to pursue"
        )
    existing = (
        None
        if known_unfollowed
        else session.scalar(
            select(t.Case.id).where(
                t.Case.invoice_id == invoice.id, t.Case.state != CaseState.CLOSED.value
            )
        )
    )
    if existing is not None:
        raise InputError(
            f"invoice {invoice.invoice_number} of {client.name} is already followed by case"
            f" {existing}"
        )
    stage = stage_on_start(invoice, today)
    case = t.Case(
        client_id=client.id,
        invoice_id=invoice.id,
        customer_number=invoice.customer_number,
        mode=CaseMode.INVOICE.value,
        stage=stage.value,
        state=CaseState.ACTIVE.value,
        started_by=started_by,
        opened_on=today,
        stage_entered_on=today,
        round=1,
        step_index=0,
        paid_in_accounting=False,
    )
    session.add(case)
    add_event(
        case,
        EventKind.STARTED,
        actor,
        today,
        None,
        stage=stage.value,
        invoice_number=invoice.invoice_number,
    )
    return case


def get_case(session: Session, case_id: int) -> t.Case:
    case = session.get(t.Case, case_id)
    if case is None:
        raise NotFoundError(f"no case {case_id} (see `hub cases list`)")
    return case


def lock_case(session: Session, case_id: int) -> t.Case:
    """The case, locked for the rest of ``session``'s unit of work: every action on a case
    (A1-A6, a payment, a credit note or write-off asked for or recorded) takes this first, so
    two at the same moment run one after the other and the second sees what the first did.

    PostgreSQL: ``SELECT ... FOR UPDATE`` on the case's row. SQLite has no row locks: the unit
    of work takes the database's write lock at its start (``BEGIN IMMEDIATE``), waiting for
    another writer up to the busy timeout; a unit of work that has written already holds it.
    Call it before reading anything the action decides on.
    """
    if _sqlite_write_lock(session):
        case = session.get(t.Case, case_id, populate_existing=True)
    else:
        case = session.get(t.Case, case_id, with_for_update=True, populate_existing=True)
    if case is None:
        raise NotFoundError(f"no case {case_id} (see `hub cases list`)")
    return case


def lock_client_cases(session: Session, client_id: int) -> None:
    """Lock the client and its open cases for the rest of ``session``'s unit of work: the
    dunning cycle takes this first, so it never decides on a case a person is changing at that
    moment (it waits, then reads what the person did), and two cycles of one client run one
    after the other. Same locks as :func:`lock_case` (rows on PostgreSQL, in id order; the
    write lock on SQLite)."""
    if _sqlite_write_lock(session):
        return
    session.execute(select(t.Client.id).where(t.Client.id == client_id).with_for_update())
    session.execute(
        select(t.Case.id)
        .where(t.Case.client_id == client_id, t.Case.state != CaseState.CLOSED.value)
        .order_by(t.Case.id)
        .with_for_update()
    )


def _sqlite_write_lock(session: Session) -> bool:
    """On SQLite, take the database's write lock now (``BEGIN IMMEDIATE``) unless the unit of
    work holds it already; False on a database with row locks."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return False
    raw = connection.connection.dbapi_connection
    assert raw is not None
    if not raw.in_transaction:  # the driver opens its transaction at the first write
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    return True


def payments_by_case(session: Session, case_ids: list[int]) -> dict[int, Decimal]:
    if not case_ids:
        return {}
    rows = session.execute(
        select(t.CasePayment.case_id, func.sum(t.CasePayment.amount))
        .where(t.CasePayment.case_id.in_(case_ids))
        .group_by(t.CasePayment.case_id)
    )
    return {case_id: Decimal(total or 0).quantize(CENT) for case_id, total in rows}


@dataclass(frozen=True)
class Fees:
    total: Decimal
    count: int  # fee-bearing messages


@dataclass(frozen=True)
class ClaimFees:
    """The fees charged on one invoice (the claim) across all its cases, as the law counts."""

    count: int
    last_on: dt.date | None


def claim_fees(
    session: Session, invoice_ids: list[int] | None = None, *, client_id: int | None = None
) -> dict[int, ClaimFees]:
    """Fee-bearing messages per invoice, over every message that covered it (its invoice
    cases' letters and the consolidated reminders of customer mode, C5): closing a case,
    starting a new one or switching modes must not reset the law's count or spacing.

    A letter called off before it went out (cancelled) charged nothing and is not counted;
    one not out yet (waiting for approval, held, queued) is, since it may still go. The last
    fee's day is the day its letter went out (the day it was made, while it has not).

    For the given invoices, or for every invoice of the client ``client_id``.
    """
    query = (
        select(
            t.MessageInvoice.invoice_id,
            func.count(t.Message.id),
            func.max(func.coalesce(t.Message.sent_on, t.Message.created_on)),
        )
        .join(t.Message, t.Message.id == t.MessageInvoice.message_id)
        .where(t.Message.fee > ZERO, t.Message.status != MessageStatus.CANCELLED)
        .group_by(t.MessageInvoice.invoice_id)
    )
    if client_id is not None:
        query = query.where(t.Message.client_id == client_id)
    elif invoice_ids:
        query = query.where(t.MessageInvoice.invoice_id.in_(invoice_ids))
    else:
        return {}
    rows = session.execute(query)
    return {invoice_id: ClaimFees(count, last_on) for invoice_id, count, last_on in rows}


def fees_by_case(session: Session, case_ids: list[int]) -> dict[int, Fees]:
    """The fees charged on each case: those of its letters that went out (a fee is owed only
    for a reminder actually sent; one waiting for approval or held back is not charged yet)."""
    if not case_ids:
        return {}
    rows = session.execute(
        select(t.Message.case_id, func.sum(t.Message.fee), func.count(t.Message.id))
        .where(
            t.Message.case_id.in_(case_ids),
            t.Message.fee > ZERO,
            t.Message.status == MessageStatus.SENT,
        )
        .group_by(t.Message.case_id)
    )
    return {
        case_id: Fees(Decimal(total or 0).quantize(CENT), count) for case_id, total, count in rows
    }


def pursued_amount(invoice: t.Invoice | None, paid_in_hub: Decimal) -> Decimal:
    """What the hub pursues: the invoice's outstanding amount less partial payments (A2)."""
    if invoice is None:
        return ZERO
    return max(invoice.outstanding_amount - paid_in_hub, ZERO)


def next_step(
    case: t.Case,
    due_date: dt.date,
    flow: Flow,
    country: str,
    last_fee_on: dt.date | None = None,
) -> tuple[int, FlowStep, dt.date] | None:
    """The next step of the case's current stage and the day it may go out, or None.

    Catch-up policy: a step that was due on a missed day goes out on the next sync, one step
    per case per day; a step anchored on the previous step counts from the day that step was
    actually sent; and a fee-bearing step never goes out before the law allows (the minimum
    gap after the previous fee and after its pay-by date), so a sync after days of downtime
    never sends several reminders at once. ``last_fee_on`` is the last fee on the claim (the
    invoice, across its cases); the case's own is used when it is later or not given.
    """
    if case.step_index >= len(flow.steps):
        return None
    step = flow.steps[case.step_index]
    if step.anchor is Anchor.DUE_DATE:
        planned = due_date + dt.timedelta(days=step.offset_days)
    else:
        base = case.last_step_on if case.step_index > 0 else case.stage_entered_on
        planned = (base or due_date) + dt.timedelta(days=step.offset_days)
    fee_on = max((d for d in (last_fee_on, case.last_fee_on) if d is not None), default=None)
    day = earliest_send_date(
        law_for(country),
        Stage(case.stage),
        planned,
        step.fee,
        due_date,
        case.last_step_on,
        fee_on,
    )
    return case.step_index, step, day


def invoice_cases_from(
    session: Session,
    customer_case: t.Case,
    shares: list[Share],
    today: dt.date,
    why: str,
) -> list[t.Case]:
    """One fresh invoice case per invoice of a customer case (C3 switching back, C4 handing
    over), in the reminder stage. What the hub's registered payments paid of an invoice moves
    with it; an invoice they paid in full gets its case closed at once as paid
    (``registered_payment``), so the payment is kept and the invoice is not chased again. A
    paused customer case's pause carries over."""
    cases = []
    for share in shares:
        invoice = share.invoice
        case = t.Case(
            client_id=customer_case.client_id,
            invoice_id=invoice.id,
            customer_number=customer_case.customer_number,
            mode=CaseMode.INVOICE.value,
            stage=Stage.REMINDER.value,
            state=customer_case.state,
            started_by=Actor.AUTO.value,
            opened_on=today,
            stage_entered_on=today,
            round=1,
            step_index=0,
            paid_in_accounting=False,
            pause_reason=customer_case.pause_reason,
            pause_note=customer_case.pause_note,
            resume_on=customer_case.resume_on,
        )
        session.add(case)
        add_event(
            case,
            EventKind.STARTED,
            Actor.AUTO,
            today,
            why,
            stage=Stage.REMINDER.value,
            invoice_number=invoice.invoice_number,
            from_case=customer_case.id,
        )
        if share.paid_in_hub > 0:
            case.payments.append(
                t.CasePayment(
                    paid_on=today,
                    amount=share.paid_in_hub,
                    currency=invoice.currency,
                    registered_by=f"case {customer_case.id}",
                )
            )
        if share.pursued <= 0:
            case.state = CaseState.CLOSED.value
            case.closed_on = today
            case.closed_by = Actor.AUTO.value
            case.close_code = CloseCode.PAID.value
            case.close_reason = "registered_payment"
            add_event(case, EventKind.CLOSED, Actor.AUTO, today, "registered_payment", code="paid")
        cases.append(case)
    return cases
