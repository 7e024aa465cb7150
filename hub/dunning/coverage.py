"""What a customer case covers (C1): the customer's overdue invoices, and what each pursues.

A customer case follows a customer, not an invoice: at each cycle it covers every open,
overdue invoice of the customer in the client's currency (a balance is one currency; an
invoice in another is followed by an invoice case of its own) that is due on or after the
client's general start date, that no open invoice case follows (in customer mode that is a
collection case, C4, or a paused case kept across a switch), and that no person let go (a
case a person closed: the hub does not chase it again by itself). Partial payments registered
in the hub on the customer case (A2) are applied to the oldest invoices first, so a letter's
invoice lines always add up to its total.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.amounts import ZERO
from hub.db import tables as t
from hub.dunning.states import Actor, CaseMode, CaseState, CloseCode, EventKind
from hub.model import InvoiceState


def overdue_invoices(
    invoices: Iterable[t.Invoice],
    today: dt.date,
    start_date: dt.date | None,
    followed: Container[int | None],
    currency: str,
) -> list[t.Invoice]:
    """Open, overdue invoices in ``currency`` due on or after ``start_date``, not in
    ``followed`` (followed by an open invoice case, or let go), oldest due date first."""
    found = [
        invoice
        for invoice in invoices
        if invoice.state == InvoiceState.OPEN.value
        and invoice.outstanding_amount > 0
        and invoice.due_date < today
        and (start_date is None or invoice.due_date >= start_date)
        and invoice.currency == currency
        and invoice.id not in followed
    ]
    return sorted(found, key=lambda i: (i.due_date, i.invoice_number))


@dataclass(frozen=True)
class Share:
    """One invoice of a customer case: what the hub's registered payments paid of it, and
    what it still pursues."""

    invoice: t.Invoice
    paid_in_hub: Decimal
    pursued: Decimal


def shares(invoices: list[t.Invoice], paid_in_hub: Decimal) -> list[Share]:
    """``paid_in_hub`` applied to the invoices oldest first."""
    left = paid_in_hub
    result = []
    for invoice in invoices:
        applied = min(left, invoice.outstanding_amount)
        left -= applied
        result.append(Share(invoice, applied, invoice.outstanding_amount - applied))
    return result


def allocate(invoices: list[t.Invoice], paid_in_hub: Decimal) -> list[tuple[t.Invoice, Decimal]]:
    """Each invoice with what it still pursues once ``paid_in_hub`` is applied oldest first;
    invoices paid in full by it are left out."""
    return [(s.invoice, s.pursued) for s in shares(invoices, paid_in_hub) if s.pursued > 0]


def total(covering: list[tuple[t.Invoice, Decimal]]) -> Decimal:
    """The sum of what the invoices pursue; they are in one currency (see the module doc)."""
    currencies = {invoice.currency for invoice, _ in covering}
    assert len(currencies) <= 1, f"amounts in {sorted(currencies)} are never added together"
    return sum((amount for _, amount in covering), ZERO)


def let_go(session: Session, client_id: int) -> set[int]:
    """Invoices a person stopped pursuing: followed by an invoice case a person closed or
    that was closed as paid by payments registered in the hub, or covered by a customer case
    a person closed (its closing event lists them)."""
    closed_by_user = (t.Case.client_id == client_id) & (t.Case.closed_by == Actor.USER.value)
    invoice_cases = session.scalars(
        select(t.Case.invoice_id).where(
            t.Case.client_id == client_id,
            t.Case.invoice_id.is_not(None),
            (t.Case.closed_by == Actor.USER.value) | (t.Case.close_code == CloseCode.PAID),
        )
    )
    ids: set[int] = {i for i in invoice_cases if i is not None}
    for data in session.scalars(
        select(t.CaseEvent.data)
        .join(t.Case, t.Case.id == t.CaseEvent.case_id)
        .where(
            closed_by_user, t.Case.mode == CaseMode.CUSTOMER, t.CaseEvent.kind == EventKind.CLOSED
        )
    ):
        ids.update(int(i) for i in data.get("invoice_ids", []))
    return ids


def not_pursued_by_customer_case(session: Session, client_id: int) -> set[int | None]:
    """Invoices a customer case must leave alone: followed by an open invoice case, or let go."""
    followed: set[int | None] = set(
        session.scalars(
            select(t.Case.invoice_id).where(
                t.Case.client_id == client_id,
                t.Case.invoice_id.is_not(None),
                t.Case.state != CaseState.CLOSED.value,
            )
        )
    )
    return followed | set(let_go(session, client_id))


def case_covering(
    session: Session,
    case: t.Case,
    today: dt.date,
    not_pursued: set[int | None] | None = None,
) -> list[tuple[t.Invoice, Decimal]]:
    """What the case pursues today, invoice by invoice, oldest first (after partial
    payments registered in the hub). An invoice case's invoice is listed even when it pursues
    nothing any more; a customer case lists only what is still owed. ``not_pursued``: see
    :func:`customer_invoices`."""
    paid_in_hub = sum((payment.amount for payment in case.payments), ZERO)
    if case.invoice_id is not None:
        invoice = session.get(t.Invoice, case.invoice_id)
        if invoice is None:
            return []
        return [(invoice, max(invoice.outstanding_amount - paid_in_hub, ZERO))]
    return allocate(customer_invoices(session, case, today, not_pursued), paid_in_hub)


def customer_invoices(
    session: Session,
    case: t.Case,
    today: dt.date,
    not_pursued: set[int | None] | None = None,
) -> list[t.Invoice]:
    """The overdue invoices a customer case covers today (before partial payments).
    ``not_pursued``: :func:`not_pursued_by_customer_case` of the case's client, when the
    caller has it already (for many cases of one client)."""
    client = session.get(t.Client, case.client_id)
    assert client is not None
    rules = session.get(t.ClientDunning, case.client_id)
    invoices = session.scalars(
        select(t.Invoice).where(
            t.Invoice.client_id == case.client_id,
            t.Invoice.customer_number == case.customer_number,
        )
    )
    return overdue_invoices(
        invoices,
        today,
        rules.start_date if rules is not None else None,
        not_pursued
        if not_pursued is not None
        else not_pursued_by_customer_case(session, client.id),
        client.currency,
    )
