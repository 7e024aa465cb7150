"""e-conomic's JSON records, turned into the hub's values (and nothing skipped).

Every reader names what it could not read: the URL (without query string), the record's place
in the answer and its number, and the field. A record that cannot be read fails the whole
answer: the hub stores a sync whole or not at all.

Amounts arrive as ``Decimal`` (see :mod:`hub.toolkit.wire`) or, written without a fraction
(``1000``), as ``int``; both are exact. Anything else where an amount belongs is malformed.
Amounts are taken in the invoice's currency (``netAmount``, ``remainder``), never the
``...InBaseCurrency`` twins.
"""

from __future__ import annotations

import re
from typing import Any

from hub.amounts import ZERO
from hub.model import Customer, CustomerBalance, Invoice, InvoiceState, InvoiceStatus
from hub.toolkit import fields
from hub.toolkit.fields import amount, currency, date, number, optional_amount, text
from hub_economic.client import NAME

__all__ = [
    "Where",
    "amount",
    "booked_invoice",
    "currency",
    "customer",
    "customer_balance",
    "date",
    "invoice_status",
    "number",
    "optional_amount",
    "text",
]


class Where(fields.Where):
    """Where a record came from (:class:`hub.toolkit.fields.Where`): ``collection[3] (...)``."""

    plugin = NAME
    listing = "collection"
    currency_example = "DKK"


_INVOICE = fields.InvoiceFields(
    customer_number="customer.customerNumber",
    invoice_date="date",
    due_date="dueDate",
    currency="currency",
    outstanding_amount="remainder",
    customer_name="recipient.name",
)


def booked_invoice(item: dict[str, Any], where: Where) -> Invoice:
    """A booked invoice (``/invoices/unpaid`` or ``/invoices/booked`` item) as a hub Invoice.

    e-conomic's ``grossAmount`` may include a ``roundingAmount`` (cash rounding of the total).
    The hub's invoices have no rounding line, so a rounding that makes net + VAT + rounding
    equal gross exactly is counted in the net amount; any other difference is malformed.
    """
    invoice_number = number(item, "bookedInvoiceNumber", where)
    where = Where(where.url, where.index, f"invoice {invoice_number}")
    net = amount(item, "netAmount", where)
    vat = amount(item, "vatAmount", where)
    gross = amount(item, "grossAmount", where)
    rounding = optional_amount(item, "roundingAmount", where) or ZERO
    if net + vat != gross and net + vat + rounding == gross:
        net += rounding
    if net + vat != gross:
        raise where.fail(
            f"grossAmount {gross} is not netAmount {net} + vatAmount {vat}"
            + (f" (+ roundingAmount {rounding})" if rounding else "")
        )
    return _INVOICE.invoice(item, where, invoice_number, net=net, vat=vat, gross=gross)


def invoice_status(item: dict[str, Any], where: Where) -> InvoiceStatus:
    """The state of a booked invoice from its ``remainder``: OPEN while > 0, else PAID.

    Never CREDITED: e-conomic's REST API does not link a credit note to the invoice it
    credits, nor say what settled a remainder, so "credited" cannot be told from "paid".
    """
    invoice_number = number(item, "bookedInvoiceNumber", where)
    where = Where(where.url, where.index, f"invoice {invoice_number}")
    remainder = amount(item, "remainder", where)
    state = InvoiceState.OPEN if remainder > 0 else InvoiceState.PAID
    return InvoiceStatus(str(invoice_number), state, remainder, currency(item, "currency", where))


def _first_email(value: str | None, where: Where) -> str | None:
    """e-conomic allows several addresses separated by spaces (or ; and ,): the first."""
    if value is None:
        return None
    first = re.split(r"[\s;,]+", value.strip())[0]
    if "@" not in first:
        raise where.fail(f"email {value!r} is not an e-mail address")
    return first


def customer(item: dict[str, Any], where: Where) -> Customer:
    customer_number = number(item, "customerNumber", where)
    where = Where(where.url, where.index, f"customer {customer_number}")
    name = text(item, "name", where)
    if name is None:
        raise where.fail("name is empty")
    email = _first_email(text(item, "email", where), where)
    # A value the hub cannot store (too long, a control character) is refused here, at the
    # record it came from.
    return fields.placed(
        where,
        lambda: Customer(
            customer_number=str(customer_number),
            name=name,
            email=email,
            address=text(item, "address", where),
            postal_code=text(item, "zip", where),
            city=text(item, "city", where),
            country=text(item, "country", where),
            language=None,  # e-conomic keeps no language per customer (its layout decides)
        ),
    )


def customer_balance(item: dict[str, Any], where: Where, base_currency: str) -> CustomerBalance:
    """The customer's ``balance``, in ``base_currency``.

    e-conomic keeps a customer's ledger in the agreement's base currency, whatever currency the
    customer is invoiced in, so ``balance`` is a base-currency amount (a EUR customer of a
    Danish agreement has a balance in DKK). The hub knows the base currency as the client's
    currency; the customer's own ``currency`` does not label the balance.
    """
    customer_number = number(item, "customerNumber", where)
    where = Where(where.url, where.index, f"customer {customer_number}")
    return CustomerBalance(
        customer_number=str(customer_number),
        balance=amount(item, "balance", where),
        currency=base_currency,
    )
