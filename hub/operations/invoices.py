"""The invoices the hub mirrors from a client's accounting system (``hub invoices list``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from hub import clients
from hub.db import tables as t
from hub.model import InvoiceState
from hub.operations.context import Context


@dataclass(frozen=True)
class InvoiceLine:
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

    def as_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def list_invoices(ctx: Context, client: str, *, open_only: bool = True) -> list[InvoiceLine]:
    """The client's invoices (only the open ones unless ``open_only`` is False), by due date."""
    with ctx.db.session() as session:
        client_id = clients.get_client(session, client).id
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
            InvoiceLine(
                invoice_number=inv.invoice_number,
                customer_number=inv.customer_number,
                customer_name=customer_name,
                invoice_date=inv.invoice_date,
                due_date=inv.due_date,
                currency=inv.currency,
                net_amount=inv.net_amount,
                vat_amount=inv.vat_amount,
                gross_amount=inv.gross_amount,
                outstanding_amount=inv.outstanding_amount,
                state=inv.state,
            )
            for inv, customer_name in session.execute(query)
        ]
