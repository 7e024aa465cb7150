"""The daily dunning cycle, run after every sync (``hub sync``; later by the scheduler).

For one client, in one transaction, on the client's today:

1. start cases for new open invoices where the client's automatic rules say so;
2. close cases automatically (R1 paid/credited, R2 customer balance ≤ 0) unless switched off
   (R4); fees do not keep a case open (R5); in collection a case is never closed, only marked
   "paid in accounting" (R6);
3. resume paused cases whose resume date has come;
4. move stages: an overdue invoice leaves the invoice stage for the reminder stage;
5. send every step that is due, at most one per case per day (see
   :func:`hub.dunning.cases.next_step` for the catch-up policy), each exactly once: the step's
   message and the case's progress are written together, and a message is unique per
   (case, stage, round, step).

Running it twice on a day changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import clients, clock
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import rules as dunning_rules
from hub.dunning.cases import (
    ZERO,
    ClaimFees,
    Fees,
    add_event,
    claim_fees,
    fees_by_case,
    next_step,
    payments_by_case,
    pursued_amount,
    start_case,
)
from hub.dunning.flows import Flow
from hub.dunning.law import CountryLaw, law_for
from hub.dunning.messages import MessageParty, make_message, party
from hub.dunning.states import Actor, CaseState, Stage
from hub.errors import HubError
from hub.model import InvoiceState

SETTLED = {InvoiceState.PAID.value, InvoiceState.CREDITED.value}


@dataclass
class CycleReport:
    """What a cycle did: counts, and one entry per thing that happened to a case."""

    today: dt.date
    started: int = 0
    closed: int = 0
    marked_paid_in_collection: int = 0
    resumed: int = 0
    stage_moves: int = 0
    messages: int = 0
    fees: Decimal = ZERO
    fees_waived: int = 0
    failed: int = 0
    entries: list[dict[str, Any]] = field(default_factory=list)

    def note(self, case: t.Case, action: str, **detail: Any) -> None:
        self.entries.append({"case": case.id, "action": action, **detail})

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["today"] = self.today.isoformat()
        return data


def _auto_start(
    session: Session,
    client: t.Client,
    rules: t.ClientDunning,
    invoices: dict[int, t.Invoice],
    today: dt.date,
    report: CycleReport,
) -> list[t.Case]:
    if not rules.auto_start:
        return []
    followed = set(
        session.scalars(
            select(t.Case.invoice_id).where(
                t.Case.client_id == client.id, t.Case.invoice_id.is_not(None)
            )
        )
    )
    excluded = set(rules.excluded_customers or [])
    started = []
    for invoice in invoices.values():
        if (
            invoice.id in followed
            or invoice.state != InvoiceState.OPEN.value
            or invoice.outstanding_amount <= 0
            or invoice.customer_number in excluded
            or (rules.start_date is not None and invoice.due_date < rules.start_date)
            or (rules.min_amount is not None and invoice.outstanding_amount < rules.min_amount)
        ):
            continue
        started.append(
            start_case(
                session, client, invoice, today, Actor.AUTO, Actor.AUTO, known_unfollowed=True
            )
        )
        report.started += 1
    session.flush()  # the new cases get their ids, for the report
    for case in started:
        report.note(case, "started", stage=case.stage)
    return started


def _auto_close(
    case: t.Case,
    invoice: t.Invoice,
    customer: t.Customer | None,
    rules: t.ClientDunning,
    today: dt.date,
    report: CycleReport,
) -> bool:
    """Apply R1, R2, R4, R5, R6; True when the case was closed."""
    paid = invoice.state in SETTLED or invoice.outstanding_amount <= 0
    balance_zero = customer is not None and customer.balance is not None and customer.balance <= 0
    if case.stage == Stage.COLLECTION.value:
        # R6: never closed automatically in collection; marked for a person, whatever the
        # switches say, and unmarked if the invoice opens again.
        settled = paid or balance_zero
        if settled != case.paid_in_accounting:
            case.paid_in_accounting = settled
            what = "paid_in_accounting" if settled else "reopened_in_accounting"
            add_event(
                case, what, Actor.AUTO, today, None, outstanding=str(invoice.outstanding_amount)
            )
            report.marked_paid_in_collection += settled
            report.note(case, what)
        return False
    reason = None
    if paid and rules.auto_close_paid:
        reason = "outstanding_zero"
    elif balance_zero and rules.auto_close_balance:
        reason = "customer_balance_zero"
    if reason is None:
        return False
    case.state = CaseState.CLOSED.value
    case.closed_on = today
    case.closed_by = Actor.AUTO.value
    case.close_code = "paid_in_accounting"
    case.close_reason = reason
    case.resume_on = None
    add_event(
        case,
        "closed",
        Actor.AUTO,
        today,
        reason,
        code="paid_in_accounting",
        outstanding=str(invoice.outstanding_amount),
    )
    report.closed += 1
    report.note(case, "closed", reason=reason)
    return True


def _lawful_fee(
    invoice: t.Invoice, fee: Decimal, claim: ClaimFees, law: CountryLaw
) -> tuple[Decimal, str | None]:
    """The step's fee, or 0 and the rule where charging it would break the law."""
    if fee <= 0:
        return fee, None
    if invoice.currency != law.currency:
        return ZERO, (
            f"{law.fee_rule}: the fee is in {law.currency} and cannot be added to an invoice"
            f" in {invoice.currency}"
        )
    if claim.count >= law.max_fee_reminders:
        return ZERO, law.count_rule  # a restarted flow or a new case for the same invoice
    return fee, None


def _run_step(
    session: Session,
    client: t.Client,
    case: t.Case,
    invoice: t.Invoice,
    flow_of_stage: dict[Stage, Flow],
    who: MessageParty,
    paid_in_hub: Decimal,
    fees: Fees,
    claim: ClaimFees,
    today: dt.date,
    report: CycleReport,
) -> None:
    if invoice.state != InvoiceState.OPEN.value:
        return  # unknown to the books now (or settled with R1 off): never chase it
    law = law_for(client.country)
    found = next_step(
        case, invoice, flow_of_stage[Stage(case.stage)], client.country, claim.last_on
    )
    if found is None:
        return
    index, step, day = found
    outstanding = pursued_amount(invoice, paid_in_hub)
    if day > today or outstanding <= 0:  # nothing owed (R1/R2 switched off): nothing to send
        return
    fee, waived_by = _lawful_fee(invoice, step.fee, claim, law)
    stage = Stage(case.stage)
    reminder_number = None
    kind = step.template
    if stage is Stage.REMINDER:
        reminder_number = index + 1
        kind = f"reminder_{reminder_number}"
    deadline = (
        invoice.due_date
        if stage is Stage.INVOICE
        else today + dt.timedelta(days=law.reminder_deadline_days)
    )
    try:
        message = make_message(
            client=client,
            case=case,
            invoice=invoice,
            who=who,
            kind=kind,
            today=today,
            step=index,
            outstanding=outstanding,
            fee=fee,
            fees_total=fees.total + fee,
            reminder_number=reminder_number,
            deadline=deadline,
        )
    except (HubError, ValueError) as exc:
        # One case whose letter cannot be made (a customer name a letter cannot hold, say)
        # must not stop the client's other cases: the step is not taken, the case says why,
        # and the next cycle tries again.
        add_event(case, "step_failed", Actor.AUTO, today, str(exc), kind=kind)
        report.failed += 1
        report.note(case, "step_failed", kind=kind, reason=str(exc))
        return
    session.add(message)
    if waived_by is not None:
        add_event(case, "fee_waived", Actor.AUTO, today, waived_by, step=index + 1)
        report.fees_waived += 1
        report.note(case, "fee_waived", reason=waived_by)
    case.step_index = index + 1
    case.last_step_on = today
    if fee > 0:
        case.last_fee_on = today
    add_event(
        case,
        "step_sent",
        Actor.AUTO,
        today,
        None,
        kind=kind,
        stage=stage.value,
        step=index + 1,
        fee=str(fee),
    )
    report.messages += 1
    report.fees += fee
    report.note(case, "step_sent", kind=kind, fee=fee)


def _advance(
    session: Session,
    client: t.Client,
    rules: t.ClientDunning,
    flows: dict[Stage, Flow],
    case: t.Case,
    invoice: t.Invoice,
    customer: t.Customer | None,
    paid_in_hub: Decimal,
    fees: Fees,
    claim: ClaimFees,
    today: dt.date,
    report: CycleReport,
) -> None:
    """Close, resume, move and remind one case, as due today."""
    if _auto_close(case, invoice, customer, rules, today, report):
        return
    if (
        case.state == CaseState.PAUSED.value
        and case.resume_on is not None
        and case.resume_on <= today
    ):
        case.state = CaseState.ACTIVE.value
        case.resume_on = None
        add_event(case, "resumed", Actor.AUTO, today, "resume date reached")
        report.resumed += 1
        report.note(case, "resumed")
    if case.state != CaseState.ACTIVE.value:
        return
    if case.stage == Stage.INVOICE.value and today > invoice.due_date:
        case.stage = Stage.REMINDER.value
        case.stage_entered_on = today
        case.step_index = 0
        add_event(
            case, "stage_changed", Actor.AUTO, today, "invoice is overdue", to=Stage.REMINDER.value
        )
        report.stage_moves += 1
        report.note(case, "stage_changed", to=Stage.REMINDER.value)
    _run_step(
        session,
        client,
        case,
        invoice,
        flows,
        party(client, rules, customer, case.customer_number),
        paid_in_hub,
        fees,
        claim,
        today,
        report,
    )


def run_cycle(db: Database, name: str) -> CycleReport:
    """Run the dunning cycle for client ``name`` on its today (see the module doc)."""
    with db.session() as session:
        client = clients.get_client(session, name)
        today = clock.today(client.timezone)
        report = CycleReport(today=today)
        rules = dunning_rules.rules_of(session, client)
        flows = {stage: dunning_rules.flow_of(session, client, stage) for stage in Stage}
        invoices = {
            i.id: i
            for i in session.scalars(select(t.Invoice).where(t.Invoice.client_id == client.id))
        }
        customers = {
            c.customer_number: c
            for c in session.scalars(select(t.Customer).where(t.Customer.client_id == client.id))
        }
        _auto_start(session, client, rules, invoices, today, report)
        cases = list(
            session.scalars(
                select(t.Case)
                .where(t.Case.client_id == client.id, t.Case.state != CaseState.CLOSED.value)
                .order_by(t.Case.id)
            )
        )
        ids = [c.id for c in cases]
        payments = payments_by_case(session, ids)
        fees = fees_by_case(session, ids)
        claims = claim_fees(session, [c.invoice_id for c in cases if c.invoice_id is not None])
        for case in cases:
            invoice = invoices.get(case.invoice_id) if case.invoice_id is not None else None
            if invoice is None:
                continue  # customer-mode cases come with customer mode
            _advance(
                session,
                client,
                rules,
                flows,
                case,
                invoice,
                customers.get(case.customer_number),
                payments.get(case.id, ZERO),
                fees.get(case.id, Fees(ZERO, 0)),
                claims.get(invoice.id, ClaimFees(0, None)),
                today,
                report,
            )
    return report
