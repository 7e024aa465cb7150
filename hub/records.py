"""Records: frozen dataclasses whose JSON is their fields, and records made from an object
that has attributes of the same names (a table row, another record).

A result the CLI prints as JSON mixes in :class:`Record`: its ``as_dict`` is its fields in
the order declared. A field's metadata may give it another name there (``field(metadata=
json_name("customer"))``) or leave it out (``field(metadata=NOT_IN_JSON)``), so the dict
stays exactly what ``--json`` has always printed.

:func:`to_json` is the one writer of that JSON: the CLI's ``--json`` and the console's HTTP API
both print through it, so the two cannot differ (amounts as strings with two decimals, dates
and times ISO, enums by value, sets sorted).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import fields
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, TypeVar, cast

from hub.amounts import CENT

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")

#: Field metadata: the field is left out of ``as_dict``.
NOT_IN_JSON: dict[str, Any] = {"json": None}


def json_name(name: str) -> dict[str, Any]:
    """Field metadata: the field is called ``name`` in ``as_dict``."""
    return {"json": name}


def record_dict(record: DataclassInstance, *, text: bool = False) -> dict[str, Any]:
    """The record's fields by their JSON names; with ``text``, dates ISO and amounts as
    ``str(Decimal)`` (for a dict printed as it is, not through the CLI's JSON writer)."""
    values: dict[str, Any] = {}
    for f in fields(record):
        name = f.metadata.get("json", f.name)
        if name is not None:
            value = getattr(record, f.name)
            values[name] = _text(value) if text else value
    return values


def _text(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(kind: type) -> tuple[str, ...]:
    """``kind``'s field names, kept: the fakes make records by the thousand."""
    names = _NAMES.get(kind)
    if names is None:
        names = _NAMES[kind] = tuple(f.name for f in fields(kind))
    return names


def fields_of(record: object, kind: type | None = None) -> dict[str, Any]:
    """``record``'s fields by name (with ``kind``, a dataclass: those of ``kind``'s fields that
    ``record`` has), not copied."""
    if kind is None:
        return {name: getattr(record, name) for name in _names(type(record))}
    return {name: getattr(record, name) for name in _names(kind) if hasattr(record, name)}


def made_from(cls: type[R], source: object, **given: Any) -> R:
    """A ``cls`` with the ``given`` values and, for its other fields, ``source``'s attributes
    of the same names."""
    return cls(**{**fields_of(source, cls), **given})


class Record:
    """Mixin for a dataclass whose ``as_dict`` is its fields (see the module's docstring)."""

    def as_dict(self) -> dict[str, Any]:
        return record_dict(cast("DataclassInstance", self))


def json_value(value: Any) -> Any:
    """A value JSON has no type for, as the hub writes it: an amount (Decimal) as a string with
    two decimals (more only if it has more), a date or time ISO, an enum by its value, a set
    sorted.

    :raises TypeError: any other type (a record must be made a dict first: ``as_dict()``).
    """
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(CENT) else str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def to_json(data: Any, *, indent: int | None = 2) -> str:
    """``data`` (dicts, lists and the values :func:`json_value` knows) as the hub's JSON."""
    return json.dumps(data, default=json_value, ensure_ascii=False, indent=indent)
