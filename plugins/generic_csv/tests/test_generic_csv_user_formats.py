"""Exports in the user's formats (issue 20): the client's own currency when the file names
none, a declared decimal mark, and a total row at the end skipped and named, never silently."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from generic_csv import plugin

from hub.errors import InvalidDataError, SettingsError
from hub.model import ClientContext
from hub.testing.contexts import plugin_context

D = Decimal
WriteFile = Callable[..., Path]

HEADER = "Fakturanr;Kundenr;Fakturadato;Forfaldsdato;Brutto\n"


def _ctx(tmp_path: Path, currency: str = "DKK", **settings: str) -> ClientContext:
    values = {
        "invoices_path": str(tmp_path / "invoices.csv"),
        "outbox_dir": str(tmp_path / "outbox"),
        **settings,
    }
    return plugin_context(
        plugin.system_info(), values, today=dt.date(2026, 1, 20), currency=currency
    )


def test_without_a_currency_column_the_clients_own_currency_is_used(
    tmp_path: Path, write_file: WriteFile
) -> None:
    write_file("invoices.csv", HEADER + "1;C1;01.01.2026;31.01.2026;10,00\n")
    [nok] = plugin.fetch_open_invoices(_ctx(tmp_path, "NOK"))
    assert nok.currency == "NOK"
    [set_] = plugin.fetch_open_invoices(_ctx(tmp_path, "NOK", default_currency="dkk"))
    assert set_.currency == "DKK"  # the setting, when given, wins


@pytest.mark.parametrize(
    ("mark", "cells", "amounts"),
    [
        ("comma", ["1.500", "2.750"], [D("1500"), D("2750")]),
        ("comma", ["1,500", "12"], [D("1.5"), D("12")]),
        ("point", ["1,500", "2,750"], [D("1500"), D("2750")]),
        ("point", ["1.500", "12"], [D("1.5"), D("12")]),
    ],
)
def test_the_declared_decimal_mark_settles_what_the_file_cannot(
    tmp_path: Path, write_file: WriteFile, mark: str, cells: list[str], amounts: list[Decimal]
) -> None:
    rows = "".join(f"{n};C1;01.01.2026;31.01.2026;{c}\n" for n, c in enumerate(cells, 1))
    write_file("invoices.csv", HEADER + rows)
    with pytest.raises(InvalidDataError, match="ambiguous"):
        plugin.fetch_open_invoices(_ctx(tmp_path))  # auto: nothing in the file tells
    invoices = plugin.fetch_open_invoices(_ctx(tmp_path, decimal_mark=mark))
    assert [i.gross_amount for i in invoices] == amounts


def test_an_amount_against_the_declared_mark_is_an_error(
    tmp_path: Path, write_file: WriteFile
) -> None:
    write_file("invoices.csv", HEADER + "1;C1;01.01.2026;31.01.2026;12.50\n")
    with pytest.raises(InvalidDataError) as caught:
        plugin.fetch_open_invoices(_ctx(tmp_path, decimal_mark="comma"))
    assert "'12.50' has '.' as its decimal mark, but the setting decimal_mark says comma" in str(
        caught.value
    )
    assert caught.value.where == "invoices.csv:2"


def test_decimal_mark_must_be_auto_comma_or_point(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="decimal_mark must be one of auto, comma, point"):
        plugin.fetch_open_invoices(_ctx(tmp_path, decimal_mark="dot"))


@pytest.mark.parametrize(
    "footer",
    [
        "I alt;;;;1.510,00",
        ";;;;\nTotal;;;;1.510,00",  # a line of delimiters only carries no data
        "Totalt:;;;;1.510,00",
        ";Sum;;;1.510,00",  # the label in another column, no invoice number
        "Samlet beløb;;;;1.510,00",
    ],
)
def test_a_total_row_at_the_end_is_skipped_and_named(
    tmp_path: Path, write_file: WriteFile, footer: str
) -> None:
    body = "1;C1;01.01.2026;31.01.2026;1.500,00\n2;C2;01.01.2026;31.01.2026;10,00\n"
    write_file("invoices.csv", HEADER + body + footer + "\n")
    ctx = _ctx(tmp_path)
    invoices = plugin.fetch_open_invoices(ctx)
    assert [i.invoice_number for i in invoices] == ["1", "2"]
    assert len(ctx.notes) == 1
    assert "skipped the total row" in ctx.notes[0]
    assert ctx.notes[0].startswith("invoices.csv:")


def test_a_total_row_with_an_invoice_number_or_before_invoices_is_an_error(
    tmp_path: Path, write_file: WriteFile
) -> None:
    row = "1;C1;01.01.2026;31.01.2026;10,00\n"
    write_file("invoices.csv", HEADER + row + ";Total;;;10,00\n2;C2;01.01.2026;31.01.2026;5,00\n")
    with pytest.raises(InvalidDataError, match="looks like a total row, but invoices follow it"):
        plugin.fetch_open_invoices(_ctx(tmp_path))
    write_file("invoices.csv", HEADER + row + "9;Total;;;10,00\n")
    with pytest.raises(InvalidDataError) as caught:
        plugin.fetch_open_invoices(_ctx(tmp_path))
    assert caught.value.where == "invoices.csv:3"  # read as an invoice, and a bad one
    write_file("invoices.csv", HEADER + row + "I alt;;;31.01.2026;10,00\n")
    with pytest.raises(InvalidDataError):  # a due date: not recognisably a total
        plugin.fetch_open_invoices(_ctx(tmp_path))
