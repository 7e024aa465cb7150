"""Amounts as a person types them (hub.amounts.parse_amount): the one parser behind recurring
agreement lines, rules, flow fees and case amounts, so every front end refuses the same."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hub.amounts import parse_amount
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
        ("1_000", "digits and at most one decimal point"),
        ("١٢", "digits and at most one decimal point"),  # Arabic-Indic digits
        ("1.", "digits and at most one decimal point"),
        ("12,50", "digits and at most one decimal point"),
        ("", "digits and at most one decimal point"),
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
        parse_amount("1.005", what="x")
