"""Query parameters, paging, sorting and the list envelope of the fake Tripletex (see
:mod:`hub.testing.fakes.tripletex`).

Errors follow captured answers where there are any: a missing required parameter is a 422 with
code 15000 ("Validation failed") naming each field ("Kan ikke være null."). A value of the wrong
type is a 422 with code 21000 (the spec's "Param Exception"; UNVERIFIED), an unknown sorting
field 422 code 17000, a ``count`` above the maximum 422 code 23000 ("Result Set Too Large").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from operator import attrgetter
from typing import Any, TypeVar

from hub.testing.fakes.tripletex.company import Company
from hub.testing.fakes.tripletex.fields import FieldTree, Shaper, parse_fields
from hub.testing.fakes.tripletex.model import ApiError, validation_error
from hub.testing.fakes.tripletex.render import DIGEST, render, shaper
from hub.testing.fakes.wire import dumps

__all__ = ["Call", "Page", "Result", "list_answer", "single_answer", "sort_items"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Result:
    """An endpoint's answer: status and JSON text (empty: no body)."""

    status: int
    body: str


def _missing(names: Sequence[str]) -> ApiError:
    return validation_error(
        [(name, "Kan ikke være null.") for name in names], code=15000, message="Validation failed"
    )


def _param_error(name: str, raw: str, what: str) -> ApiError:
    return ApiError(
        422,
        21000,
        f"Illegal value for parameter {name}: {raw!r} is not {what}.",
        validation=[(name, f"Verdien er ikke av korrekt type ({what}).")],
    )


@dataclass
class Call:
    """One authenticated API call as a handler sees it."""

    method: str
    path: str
    params: tuple[str, ...]
    query: Mapping[str, list[str]]
    json: Any
    body_ok: bool
    host: str
    today: date
    count_max: int
    company: Company

    # --- parameters ------------------------------------------------------------------------

    def raw(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def require(self, *names: str) -> None:
        """A 422 (15000) naming every required parameter that is missing or empty."""
        missing = [n for n in names if not (self.raw(n) or "").strip()]
        if missing:
            raise _missing(missing)

    def text(self, name: str) -> str | None:
        raw = self.raw(name)
        return raw if raw not in (None, "") else None

    def day(self, name: str, *, required: bool = False) -> date | None:
        raw = self.text(name)
        if raw is None:
            if required:
                raise _missing([name])
            return None
        try:
            return date.fromisoformat(raw) if len(raw) == 10 else _bad_date()
        except ValueError:
            raise validation_error(
                [(name, f"Ugyldig dato: {raw!r} (format YYYY-MM-DD).")],
                code=15000,
                message="Validation failed",
            ) from None

    def integer(self, name: str, default: int | None = None) -> int | None:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            return int(raw)
        except ValueError:
            raise _param_error(name, raw, "an integer") from None

    def boolean(self, name: str, default: bool | None = None) -> bool | None:
        raw = self.text(name)
        if raw is None:
            return default
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise _param_error(name, raw, "true or false")

    def number(self, name: str) -> Decimal | None:
        raw = self.text(name)
        if raw is None:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            raise _param_error(name, raw, "a number") from None
        if not value.is_finite():
            raise _param_error(name, raw, "a number")
        return value

    def ids(self, name: str) -> set[int] | None:
        """A "List of IDs" parameter (comma separated)."""
        raw = self.text(name)
        if raw is None:
            return None
        try:
            return {int(part) for part in raw.split(",") if part.strip()}
        except ValueError:
            raise _param_error(name, raw, "a comma separated list of ids") from None

    def enum(self, name: str, allowed: Sequence[str]) -> str | None:
        raw = self.text(name)
        if raw is not None and raw not in allowed:
            raise validation_error(
                [(name, f"Ugyldig verdi {raw!r}; gyldige verdier: {', '.join(allowed)}.")],
                code=15000,
                message="Validation failed",
            )
        return raw

    def date_range(self, start: str, end: str) -> tuple[date, date]:
        """Two required dates, ``start`` inclusive and ``end`` exclusive (``end`` after it)."""
        self.require(start, end)
        first, last = self.day(start), self.day(end)
        assert first is not None and last is not None
        if last <= first:
            raise validation_error(
                [(end, f"{end} må være etter {start}.")], code=15000, message="Validation failed"
            )
        return first, last

    # --- answers ---------------------------------------------------------------------------

    @property
    def fields(self) -> FieldTree:
        return parse_fields(self.raw("fields"))

    @property
    def shaper(self) -> Shaper:
        return shaper(self.host, self.company)

    def page(self) -> Page:
        start = self.integer("from", 0)
        count = self.integer("count", 1000)
        assert start is not None and count is not None
        if start < 0 or count < 0:
            name = "from" if start < 0 else "count"
            raise validation_error(
                [(name, "Kan ikke være negativ.")], code=15000, message="Validation failed"
            )
        if count > self.count_max:
            raise ApiError(
                422,
                23000,
                f"Result set too large: count {count} is above the maximum {self.count_max}.",
                validation=[("count", f"Maks {self.count_max}.")],
            )
        return Page(start, count)


def _bad_date() -> date:
    raise ValueError("not YYYY-MM-DD")


@dataclass(frozen=True, slots=True)
class Page:
    start: int
    count: int


def sort_keys(*fields: str, **named: Callable[[Any], Any]) -> dict[str, Callable[[Any], Any]]:
    """The sort keys of :func:`sort_items` by Tripletex field name: each of ``fields`` (dotted
    for a field of a nested record) reads the record's attribute of that name in snake case
    (``customer.customerNumber``: ``customer.customer_number``); ``named`` gives the others."""
    keys: dict[str, Callable[[Any], Any]] = {
        field: attrgetter(re.sub(r"(?<=[a-z])(?=[A-Z])", "_", field).lower()) for field in fields
    }
    return keys | named


def sort_items(
    items: list[T], sorting: str | None, keys: Mapping[str, Callable[[T], Any]]
) -> list[T]:
    """Sort by Tripletex's ``sorting`` (comma list, ``-`` for descending); stable, so the
    default order (by id) breaks ties. An unknown field is a 422 (17000)."""
    if not sorting or not sorting.strip():
        return items
    parts = [p.strip() for p in sorting.split(",") if p.strip()]
    for part in reversed(parts):
        name = part.lstrip("-")
        key = keys.get(name)
        if key is None:
            raise ApiError(
                422,
                17000,
                f"Illegal sorting field: {name}",
                developer_message=f"Sortable here: {', '.join(sorted(keys))}.",
            )
        items = sorted(items, key=key, reverse=part.startswith("-"))
    return items


def _text_of(call: Call, obj: object, tree: FieldTree, sh: Shaper) -> str:
    """One record's JSON text. Invoices (what the hub reads by the thousand) cache it per
    host, ``fields`` and version: every change that shows in an invoice's answer bumps its
    version (a posting joining its close group, a credit note), and what its links reach
    (customer, order, lines, voucher) does not change once made."""
    cache: dict[tuple[str, str], tuple[int, str]] | None = getattr(obj, "_cache", None)
    if cache is None:
        model, doc = render(obj, sh)
        return dumps(sh.shape(model, doc, tree))
    version: int = getattr(obj, "version", 0)
    key = (call.host, call.raw("fields") or "*")
    hit = cache.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    model, doc = render(obj, sh)
    text = dumps(sh.shape(model, doc, tree))
    cache[key] = (version, text)
    return text


def list_answer(call: Call, items: Sequence[object], *, extra: str = "") -> Result:
    """The list envelope over one page of ``items`` (``fullResultSize`` is the number of
    matches, ``count`` the number returned)."""
    page = call.page()
    tree = call.fields
    sh = call.shaper
    chosen = items[page.start : page.start + page.count]
    values = ",".join(_text_of(call, obj, tree, sh) for obj in chosen)
    head = (
        f'{{"fullResultSize":{len(items)},"from":{page.start},"count":{len(chosen)},'
        f'"versionDigest":{dumps(DIGEST)}{extra},"values":[{values}]}}'
    )
    return Result(200, head)


def single_answer(call: Call, obj: object, status: int = 200) -> Result:
    """``{"value": ...}``."""
    tree = call.fields
    return Result(status, f'{{"value":{_text_of(call, obj, tree, call.shaper)}}}')
