"""What a customer case covers (C1): the customer's overdue invoices, and what each pursues.

A customer case follows a customer, not an invoice: at each cycle it covers every open,
overdue invoice of the customer that is due on or after the client's general start date and
that no invoice case follows (an invoice case in customer mode is a collection case, C4).
Partial payments registered in the hub on the customer case (A2) are applied to the oldest
invoices first, so a letter's invoice lines always add up to its total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Iterable
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db import tables as t
from hub.model import InvoiceState

ZERO = Decimal("0.00")


def overdue_invoices(
    invoices: Iterable[t.Invoice],
    today: dt.date,
    start_date: dt.date | None,
    followed: Container[int | None],
) -> list[t.Invoice]:
    """Open, overdue invoices due on or after ``start_date`` that no invoice case follows,
    oldest due date first."""
    found = [
        invoice
        for invoice in invoices
        if invoice.state == InvoiceState.OPEN.value
        and invoice.outstanding_amount > 0
        and invoice.due_date < today
        and (start_date is None or invoice.due_date >= start_date)
        and invoice.id not in followed
    ]
    return sorted(found, key=lambda i: (i.due_date, i.invoice_number))


def allocate(invoices: list[t.Invoice], paid_in_hub: Decimal) -> list[tuple[t.Invoice, Decimal]]:
    """Each invoice with what it still pursues once ``paid_in_hub`` is applied oldest first;
    invoices paid in full by it are left out."""
    left = paid_in_hub
    covering = []
    for invoice in invoices:
        applied = min(left, invoice.outstanding_amount)
        left -= applied
        if invoice.outstanding_amount - applied > 0:
            covering.append((invoice, invoice.outstanding_amount - applied))
    return covering


def total(covering: list[tuple[t.Invoice, Decimal]]) -> Decimal:
    return sum((amount for _, amount in covering), ZERO)


def case_covering(
    session: Session, case: t.Case, today: dt.date
) -> list[tuple[t.Invoice, Decimal]]:
    """What the case pursues today, invoice by invoice, oldest first (after partial
    payments registered in the hub). An invoice case's invoice is listed even when it pursues
    nothing any more; a customer case lists only what is still owed."""
    paid = session.scalar(
        select(func.coalesce(func.sum(t.CasePayment.amount), 0)).where(
            t.CasePayment.case_id == case.id
        )
    )
    paid_in_hub = Decimal(paid or 0).quantize(Decimal("0.01"))
    if case.invoice_id is not None:
        invoice = session.get(t.Invoice, case.invoice_id)
        if invoice is None:
            return []
        return [(invoice, max(invoice.outstanding_amount - paid_in_hub, ZERO))]
    rules = session.get(t.ClientDunning, case.client_id)
    followed = set(
        session.scalars(
            select(t.Case.invoice_id).where(
                t.Case.client_id == case.client_id,
                t.Case.customer_number == case.customer_number,
                t.Case.invoice_id.is_not(None),
                t.Case.state != "closed",
            )
        )
    )
    invoices = session.scalars(
        select(t.Invoice).where(
            t.Invoice.client_id == case.client_id,
            t.Invoice.customer_number == case.customer_number,
        )
    )
    start_date = rules.start_date if rules is not None else None
    return allocate(overdue_invoices(invoices, today, start_date, followed), paid_in_hub)
