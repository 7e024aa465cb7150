"""Collection (D1, D2, C4): the collection warning, the automatic start, the success fee.

"Send to collection" (D1) does not hand a claim over at once: the debtor first gets a
collection warning with the statutory deadline (:attr:`CountryLaw.collection_warning_days`:
Denmark 10 days, inkassoloven § 10; Norway 14 days, inkassoloven § 9). A reminder step of
template ``collection_warning`` ("reminder 3 with collection warning", D2) does the same from
the flow. Until the deadline the case stays where it was: paid, it closes as usual (R1/R2).
On the day after an unpaid deadline the cycle moves it to the collection stage and sends the
collection notice; from then on it is never closed automatically (R6). A customer case (C4)
hands each of its invoices over as an invoice case of its own and closes.

When a collection case is paid, the success fee (default 10 % of what was collected, the
client's ``success_fee_percent``) is recorded once on the case.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db import tables as t
from hub.dunning.cases import ZERO, add_event
from hub.dunning.law import law_for
from hub.dunning.messages import MessageParty, make_message
from hub.dunning.rules import DEFAULT_SUCCESS_FEE_PERCENT
from hub.dunning.states import Actor, CaseState, Stage
from hub.errors import InputError

_CENT = Decimal("0.01")


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
    step: int | None,
    fee: Decimal,
    fees_total: Decimal,
    reminder_number: int | None,
) -> t.Message:
    """Make the collection warning (from the action, ``step`` None, or from a reminder step)
    and set the case's deadline; the caller adds the message to the session."""
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
        "collection_warning_sent",
        actor,
        today,
        law_for(client.country).warning_rule,
        deadline=deadline.isoformat(),
        invoices=[invoice.invoice_number for invoice, _ in covering],
    )
    return message


def deadline_missed(case: t.Case, today: dt.date) -> bool:
    return (
        case.collection_deadline is not None
        and case.stage != Stage.COLLECTION.value
        and today > case.collection_deadline
    )


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
        step=None,
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
        "collection_started",
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
    covering: list[tuple[t.Invoice, Decimal]],
    today: dt.date,
) -> list[t.Case]:
    """C4: a customer case whose warning deadline passed becomes one collection case per
    invoice its warning covered (an invoice overdue since then was not warned: a new customer
    case takes it up), and closes. Partial payments registered on the customer case move with
    the invoices they were applied to. ``covering``: the warned invoices still owed."""
    cases = []
    for invoice, amount in covering:
        case = t.Case(
            client_id=customer_case.client_id,
            invoice_id=invoice.id,
            customer_number=customer_case.customer_number,
            mode="invoice",
            stage=Stage.REMINDER.value,
            state=CaseState.ACTIVE.value,
            started_by=Actor.AUTO.value,
            opened_on=today,
            stage_entered_on=today,
            round=1,
            step_index=0,
            paid_in_accounting=False,
            collection_warned_on=customer_case.collection_warned_on,
            collection_deadline=customer_case.collection_deadline,
        )
        session.add(case)
        add_event(
            case,
            "started",
            Actor.AUTO,
            today,
            f"handed over for collection from customer case {customer_case.id} (C4)",
            stage=Stage.REMINDER.value,
            invoice_number=invoice.invoice_number,
            from_case=customer_case.id,
        )
        moved = invoice.outstanding_amount - amount
        if moved > 0:
            case.payments = [
                t.CasePayment(
                    paid_on=today,
                    amount=moved,
                    currency=invoice.currency,
                    registered_by=f"case {customer_case.id}",
                )
            ]
        cases.append(case)
    customer_case.state = CaseState.CLOSED.value
    customer_case.closed_on = today
    customer_case.closed_by = Actor.AUTO.value
    customer_case.close_code = "sent_to_collection"
    customer_case.close_reason = "per_invoice_collection"
    add_event(
        customer_case,
        "closed",
        Actor.AUTO,
        today,
        "per_invoice_collection",
        code="sent_to_collection",
        invoices=[invoice.invoice_number for invoice, _ in covering],
    )
    return cases


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
    fee = (collected * percent / 100).quantize(_CENT, rounding=ROUND_HALF_UP)
    case.success_fee = fee
    add_event(
        case,
        "success_fee",
        Actor.AUTO,
        today,
        None,
        collected=str(collected),
        percent=str(percent),
        fee=str(fee),
        currency=currency,
    )
    return fee
