"""Output for humans (rich tables) and machines (JSON with amounts as strings, dates ISO:
:func:`hub.records.to_json`, which the console's API writes with too).

A table is for reading at a glance: at most :data:`MAX_WIDTH` columns wide (narrower on a
narrower terminal), a light box without side borders, short cells (ids, names, amounts, dates,
states) never broken over lines, and only the free-text columns a command names in ``wrap``
wrapped. Nothing is ever cut off with an ellipsis: a table too wide leaves out the columns its
command names ``optional``, and failing that breaks its widest other cells over lines (see
:func:`_fit`), so a command chooses its columns to fit 80 columns without either.
Amounts are written the way the user's locale writes numbers (:func:`locale_language`), right
aligned; a table of one currency says which in its title, a table of several puts the code
beside each amount."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from hub.amounts import format_number, locale_language
from hub.records import json_value, to_json

T = TypeVar("T")

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

#: The widest a table is drawn, however wide the terminal: wider is harder to read.
MAX_WIDTH = 100


def amount(value: Decimal, currency: str | None = None) -> str:
    """An amount as the user's locale writes it, with the currency code after it if given."""
    number = format_number(value, locale_language())
    return f"{number} {currency}" if currency else number


def emit_json(data: Any) -> None:
    # print() rather than rich: JSON must reach pipes byte for byte, never wrapped or styled.
    print(to_json(data))


def text(value: Any) -> str:
    """A cell for a human table: amounts in the user's locale, dates ISO, collections joined
    by commas (never a Python repr)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return amount(value)
    if isinstance(value, frozenset | set):
        return ", ".join(sorted(text(v) for v in value))
    if isinstance(value, Mapping):
        return ", ".join(f"{k} {text(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(text(v) for v in value)
    if isinstance(value, dt.date | Enum):
        return str(json_value(value))
    return str(value)


def _numeric(values: list[Any]) -> bool:
    present = [v for v in values if v is not None and v != ""]
    return bool(present) and all(
        isinstance(v, Decimal | int) and not isinstance(v, bool) for v in present
    )


#: The narrowest a wrapped (free-text) column is made when fitting a table.
_WRAP_MIN = 12
_GAP = 2


def _natural(header: str, cells: Iterable[str]) -> int:
    """The width a column's longest line needs (its header's included)."""
    return max(cell_len(line) for cell in [header, *cells] for line in cell.splitlines() or [""])


def _fit(
    columns: Sequence[str],
    cells: list[list[str]],
    kept: list[int],
    wrapped: set[str],
    optional: Sequence[str],
    width: int,
) -> tuple[dict[int, int], set[int]]:
    """The columns of ``kept`` drawn within ``width``, each with its width, and those of them
    whose cells may break over lines.

    A column not named in ``wrapped`` is as wide as its longest cell: an id, a date, an
    amount, a state or a name is never cut. A wrapped (free-text) column is at least
    :data:`_WRAP_MIN` wide (or its longest cell, if shorter) and shares the width left. While
    that does not fit: the ``optional`` columns are left out, first named first; then the
    widest column that is not wrapped is made to break over lines as well (whole, never
    ellipsized) until the table fits or no column is left to break."""
    natural = {i: _natural(columns[i], (row[i] for row in cells)) for i in kept}
    folding = {i for i in kept if columns[i] in wrapped}

    def least(i: int) -> int:
        return min(natural[i], _WRAP_MIN) if i in folding else natural[i]

    def needed(shown: list[int]) -> int:
        return sum(least(i) for i in shown) + _GAP * (len(shown) - 1)

    shown = list(kept)
    for name in optional:
        if needed(shown) <= width:
            break
        shown = [i for i in shown if columns[i] != name]
    while needed(shown) > width:
        rigid = [i for i in shown if i not in folding and natural[i] > _WRAP_MIN]
        if not rigid:
            break
        folding.add(max(rigid, key=lambda i: natural[i]))
    widths = {i: natural[i] for i in shown if i not in folding}
    left = width - sum(widths.values()) - _GAP * (len(shown) - 1)
    # The width left shared by the folding columns in proportion to the width each would
    # take, none narrower than its least nor wider than it needs.
    pending = [i for i in shown if i in folding]
    while pending:
        total = sum(natural[i] for i in pending) or 1
        share = {i: left * natural[i] // total for i in pending}
        bound = next((i for i in pending if not least(i) < share[i] < natural[i]), None)
        if bound is None:
            widest = max(pending, key=lambda i: natural[i])
            share[widest] += left - sum(share.values())
            widths.update(share)
            break
        widths[bound] = least(bound) if share[bound] <= least(bound) else natural[bound]
        left -= widths[bound]
        pending.remove(bound)
    return {i: widths[i] for i in shown}, folding


def table(
    title: str | None,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    right: Iterable[str] = (),
    wrap: Iterable[str] = (),
    optional: Sequence[str] = (),
) -> None:
    """A table: ``right`` names columns aligned right besides those of numbers (amounts, ids,
    counts are found by their values); ``wrap`` the free-text columns that may wrap over lines
    (every other column keeps each cell on one line); ``optional`` the columns left out, first
    named first, while the table is too wide for the terminal (a line below says which)."""
    materialised = [list(row) for row in rows]
    cells = [[text(v) for v in row] for row in materialised]
    aligned, wrapped = set(right), set(wrap)
    width = min(console.width, MAX_WIDTH)
    # A column empty in every row says nothing: left out (all of them kept for no rows).
    kept = [i for i in range(len(columns)) if not cells or any(r[i] for r in cells)]
    fitting, folding = _fit(columns, cells, kept, wrapped, optional, width)
    left_out = [columns[i] for i in kept if i not in fitting]
    kept = list(fitting)
    tbl = Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        padding=(0, 1, 0, 0),  # with the blank column rule: two spaces between columns
        header_style="bold",
    )
    for index in kept:
        col = columns[index]
        numeric = _numeric([row[index] for row in materialised])
        tbl.add_column(
            col,
            justify="right" if col in aligned or numeric else "left",
            width=fitting[index],
            no_wrap=index not in folding,
            overflow="fold",
        )
    for row in cells:
        tbl.add_row(*(row[i] for i in kept))
    console.print(tbl, width=width)
    if left_out:
        say(f"({', '.join(left_out)} left out to fit {width} columns; see --json)")


def say(message: str) -> None:
    console.print(message, markup=False)


def prose(body: str) -> None:
    """Text as written (a letter's), its long lines wrapped between words to fit the terminal
    (at most :data:`MAX_WIDTH`); ``--json`` gives it byte for byte."""
    for line in body.splitlines() or [""]:
        console.print(
            line, markup=False, soft_wrap=False, width=min(console.width, MAX_WIDTH), end="\n"
        )


#: A column of a listing: the key of the row's value, or how the cell is made from the row.
Cell = str | Callable[[Mapping[str, Any]], Any]


def listing(
    title: str,
    rows: Sequence[Mapping[str, Any]],
    json_out: bool,
    columns: Mapping[str, Cell],
    *,
    right: Iterable[str] = (),
    wrap: Iterable[str] = (),
    money: Iterable[str] = (),
    currency: Cell | None = None,
    empty: str | None = None,
    optional: Sequence[str] = (),
) -> None:
    """A list command's output: the rows as JSON with --json, else a table whose columns are
    ``columns``' headers, each cell the row's value at the key given (or made by the function
    given).

    ``money`` names the amount columns and ``currency`` the row's currency (a key or a
    function): one currency is said in the title, several in a currency column after the
    amounts. ``empty``: said instead of an empty table. ``optional``: see :func:`table`."""
    if json_out:
        emit_json(rows)
        return
    if not rows and empty is not None:
        say(empty)
        return

    def value(row: Mapping[str, Any], cell: Cell) -> Any:
        return row[cell] if isinstance(cell, str) else cell(row)

    amounts = [h for h in columns if h in set(money)]
    currencies = {value(row, currency) for row in rows} if currency is not None else set()
    if len(currencies) == 1:
        title = f"{title}, amounts in {next(iter(currencies))}"
    elif currency is not None and amounts:  # several: a column of them after the last amount
        after = list(columns).index(amounts[-1]) + 1
        items = list(columns.items())
        columns = dict([*items[:after], ("cur", currency), *items[after:]])
    table(
        title,
        list(columns),
        ([value(row, c) for c in columns.values()] for row in rows),
        right={*right, *amounts},
        wrap=wrap,
        optional=optional,
    )


def json_or(data: T, json_out: bool, human: Callable[[T], None]) -> None:
    """A show command's output: ``data`` as JSON with --json, else as ``human`` prints it."""
    if json_out:
        emit_json(data)
    else:
        human(data)
