"""Output for humans (rich tables) and machines (JSON with amounts as strings, dates ISO:
:func:`hub.records.to_json`, which the console's API writes with too)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from hub.records import json_value, to_json

T = TypeVar("T")

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def emit_json(data: Any) -> None:
    # print() rather than rich: JSON must reach pipes byte for byte, never wrapped or styled.
    print(to_json(data))


def text(value: Any) -> str:
    """A cell for a human table: amounts with two decimals, dates ISO, sets comma-separated."""
    if value is None:
        return ""
    if isinstance(value, frozenset | set):
        return ", ".join(sorted(value))
    if isinstance(value, Decimal | dt.date | Enum):
        return str(json_value(value))
    return str(value)


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    right: Iterable[str] = (),
) -> None:
    aligned = set(right)
    tbl = Table(title=title, show_lines=False)
    for col in columns:
        tbl.add_column(col, justify="right" if col in aligned else "left", overflow="fold")
    for row in rows:
        tbl.add_row(*(text(v) for v in row))
    console.print(tbl)


def say(message: str) -> None:
    console.print(message, markup=False)


#: A column of a listing: the key of the row's value, or how the cell is made from the row.
Cell = str | Callable[[Mapping[str, Any]], Any]


def listing(
    title: str,
    rows: Sequence[Mapping[str, Any]],
    json_out: bool,
    columns: Mapping[str, Cell],
    *,
    right: Iterable[str] = (),
) -> None:
    """A list command's output: the rows as JSON with --json, else a table whose columns are
    ``columns``' headers, each cell the row's value at the key given (or made by the function
    given)."""
    if json_out:
        emit_json(rows)
        return
    table(
        title,
        list(columns),
        ([row[c] if isinstance(c, str) else c(row) for c in columns.values()] for row in rows),
        right=right,
    )


def json_or(data: T, json_out: bool, human: Callable[[T], None]) -> None:
    """A show command's output: ``data`` as JSON with --json, else as ``human`` prints it."""
    if json_out:
        emit_json(data)
    else:
        human(data)
