"""Cases as a person (table) or a program (``--json``) sees them.

JSON keys of a case: ``id``, ``client``, ``invoice_numbers``, ``customer_number``, ``stage``,
``state``, ``closed_by`` (``auto``/``user`` when closed), ``close_code``, ``close_reason``,
``outstanding_amount`` (what is pursued: outstanding less registered payments),
``fees_amount``, ``currency``, ``next_step_on``, ``next_step``, ``paid_in_accounting``,
``pause_reason``, ``resume_on``, ``mode`` (invoice or customer; a customer case's
``invoice_numbers`` are the overdue invoices it covers now), ``collection_warned_on``,
``collection_deadline``, ``collection_started_on``, ``success_fee``, ``write_off_ref``; a
warned case's ``next_step`` is ``collection``, on the day after its deadline; a closed case's
``next_step`` and ``next_step_on`` are None.
``hub cases show`` adds ``events`` (``at``, ``on``, ``kind``,
``by``, ``reason``, ``data``), ``messages`` (``id``, ``kind``, ``created_on``, ``fee``,
``channel``, ``status``, ``attempts``, ``last_error``), ``payments``, ``steps`` and
``invoices`` (what the case covers now: ``invoice_number``, ``invoice_date``, ``due_date``,
``currency``, ``gross_amount``, ``outstanding_amount`` as the books show it,
``pursued_amount`` less the hub's registered payments, ``state`` in the books).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.amounts import ZERO
from hub.db import tables as t
from hub.dunning import coverage
from hub.dunning import rules as dunning_rules
from hub.dunning.cases import (
    ClaimFees,
    Fees,
    claim_fees,
    fees_by_case,
    next_step,
    payments_by_case,
    pursued_amount,
)
from hub.dunning.states import CaseMode, CaseState, Stage
from hub.model import InvoiceState

NO_CLAIM = ClaimFees(0, None)


def case_rows(
    session: Session,
    today_of: Callable[[t.Client], dt.date],
    client: t.Client | None = None,
    stage: str | None = None,
    state: str | None = None,
    case_ids: list[int] | None = None,
    customer: str | None = None,
) -> list[dict[str, Any]]:
    """The cases matching the filters, with amounts and next step, in a few queries.

    ``today_of``: a case's client's today (what a customer case covers depends on it).
    """
    query = (
        select(t.Case, t.Client, t.Invoice)
        .join(t.Client, t.Client.id == t.Case.client_id)
        .outerjoin(t.Invoice, t.Invoice.id == t.Case.invoice_id)
        .order_by(t.Case.id)
    )
    if client is not None:
        query = query.where(t.Case.client_id == client.id)
    if stage:
        query = query.where(t.Case.stage == stage)
    if state:
        query = query.where(t.Case.state == state)
    if case_ids is not None:
        query = query.where(t.Case.id.in_(case_ids))
    if customer is not None:
        query = query.where(t.Case.customer_number == customer)
    rows = session.execute(query).all()
    ids = [case.id for case, _, _ in rows]
    payments = payments_by_case(session, ids)
    fees = fees_by_case(session, ids)
    coverings = {}
    not_pursued: dict[int, set[int | None]] = {}  # per client, for its customer cases
    for case, owner, invoice in rows:
        if case.mode == CaseMode.CUSTOMER:
            if owner.id not in not_pursued:
                not_pursued[owner.id] = coverage.not_pursued_by_customer_case(session, owner.id)
            today = today_of(owner)
            coverings[case.id] = coverage.case_covering(session, case, today, not_pursued[owner.id])
        elif invoice is not None:
            coverings[case.id] = [(invoice, pursued_amount(invoice, payments.get(case.id, ZERO)))]
        else:
            coverings[case.id] = []
    claims = claim_fees(session, [i.id for c in coverings.values() for i, _ in c])
    flows: dict[tuple[int, Stage], Any] = {}
    result = []
    for case, owner, _ in rows:
        covering = coverings[case.id]
        pursued = coverage.total(covering)
        next_on, next_kind = None, None
        if (
            case.collection_deadline is not None
            and case.stage != Stage.COLLECTION.value
            and case.state != CaseState.CLOSED.value  # closed: no next step, not even this
        ):
            next_on, next_kind = case.collection_deadline + dt.timedelta(days=1), "collection"
        elif (
            case.state == CaseState.ACTIVE.value
            and pursued > 0
            and all(i.state == InvoiceState.OPEN for i, _ in covering)
        ):
            key = (owner.id, Stage(case.stage))
            if key not in flows:
                flows[key] = dunning_rules.flow_of(session, owner, Stage(case.stage))
            last_fee_on = max(
                (d for i, _ in covering if (d := claims.get(i.id, NO_CLAIM).last_on)), default=None
            )
            found = next_step(case, covering[0][0].due_date, flows[key], owner.country, last_fee_on)
            if found is not None:
                index, step, next_on = found
                next_kind = (
                    f"reminder_{index + 1}" if step.template == "reminder" else step.template
                )
                if case.mode == CaseMode.CUSTOMER and step.template == "reminder":
                    next_kind = "customer_reminder"
        result.append(
            {
                "id": case.id,
                "client": owner.name,
                "mode": case.mode,
                "invoice_numbers": [i.invoice_number for i, _ in covering],
                "customer_number": case.customer_number,
                "stage": case.stage,
                "state": case.state,
                "closed_by": case.closed_by,
                "close_code": case.close_code,
                "close_reason": case.close_reason,
                "outstanding_amount": pursued,
                "fees_amount": fees.get(case.id, Fees(ZERO, 0)).total,
                "currency": covering[0][0].currency if covering else owner.currency,
                "next_step_on": next_on,
                "next_step": next_kind,
                "paid_in_accounting": case.paid_in_accounting,
                "pause_reason": case.pause_reason,
                "resume_on": case.resume_on,
                "collection_warned_on": case.collection_warned_on,
                "collection_deadline": case.collection_deadline,
                "collection_started_on": case.collection_started_on,
                "success_fee": case.success_fee,
                "write_off_ref": case.write_off_ref,
            }
        )
    return result


def case_detail(session: Session, case: t.Case, today: dt.date) -> dict[str, Any]:
    """The case as ``hub cases show`` shows it, on its client's ``today``."""
    [row] = case_rows(session, lambda _: today, case_ids=[case.id])
    row["invoices"] = _invoices(session, case, today)
    row["events"] = [
        {
            "at": e.at,
            "on": e.on_date,
            "kind": e.kind,
            "by": e.actor,
            "reason": e.reason,
            "data": e.data,
        }
        for e in case.events
    ]
    row["messages"] = [
        {
            "id": m.id,
            "kind": m.kind,
            "created_on": m.created_on,
            "fee": m.fee,
            "channel": m.channel,
            "status": m.status,
            "attempts": m.attempts,
            "last_error": m.last_error,
            "subject": m.subject,
        }
        for m in session.scalars(
            select(t.Message).where(t.Message.case_id == case.id).order_by(t.Message.id)
        )
    ]
    row["payments"] = [
        {"paid_on": p.paid_on, "amount": p.amount, "currency": p.currency, "by": p.registered_by}
        for p in session.scalars(
            select(t.CasePayment).where(t.CasePayment.case_id == case.id).order_by(t.CasePayment.id)
        )
    ]
    owner = session.get(t.Client, case.client_id)
    assert owner is not None
    flow = dunning_rules.flow_of(session, owner, Stage(case.stage))
    row["steps"] = [
        {
            "step": n + 1,
            "template": s.template,
            "fee": s.fee,
            "offset_days": s.offset_days,
            "anchor": s.anchor.value,
            "done": n < case.step_index,
        }
        for n, s in enumerate(flow.steps)
    ]
    row["round"] = case.round
    return row


def _invoices(session: Session, case: t.Case, today: dt.date) -> list[dict[str, Any]]:
    """The invoices the case covers now (an invoice case: its invoice, whatever its state)."""
    if case.mode == CaseMode.CUSTOMER:
        covering = coverage.case_covering(session, case, today)
    elif case.invoice_id is not None:
        invoice = session.get(t.Invoice, case.invoice_id)
        assert invoice is not None
        paid = payments_by_case(session, [case.id]).get(case.id, ZERO)
        covering = [(invoice, pursued_amount(invoice, paid))]
    else:
        covering = []
    return [
        {
            "invoice_number": invoice.invoice_number,
            "invoice_date": invoice.invoice_date,
            "due_date": invoice.due_date,
            "currency": invoice.currency,
            "gross_amount": invoice.gross_amount,
            "outstanding_amount": invoice.outstanding_amount,
            "pursued_amount": pursued,
            "state": invoice.state,
        }
        for invoice, pursued in covering
    ]
