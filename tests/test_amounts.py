"""Amounts as a person types them (hub.amounts.parse_amount): the one parser behind recurring
agreement lines, rules, flow fees and case amounts, so every front end refuses the same."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub.amounts import LIMIT, parse_amount
from hub.errors import InputError


@pytest.mark.parametrize(
    ("raw", "value"),
    [("1000", "1000.00"), ("12.5", "12.50"), (" 7 ", "7.00"), ("-3.10", "-3.10"), ("+2", "2.00")],
)
def test_plain_numbers_are_amounts(raw: str, value: str) -> None:
    assert parse_amount(raw, what="x", minimum=Decimal("-10")) == Decimal(value)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        # Decimal() reads all of these; none is an amount a person meant (issue 16: 1e3).
        ("1e3", "exponent notation: write the number out"),
        ("1E+3", "exponent notation"),
        ("2.5e-1", "exponent notation"),
        ("1e30000", "exponent notation"),
        ("NaN", "not a finite number"),
        ("sNaN", "not a finite number"),
        ("Infinity", "not a finite number"),
        ("-inf", "not a finite number"),
        ("1_000", "digits, one decimal comma or point"),
        ("١٢", "digits, one decimal comma or point"),  # Arabic-Indic digits
        ("1.", "digits, one decimal comma or point"),
        ("", "digits, one decimal comma or point"),
        # grouped by the decimal mark itself, or badly grouped
        ("1.500.00", "thousands grouped by '.', ',' or a space only where"),
        ("1,500,00", "thousands grouped"),
        ("12 34", "thousands grouped"),
        ("1.50.000", "thousands grouped"),
        ("1,2,3", "thousands grouped"),
    ],
)
def test_other_spellings_are_refused_with_the_reason(raw: str, why: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_amount(raw, what="--line 'x': quantity")
    assert str(caught.value).startswith(f"--line 'x': quantity: {raw!r} is not an amount like")
    assert why in str(caught.value)


def test_too_large_and_too_precise_are_refused() -> None:
    with pytest.raises(InputError, match="too large"):
        parse_amount("1" + "0" * 16, what="x")
    with pytest.raises(InputError, match="more than two decimals"):
        parse_amount("1234.567", what="x")
    with pytest.raises(InputError, match="more than two decimals"):
        parse_amount("0,005", what="x")


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("300,00", "300.00"),  # a Danish user's --amount (issue 20)
        ("300.00", "300.00"),
        ("1.500,00", "1500.00"),
        ("1,500.00", "1500.00"),
        ("1 500,00", "1500.00"),
        ("1\u00a0500,00", "1500.00"),  # no-break space, as a spreadsheet copies it
        ("1\u202f500.00", "1500.00"),  # narrow no-break space
        ("1 500", "1500.00"),
        ("1500", "1500.00"),
        ("1,5", "1.50"),
        ("1.50", "1.50"),
        ("0,500", "0.50"),  # no thousands group starts with 0
        ("1.234.567", "1234567.00"),  # two groups: only thousands
        ("1,234,567.8", "1234567.80"),
        ("-1.234,56", "-1234.56"),
    ],
)
def test_amounts_as_people_write_them(raw: str, value: str) -> None:
    assert parse_amount(raw, what="x", minimum=Decimal("-10000")) == Decimal(value)


@pytest.mark.parametrize(
    ("raw", "thousands", "decimal", "advice"),
    [
        ("1.500", "1500", "1.5", "write 1500 (or 1.500,00) or 1.50"),
        ("1,500", "1500", "1,5", "write 1500 (or 1,500.00) or 1,50"),
        ("12.345", "12345", "12.345", "write 12345 (or 12.345,00)"),
    ],
)
def test_a_single_separator_before_three_digits_is_refused_naming_both_readings(
    raw: str, thousands: str, decimal: str, advice: str
) -> None:
    with pytest.raises(InputError) as caught:
        parse_amount(raw, what="--amount")
    message = str(caught.value)
    assert message.startswith(f"--amount: {raw!r} is not an amount")
    assert f"ambiguous: {thousands} if {raw[-4]!r} groups thousands" in message
    assert f"{decimal} if it is the decimal mark" in message
    assert advice in message


def _grouped(integer: str, group: str) -> str:
    head = len(integer) % 3 or 3
    return group.join([integer[:head], *(integer[i : i + 3] for i in range(head, len(integer), 3))])


#: (thousands separator or None, decimal mark): the ways an amount is written.
STYLES = [
    (None, "."),
    (None, ","),
    (".", ","),
    (",", "."),
    (" ", ","),
    (" ", "."),
    ("\u00a0", ","),
    ("\u202f", ","),
]


@given(
    cents=st.integers(min_value=-(int(LIMIT) * 100 - 1), max_value=int(LIMIT) * 100 - 1),
    style=st.sampled_from(STYLES),
    decimals=st.sampled_from([0, 1, 2]),
)
def test_every_amount_written_in_every_style_reads_back_as_itself(
    cents: int, style: tuple[str | None, str], decimals: int
) -> None:
    value = Decimal(cents).scaleb(-2)
    group, mark = style
    if value != round(value, decimals):
        decimals = 2
    if group is not None:
        decimals = 2  # grouped without decimals, 1.500 would read two ways
    text = f"{abs(value):.{decimals}f}"
    integer, _, fraction = text.partition(".")
    if group is not None:
        integer = _grouped(integer, group)
    written = ("-" if value < 0 else "") + integer + (mark + fraction if fraction else "")
    assert parse_amount(written, what="x", minimum=-LIMIT) == value
