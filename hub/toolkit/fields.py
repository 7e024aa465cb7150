"""Reading an accounting system's JSON records into the hub's values, saying where it failed.

Every reader takes the record (a ``dict`` from :func:`hub.toolkit.wire.loads`, so amounts are
``Decimal`` or ``int``, never float), a dotted ``path`` into it (``"customer.customerNumber"``)
and a :class:`Where`: the URL, the record's index in the answer and what it is. What cannot be
read raises :class:`~hub.errors.InvalidDataError` naming all of that and the field: a plugin
never skips a record, the hub stores a sync whole or not at all.

A plugin subclasses :class:`Where` once to say its name and how its lists are called::

    class Where(fields.Where):
        plugin = NAME
        listing = "collection"  # "collection[3] (invoice 5001): netAmount must be ..."

:class:`Record` is the same for plugins that read flat records by field name (the scaffold's).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar, Self, TypeVar

from hub.errors import InvalidDataError
from hub.model import Invoice, InvoiceState, InvoiceStatus

__all__ = [
    "InvoiceFields",
    "Record",
    "Where",
    "amount",
    "currency",
    "date",
    "flag",
    "get",
    "invoice_statuses",
    "keep_once",
    "number",
    "numbers_of",
    "optional_amount",
    "placed",
    "shape",
    "text",
]

T = TypeVar("T")
K = TypeVar("K")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")


def shape(value: Any) -> str:
    """What ``value`` is, for an error message, without repeating much of it."""
    if isinstance(value, dict):
        return f"an object with keys {sorted(value)[:8]}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if value is None:
        return "null"
    return f"{type(value).__name__} {str(value)[:40]!r}"


@dataclass(frozen=True)
class Where:
    """Where a record came from: the URL, its index in the answer, what it is."""

    #: The plugin's name, in every error (set by the plugin's subclass).
    plugin: ClassVar[str] = ""
    #: What the system calls the list of an answer (``collection``, ``values``).
    listing: ClassVar[str] = "items"
    #: The currency code error messages give as an example.
    currency_example: ClassVar[str] = "EUR"

    url: str
    index: int | None
    what: str = "record"

    def fail(self, reason: str) -> InvalidDataError:
        place = self.what if self.index is None else f"{self.listing}[{self.index}] ({self.what})"
        return InvalidDataError(f"{place}: {reason}", plugin=self.plugin or None, where=self.url)

    def about(self, what: str) -> Self:
        """The same place, now known as ``what`` (``"invoice 5001"``)."""
        return dataclasses.replace(self, what=what)


def get(item: dict[str, Any], path: str) -> Any:
    """The value at the dotted ``path``, or None where any part of it is missing."""
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
    """An exact, finite amount (a JSON number: ``Decimal`` or ``int``)."""
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
    """A boolean; absent is false."""
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
    """An ISO 4217 code, upper-cased."""
    value = get(item, path)
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value.strip().upper()):
        raise where.fail(
            f"{path} must be an ISO 4217 currency code like {where.currency_example}, not {value!r}"
        )
    return value.strip().upper()


def text(item: dict[str, Any], path: str, where: Where) -> str | None:
    """Text, stripped; None when absent or blank."""
    value = get(item, path)
    if value is None:
        return None
    if not isinstance(value, str):
        raise where.fail(f"{path} must be text, not {value!r}")
    return value.strip() or None


def placed(where: Where, build: Callable[[], T]) -> T:
    """``build()``; a :mod:`hub.model` check that fails (gross is not net + VAT, ...) is placed
    at ``where``."""
    try:
        return build()
    except InvalidDataError as exc:
        if exc.where is not None:  # one of ours, already placed
            raise
        raise where.fail(str(exc)) from None


@dataclass(frozen=True)
class InvoiceFields:
    """Where a system's invoice record keeps what the hub reads besides its number and
    amounts (dotted paths), so that one function builds every plugin's :class:`Invoice`."""

    customer_number: str
    invoice_date: str
    due_date: str
    currency: str
    outstanding_amount: str
    customer_name: str

    def invoice(
        self,
        item: dict[str, Any],
        where: Where,
        invoice_number: int,
        *,
        net: Decimal,
        vat: Decimal,
        gross: Decimal,
    ) -> Invoice:
        """Invoice ``invoice_number`` with the amounts given, the rest read from ``item``."""
        return placed(
            where,
            lambda: Invoice(
                invoice_number=str(invoice_number),
                customer_number=str(number(item, self.customer_number, where)),
                invoice_date=date(item, self.invoice_date, where),
                due_date=date(item, self.due_date, where),
                currency=currency(item, self.currency, where),
                net_amount=net,
                vat_amount=vat,
                gross_amount=gross,
                outstanding_amount=amount(item, self.outstanding_amount, where),
                customer_name=text(item, self.customer_name, where),
            ),
        )


def numbers_of(values: Iterable[str], maximum: int) -> dict[str, int]:
    """The values that can be the system's numbers (whole, 1..``maximum``), by text as given."""
    result: dict[str, int] = {}
    for value in values:
        digits = value.strip()
        if digits.isdigit() and 0 < int(digits) <= maximum:
            result[value] = int(digits)
    return result


def keep_once(found: MutableMapping[K, T], key: K, value: T, *, plugin: str, where: str) -> None:
    """Keep ``value`` under ``key``: a list read page by page may hold one record twice (kept
    once); the same invoice number with different data is an error."""
    if found.setdefault(key, value) != value:
        raise InvalidDataError(
            f"invoice {key} is listed twice with different data", plugin=plugin, where=where
        )


def invoice_statuses(
    asked: Iterable[str], wanted: Mapping[str, int], found: Mapping[int, InvoiceStatus]
) -> list[InvoiceStatus]:
    """One status per number ``asked``, under the number as the hub asked for it: the one
    ``found`` under its number (``wanted``: the asked text's number, see :func:`numbers_of`),
    else UNKNOWN."""
    statuses: list[InvoiceStatus] = []
    for value in asked:
        known = found.get(wanted[value]) if value in wanted else None
        if known is None:
            statuses.append(InvoiceStatus(value, InvoiceState.UNKNOWN, None, None))
        else:
            statuses.append(
                InvoiceStatus(value, known.state, known.outstanding_amount, known.currency)
            )
    return statuses


class Record:
    """One flat JSON object of an answer, read by field name, and where it came from."""

    def __init__(self, value: Any, where: str, *, plugin: str) -> None:
        if not isinstance(value, dict):
            raise InvalidDataError(
                f"expected an object, got {shape(value)}", plugin=plugin, where=where
            )
        self.value: dict[str, Any] = value
        self.where = where
        self.plugin = plugin

    def fail(self, field: str, reason: str) -> InvalidDataError:
        return InvalidDataError(f"{field}: {reason}", plugin=self.plugin, where=self.where)

    def text(self, field: str) -> str:
        value = self.value.get(field)
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)  # a number given as a JSON number
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, f"expected a non-empty string, got {shape(value)}")
        return value.strip()

    def optional_text(self, field: str) -> str | None:
        if self.value.get(field) is None:
            return None
        return self.text(field)

    def amount(self, field: str) -> Decimal:
        value = self.value.get(field)
        # bool is an int in Python, and float never comes out of wire.loads(): refuse both.
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise self.fail(field, f"expected an amount (a JSON number), got {shape(value)}")
        return Decimal(value)

    def date(self, field: str) -> dt.date:
        value = self.value.get(field)
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(field, f"expected a date (YYYY-MM-DD), got {shape(value)}")

    def build(self, make: Callable[[], T]) -> T:
        """``make()``, with a refusal of :mod:`hub.model` saying where the record came from."""
        try:
            return make()
        except InvalidDataError as exc:
            if exc.where is not None:  # one of ours: says where already
                raise
            raise InvalidDataError(str(exc), plugin=self.plugin, where=self.where) from exc
