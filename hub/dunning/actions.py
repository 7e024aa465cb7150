"""What a person can do to a case (A1–A6), each recorded as an event with who, when and why.

Every action checks first that it applies to the case as it is; a refusal says why and
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import clients, limits
from hub.amounts import CENT, ZERO
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import collection, coverage, postings
from hub.dunning import rules as dunning_rules
from hub.dunning.cases import (
    Fees,
    add_event,
    close_case,
    fees_by_case,
    lock_case,
    payments_by_case,
    start_case,
)
from hub.dunning.messages import make_message, party, withdraw_unsent
from hub.dunning.states import (
    CLOSING_CODES,
    Actor,
    CaseMode,
    CaseState,
    CloseCode,
    EventKind,
    Stage,
)
from hub.errors import InputError, NotFoundError
from hub.model import Capability, CreditNoteRequest, InvoiceState
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox


def start_by_hand(
    session: Session, client: t.Client, invoice_number: str, today: dt.date, actor: str
) -> t.Case:
    """A person starts a case for one of the client's open invoices (as synced). Refused for a
    client in customer mode, whose cases follow customers and start by themselves (C1)."""
    invoice = session.scalar(
        select(t.Invoice).where(
            t.Invoice.client_id == client.id, t.Invoice.invoice_number == invoice_number
        )
    )
    if invoice is None:
        raise NotFoundError(
            f"client {client.name!r} has no invoice {invoice_number!r}"
            f" (run `hub sync {client.name}` first)"
        )
    if dunning_rules.rules_of(session, client).reminder_mode == CaseMode.CUSTOMER:
        raise InputError(
            f"client {client.name!r} is in customer mode: its cases follow customers and start"
            " by themselves for overdue invoices (C1)"
        )
    case = start_case(session, client, invoice, today, actor, Actor.USER)
    session.flush()
    return case


def refuse_unless(case: t.Case, states: set[CaseState], action: str) -> None:
    if CaseState(case.state) not in states:
        closed = (
            f"; a closed case stays closed: `hub cases show {case.id}` shows how it closed"
            if case.state == CaseState.CLOSED
            else ""
        )
        raise InputError(
            f"case {case.id} is {case.state}: cannot {action}"
            f" (only a case that is {' or '.join(sorted(s.value for s in states))}){closed}"
        )


def _invoice(session: Session, case: t.Case) -> t.Invoice:
    invoice = session.get(t.Invoice, case.invoice_id) if case.invoice_id else None
    if invoice is None:
        raise InputError(
            f"case {case.id} follows customer {case.customer_number}'s balance, not one"
            " invoice; this action is for an invoice case"
        )
    return invoice


def _customer(session: Session, client: t.Client, number: str) -> t.Customer | None:
    return session.scalar(
        select(t.Customer).where(
            t.Customer.client_id == client.id, t.Customer.customer_number == number
        )
    )


def refuse_if_pending(case: t.Case) -> None:
    """A write-off or credit note asked for and not finished: finish it first (running it
    again is safe), so the books never get one without the case knowing. While another
    command posts it (its lease is live), say so."""
    postings.refuse_if_busy(case)
    way_out = (
        f"; or, after looking in the books, drop it: `hub cases abandon-posting {case.id}"
        " --reason ...`"
    )
    if case.write_off_key is not None and case.write_off_ref is None:
        raise InputError(
            f"case {case.id}: a write-off was asked for and not finished; run `hub cases"
            f" write-off {case.id}` again (it posts the same voucher, never a second one)" + way_out
        )
    if case.credit_note_key is not None and case.credit_note_ref is None:
        raise InputError(
            f"case {case.id}: a credit note was asked for and not finished; run `hub cases"
            f" credit-note {case.id}` again (it asks for the same credit note)" + way_out
        )


def close_by_person(
    case: t.Case,
    code: CloseCode,
    reason: str,
    actor: str,
    today: dt.date,
    covering: list[tuple[t.Invoice, Decimal]] | None = None,
) -> None:
    """Close the case as a person's decision. For a customer case ``covering`` (what it
    pursued) is recorded: those invoices are let go and not chased again by themselves."""
    invoice_ids = (
        [invoice.id for invoice, _ in covering or []] if case.mode == CaseMode.CUSTOMER else []
    )
    close_case(case, code, reason, actor, today, closed_by=Actor.USER, invoice_ids=invoice_ids)


def close(
    session: Session,
    case_id: int,
    code: str,
    reason: str,
    today: dt.date,
    *,
    notify: bool,
    actor: str,
) -> t.Case:
    """A1: close with a code from the fixed list and a reason from that code's list.

    ``written_off`` is not closed by hand: :func:`hub.dunning.write_off.write_off` posts the
    loss in the books (D4) and closes the case. A collection case closed as paid records its
    success fee (D1).
    """
    case = lock_case(session, case_id)
    refuse_unless(case, {CaseState.ACTIVE, CaseState.PAUSED}, "close it")
    refuse_if_pending(case)
    if code not in CLOSING_CODES:
        raise InputError(f"closing code {code!r} is not one of {', '.join(CLOSING_CODES)}")
    if code == CloseCode.WRITTEN_OFF:
        raise InputError(
            f"case {case.id}: a write-off is posted in the books and closes the case by itself;"
            f" use `hub cases write-off {case.id}` (D4)"
        )
    if reason not in CLOSING_CODES[CloseCode(code)]:
        raise InputError(
            f"reason {reason!r} does not go with code {code!r}; choose one of"
            f" {', '.join(CLOSING_CODES[CloseCode(code)])}"
        )
    client = session.get(t.Client, case.client_id)
    assert client is not None
    covering = coverage.case_covering(session, case, today)
    rules = dunning_rules.rules_of(session, client)
    message = None
    if notify:
        if not covering:
            raise InputError(
                f"case {case.id} covers no unpaid invoice now; there is no closing"
                " confirmation to send (close it without --notify)"
            )
        customer = _customer(session, client, case.customer_number)
        fees = fees_by_case(session, [case.id]).get(case.id, Fees(ZERO, 0))
        message = make_message(
            client=client,
            case=case,
            covering=covering,
            who=party(client, rules, customer, case.customer_number),
            kind="closing_confirmation",
            today=today,
            step=None,
            fee=ZERO,
            fees_total=fees.total,
        )
    close_by_person(case, CloseCode(code), reason, actor, today, covering)
    if code == CloseCode.PAID and covering and case.collection_amount is not None:
        # Paid to us (or registered): all was collected. Paid after an agreement: what the
        # books and registered payments show collected; the rest was given up.
        left = ZERO if reason != "paid_after_agreement" else coverage.total(covering)
        collection.record_success_fee(
            case, rules, case.collection_amount - left, covering[0][0].currency, today
        )
    if message is not None:
        session.add(message)
    return case


def register_payment(
    session: Session,
    case_id: int,
    amount: Decimal,
    paid_on: dt.date,
    today: dt.date,
    *,
    actor: str,
) -> t.Case:
    """A2: a payment the customer made that the books do not show yet. Lowers what is
    pursued; not booked. More than is pursued, zero or negative is refused; paying exactly
    what is pursued closes the case (code paid, registered_payment). On a customer case the
    payment is applied to the oldest invoices first."""
    case = lock_case(session, case_id)
    refuse_unless(case, {CaseState.ACTIVE, CaseState.PAUSED}, "register a payment")
    refuse_if_pending(case)
    if amount <= 0 or amount != amount.quantize(CENT):
        raise InputError(f"payment amount {amount} must be positive with at most two decimals")
    if paid_on > today:
        raise InputError(f"payment date {paid_on} is after today ({today})")
    covering = coverage.case_covering(session, case, today)
    if case.invoice_id is not None:
        _invoice(session, case)
    currency = covering[0][0].currency if covering else "the invoices' currency"
    pursued = coverage.total(covering)
    if amount > pursued:
        raise InputError(
            f"payment {amount} {currency} is more than the {pursued} {currency}"
            f" case {case.id} pursues; an overpayment is refused"
        )
    case.payments.append(
        t.CasePayment(paid_on=paid_on, amount=amount, currency=currency, registered_by=actor)
    )
    add_event(
        case,
        EventKind.PAYMENT,
        actor,
        today,
        None,
        amount=str(amount),
        paid_on=paid_on.isoformat(),
        currency=currency,
    )
    if amount == pursued:
        close_by_person(case, CloseCode.PAID, "registered_payment", actor, today, covering)
        client = session.get(t.Client, case.client_id)
        assert client is not None
        collection.record_success_fee(
            case,
            dunning_rules.rules_of(session, client),
            case.collection_amount or ZERO,
            currency,
            today,
        )
    return case


def pause(
    session: Session,
    case_id: int,
    reason: str,
    note: str | None,
    resume_on: dt.date | None,
    today: dt.date,
    *,
    actor: str,
) -> t.Case:
    """A4: pause with a reason, an optional note and an optional day it resumes by itself."""
    case = lock_case(session, case_id)
    refuse_unless(case, {CaseState.ACTIVE}, "pause it")
    if not reason.strip():
        raise InputError("a pause needs a reason")
    for field, text in (("reason", reason), ("note", note)):  # free text: lines allowed
        why = None if text is None else limits.text_problem(text, multiline=True)
        if why is not None:
            raise InputError(f"case {case_id}: the pause {field} {why}")
    if resume_on is not None and resume_on <= today:
        raise InputError(f"resume date {resume_on} must be after today ({today})")
    case.state = CaseState.PAUSED.value
    case.pause_reason = reason
    case.pause_note = note
    case.resume_on = resume_on
    add_event(
        case,
        EventKind.PAUSED,
        actor,
        today,
        reason,
        note=note,
        resume_on=resume_on.isoformat() if resume_on else None,
    )
    return case


def resume(session: Session, case_id: int, today: dt.date, *, actor: str) -> t.Case:
    """A4: resume a paused case by hand."""
    case = lock_case(session, case_id)
    refuse_unless(case, {CaseState.PAUSED}, "resume it")
    case.state = CaseState.ACTIVE.value
    case.resume_on = None
    add_event(case, EventKind.RESUMED, actor, today, "resumed by hand")
    return case


def _refuse_if_warned(case: t.Case) -> None:
    if case.collection_deadline is not None:
        raise InputError(
            f"case {case.id} got its collection warning on {case.collection_warned_on}: it"
            f" enters collection after {case.collection_deadline} unless paid; its flow cannot"
            " change"
        )


def send_to_collection(session: Session, case_id: int, today: dt.date, *, actor: str) -> t.Case:
    """D1: send the debtor the collection warning with the statutory deadline; the cycle
    starts collection the day after it passes unpaid. One way: the warned case no longer
    changes flow (A5). A customer case is warned on its whole overdue balance and handed
    over invoice by invoice (C4)."""
    case = lock_case(session, case_id)
    client = session.get(t.Client, case.client_id)
    assert client is not None
    refuse_if_pending(case)
    covering = [(i, a) for i, a in coverage.case_covering(session, case, today) if a > 0]
    due_date = covering[0][0].due_date if covering else None
    if case.invoice_id is not None:
        invoice = _invoice(session, case)
        due_date = invoice.due_date
        if invoice.state != InvoiceState.OPEN:
            raise InputError(
                f"case {case.id}: invoice {invoice.invoice_number} is {invoice.state} in the"
                " books; there is no claim to send to collection"
            )
    collection.refuse_unless_warnable(case, due_date, today)
    if not covering:
        raise InputError(f"case {case.id} pursues nothing now; there is nothing to collect")
    customer = _customer(session, client, case.customer_number)
    rules = dunning_rules.rules_of(session, client)
    withdraw_unsent(
        session, case, "the case was sent to collection before this letter went out", actor, today
    )
    fees = fees_by_case(session, [case.id]).get(case.id, Fees(ZERO, 0))
    message = collection.warn(
        case,
        client,
        covering,
        party(client, rules, customer, case.customer_number),
        today,
        actor=actor,
        step=collection.WARNING_STEP,
        fee=ZERO,
        fees_total=fees.total,
        reminder_number=None,
    )
    session.add(message)
    return case


def change_flow(session: Session, case_id: int, to: Stage, today: dt.date, *, actor: str) -> t.Case:
    """A5: between the invoice and reminder flows freely; to collection one way only, and
    only through the collection warning (D1, :func:`send_to_collection`)."""
    case = lock_case(session, case_id)
    refuse_unless(case, {CaseState.ACTIVE, CaseState.PAUSED}, "change its flow")
    refuse_if_pending(case)
    current = Stage(case.stage)
    if current is Stage.COLLECTION:
        raise InputError(
            f"case {case.id} is in collection: a case in collection never changes back (A5)"
        )
    _refuse_if_warned(case)
    if to is Stage.COLLECTION:
        return send_to_collection(session, case_id, today, actor=actor)
    if case.mode == CaseMode.CUSTOMER:
        raise InputError(
            f"case {case.id} follows customer {case.customer_number}'s balance: it has only"
            " the reminder flow (switch the client to invoice mode for invoice flows)"
        )
    if current is to:
        raise InputError(f"case {case.id} is already in the {to} flow")
    if to is Stage.INVOICE:
        invoice = _invoice(session, case)
        if today > invoice.due_date:
            raise InputError(
                f"case {case.id}: invoice {invoice.invoice_number} is overdue since"
                f" {invoice.due_date}; the invoice flow is for invoices not yet due"
            )
    withdraw_unsent(
        session,
        case,
        f"the case changed to the {to} flow before this letter went out",
        actor,
        today,
    )
    case.stage = to.value
    case.round += 1
    case.step_index = 0
    case.stage_entered_on = today
    add_event(
        case,
        EventKind.STAGE_CHANGED,
        actor,
        today,
        "changed by hand",
        to=to.value,
        **{"from": current.value},
    )
    return case


def restart_flow(session: Session, case_id: int, today: dt.date, *, actor: str) -> t.Case:
    """A6: run the current flow again from its first step. Fees already charged still count
    toward the law's limits, so a restart never makes an unlawful fee."""
    case = lock_case(session, case_id)
    refuse_unless(case, {CaseState.ACTIVE, CaseState.PAUSED}, "restart its flow")
    refuse_if_pending(case)
    _refuse_if_warned(case)
    withdraw_unsent(
        session, case, "the case's flow was restarted before this letter went out", actor, today
    )
    case.round += 1
    case.step_index = 0
    case.stage_entered_on = today
    add_event(
        case, EventKind.FLOW_RESTARTED, actor, today, None, stage=case.stage, round=case.round
    )
    return case


def _refuse_credit_note(session: Session, case: t.Case, invoice: t.Invoice) -> None:
    """A full credit note only for an invoice the books show open and wholly unpaid."""
    if invoice.state != InvoiceState.OPEN or invoice.outstanding_amount <= 0:
        raise InputError(
            f"case {case.id}: invoice {invoice.invoice_number} is {invoice.state} in the books"
            f" (outstanding {invoice.outstanding_amount}); there is nothing to credit"
        )
    if invoice.outstanding_amount != invoice.gross_amount:
        raise InputError(
            f"case {case.id}: invoice {invoice.invoice_number} is partly paid (outstanding"
            f" {invoice.outstanding_amount} of {invoice.gross_amount}); a credit note for the"
            " full amount would credit money already received"
        )
    if payments_by_case(session, [case.id]).get(case.id, ZERO) > 0:
        raise InputError(
            f"case {case.id}: payments are registered in the hub for invoice"
            f" {invoice.invoice_number}; a credit note for the full amount would credit them too"
        )


def credit_note(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    case_id: int,
    today: dt.date,
    *,
    actor: str,
    lease: dt.timedelta = postings.POSTING_LEASE,
    on_request: postings.OnRequest | None = None,
) -> t.Case:
    """A3: credit the invoice in full in the accounting system, then close the case.

    Only where the client's plugin declares ``credit_note``, and only for an invoice the books
    show open and wholly unpaid (no payments registered in the hub), and no write-off asked
    for. The intent (the idempotency key ``creditnote:<case>``) and a lease on it
    (:mod:`hub.dunning.postings`) are committed, the case locked, before the plugin is called;
    after a crash, running the action again calls the plugin with the same key, which returns
    the same credit note. Refused while another command's lease on it is live; a refusal of
    the accounting system before anything was booked drops the request (the case goes on).

    ``on_request``: called in the transaction that commits the request, as it is about to be
    posted (the person's audit entry is written there).
    """
    owner = postings.new_owner(actor)
    with db.session() as session:
        case = lock_case(session, case_id)
        refuse_unless(case, {CaseState.ACTIVE, CaseState.PAUSED}, "credit it")
        client = session.get(t.Client, case.client_id)
        assert client is not None
        ctx = clients.client_context(client, registry, box, today=today, job="credit_note")
        plugin = registry.for_client(ctx)
        plugin.require(Capability.CREDIT_NOTE, f"a credit note for case {case.id}")
        invoice = _invoice(session, case)
        if case.credit_note_key is None:
            refuse_if_pending(case)
            _refuse_credit_note(session, case, invoice)
            case.credit_note_key = postings.next_key(session, case, postings.Posting.CREDIT_NOTE)
            add_event(
                case, EventKind.CREDIT_NOTE_REQUESTED, actor, today, None, key=case.credit_note_key
            )
        postings.take_lease(case, owner, lease)
        if on_request is not None:
            on_request(session, case)
        # A retry (after a crash, on any later day) sends the very request recorded: same
        # key, same date, or a system that checks the body would refuse the key.
        key = case.credit_note_key
        requested_on = next(
            (
                e.on_date
                for e in reversed(case.events)
                if e.kind == EventKind.CREDIT_NOTE_REQUESTED
                and e.on_date
                and (e.data or {}).get("key", key) == key
            ),
            today,
        )
        request = CreditNoteRequest(
            idempotency_key=key,
            invoice_number=invoice.invoice_number,
            customer_number=invoice.customer_number,
            date=requested_on,
            currency=invoice.currency,
            amount=invoice.gross_amount,
            reason=f"credit note for case {case.id}",
        )
    reference = postings.post_under_lease(
        db,
        case_id,
        postings.Posting.CREDIT_NOTE,
        owner,
        lease,
        lambda: plugin.create_credit_note(request),
        actor=actor,
        today=today,
    )
    return record_posting(
        db,
        case_id,
        "credit_note_ref",
        reference,
        (EventKind.CREDIT_NOTE_CREATED, None),
        (CloseCode.CREDITED, "credit_note_issued"),
        actor,
        today,
        owner=owner,
    )


def record_posting(
    db: Database,
    case_id: int,
    ref_field: str,
    reference: str,
    event: tuple[EventKind, str | None],
    close: tuple[CloseCode, str],
    actor: str,
    today: dt.date,
    *,
    owner: str | None = None,
) -> t.Case:
    """A credit note or write-off the books confirmed: keep its ``reference`` on the case
    (``ref_field``), record ``event`` (kind, reason), close the case with ``close`` (code,
    reason) unless it is closed already, and give back ``owner``'s lease. Recorded once: a
    caller that finds it recorded already (a lease taken over, both got the answer under the
    same key) changes nothing."""
    with db.session() as session:
        case = lock_case(session, case_id)
        if owner is not None and case.posting_owner == owner:
            case.posting_owner = None
            case.posting_until = None
        if getattr(case, ref_field) is not None:
            return case
        setattr(case, ref_field, reference)
        add_event(case, event[0], actor, today, event[1], reference=reference)
        if case.state != CaseState.CLOSED.value:
            close_by_person(case, *close, actor, today)
        return case
