"""The daily dunning cycle, run after every sync (``hub sync``; later by the scheduler).

For one client, in one transaction, on the client's today:

1. start cases where the client's rules say so: in invoice mode a case per new open invoice
   (``auto_start``); in customer mode (C1) a case per customer with overdue invoices due on or
   after the general start date, always;
2. close cases automatically (R1 paid/credited, R2 customer balance ≤ 0) unless switched off
   (R4); fees do not keep a case open (R5); in collection a case is never closed, only marked
   "paid in accounting" (R6), and its success fee recorded (D1);
3. resume paused cases whose resume date has come;
4. move stages: an overdue invoice leaves the invoice stage for the reminder stage; a case
   whose collection warning's deadline passed unpaid enters collection (D1, C4);
5. send every step that is due, at most one per case per day (see
   :func:`hub.dunning.cases.next_step` for the catch-up policy), each exactly once: the step's
   message and the case's progress are written together, and a message is unique per
   (case, stage, round, step). A case whose last letter is not out yet (waiting for approval,
   held back, queued for the sending window, failing) takes no further step until it is: its
   next step, and the law's fee spacing, count from the day that letter goes out.

With the client's rule ``approval=required`` the letters are made as above but wait for a
person (status ``pending_approval``) instead of going to the queue.

Running it twice on a day changes nothing the second time. :func:`decide` is the cycle in a
session the caller owns: :func:`run_cycle` commits it, :func:`hub.dunning.dispatch.plan` rolls
it back to show what the cycle would send.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.amounts import ZERO
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import collection, coverage
from hub.dunning import rules as dunning_rules
from hub.dunning.cases import (
    ClaimFees,
    Fees,
    add_event,
    claim_fees,
    close_case,
    fees_by_case,
    invoice_cases_from,
    lock_client_cases,
    next_step,
    payments_by_case,
    pursued_amount,
    start_case,
)
from hub.dunning.flows import Flow
from hub.dunning.law import CountryLaw, law_for
from hub.dunning.messages import make_message, party, unsent_by_case, withdraw_unsent
from hub.dunning.states import (
    Actor,
    CaseMode,
    CaseState,
    CloseCode,
    EventKind,
    MessageStatus,
    Stage,
)
from hub.errors import HubError, NotFoundError
from hub.model import InvoiceState
from hub.plugins import PluginRegistry

SETTLED = {InvoiceState.PAID.value, InvoiceState.CREDITED.value}
NO_CLAIM = ClaimFees(0, None)
NO_FEES = Fees(ZERO, 0)


@dataclass
class CycleReport:
    """What a cycle did: counts, and one entry per thing that happened to a case."""

    today: dt.date
    started: int = 0
    closed: int = 0
    reopened: int = 0  # closed by R1, their invoice open again
    marked_paid_in_collection: int = 0
    resumed: int = 0
    stage_moves: int = 0
    collection_warnings: int = 0
    collections_started: int = 0
    success_fees: Decimal = ZERO
    messages: int = 0
    fees: Decimal = ZERO
    fees_waived: int = 0
    failed: int = 0
    awaiting_approval: int = 0  # letters made that wait for a person (approval=required)
    entries: list[dict[str, Any]] = field(default_factory=list)

    def note(self, case: t.Case, action: str, **detail: Any) -> None:
        """One line of the day's story; ``action`` an event kind (written as its word)."""
        self.entries.append({"case": case.id, "action": str(action), **detail})

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["today"] = self.today.isoformat()
        return data


@dataclass(frozen=True)
class Made:
    """A letter the cycle made, with its case and the invoices it covers (their numbers)."""

    case: t.Case
    message: t.Message
    invoice_numbers: tuple[str, ...]


@dataclass
class _Day:
    """One client's cycle: what every case's turn needs, loaded once."""

    session: Session
    client: t.Client
    rules: t.ClientDunning
    law: CountryLaw
    flows: dict[Stage, Flow]
    customers: dict[str, t.Customer]
    claims: dict[int, ClaimFees]
    today: dt.date
    report: CycleReport
    balance_closes: bool = False  # R2 applies (dunning_rules.balance_rule)
    warnings_sent_on: dict[int, dt.date | None] = field(default_factory=dict)
    approval: bool = False  # the client's letters wait for a person (approval=required)
    unsent: set[int] = field(default_factory=set)  # cases with a letter not out yet
    made: list[Made] = field(default_factory=list)

    def queue(
        self, case: t.Case, message: t.Message, covering: list[tuple[t.Invoice, Decimal]]
    ) -> None:
        """Put a letter the cycle made in the outbox: queued, or waiting for a person."""
        if self.approval:
            message.status = MessageStatus.PENDING_APPROVAL.value
            self.report.awaiting_approval += 1
        self.session.add(message)
        self.unsent.add(case.id)
        self.made.append(Made(case, message, tuple(i.invoice_number for i, _ in covering)))

    def collection_due(self, case: t.Case) -> bool:
        """A warned case whose time is up (see :func:`collection.collection_starts_on`)."""
        if case.collection_deadline is None or case.stage == Stage.COLLECTION.value:
            return False
        sent_on = self.warnings_sent_on.get(case.id, case.collection_warned_on)
        starts_on = collection.collection_starts_on(case, self.client.country, sent_on)
        return starts_on is not None and self.today >= starts_on

    def party(self, customer_number: str) -> Any:
        return party(self.client, self.rules, self.customers.get(customer_number), customer_number)

    def balance_zero(self, customer_number: str) -> bool:
        if not self.rules.entry_sync:
            return False  # balances are not synchronised: a stored one may be stale
        customer = self.customers.get(customer_number)
        return customer is not None and customer.balance is not None and customer.balance <= 0


def _startable(day: _Day, invoice: t.Invoice, followed: set[int | None]) -> bool:
    """An open invoice the client's automatic rules would pursue (start date, minimum
    amount, excluded customers) that ``followed`` does not hold."""
    rules = day.rules
    return not (
        invoice.id in followed
        or invoice.state != InvoiceState.OPEN.value
        or invoice.outstanding_amount <= 0
        or invoice.customer_number in (rules.excluded_customers or [])
        or (rules.start_date is not None and invoice.due_date < rules.start_date)
        or (rules.min_amount is not None and invoice.outstanding_amount < rules.min_amount)
    )


def _start_invoice_cases(day: _Day, invoices: list[t.Invoice]) -> list[t.Case]:
    return [
        start_case(
            day.session, day.client, invoice, day.today, Actor.AUTO, Actor.AUTO,
            known_unfollowed=True,
        )
        for invoice in invoices
    ]  # fmt: skip


def _auto_start(
    day: _Day, invoices: dict[int, t.Invoice], followed: set[int | None]
) -> list[t.Case]:
    """Invoice mode: a case for every new open invoice, where the client's rules say so."""
    if not day.rules.auto_start:
        return []
    return _start_invoice_cases(day, [i for i in invoices.values() if _startable(day, i, followed)])


def _auto_start_customers(
    day: _Day,
    overdue: dict[str, list[t.Invoice]],
    open_customer_cases: set[str],
) -> list[t.Case]:
    """Customer mode: a case for every customer with overdue invoices and none open."""
    rules = day.rules
    excluded = set(rules.excluded_customers or [])
    started = []
    for number, invoices in sorted(overdue.items()):
        if number in open_customer_cases or number in excluded or not invoices:
            continue
        if (
            rules.min_amount is not None
            and coverage.total([(i, i.outstanding_amount) for i in invoices]) < rules.min_amount
        ):
            continue
        case = t.Case(
            client_id=day.client.id,
            invoice_id=None,
            customer_number=number,
            mode=CaseMode.CUSTOMER.value,
            stage=Stage.REMINDER.value,
            state=CaseState.ACTIVE.value,
            started_by=Actor.AUTO.value,
            opened_on=day.today,
            stage_entered_on=day.today,
            round=1,
            step_index=0,
            paid_in_accounting=False,
        )
        day.session.add(case)
        add_event(
            case,
            EventKind.STARTED,
            Actor.AUTO,
            day.today,
            None,
            stage=Stage.REMINDER.value,
            mode=CaseMode.CUSTOMER.value,
            invoice_numbers=[i.invoice_number for i in invoices],
        )
        started.append(case)
    return started


def _close_auto(day: _Day, case: t.Case, reason: str, outstanding: Decimal) -> None:
    # The state it was in (a pause and its resume date) is kept with the event, so a case
    # reopened when its invoice comes back (_reopen_returned) is as it was.
    was: dict[str, Any] = {"was": case.state}
    if case.state == CaseState.PAUSED.value and case.resume_on is not None:
        was["resume_on"] = case.resume_on.isoformat()
    close_case(
        case,
        CloseCode.PAID_IN_ACCOUNTING,
        reason,
        Actor.AUTO,
        day.today,
        closed_by=Actor.AUTO,
        outstanding=str(outstanding),
        **was,
    )
    day.report.closed += 1
    day.report.note(case, EventKind.CLOSED, reason=reason)


def _auto_close_invoice_case(
    day: _Day, case: t.Case, invoice: t.Invoice, paid_in_hub: Decimal
) -> bool:
    """Apply R1, R2, R4, R5, R6 to an invoice case; True when the case was closed."""
    paid = invoice.state in SETTLED or invoice.outstanding_amount <= 0
    balance_zero = day.balance_zero(case.customer_number)
    if case.stage == Stage.COLLECTION.value:
        # R6: never closed automatically in collection; marked for a person, whatever the
        # switches say, and unmarked if the invoice opens again.
        settled = paid or balance_zero
        if settled != case.paid_in_accounting:
            case.paid_in_accounting = settled
            what = EventKind.PAID_IN_ACCOUNTING if settled else EventKind.REOPENED_IN_ACCOUNTING
            add_event(
                case,
                what,
                Actor.AUTO,
                day.today,
                None,
                outstanding=str(invoice.outstanding_amount),
            )
            day.report.marked_paid_in_collection += settled
            day.report.note(case, what)
        if paid and invoice.state != InvoiceState.CREDITED.value and not case.write_off_key:
            collected = (case.collection_amount or ZERO) - pursued_amount(invoice, paid_in_hub)
            fee = collection.record_success_fee(
                case, day.rules, collected, invoice.currency, day.today
            )
            if fee is not None:
                day.report.success_fees += fee
                day.report.note(case, EventKind.SUCCESS_FEE, fee=fee)
        return False
    reason = None
    if paid and day.rules.auto_close_paid:
        reason = "outstanding_zero"
    elif balance_zero and day.balance_closes:
        reason = "customer_balance_zero"
    if reason is None:
        return False
    _close_auto(day, case, reason, invoice.outstanding_amount)
    return True


def _auto_close_customer_case(
    day: _Day, case: t.Case, covering: list[tuple[t.Invoice, Decimal]]
) -> bool:
    """R2 (balance ≤ 0) and, as R1 for a customer, nothing overdue left unpaid."""
    reason = None
    if day.balance_zero(case.customer_number) and day.balance_closes:
        reason = "customer_balance_zero"
    elif not covering and day.rules.auto_close_paid:
        reason = "outstanding_zero"
    if reason is None:
        return False
    _close_auto(day, case, reason, coverage.total(covering))
    return True


def _reopen_returned(day: _Day, invoices: dict[int, t.Invoice]) -> list[t.Case]:
    """Reopen the invoice cases the hub closed because the books showed their invoice paid or
    credited (R1) whose invoice is open again: a sync of an export that had lost its rows, a
    payment reversed, a credit note cancelled. A case a person closed, one closed for another
    reason (R2, a mode switch), one with a credit note or write-off asked for, and one whose
    invoice a later case followed since stay closed.

    The case picks up where it was: stage, round, step and the day of its last step are kept
    (so the catch-up policy of :func:`next_step` holds), a pause recorded when it closed is
    restored, and the fees charged before still count toward the law's limits (they are
    counted per invoice, over every message). Its history says why (``reopened``).
    """
    if day.rules.reminder_mode != CaseMode.INVOICE:
        return []  # customer mode: the customer's case covers the invoice again by itself
    session = day.session
    candidates = session.scalars(
        select(t.Case)
        .join(t.Invoice, t.Invoice.id == t.Case.invoice_id)
        .where(
            t.Case.client_id == day.client.id,
            t.Case.mode == CaseMode.INVOICE.value,
            t.Case.state == CaseState.CLOSED.value,
            t.Case.closed_by == Actor.AUTO.value,
            t.Case.close_code == CloseCode.PAID_IN_ACCOUNTING.value,
            t.Case.close_reason == "outstanding_zero",
            t.Case.write_off_key.is_(None),
            t.Case.credit_note_key.is_(None),
            t.Invoice.state == InvoiceState.OPEN.value,
            t.Invoice.outstanding_amount > ZERO,
        )
        .order_by(t.Case.id)
    ).all()
    if not candidates:
        return []
    latest = dict(
        session.execute(
            select(t.Case.invoice_id, func.max(t.Case.id))
            .where(t.Case.invoice_id.in_({c.invoice_id for c in candidates}))
            .group_by(t.Case.invoice_id)
        ).all()
    )
    reopened = []
    for case in candidates:
        if latest.get(case.invoice_id) != case.id:
            continue  # a later case followed the invoice: that one is its story now
        invoice = invoices.get(case.invoice_id) if case.invoice_id is not None else None
        if invoice is None:
            continue
        closed = session.scalar(
            select(t.CaseEvent)
            .where(t.CaseEvent.case_id == case.id, t.CaseEvent.kind == EventKind.CLOSED.value)
            .order_by(t.CaseEvent.id.desc())
            .limit(1)
        )
        was = (closed.data or {}) if closed is not None else {}
        closed_on = case.closed_on
        case.state = (
            CaseState.PAUSED.value if was.get("was") == CaseState.PAUSED else CaseState.ACTIVE.value
        )
        resume_on = was.get("resume_on")
        case.resume_on = dt.date.fromisoformat(resume_on) if resume_on else None
        case.closed_on = case.closed_by = case.close_code = case.close_reason = None
        add_event(
            case,
            EventKind.REOPENED,
            Actor.AUTO,
            day.today,
            f"invoice {invoice.invoice_number} is open again in the accounting system"
            f" (outstanding {invoice.outstanding_amount} {invoice.currency}); the case was"
            f" closed automatically on {closed_on} as paid or credited there",
            outstanding=str(invoice.outstanding_amount),
            closed_on=closed_on.isoformat() if closed_on else None,
            state=case.state,
        )
        day.report.reopened += 1
        day.report.note(case, EventKind.REOPENED, invoice=invoice.invoice_number)
        reopened.append(case)
    return reopened


def _resume_if_due(day: _Day, case: t.Case) -> None:
    if (
        case.state == CaseState.PAUSED.value
        and case.resume_on is not None
        and case.resume_on <= day.today
    ):
        case.state = CaseState.ACTIVE.value
        case.resume_on = None
        add_event(case, EventKind.RESUMED, Actor.AUTO, day.today, "resume date reached")
        day.report.resumed += 1
        day.report.note(case, EventKind.RESUMED)


def _lawful_fee(day: _Day, invoices: list[t.Invoice], fee: Decimal) -> tuple[Decimal, str | None]:
    """The step's fee, or 0 and the rule where charging it on any invoice the letter covers
    would break the law (C5: a consolidated reminder's fee must be lawful on each claim)."""
    if fee <= 0:
        return fee, None
    law = day.law
    wait = dt.timedelta(
        days=max(law.min_days_between_fee_reminders, law.reminder_deadline_days + 1)
    )
    for invoice in invoices:
        claim = day.claims.get(invoice.id, NO_CLAIM)
        if invoice.currency != law.currency:
            return ZERO, (
                f"{law.fee_rule}: the fee is in {law.currency} and cannot be added to an"
                f" invoice in {invoice.currency}"
            )
        if claim.count >= law.max_fee_reminders:
            return ZERO, law.count_rule  # a restarted flow, a new case, a switched mode
        if day.today < invoice.due_date + dt.timedelta(days=law.min_days_after_due_for_fee):
            return ZERO, law.after_due_rule
        if claim.last_on is not None and day.today < claim.last_on + wait:
            return ZERO, law.spacing_rule
    return fee, None


def _run_step(
    day: _Day,
    case: t.Case,
    covering: list[tuple[t.Invoice, Decimal]],
    fees: Fees,
) -> None:
    """Send the case's next step if it is due today (``covering``: the invoices and what each
    pursues, oldest first)."""
    if not covering:
        return  # nothing owed (R1/R2 switched off) or unknown to the books: never chase it
    if case.id in day.unsent:
        return  # its last letter is not out yet: the next step counts from when it is
    invoices = [invoice for invoice, _ in covering]
    stage = Stage(case.stage)
    last_fee_on = max(
        (d for i in invoices if (d := day.claims.get(i.id, NO_CLAIM).last_on) is not None),
        default=None,
    )
    found = next_step(case, invoices[0].due_date, day.flows[stage], day.client.country, last_fee_on)
    if found is None or found[2] > day.today:
        return
    index, step, _ = found
    fee, waived_by = _lawful_fee(day, invoices, step.fee)
    reminder_number = index + 1 if stage is Stage.REMINDER else None
    kind = step.template
    if stage is Stage.REMINDER and step.template == "reminder":
        kind = (
            "customer_reminder" if case.mode == CaseMode.CUSTOMER else f"reminder_{reminder_number}"
        )
    who = day.party(case.customer_number)
    try:
        if kind == "collection_warning":  # D2: reminder N with collection warning
            message = collection.warn(
                case,
                day.client,
                covering,
                who,
                day.today,
                actor=Actor.AUTO,
                step=index,
                fee=fee,
                fees_total=fees.total + fee,
                reminder_number=reminder_number,
            )
            day.report.collection_warnings += 1
        else:
            message = make_message(
                client=day.client,
                case=case,
                covering=covering,
                who=who,
                kind=kind,
                today=day.today,
                step=index,
                fee=fee,
                fees_total=fees.total + fee,
                reminder_number=reminder_number,
                deadline=(
                    invoices[0].due_date
                    if stage is Stage.INVOICE
                    else day.today + dt.timedelta(days=day.law.reminder_deadline_days)
                ),
            )
    except (HubError, ValueError) as exc:
        # One case whose letter cannot be made (a customer name a letter cannot hold, say)
        # must not stop the client's other cases: the step is not taken, the case says why,
        # and the next cycle tries again.
        add_event(case, EventKind.STEP_FAILED, Actor.AUTO, day.today, str(exc), kind=kind)
        day.report.failed += 1
        day.report.note(case, EventKind.STEP_FAILED, kind=kind, reason=str(exc))
        return
    day.queue(case, message, covering)
    if waived_by is not None:
        add_event(case, EventKind.FEE_WAIVED, Actor.AUTO, day.today, waived_by, step=index + 1)
        day.report.fees_waived += 1
        day.report.note(case, EventKind.FEE_WAIVED, reason=waived_by)
    case.step_index = index + 1
    case.last_step_on = day.today
    if fee > 0:
        case.last_fee_on = day.today
        for invoice in invoices:  # later cases this cycle see the fee on the claim
            count = day.claims.get(invoice.id, NO_CLAIM).count
            day.claims[invoice.id] = ClaimFees(count + 1, day.today)
    add_event(
        case,
        EventKind.STEP_SENT,
        Actor.AUTO,
        day.today,
        None,
        kind=kind,
        stage=stage.value,
        step=index + 1,
        fee=str(fee),
        **({"status": message.status} if day.approval else {}),
    )
    day.report.messages += 1
    day.report.fees += fee
    day.report.note(case, EventKind.STEP_SENT, kind=kind, fee=fee)


def _start_collection(
    day: _Day, case: t.Case, invoice: t.Invoice, amount: Decimal, fees: Fees
) -> None:
    try:
        notice = collection.start(
            case,
            day.client,
            invoice,
            amount,
            day.party(case.customer_number),
            fees.total,
            day.today,
        )
    except (HubError, ValueError) as exc:  # as a step: the case waits, the next cycle retries
        add_event(
            case, EventKind.STEP_FAILED, Actor.AUTO, day.today, str(exc), kind="collection_notice"
        )
        day.report.failed += 1
        day.report.note(case, EventKind.STEP_FAILED, kind="collection_notice", reason=str(exc))
        return
    day.queue(case, notice, [(invoice, amount)])
    day.report.collections_started += 1
    day.report.messages += 1
    day.report.note(case, EventKind.COLLECTION_STARTED, amount=amount)


def _advance_invoice_case(
    day: _Day, case: t.Case, invoice: t.Invoice, paid_in_hub: Decimal, fees: Fees
) -> None:
    """Close, resume, move and remind one invoice case, as due today."""
    if case.credit_note_key and not case.credit_note_ref:
        # A credit note asked for and not finished: the books may show it already (its answer
        # was lost), so the invoice looks credited. Finishing it (`hub cases credit-note`
        # again, or the daemon's postings job) closes the case as credited; closing it here
        # as paid would make the case's end depend on which ran first. (A write-off is not
        # held back: the books cannot tell its voucher from the customer's payment, and a
        # person must be able to close the case if the customer paid; see write_off.)
        return
    if _auto_close_invoice_case(day, case, invoice, paid_in_hub):
        return
    _resume_if_due(day, case)
    if case.state != CaseState.ACTIVE.value:
        return
    if case.write_off_key is not None or case.credit_note_key is not None:
        return  # a write-off or credit note was asked for: nothing more is sent (D4, A3)
    pursued = pursued_amount(invoice, paid_in_hub)
    if day.collection_due(case):
        if invoice.state == InvoiceState.OPEN.value and pursued > 0:
            _start_collection(day, case, invoice, pursued, fees)
        return
    if case.collection_deadline is not None:
        return  # warned: nothing more until collection (or in collection: a person's work)
    if case.stage == Stage.INVOICE.value and day.today > invoice.due_date:
        # only a case with a letter not out (known from the one query of the day) can have
        # one to withdraw: no statement per case that falls overdue
        if case.id in day.unsent and withdraw_unsent(
            day.session,
            case,
            "the invoice became overdue before this friendly reminder went out",
            Actor.AUTO,
            day.today,
        ):
            day.unsent.discard(case.id)
        case.stage = Stage.REMINDER.value
        case.stage_entered_on = day.today
        case.step_index = 0
        add_event(
            case,
            EventKind.STAGE_CHANGED,
            Actor.AUTO,
            day.today,
            "invoice is overdue",
            to=Stage.REMINDER.value,
        )
        day.report.stage_moves += 1
        day.report.note(case, EventKind.STAGE_CHANGED, to=Stage.REMINDER.value)
    covering = [(invoice, pursued)] if invoice.state == InvoiceState.OPEN.value else []
    _run_step(day, case, [(i, a) for i, a in covering if a > 0], fees)


def _advance_customer_case(
    day: _Day,
    case: t.Case,
    overdue: list[t.Invoice],
    paid_in_hub: Decimal,
    fees: Fees,
    covered_before: set[int],
) -> None:
    """Close, resume, hand over and remind one customer case, as due today.

    ``covered_before``: the invoices the case's letters covered so far; when its flow has run
    out and an invoice none of them covered is overdue now, the flow starts a new round, so
    the new invoice is reminded too (its fees counted per invoice, C5).
    """
    shares = coverage.shares(overdue, paid_in_hub)
    covering = [(s.invoice, s.pursued) for s in shares if s.pursued > 0]
    if _auto_close_customer_case(day, case, covering):
        return
    _resume_if_due(day, case)
    if case.state != CaseState.ACTIVE.value:
        return
    if day.collection_due(case):
        warned = collection.warned_invoices(day.session, case)
        # The warned invoices go to collection; those the registered payments paid in full
        # go along (closed as paid) so the payments stay with them.
        shares = [s for s in shares if s.invoice.id in warned or s.pursued <= 0]
        if not any(s.pursued > 0 for s in shares):
            # every warned invoice was paid; later ones get a case of their own
            if day.rules.auto_close_paid:
                invoice_cases_from(day.session, case, shares, day.today, "paid before collection")
                _close_auto(day, case, "outstanding_zero", ZERO)
            return
        handed = collection.hand_over_customer_case(day.session, case, shares, day.today)
        day.session.flush()  # the new cases' ids, for their notices
        by_invoice = {s.invoice.id: s for s in shares}
        for new_case in handed:
            day.report.started += 1
            assert new_case.invoice_id is not None
            share = by_invoice[new_case.invoice_id]
            _start_collection(day, new_case, share.invoice, share.pursued, NO_FEES)
        day.report.note(case, "handed_over", cases=[c.id for c in handed])
        return
    if case.collection_deadline is not None:
        return
    if case.id in day.unsent:
        return  # its last letter is not out yet: nothing more until it is
    flow = day.flows[Stage.REMINDER]
    new_invoices = [i.invoice_number for i, _ in covering if i.id not in covered_before]
    if case.step_index >= len(flow.steps) and flow.steps and new_invoices:
        case.round += 1
        case.step_index = 0
        case.stage_entered_on = day.today
        add_event(
            case,
            EventKind.FLOW_RESTARTED,
            Actor.AUTO,
            day.today,
            "invoices overdue since the last reminder",
            invoices=new_invoices,
            round=case.round,
        )
        day.report.note(case, EventKind.FLOW_RESTARTED, invoices=new_invoices)
    _run_step(day, case, covering, fees)


def _covered_so_far(session: Session, case_ids: list[int]) -> dict[int, set[int]]:
    """The invoices each case's letters covered."""
    covered: dict[int, set[int]] = defaultdict(set)
    if case_ids:
        for case_id, invoice_id in session.execute(
            select(t.Message.case_id, t.MessageInvoice.invoice_id)
            .join(t.MessageInvoice, t.MessageInvoice.message_id == t.Message.id)
            .where(t.Message.case_id.in_(case_ids))
        ):
            covered[case_id].add(invoice_id)
    return covered


def _start_other_currency_cases(
    day: _Day, invoices: dict[int, t.Invoice], not_pursued: set[int | None]
) -> list[t.Case]:
    """Customer mode: an overdue invoice in another currency than the client's cannot join a
    balance; it is followed by an invoice case of its own, started as customer cases are."""
    return _start_invoice_cases(
        day,
        [
            invoice
            for invoice in invoices.values()
            if invoice.currency != day.client.currency
            and invoice.due_date < day.today
            and _startable(day, invoice, not_pursued)
        ],
    )


def run_cycle(
    db: Database, client_id: int, today: dt.date, *, registry: PluginRegistry | None = None
) -> CycleReport:
    """Run the dunning cycle for the client on its day ``today`` (see the module doc).

    ``registry`` tells whether the client's plugin reports the ledger's own customer balance,
    which R2's default follows (:func:`hub.dunning.rules.balance_rule`); without it R2 applies
    only where the client's rules switch it on.
    """
    with db.session() as session:
        lock_client_cases(session, client_id)
        report, _ = decide(session, client_id, today, registry=registry)
    return report


def decide(
    session: Session,
    client_id: int,
    today: dt.date,
    *,
    registry: PluginRegistry | None = None,
) -> tuple[CycleReport, list[Made]]:
    """The cycle's work in ``session``, which the caller commits (:func:`run_cycle`, after
    taking the client's locks) or rolls back (a plan): what happened, and the letters made.
    It calls no plugin: ``registry`` is only asked what the client's plugin declares."""
    client = session.get(t.Client, client_id)
    if client is None:
        raise NotFoundError(f"the client (id {client_id}) was removed")
    report = CycleReport(today=today)
    rules = dunning_rules.rules_of(session, client)
    invoices = {
        i.id: i for i in session.scalars(select(t.Invoice).where(t.Invoice.client_id == client.id))
    }
    day = _Day(
        session=session,
        client=client,
        rules=rules,
        law=law_for(client.country),
        flows={stage: dunning_rules.flow_of(session, client, stage) for stage in Stage},
        customers={
            c.customer_number: c
            for c in session.scalars(select(t.Customer).where(t.Customer.client_id == client.id))
        },
        claims=claim_fees(session, client_id=client.id),
        today=today,
        report=report,
        balance_closes=dunning_rules.client_balance_rule(registry, client, rules).on,
        approval=rules.approval == dunning_rules.APPROVAL_REQUIRED,
        unsent=unsent_by_case(session, client.id),
    )
    _reopen_returned(day, invoices)  # before the open cases are read: they are among them
    session.flush()
    open_cases = list(
        session.scalars(
            select(t.Case)
            .where(t.Case.client_id == client.id, t.Case.state != CaseState.CLOSED.value)
            .order_by(t.Case.id)
        )
    )
    day.warnings_sent_on = collection.warning_sent_on(
        session,
        [c.id for c in open_cases if c.collection_deadline and c.stage != Stage.COLLECTION],
    )
    overdue: dict[str, list[t.Invoice]] = defaultdict(list)
    if rules.reminder_mode == CaseMode.CUSTOMER:
        not_pursued = coverage.not_pursued_by_customer_case(session, client.id)
        for invoice in coverage.overdue_invoices(
            invoices.values(), today, rules.start_date, not_pursued, client.currency
        ):
            overdue[invoice.customer_number].append(invoice)
        started = _auto_start_customers(
            day, overdue, {c.customer_number for c in open_cases if c.mode == CaseMode.CUSTOMER}
        )
        started += _start_other_currency_cases(day, invoices, not_pursued)
    else:
        # An invoice that was ever followed is not started again by itself, except one
        # whose case only closed because the client switched modes (C3).
        ever_followed = set(
            session.scalars(
                select(t.Case.invoice_id).where(
                    t.Case.client_id == client.id,
                    t.Case.invoice_id.is_not(None),
                    (t.Case.close_code.is_(None)) | (t.Case.close_code != CloseCode.MODE_CHANGED),
                )
            )
        )
        started = _auto_start(day, invoices, ever_followed)
    session.flush()  # the new cases get their ids
    for case in started:
        report.started += 1
        report.note(case, EventKind.STARTED, stage=case.stage, mode=case.mode)
    cases = open_cases + started
    ids = [c.id for c in cases]
    payments = payments_by_case(session, ids)
    fees = fees_by_case(session, ids)
    covered = _covered_so_far(session, [c.id for c in cases if c.mode == CaseMode.CUSTOMER])
    for case in cases:
        if case.mode == CaseMode.CUSTOMER:
            _advance_customer_case(
                day,
                case,
                overdue.get(case.customer_number, []),
                payments.get(case.id, ZERO),
                fees.get(case.id, NO_FEES),
                covered.get(case.id, set()),
            )
            continue
        followed_invoice = invoices.get(case.invoice_id) if case.invoice_id else None
        if followed_invoice is not None:
            _advance_invoice_case(
                day,
                case,
                followed_invoice,
                payments.get(case.id, ZERO),
                fees.get(case.id, NO_FEES),
            )
    return report, day.made
