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

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from hub.errors import InvalidDataError
from hub.model import Customer, Invoice, InvoiceState, InvoiceStatus
from hub_norwegian_invoicing.errors import NAME

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
ZERO = Decimal("0.00")
T = TypeVar("T")

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


@dataclass(frozen=True)
class Where:
    """Where a record came from: the URL, its index in the answer, what it is."""

    url: str
    index: int | None
    what: str = "record"

    def fail(self, reason: str) -> InvalidDataError:
        place = self.what if self.index is None else f"values[{self.index}] ({self.what})"
        return InvalidDataError(f"{place}: {reason}", plugin=NAME, where=self.url)

    def about(self, what: str) -> Where:
        return Where(self.url, self.index, what)


def get(item: dict[str, Any], path: str) -> Any:
    value: Any = item
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def number(item: dict[str, Any], path: str, where: Where) -> int:
    """A positive whole number (ids, invoice and customer numbers)."""
    value = get(item, path)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise where.fail(f"{path} must be a whole number of 1 or more, not {value!r}")
    return value


def amount(item: dict[str, Any], path: str, where: Where) -> Decimal:
    value = get(item, path)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise where.fail(f"{path} must be a number, not {value!r}")
    result = Decimal(value)
    if not result.is_finite():
        raise where.fail(f"{path} must be a finite number, not {value!r}")
    return result


def optional_amount(item: dict[str, Any], path: str, where: Where) -> Decimal | None:
    return None if get(item, path) is None else amount(item, path, where)


def flag(item: dict[str, Any], path: str, where: Where) -> bool:
    """A boolean; absent is false (Tripletex leaves out what is not set)."""
    value = get(item, path)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise where.fail(f"{path} must be true or false, not {value!r}")
    return value


def date(item: dict[str, Any], path: str, where: Where) -> dt.date:
    value = get(item, path)
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise where.fail(f"{path} must be a date YYYY-MM-DD, not {value!r}")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise where.fail(f"{path} is not a calendar date: {value!r}") from None


def currency(item: dict[str, Any], path: str, where: Where) -> str:
    value = get(item, path)
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.strip().upper()):
        raise where.fail(f"{path} must be an ISO 4217 currency code like NOK, not {value!r}")
    return value.strip().upper()


def text(item: dict[str, Any], path: str, where: Where) -> str | None:
    value = get(item, path)
    if value is None:
        return None
    if not isinstance(value, str):
        raise where.fail(f"{path} must be text, not {value!r}")
    return value.strip() or None


def _placed(where: Where, build: Callable[[], T]) -> T:
    """``build()``; a model check that fails is placed at ``where``."""
    try:
        return build()
    except InvalidDataError as exc:
        if exc.where is not None:  # one of ours, already placed
            raise
        raise where.fail(str(exc)) from None


def is_credit_note(item: dict[str, Any], where: Where) -> bool:
    return flag(item, "isCreditNote", where)


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
    return _placed(
        where,
        lambda: Invoice(
            invoice_number=str(invoice_number),
            customer_number=str(number(item, "customer.customerNumber", where)),
            invoice_date=date(item, "invoiceDate", where),
            due_date=date(item, "invoiceDueDate", where),
            currency=currency(item, "currency.code", where),
            net_amount=net,
            vat_amount=gross - net,
            gross_amount=gross,
            outstanding_amount=amount(item, "amountCurrencyOutstanding", where),
            customer_name=text(item, "customer.name", where),
        ),
    )


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
