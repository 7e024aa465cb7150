"""The collection overview (D3): customers who still owe after the last reminder.

A customer is listed when at least one of its unpaid invoices has had the reminder flow's last
reminder (reminder 3 with the Danish default), a collection warning, or is in collection. The
overview lists every unpaid invoice of the customer, not only those: they are the entries that
make up the balance a collection agency would be handed. It only shows; handing over is
``hub cases collect``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from hub.amounts import ZERO
from hub.db import tables as t
from hub.dunning import coverage
from hub.dunning import rules as dunning_rules
from hub.dunning.cases import payments_by_case
from hub.dunning.states import CaseMode, CaseState, Stage
from hub.model import InvoiceState


def _after_last_reminder(session: Session, client: t.Client) -> set[int]:
    """Invoices that got the reminder flow's last step (or any collection warning)."""
    last = len(dunning_rules.flow_of(session, client, Stage.REMINDER).steps) - 1
    conditions = [t.Message.kind == "collection_warning"]
    if last >= 0:
        conditions.append((t.Message.stage == Stage.REMINDER.value) & (t.Message.step >= last))
    return set(
        session.scalars(
            select(t.MessageInvoice.invoice_id)
            .join(t.Message, t.Message.id == t.MessageInvoice.message_id)
            .where(t.Message.client_id == client.id, or_(*conditions))
        )
    )


def _customer_cases(session: Session, client: t.Client, today: dt.date) -> dict[int, t.Case]:
    """The open customer case (C1) that pursues each invoice today, by invoice id."""
    cases = session.scalars(
        select(t.Case).where(
            t.Case.client_id == client.id,
            t.Case.state != CaseState.CLOSED.value,
            t.Case.mode == CaseMode.CUSTOMER.value,
        )
    ).all()
    if not cases:
        return {}
    not_pursued = coverage.not_pursued_by_customer_case(session, client.id)
    return {
        invoice.id: case
        for case in cases
        for invoice in coverage.customer_invoices(session, case, today, not_pursued)
    }


def collection_overview(session: Session, client: t.Client, today: dt.date) -> list[dict[str, Any]]:
    """One entry per customer (see the module docstring), by customer number.

    Keys: ``customer_number``, ``customer_name``, ``balance`` (as the accounting system
    reports it, or None), ``outstanding`` (the listed invoices' total per currency, less
    payments registered in the hub), ``invoices`` (``invoice_number``, ``due_date``,
    ``outstanding_amount``, ``currency``, ``case`` (the id of the open case that pursues it on
    ``today``, an invoice case or a customer case, or None), ``stage``,
    ``last_reminder_sent``, ``in_collection``, ``collection_deadline``).
    """
    reminded = _after_last_reminder(session, client)
    open_cases = {
        case.invoice_id: case
        for case in session.scalars(
            select(t.Case).where(
                t.Case.client_id == client.id,
                t.Case.state != CaseState.CLOSED.value,
                t.Case.invoice_id.is_not(None),
            )
        )
    }
    # Payments registered on an invoice case lower its one invoice; a customer case's are
    # spread over its invoices by the case's own views, not here.
    paid = payments_by_case(session, [c.id for c in open_cases.values()])
    open_cases.update(
        (invoice_id, case)
        for invoice_id, case in _customer_cases(session, client, today).items()
        if invoice_id not in open_cases
    )
    in_collection = {
        invoice_id
        for invoice_id, case in open_cases.items()
        if case.stage == Stage.COLLECTION.value or case.collection_deadline is not None
    }
    flagged = reminded | in_collection
    unpaid = list(
        session.scalars(
            select(t.Invoice)
            .where(
                t.Invoice.client_id == client.id,
                t.Invoice.state == InvoiceState.OPEN.value,
                t.Invoice.outstanding_amount > ZERO,
            )
            .order_by(t.Invoice.due_date, t.Invoice.invoice_number)
        )
    )
    owing = {i.customer_number for i in unpaid if i.id in flagged}
    customers = {
        c.customer_number: c
        for c in session.scalars(
            select(t.Customer).where(
                t.Customer.client_id == client.id, t.Customer.customer_number.in_(owing)
            )
        )
    }
    by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for invoice in unpaid:
        if invoice.customer_number not in owing:
            continue
        case = open_cases.get(invoice.id)
        pursued = invoice.outstanding_amount - (
            paid.get(case.id, ZERO) if case and case.invoice_id is not None else ZERO
        )
        by_customer[invoice.customer_number].append(
            {
                "invoice_number": invoice.invoice_number,
                "due_date": invoice.due_date,
                "outstanding_amount": max(pursued, ZERO),
                "currency": invoice.currency,
                "case": case.id if case else None,
                "stage": case.stage if case else None,
                "last_reminder_sent": invoice.id in reminded,
                "in_collection": case is not None and case.stage == Stage.COLLECTION.value,
                "collection_deadline": case.collection_deadline if case else None,
            }
        )
    result = []
    for number in sorted(by_customer):
        customer = customers.get(number)
        invoices = by_customer[number]
        result.append(
            {
                "customer_number": number,
                "customer_name": customer.name if customer else None,
                "balance": customer.balance if customer else None,
                "outstanding": _totals(invoices),
                "invoices": invoices,
            }
        )
    return result


def _totals(invoices: list[dict[str, Any]]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for invoice in invoices:
        currency = invoice["currency"]
        totals[currency] = totals.get(currency, ZERO) + invoice["outstanding_amount"]
    return totals
