"""Building one of the fakes' records from another: a record often takes most of its fields,
by the same names, from the one it is made of (a booked invoice from its draft, a ledger entry
from its planned entry, a posting from the validated input)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

__all__ = ["carry", "fields_of"]

R = TypeVar("R")


_NAMES: dict[type, tuple[str, ...]] = {}


def _names(kind: type) -> tuple[str, ...]:
    """``kind``'s field names (kept: this runs for every record a fake makes)."""
    names = _NAMES.get(kind)
    if names is None:
        names = _NAMES[kind] = tuple(f.name for f in fields(kind))
    return names


def fields_of(record: object, kind: type | None = None) -> dict[str, Any]:
    """``record``'s fields (those ``kind``, a dataclass, also has), by name, not copied."""
    if kind is None:
        return {name: getattr(record, name) for name in _names(type(record))}
    return {name: getattr(record, name) for name in _names(kind) if hasattr(record, name)}


def carry(kind: type[R], source: object, **given: Any) -> R:
    """A ``kind`` record with the fields ``source`` has by the same names, and ``given``."""
    return kind(**{**fields_of(source, kind), **given})
