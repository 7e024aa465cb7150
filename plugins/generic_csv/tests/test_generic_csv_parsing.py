"""Amounts, dates, encodings and delimiters as real exports write them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from generic_csv.parsing import (
    UNDECIDED,
    DecimalMark,
    ValueProblem,
    decode,
    detect_decimal_mark,
    detect_delimiter,
    parse_amount,
    parse_date,
    parse_language,
)
from hypothesis import given
from hypothesis import strategies as st

COMMA, POINT = DecimalMark(","), DecimalMark(".")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1.234,50", "1234.50"),
        ("1,234.50", "1234.50"),
        ("1 234,50", "1234.50"),
        ("1\u00a0234,50", "1234.50"),
        ("1\u202f234,50", "1234.50"),
        ("1234.5", "1234.5"),
        ("1234,5", "1234.5"),
        ("-12,00", "-12.00"),
        ("12,00-", "-12.00"),
        ("\u221212,00", "-12.00"),
        ("+7", "7"),
        ("0", "0"),
        ("0,123", "0.123"),
        ("1.234.567", "1234567"),
        ("1,234,567.89", "1234567.89"),
        ("1.234.567,89", "1234567.89"),
        ("12345,678", "12345.678"),
        ("  99,95 ", "99.95"),
    ],
)
def test_amount_spellings(raw: str, expected: str) -> None:
    value, affix = parse_amount(raw)
    assert isinstance(value, Decimal)
    assert value == Decimal(expected)
    assert str(value) == expected  # exact digits, not just an equal number
    assert affix is None


@pytest.mark.parametrize(
    ("raw", "affix"),
    [
        ("kr. 1.234,50", "KR"),
        ("1.234,50 kr", "KR"),
        ("DKK 1.234,50", "DKK"),
        ("1.234,50 nok", "NOK"),
        ("-kr 5,00", "KR"),
        ("EUR -5,00", "EUR"),
    ],
)
def test_currency_affix_is_stripped_and_returned(raw: str, affix: str) -> None:
    value, found = parse_amount(raw)
    assert abs(value) in (Decimal("1234.50"), Decimal("5.00"))
    assert found == affix


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12,3x",
        "abc",
        "1,2,3",
        "1.23.456",
        "12 34",
        "--1",
        "-1-",
        "1.234,5.6",
        "1,,5",
        "kr 5 DKK",
        "1e5",
        "NaN",
        "½",
        "١٢",
    ],
)
def test_not_amounts(raw: str) -> None:
    with pytest.raises(ValueProblem):
        parse_amount(raw, COMMA)


def test_ambiguous_amount_needs_the_files_decimal_mark() -> None:
    with pytest.raises(ValueProblem, match="ambiguous"):
        parse_amount("1,234")
    assert parse_amount("1,234", COMMA)[0] == Decimal("1.234")
    assert parse_amount("1,234", POINT)[0] == Decimal("1234")
    assert parse_amount("1.234", COMMA)[0] == Decimal("1234")
    assert parse_amount("1.234", POINT)[0] == Decimal("1.234")


def test_decimal_mark_of_a_file() -> None:
    assert detect_decimal_mark(["1,234", "12,50"]).mark == ","
    assert detect_decimal_mark(["1.234", "1.234.567"]).mark == ","
    assert detect_decimal_mark(["1,234", "7.5"]).mark == "."
    assert detect_decimal_mark(["1,234", "1,000"]) == UNDECIDED
    mixed = detect_decimal_mark(["1,50", "2.50"])
    assert mixed.mark is None and "both" in mixed.reason
    assert detect_decimal_mark(["garbage", "3,25"]).mark == ","


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-01-31", dt.date(2024, 1, 31)),
        ("31-01-2024", dt.date(2024, 1, 31)),
        ("31.01.2024", dt.date(2024, 1, 31)),
        ("31/01/2024", dt.date(2024, 1, 31)),
        ("1.2.2024", dt.date(2024, 2, 1)),
        ("29.02.2024", dt.date(2024, 2, 29)),
    ],
)
def test_dates(raw: str, expected: dt.date) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "31.02.2024",
        "2024/01/31",
        "31.01.24",
        "01-31-2024",
        "2024-1-31",
        "Jan 31 2024",
        "2024-01-31T00:00:00",
        "",
    ],
)
def test_not_dates(raw: str) -> None:
    with pytest.raises(ValueProblem):
        parse_date(raw)


def test_decode_utf8_bom_and_windows_1252() -> None:
    text = "Kundenavn\nÆblegården Ø/Å\n"
    assert decode(text.encode("utf-8")) == text
    assert decode(b"\xef\xbb\xbf" + text.encode("utf-8")) == text
    assert decode(text.encode("cp1252")) == text
    assert decode(text.encode("utf-16")) == text
    with pytest.raises(ValueProblem, match="neither"):
        decode(b"abc\x81def\xff")  # 0x81 is undefined in Windows-1252


def test_delimiter_detection() -> None:
    assert detect_delimiter(["Fakturanr;Kunde;Beløb", "1;A;1.234,50", "2;B;2,50"]) == ";"
    assert detect_delimiter(["a\tb\tc", "1\t2,5\t3"]) == "\t"
    assert detect_delimiter(["a,b,c", '1,"2,5",3']) == ","
    # A comma inside a ;-file's header does not fool it.
    assert detect_delimiter(["Nr;Navn;Beløb, DKK", "1;A, B;1,50", "2;C;2,50"]) == ";"
    assert detect_delimiter(["single"]) == ","


def test_languages() -> None:
    assert [parse_language(v) for v in ("da", "DA", "da-DK", "Dansk", "no", "nb_NO", "en")] == [
        "da",
        "da",
        "da",
        "da",
        "nb",
        "nb",
        "en",
    ]
    with pytest.raises(ValueProblem):
        parse_language("klingon")


# ----------------------------------------------------------------- property: format -> parse

#: name -> (thousands separator, decimal mark)
STYLES = {
    "danish": (".", ","),
    "english": (",", "."),
    "space": (" ", ","),
    "nbsp": ("\u00a0", ","),
    "space_point": (" ", "."),
    "plain_comma": ("", ","),
    "plain_point": ("", "."),
}


def _group(digits: str, sep: str) -> str:
    if not sep:
        return digits
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return sep.join(parts)


def _format(value: Decimal, style: str, decimals: str, sign: str, affix: str) -> str:
    group, mark = STYLES[style]
    integer, _, fraction = f"{abs(value):.2f}".partition(".")
    if decimals == "trim":
        fraction = fraction.rstrip("0")
    elif decimals == "drop" and fraction == "00":
        fraction = ""
    body = _group(integer, group) + (mark + fraction if fraction else "")
    negative = value < 0
    if negative and sign == "trailing":
        body += "-"
    elif negative:
        body = ("\u2212" if sign == "unicode" else "-") + body
    if affix == "prefix":
        body = "DKK " + body
    elif affix == "suffix":
        body += " kr."
    return body


@given(
    value=st.decimals(
        min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False
    ),
    style=st.sampled_from(sorted(STYLES)),
    decimals=st.sampled_from(["keep", "trim", "drop"]),
    sign=st.sampled_from(["leading", "trailing", "unicode"]),
    affix=st.sampled_from(["none", "prefix", "suffix"]),
)
def test_formatted_amounts_parse_back_exactly(
    value: Decimal, style: str, decimals: str, sign: str, affix: str
) -> None:
    text = _format(value, style, decimals, sign, affix)
    mark = STYLES[style][1]
    parsed, _ = parse_amount(text, DecimalMark(mark))
    assert isinstance(parsed, Decimal)
    assert parsed == value, text
    # On its own, a value never proves the wrong decimal mark.
    assert detect_decimal_mark([text]).mark in (None, mark), text
