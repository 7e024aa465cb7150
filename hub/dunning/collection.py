"""Collection (D1, D2, C4): the collection warning, the automatic start, the success fee.

"Send to collection" (D1) does not hand a claim over at once: the debtor first gets a
collection warning with the statutory deadline (:attr:`CountryLaw.collection_warning_days`:
Denmark 10 days, inkassoloven § 10; Norway 14 days, inkassoloven § 9). A reminder step of
template ``collection_warning`` ("reminder 3 with collection warning", D2) does the same from
the flow. Until the deadline the case stays where it was: paid, it closes as usual (R1/R2).
The deadline counts from the day the warning went out: a warning still in the outbox (not
delivered yet, or failing) starts nothing. On the day after the later of the letter's deadline
and its delivery day plus the statutory days, if unpaid, the cycle moves the case to the
collection stage and sends the collection notice; from then on it is never closed
automatically (R6). A customer case (C4) hands each invoice its warning covered over as an
invoice case of its own and closes.

When a collection case is paid, the success fee (default 10 % of what was collected, the
client's ``success_fee_percent``) is recorded once on the case.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.amounts import CENT, ZERO
from hub.db import tables as t
from hub.dunning.cases import add_event, close_case, invoice_cases_from
from hub.dunning.coverage import Share
from hub.dunning.law import law_for
from hub.dunning.messages import MessageParty, make_message
from hub.dunning.rules import DEFAULT_SUCCESS_FEE_PERCENT
from hub.dunning.states import Actor, CaseState, CloseCode, EventKind, MessageStatus, Stage
from hub.errors import InputError

#: The ``step`` of the messages that are not flow steps, so that the unique (case, stage,
#: round, step) of the outbox keeps each to one, even when two runs race.
WARNING_STEP = -1  # the collection warning of `hub cases collect`
NOTICE_STEP = -2  # the collection notice


def warning_deadline(country: str, today: dt.date) -> dt.date:
    """The pay-by date of a collection warning sent today: the statutory minimum."""
    return today + dt.timedelta(days=law_for(country).collection_warning_days)


def refuse_unless_warnable(case: t.Case, due_date: dt.date | None, today: dt.date) -> None:
    """A collection warning only for an active case not yet warned nor in collection, about
    a claim that is overdue (a warning before the due date is not lawful)."""
    if case.state != CaseState.ACTIVE.value:
        raise InputError(f"case {case.id} is {case.state}: only an active case can be sent")
    if case.stage == Stage.COLLECTION.value:
        raise InputError(f"case {case.id} is in collection already")
    if case.collection_deadline is not None:
        raise InputError(
            f"case {case.id} got its collection warning on {case.collection_warned_on} with"
            f" deadline {case.collection_deadline}; it enters collection the day after, unless"
            " paid"
        )
    if due_date is None or today <= due_date:
        raise InputError(
            f"case {case.id}: the claim is not overdue ({due_date}); a collection warning is"
            " only for an overdue claim"
        )


def warn(
    case: t.Case,
    client: t.Client,
    covering: list[tuple[t.Invoice, Decimal]],
    who: MessageParty,
    today: dt.date,
    *,
    actor: str,
    step: int,
    fee: Decimal,
    fees_total: Decimal,
    reminder_number: int | None,
) -> t.Message:
    """Make the collection warning (from the action, ``step`` :data:`WARNING_STEP`, or from a
    reminder step) and set the case's deadline; the caller adds the message to the session."""
    deadline = warning_deadline(client.country, today)
    message = make_message(
        client=client,
        case=case,
        covering=covering,
        who=who,
        kind="collection_warning",
        today=today,
        step=step,
        fee=fee,
        fees_total=fees_total,
        reminder_number=reminder_number,
        deadline=deadline,
    )
    case.collection_warned_on = today
    case.collection_deadline = deadline
    add_event(
        case,
        EventKind.COLLECTION_WARNING_SENT,
        actor,
        today,
        law_for(client.country).warning_rule,
        deadline=deadline.isoformat(),
        invoices=[invoice.invoice_number for invoice, _ in covering],
    )
    return message


def warning_sent_on(session: Session, case_ids: list[int]) -> dict[int, dt.date | None]:
    """For each warned case, the day its collection warning went out (None: not yet). A case
    with no warning of its own was handed over by a customer case after its warning went out
    (C4) and is not listed."""
    if not case_ids:
        return {}
    rows = session.execute(
        select(t.Message.case_id, t.Message.status, t.Message.sent_on)
        .where(t.Message.case_id.in_(case_ids), t.Message.kind == "collection_warning")
        .order_by(t.Message.id)
    )
    return {
        case_id: sent_on if status == MessageStatus.SENT else None
        for case_id, status, sent_on in rows
    }


def collection_starts_on(case: t.Case, country: str, sent_on: dt.date | None) -> dt.date | None:
    """The first day the case may enter collection: the day after the letter's deadline and
    after the statutory days from the day the warning went out; None while it has not."""
    assert case.collection_deadline is not None
    if sent_on is None:
        return None
    last = max(case.collection_deadline, warning_deadline(country, sent_on))
    return last + dt.timedelta(days=1)


def start(
    case: t.Case,
    client: t.Client,
    invoice: t.Invoice,
    amount: Decimal,
    who: MessageParty,
    fees_total: Decimal,
    today: dt.date,
) -> t.Message:
    """Move an invoice case whose warning deadline passed into collection; return the notice.

    The notice is made first: if it cannot be made, the case is left as it was (and the
    next cycle tries again)."""
    notice = make_message(
        client=client,
        case=case,
        covering=[(invoice, amount)],
        who=who,
        kind="collection_notice",
        today=today,
        step=NOTICE_STEP,
        fee=ZERO,
        fees_total=fees_total,
        deadline=case.collection_deadline,
    )
    notice.stage = Stage.COLLECTION.value
    case.stage = Stage.COLLECTION.value
    case.stage_entered_on = today
    case.step_index = 0
    case.collection_started_on = today
    case.collection_amount = amount
    add_event(
        case,
        EventKind.COLLECTION_STARTED,
        Actor.AUTO,
        today,
        f"the collection warning's deadline {case.collection_deadline} passed unpaid",
        amount=str(amount),
        currency=invoice.currency,
    )
    return notice


def warned_invoices(session: Session, case: t.Case) -> set[int]:
    """The invoices the case's collection warning covered."""
    return set(
        session.scalars(
            select(t.MessageInvoice.invoice_id)
            .join(t.Message, t.Message.id == t.MessageInvoice.message_id)
            .where(t.Message.case_id == case.id, t.Message.kind == "collection_warning")
        )
    )


def hand_over_customer_case(
    session: Session,
    customer_case: t.Case,
    shares: list[Share],
    today: dt.date,
) -> list[t.Case]:
    """C4: a customer case whose warning's time is up becomes one invoice case per invoice
    its warning covered (an invoice overdue since then was not warned: a new customer case
    takes it up), each warned like the customer case, and closes. ``shares``: those invoices
    with what the hub's registered payments paid of each (see
    :func:`hub.dunning.cases.invoice_cases_from`)."""
    cases = invoice_cases_from(
        session,
        customer_case,
        shares,
        today,
        f"handed over for collection from customer case {customer_case.id} (C4)",
    )
    for case in cases:
        case.collection_warned_on = customer_case.collection_warned_on
        case.collection_deadline = customer_case.collection_deadline
    close_case(
        customer_case,
        CloseCode.SENT_TO_COLLECTION,
        "per_invoice_collection",
        Actor.AUTO,
        today,
        closed_by=Actor.AUTO,
        invoices=[share.invoice.invoice_number for share in shares],
    )
    return [c for c in cases if c.state != CaseState.CLOSED.value]


def record_success_fee(
    case: t.Case, rules: t.ClientDunning, collected: Decimal, currency: str, today: dt.date
) -> Decimal | None:
    """Record the success fee on a collection case that was paid, once; None if it was not
    in collection, nothing was collected or the fee is recorded already."""
    if case.collection_started_on is None or case.success_fee is not None or collected <= 0:
        return None
    percent = rules.success_fee_percent
    if percent is None:
        percent = DEFAULT_SUCCESS_FEE_PERCENT
    fee = (collected * percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    case.success_fee = fee
    add_event(
        case,
        EventKind.SUCCESS_FEE,
        Actor.AUTO,
        today,
        None,
        collected=str(collected),
        percent=str(percent),
        fee=str(fee),
        currency=currency,
    )
    return fee
