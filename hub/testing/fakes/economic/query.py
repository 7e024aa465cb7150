"""Collections for the fake e-conomic server: ``filter=``, ``sort=``, paging (see
:mod:`hub.testing.fakes.economic` for what is faithful and what is simplified).

The filter grammar is e-conomic's [S1 ``_introduction.md`` "Filtering"]:

* a predicate is ``property$op:value``; operators ``$eq: $ne: $gt: $gte: $lt: $lte: $like:
  $in: $nin:``; predicates are joined with ``$and:`` / ``$or:`` and grouped with parentheses
  (``$and:`` binds tighter than ``$or:``);
* ``$in:``/``$nin:`` take ``[v1,v2,...]``, numeric properties only, at most 200 values;
* ``$null:`` is a *value* (``ean$eq:$null:``); escapes ``$$ $( $) $* $,``. ``$[``/``$]`` are
  refused: live, brackets must not be escaped [S2 legacy-verification];
* ``*`` is a wildcard (``$like:`` without one means *contains*); string comparison is
  case-insensitive;
* only the properties the endpoint's schema marks ``"filterable": true`` may be used; anything
  else, and any syntax error, is a 400 with e-conomic's filter error body
  (``errors`` as a list of strings plus ``allowedFilteringFields``) [S2 live capture].
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal, TypeVar
from urllib.parse import quote

from hub.testing.fakes.economic.model import ApiError

__all__ = [
    "FILTER_OPERATORS",
    "CollectionSpec",
    "FieldType",
    "Page",
    "apply_query",
    "page_links",
    "parse_filter",
]

FieldType = Literal["int", "number", "string", "date", "datetime", "bool"]
T = TypeVar("T")
Getter = Callable[[T, str], object]

# Longest first, so "$gte:" is not read as "$gt:" followed by "e:".
FILTER_OPERATORS = ("$gte:", "$lte:", "$like:", "$nin:", "$eq:", "$ne:", "$gt:", "$lt:", "$in:")
MAX_IN_VALUES = 200
_FIELD_RE = re.compile(r"[A-Za-z][A-Za-z0-9.]*")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME_RE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:T(\d{2}:\d{2}(?::\d{2})?)Z?)?")
_FILTER_HINT = "Filtering on collections can be done using the querystring parameter 'filter'."


@dataclass(frozen=True)
class CollectionSpec:
    """What one collection endpoint allows: filterable fields with their JSON types, sortable
    fields, and the property the collection is ordered by when no ``sort`` is given."""

    fields: Mapping[str, FieldType]
    sortable: frozenset[str]
    default_sort: str


@dataclass(frozen=True)
class Page:
    """One page of a collection, with everything the ``pagination`` object needs."""

    items: list[object]
    skip_pages: int
    page_size: int
    results: int
    results_without_filter: int


class _Wildcard:
    """An unescaped ``*`` in a filter value."""


WILDCARD = _Wildcard()
_NULL = object()  # the value $null:
Segment = str | _Wildcard


@dataclass(frozen=True)
class _Predicate:
    field: str
    op: str
    value: object  # list[Segment] for scalars, list[str | _NULL] for $in:/$nin:, or _NULL


@dataclass(frozen=True)
class _Bool:
    op: Literal["and", "or"]
    parts: tuple[_Node, ...]


_Node = _Predicate | _Bool


def _filter_error(
    errors: Sequence[str], spec: CollectionSpec, *, unknown_field: bool = False
) -> ApiError:
    body: dict[str, object] = {
        "message": "Could not parse query string filter.",
        "developerHint": _FILTER_HINT,
        "errors": list(errors),
    }
    if unknown_field:
        body["allowedFilteringFields"] = sorted(spec.fields)
        body["allowedFilteringOperators"] = [op[:-1] for op in FILTER_OPERATORS] + ["$and", "$or"]
        body["escapeCharacters"] = ["$$", "$(", "$)", "$*", "$,"]
    return ApiError(400, body)


_JOINS: tuple[tuple[str, Literal["and", "or"]], ...] = (
    ("$or:", "or"),
    ("$and:", "and"),
)  # loosest first


class _Parser:
    def __init__(self, text: str, spec: CollectionSpec) -> None:
        self.s = text
        self.i = 0
        self.spec = spec

    def fail(self, message: str, *, unknown_field: bool = False) -> ApiError:
        return _filter_error([message], self.spec, unknown_field=unknown_field)

    def parse(self) -> _Node:
        node = self.expr(0)
        if self.i != len(self.s):
            raise self.fail(f"Unexpected '{self.s[self.i]}' at position {self.i}.")
        return node

    def expr(self, depth: int, level: int = 0) -> _Node:
        """Terms joined by ``$and:``, those joined by ``$or:`` (``$and:`` binds tighter)."""
        if level == len(_JOINS):
            return self.term(depth)
        token, kind = _JOINS[level]
        parts = [self.expr(depth, level + 1)]
        while self.s.startswith(token, self.i):
            self.i += len(token)
            parts.append(self.expr(depth, level + 1))
        return parts[0] if len(parts) == 1 else _Bool(kind, tuple(parts))

    def term(self, depth: int) -> _Node:
        if self.s.startswith("(", self.i):
            self.i += 1
            node = self.expr(depth + 1)
            if not self.s.startswith(")", self.i):
                raise self.fail("Missing ')'.")
            self.i += 1
            return node
        node = self.predicate()
        if self.s.startswith(")", self.i) and depth == 0:
            raise self.fail(f"Unbalanced ')' at position {self.i}.")
        return node

    def predicate(self) -> _Predicate:
        match = _FIELD_RE.match(self.s, self.i)
        if match is None:
            raise self.fail(f"Expected a property name at position {self.i}.")
        name = match.group()
        self.i = match.end()
        op = next((o for o in FILTER_OPERATORS if self.s.startswith(o, self.i)), None)
        if op is None:
            raise self.fail(f"Expected an operator after '{name}' at position {self.i}.")
        self.i += len(op)
        if name not in self.spec.fields:
            raise self.fail(f"Filtering is not allowed on property '{name}'.", unknown_field=True)
        if op in ("$in:", "$nin:"):
            return _Predicate(name, op, self.list_value(name, op))
        return _Predicate(name, op, self.scalar_value())

    def list_value(self, name: str, op: str) -> list[object]:
        if self.spec.fields[name] not in ("int", "number"):
            raise self.fail(f"The {op} operator is only allowed on numeric properties ('{name}').")
        if not self.s.startswith("[", self.i):
            raise self.fail(f"The {op} operator needs a list in brackets, e.g. {name}{op}[1,2].")
        end = self.s.find("]", self.i)
        if end < 0:
            raise self.fail("Missing ']'.")
        raw = self.s[self.i + 1 : end]
        self.i = end + 1
        values: list[object] = [
            _NULL if v.strip() == "$null:" else v.strip() for v in raw.split(",") if v.strip()
        ]
        if not values:
            raise self.fail(f"The {op} list is empty.")
        if len(values) > MAX_IN_VALUES:
            raise self.fail(
                f"The {op} operator allows at most {MAX_IN_VALUES} values, got {len(values)}."
            )
        return values

    def scalar_value(self) -> object:
        if self.s.startswith("$null:", self.i):
            self.i += 6
            return _NULL
        segments: list[Segment] = []
        s = self.s
        while self.i < len(s):
            if s.startswith("$and:", self.i) or s.startswith("$or:", self.i) or s[self.i] == ")":
                break
            c = s[self.i]
            if c == "(":
                raise self.fail(f"Unescaped '(' at position {self.i}; escape it as '$('.")
            if c == "$":
                nxt = s[self.i + 1 : self.i + 2]
                if nxt and nxt in "$()*,":
                    segments.append(nxt)
                    self.i += 2
                    continue
                if nxt in ("[", "]"):
                    raise self.fail(f"'${nxt}' is not an escape e-conomic accepts; send '{nxt}'.")
                raise self.fail(f"Unescaped '$' at position {self.i}; escape it as '$$'.")
            segments.append(WILDCARD if c == "*" else c)
            self.i += 1
        return segments


def parse_filter(text: str, spec: CollectionSpec) -> _Node:
    """Parse a ``filter=`` value (already URL-decoded); :class:`ApiError` 400 if it is invalid."""
    if not text:
        raise _filter_error(["The filter is empty."], spec)
    return _Parser(text, spec).parse()


# --- evaluation -------------------------------------------------------------------------------


def _typed(field: str, ftype: FieldType, raw: str, spec: CollectionSpec) -> object:
    """A filter value as the Python value it is compared with; 400 if it is not of the type."""
    try:
        if ftype in ("int", "number"):
            number = Decimal(raw)
            if not number.is_finite():
                raise InvalidOperation
            return number
        if ftype == "bool":
            if raw.lower() not in ("true", "false"):
                raise ValueError
            return raw.lower() == "true"
        if ftype == "date":
            if not _DATE_RE.fullmatch(raw):
                raise ValueError
            date.fromisoformat(raw)
            return raw
        if ftype == "datetime":
            match = _DATETIME_RE.fullmatch(raw)
            if not match:
                raise ValueError
            clock = match.group(2) or "00:00:00"
            return f"{match.group(1)}T{clock if len(clock) == 8 else clock + ':00'}Z"
    except (InvalidOperation, ValueError):
        raise _filter_error(
            [f"Value '{raw}' is not valid for property '{field}' ({ftype})."], spec
        ) from None
    return raw.casefold()


def _stored(ftype: FieldType, value: object) -> object:
    """A stored property value, normalised the same way as :func:`_typed` normalises."""
    if value is None:
        return False if ftype == "bool" else None
    if ftype in ("int", "number"):
        return value if isinstance(value, Decimal) else Decimal(str(value))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and ftype == "string":
        return value.casefold()
    return value


def _glob(segments: list[Segment], *, contains: bool) -> re.Pattern[str]:
    parts = [".*" if isinstance(seg, _Wildcard) else re.escape(seg.casefold()) for seg in segments]
    pattern = "".join(parts)
    if contains:
        pattern = f".*{pattern}.*"
    return re.compile(pattern, re.DOTALL)


def _compile(node: _Node, spec: CollectionSpec, get: Getter[T]) -> Callable[[T], bool]:
    if isinstance(node, _Bool):
        parts = [_compile(p, spec, get) for p in node.parts]
        if node.op == "and":
            return lambda obj: all(p(obj) for p in parts)
        return lambda obj: any(p(obj) for p in parts)
    field, op, ftype = node.field, node.op, spec.fields[node.field]
    if op in ("$in:", "$nin:"):
        assert isinstance(node.value, list)
        want_null = any(v is _NULL for v in node.value)
        wanted = {_typed(field, ftype, v, spec) for v in node.value if isinstance(v, str)}
        negate = op == "$nin:"

        def member(obj: T) -> bool:
            value = _stored(ftype, get(obj, field))
            hit = want_null if value is None else value in wanted
            return hit != negate

        return member
    if node.value is _NULL:
        if op not in ("$eq:", "$ne:"):
            raise _filter_error([f"$null: can only be used with $eq: and $ne: ('{field}')."], spec)
        is_null = op == "$eq:"
        return lambda obj: (_stored(ftype, get(obj, field)) is None) == is_null
    assert isinstance(node.value, list)
    segments: list[Segment] = node.value
    wild = any(isinstance(seg, _Wildcard) for seg in segments)
    if op == "$like:" or (wild and op in ("$eq:", "$ne:")):
        if ftype != "string":
            raise _filter_error([f"Wildcards and $like: need a text property ('{field}')."], spec)
        pattern = _glob(segments, contains=op == "$like:" and not wild)
        negate = op == "$ne:"
        return lambda obj: (
            (isinstance(v := get(obj, field), str) and pattern.fullmatch(v.casefold()) is not None)
            != negate
        )
    text = "".join(seg for seg in segments if isinstance(seg, str))
    want = _typed(field, ftype, text, spec)
    if op == "$eq:":
        return lambda obj: _stored(ftype, get(obj, field)) == want
    if op == "$ne:":
        return lambda obj: _stored(ftype, get(obj, field)) != want
    if ftype == "bool":
        raise _filter_error([f"{op} is not allowed on the boolean property '{field}'."], spec)
    compare: Callable[[object, object], bool] = {
        "$gt:": lambda a, b: a > b,
        "$gte:": lambda a, b: a >= b,
        "$lt:": lambda a, b: a < b,
        "$lte:": lambda a, b: a <= b,
    }[op]

    def ordered(obj: T) -> bool:
        value = _stored(ftype, get(obj, field))
        return value is not None and compare(value, want)

    return ordered


def _sort(items: list[T], sort: str, spec: CollectionSpec, get: Getter[T]) -> None:
    keys: list[tuple[str, bool, bool]] = []
    for token in sort.split(","):
        name = token.strip()
        desc = alpha = False
        while name[:1] in ("-", "~"):
            desc, alpha = desc or name[0] == "-", alpha or name[0] == "~"
            name = name[1:]
        if name not in spec.sortable:
            raise ApiError(
                400,
                {
                    "message": "Could not parse query string sort parameter.",
                    "developerHint": "Sorting is only allowed on properties marked sortable in "
                    "the collection's schema.",
                    "errors": [f"Sorting is not allowed on property '{name}'."],
                    "allowedSortingFields": sorted(spec.sortable),
                },
            )
        keys.append((name, desc, alpha))
    for name, desc, alpha in reversed(keys):
        ftype = spec.fields.get(name, "string")

        def key(obj: T, name: str = name, ftype: FieldType = ftype, alpha: bool = alpha) -> object:
            value = _stored(ftype, get(obj, name))
            if value is None:
                return (0, "")
            return (1, str(value).casefold()) if alpha else (1, value)

        items.sort(key=key, reverse=desc)  # type: ignore[arg-type]


def _int_param(query: Mapping[str, str], name: str, default: int) -> int | None:
    raw = query.get(name)
    if raw is None:
        return default
    return int(raw) if raw.isdigit() else None


def apply_query(
    items: Sequence[T],
    query: Mapping[str, str],
    spec: CollectionSpec,
    get: Getter[T],
    *,
    max_page_size: int,
    default_page_size: int = 20,
) -> Page:
    """Filter, sort and page ``items`` (already in default order) for a collection request.

    ``query`` has lower-case keys. 400 :class:`ApiError` for a bad ``pagesize`` (not a whole
    number in 1..max: ``E04810`` [S2]), ``skippages``, ``filter`` or ``sort``.
    """
    size = _int_param(query, "pagesize", default_page_size)
    if size is None or not 1 <= size <= max_page_size:
        raise ApiError(
            400,
            {
                "message": f"pagesize must be a positive whole number between 1 and "
                f"{max_page_size}.",
                "errorCode": "E04810",
                "developerHint": f"Use pagesize between 1 and {max_page_size} and skippages to "
                "page through the collection.",
            },
        )
    skip = _int_param(query, "skippages", 0)
    if skip is None:
        raise ApiError(
            400,
            {
                "message": "skippages must be a whole number, 0 or greater.",
                "errorCode": "E04810",
                "developerHint": "skippages is the 0-based index of the page to return.",
            },
        )
    selected: list[T] = list(items)
    if "filter" in query:
        predicate = _compile(parse_filter(query["filter"], spec), spec, get)
        selected = [item for item in selected if predicate(item)]
    if query.get("sort"):
        _sort(selected, query["sort"], spec, get)
    start = skip * size
    return Page(
        items=list(selected[start : start + size]),
        skip_pages=skip,
        page_size=size,
        results=len(selected),
        results_without_filter=len(items),
    )


def page_links(
    base: str, path: str, page: Page, query: Mapping[str, str], max_page_size: int
) -> dict[str, object]:
    """The ``pagination`` object: ``nextPage`` only when there is a next page [S3, S7]."""
    extra = "".join(
        f"&{name}={quote(query[name], safe='')}" for name in ("filter", "sort") if query.get(name)
    )

    def url(n: int) -> str:
        return f"{base}{path}?skippages={n}&pagesize={page.page_size}{extra}"

    last = max(0, -(-page.results // page.page_size) - 1)
    links: dict[str, object] = {
        "maxPageSizeAllowed": max_page_size,
        "skipPages": page.skip_pages,
        "pageSize": page.page_size,
        "results": page.results,
        "resultsWithoutFilter": page.results_without_filter,
        "firstPage": url(0),
    }
    if page.skip_pages < last:
        links["nextPage"] = url(page.skip_pages + 1)
    links["lastPage"] = url(last)
    return links
