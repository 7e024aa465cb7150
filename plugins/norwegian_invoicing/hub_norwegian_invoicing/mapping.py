"""Tripletex's JSON records, turned into the hub's values (and nothing skipped).

Every reader names what it could not read: the URL (without query string), the record's place
in the answer and its number, and the field. A record that cannot be read fails the whole
answer: the hub stores a sync whole or not at all.

Amounts arrive as ``Decimal`` (see :mod:`hub.toolkit.wire`) or, written without a
fraction (``1000``), as ``int``; both are exact. Anything else where an amount belongs is
malformed. Invoice amounts are taken in the invoice's currency (``amountCurrency``,
``amountExcludingVatCurrency``, ``amountCurrencyOutstanding``), never the company-currency
twins (``amount``, ``amountOutstanding``), which differ for an invoice in EUR.
"""

from __future__ import annotations

from typing import Any

from hub.amounts import ZERO
from hub.model import Customer, Invoice, InvoiceState, InvoiceStatus
from hub.toolkit import fields
from hub.toolkit.fields import amount, currency, date, flag, get, number, optional_amount, text
from hub.toolkit.fields import placed as _placed
from hub_norwegian_invoicing.errors import NAME

__all__ = [
    "Where",
    "amount",
    "currency",
    "customer",
    "date",
    "flag",
    "get",
    "invoice",
    "invoice_status",
    "is_credit_note",
    "number",
    "optional_amount",
    "text",
]

#: What ``fields=`` asks for on invoices. Tripletex sends a nested object as ``{"id", "url"}``
#: unless its fields are named, so the customer's number and name and the currency's code are.
INVOICE_FIELDS = (
    "id,invoiceNumber,invoiceDate,invoiceDueDate,isCreditNote,isCredited,creditedInvoice,"
    "amountCurrency,amountExcludingVatCurrency,amountRoundoffCurrency,amountCurrencyOutstanding,"
    "customer(id,customerNumber,name),currency(code)"
)
#: What ``fields=`` asks for on customers.
CUSTOMER_FIELDS = (
    "id,customerNumber,name,email,invoiceEmail,overdueNoticeEmail,language,isInactive,"
    "postalAddress(addressLine1,addressLine2,postalCode,city,country(name))"
)
#: Tripletex's customer languages, as ISO 639-1 (Norwegian is bokmål).
LANGUAGES = {"NO": "nb", "EN": "en"}


class Where(fields.Where):
    """Where a record came from (:class:`hub.toolkit.fields.Where`): ``values[3] (...)``."""

    plugin = NAME
    listing = "values"
    currency_example = "NOK"


def is_credit_note(item: dict[str, Any], where: Where) -> bool:
    return flag(item, "isCreditNote", where)


_INVOICE = fields.InvoiceFields(
    customer_number="customer.customerNumber",
    invoice_date="invoiceDate",
    due_date="invoiceDueDate",
    currency="currency.code",
    outstanding_amount="amountCurrencyOutstanding",
    customer_name="customer.name",
)


def invoice(item: dict[str, Any], where: Where) -> Invoice:
    """An invoice of ``GET /invoice`` as a hub Invoice, amounts in the invoice's currency.

    Tripletex has no VAT field on an invoice: VAT is gross (``amountCurrency``) less net
    (``amountExcludingVatCurrency``). A Norwegian invoice may be rounded to whole kroner
    (``amountRoundoffCurrency``, part of the gross); the hub's invoices have no rounding line,
    so the rounding is counted in the net amount, leaving the VAT exact.
    """
    invoice_number = number(item, "invoiceNumber", where)
    where = where.about(f"invoice {invoice_number}")
    gross = amount(item, "amountCurrency", where)
    net = amount(item, "amountExcludingVatCurrency", where)
    rounding = optional_amount(item, "amountRoundoffCurrency", where) or ZERO
    net += rounding
    return _INVOICE.invoice(item, where, invoice_number, net=net, vat=gross - net, gross=gross)


def invoice_status(item: dict[str, Any], where: Where) -> InvoiceStatus:
    """OPEN while something is outstanding; else CREDITED when Tripletex links a credit note to
    it (``isCredited``), PAID otherwise."""
    invoice_number = number(item, "invoiceNumber", where)
    where = where.about(f"invoice {invoice_number}")
    outstanding = amount(item, "amountCurrencyOutstanding", where)
    if outstanding > 0:
        state = InvoiceState.OPEN
    elif flag(item, "isCredited", where):
        state = InvoiceState.CREDITED
    else:
        state = InvoiceState.PAID
    code = currency(item, "currency.code", where)
    return _placed(where, lambda: InvoiceStatus(str(invoice_number), state, outstanding, code))


def _email(item: dict[str, Any], where: Where) -> str | None:
    """Where reminders go: the address for overdue notices ("where the noticing emails are sent
    in case of an overdue"), else the invoice address, else the general one."""
    for path in ("overdueNoticeEmail", "invoiceEmail", "email"):
        value = text(item, path, where)
        if value is not None:
            if "@" not in value:
                raise where.fail(f"{path} {value!r} is not an e-mail address")
            return value
    return None


def _address(item: dict[str, Any], where: Where) -> str | None:
    lines = [text(item, f"postalAddress.{p}", where) for p in ("addressLine1", "addressLine2")]
    joined = ", ".join(line for line in lines if line)
    return joined or None


def customer(item: dict[str, Any], where: Where) -> Customer:
    customer_number = number(item, "customerNumber", where)
    where = where.about(f"customer {customer_number}")
    name = text(item, "name", where)
    if name is None:
        raise where.fail("name is empty")
    language = text(item, "language", where)
    return _placed(
        where,
        lambda: Customer(
            customer_number=str(customer_number),
            name=name,
            email=_email(item, where),
            address=_address(item, where),
            postal_code=text(item, "postalAddress.postalCode", where),
            city=text(item, "postalAddress.city", where),
            country=text(item, "postalAddress.country.name", where),
            language=LANGUAGES.get(language.upper()) if language else None,
        ),
    )
