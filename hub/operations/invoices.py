"""The invoices the hub mirrors from a client's accounting system (``hub invoices list``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from hub.db import tables as t
from hub.model import InvoiceState
from hub.operations import access
from hub.operations.context import Context
from hub.records import Record, made_from


@dataclass(frozen=True)
class InvoiceLine(Record):
    """An invoice as last synced, with its customer's name; ``as_dict`` is one row of
    ``hub invoices list --json`` (amounts Decimal, dates ``date``: the printer formats them)."""

    invoice_number: str
    customer_number: str
    customer_name: str | None
    invoice_date: dt.date
    due_date: dt.date
    currency: str
    net_amount: Decimal
    vat_amount: Decimal
    gross_amount: Decimal
    outstanding_amount: Decimal
    state: str


def list_invoices(ctx: Context, client: str, *, open_only: bool = True) -> list[InvoiceLine]:
    """The client's invoices (only the open ones unless ``open_only`` is False), by due date."""
    with ctx.db.session() as session:
        client_id = access.client_row(ctx, session, client).id
        query = (
            select(t.Invoice, t.Customer.name)
            .outerjoin(
                t.Customer,
                (t.Customer.client_id == t.Invoice.client_id)
                & (t.Customer.customer_number == t.Invoice.customer_number),
            )
            .where(t.Invoice.client_id == client_id)
            .order_by(t.Invoice.due_date, t.Invoice.invoice_number)
        )
        if open_only:
            query = query.where(t.Invoice.state == InvoiceState.OPEN.value)
        return [
            made_from(InvoiceLine, inv, customer_name=customer_name)
            for inv, customer_name in session.execute(query)
        ]
