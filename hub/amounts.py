"""Amounts: typed by a person (CLI options, rules, flow steps), exact, finite, two decimals; and
the one VAT split of a part of an invoice (the write-off's voucher, a plugin's credit note);
and the one way an amount is written for a person in a language (letters, the CLI's tables)."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Context, Decimal

from hub.errors import InputError

#: The largest amount the money columns hold (NUMERIC(18, 2)).
LIMIT = Decimal(10) ** 16
CENT = Decimal("0.01")
ZERO = Decimal("0.00")

#: The thousands separator of Norwegian amounts: NO-BREAK SPACE, so "1 234,50" never wraps.
NB_GROUP_SEPARATOR = "\u00a0"
#: (thousands separator, decimal separator) of each language amounts are written in.
NUMBER_SEPARATORS: dict[str, tuple[str, str]] = {
    "da": (".", ","),
    "nb": (NB_GROUP_SEPARATOR, ","),
    "en": (",", "."),
}


#: A number as a person writes it: ASCII digits, at most one decimal point with digits on both
#: sides, an optional sign.
_PLAIN = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?")
_EXPONENT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)[eE][+-]?[0-9]+")
_NOT_FINITE = re.compile(r"[+-]?(?:s?nan[0-9]*|inf|infinity)", re.IGNORECASE)


def plain_decimal(raw: str) -> Decimal:
    """``raw`` (surrounding blanks ignored) as a Decimal, if it is written the plain way
    (``1000``, ``-12.50``); else a ``ValueError`` saying why.

    ``Decimal()`` alone reads far more: ``1e3``, ``NaN``, ``Infinity``, ``1_000``, and digits of
    other scripts. None of these is a quantity or an amount someone meant to type (``1e3`` is
    a slip for 1 000 units more often than a way to write it), so all are refused here, at the
    one parser every front end's amounts go through."""
    text = raw.strip()
    if _PLAIN.fullmatch(text):
        return Decimal(text)
    if _EXPONENT.fullmatch(text):
        raise ValueError("exponent notation: write the number out")
    if _NOT_FINITE.fullmatch(text):
        raise ValueError("not a finite number")
    raise ValueError("digits and at most one decimal point, nothing else")


_SIGNED = re.compile(r"(?P<sign>[+-]?)(?P<body>.*)", re.DOTALL)
#: A whole number grouped in thousands by one mark (``.``, ``,``, a space, a no-break space or a
#: narrow no-break space, as Danish, Norwegian and English writing and spreadsheets do), and an
#: optional fraction after the other decimal mark: ``1.500,00``, ``1,500.00``, ``1 500,00``,
#: ``1.234.567``.
_GROUPED = re.compile(
    r"(?P<int>[0-9]{1,3}(?:(?P<group>[., \u00a0\u202f])[0-9]{3})(?:(?P=group)[0-9]{3})*)"
    r"(?:(?P<mark>[.,])(?P<fraction>[0-9]+))?"
)
#: Digits, at most one decimal mark (comma or point) with digits on both sides.
_UNGROUPED = re.compile(r"(?P<int>[0-9]+)(?:(?P<mark>[.,])(?P<fraction>[0-9]+))?")


def written_decimal(raw: str) -> Decimal:
    """``raw`` (surrounding blanks ignored) as a Decimal, written the way a person writes an
    amount: a decimal comma or point (``300,00``, ``300.00``), thousands grouped by ``.``,
    ``,``, a space or a no-break space when the other mark is the decimal mark or the grouping
    cannot be a fraction (``1.500,00``, ``1,500.00``, ``1 500,00``, ``1.234.567``), an optional
    sign; else a ``ValueError`` saying why and how to write it.

    ``1.500`` and ``1,500`` read two ways (fifteen hundred, or one and a half with a third
    decimal): refused, naming both readings, never guessed. Exponents, NaN and infinities are
    refused as by :func:`plain_decimal`."""
    text = raw.strip()
    if _EXPONENT.fullmatch(text):
        raise ValueError("exponent notation: write the number out")
    if _NOT_FINITE.fullmatch(text):
        raise ValueError("not a finite number")
    signed = _SIGNED.fullmatch(text)
    assert signed is not None  # matches any text
    sign, body = signed["sign"], signed["body"]
    ungrouped = _UNGROUPED.fullmatch(body)
    if ungrouped is not None:
        integer, mark, fraction = ungrouped["int"], ungrouped["mark"], ungrouped["fraction"]
        if mark is not None and len(fraction) == 3 and len(integer) <= 3 and integer[0] != "0":
            other = "," if mark == "." else "."
            decimal_reading = f"{integer}{mark}{fraction.rstrip('0')}"
            as_decimals = f" or {integer}{mark}{fraction[:2]}" if fraction.endswith("0") else ""
            raise ValueError(
                f"ambiguous: {integer}{fraction} if {mark!r} groups thousands,"
                f" {decimal_reading} if it is the decimal mark;"
                f" write {integer}{fraction} (or {integer}{mark}{fraction}{other}00){as_decimals}"
            )
        return Decimal(f"{sign}{integer}.{fraction}" if mark else f"{sign}{integer}")
    grouped = _GROUPED.fullmatch(body)
    if grouped is not None and grouped["group"] != grouped["mark"]:
        integer = grouped["int"].replace(grouped["group"], "")
        fraction = grouped["fraction"]
        return Decimal(f"{sign}{integer}.{fraction}" if fraction else f"{sign}{integer}")
    raise ValueError(
        "digits, one decimal comma or point, and thousands grouped by '.', ',' or a space"
        " only where the decimal mark is the other one"
    )


def parse_amount(raw: str, *, what: str, minimum: Decimal = Decimal(0)) -> Decimal:
    """``raw`` as an exact amount ≥ ``minimum`` with at most two decimals; else an InputError
    naming ``what`` and the reason. Written as a person writes it (:func:`written_decimal`:
    ``300,00``, ``1.500,00``, ``1,500.00``, ``1 500``); ambiguous spellings (``1.500``),
    exponent notation, NaN, infinities and amounts too large to store are refused."""
    try:
        value = written_decimal(raw)
    except ValueError as exc:
        raise InputError(f"{what}: {raw!r} is not an amount like 100.00 ({exc})") from None
    if abs(value) >= LIMIT:
        raise InputError(f"{what}: {raw!r} is too large (the limit is {LIMIT:,})")
    if value < minimum:
        raise InputError(f"{what}: {raw!r} must be {minimum} or more")
    if value != value.quantize(CENT):
        raise InputError(f"{what}: {raw!r} has more than two decimals")
    return value.quantize(CENT)


def split_vat(amount: Decimal, *, gross: Decimal, vat: Decimal) -> tuple[Decimal, Decimal]:
    """(net, VAT) of ``amount`` (VAT included) of an invoice of ``gross`` with ``vat`` in it:
    the invoice's VAT share, rounded half up to the cent; net + VAT == ``amount``. The whole
    invoice gives exactly its own VAT; an invoice of no gross amount, none."""
    if amount == gross:
        share = vat
    elif gross <= 0:
        share = ZERO
    else:
        share = (amount * vat / gross).quantize(CENT, rounding=ROUND_HALF_UP)
    return amount - share, share


def format_number(amount: Decimal, language: str) -> str:
    """``amount`` as ``language`` (a key of :data:`NUMBER_SEPARATORS`) writes it, without a
    currency: ``1.234,50`` (da), ``1 234,50`` (nb, a NO-BREAK SPACE), ``1,234.50`` (en).

    Exact: quantized to 0.01 with ROUND_HALF_UP for display only, never via float; an ASCII
    minus sign, and an amount that rounds to zero is ``0.00`` without one.

    :raises TypeError: ``amount`` is not a Decimal (a float is never an amount).
    :raises ValueError: the amount is not finite, or the language is unknown.
    """
    if not isinstance(amount, Decimal):
        raise TypeError(f"amount must be a Decimal, not {type(amount).__name__} ({amount!r})")
    if not amount.is_finite():
        raise ValueError(f"amount must be finite, not {amount}")
    try:
        group, point = NUMBER_SEPARATORS[language]
    except KeyError:
        raise ValueError(
            f"language {language!r}: amounts are written in {', '.join(NUMBER_SEPARATORS)}"
        ) from None
    # Enough precision that quantize never fails, however large the amount.
    context = Context(prec=max(28, amount.adjusted() + 4))
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP, context=context)
    sign = "-" if cents < 0 else ""  # -0.00 (e.g. -0.001 rounded) is shown as 0.00
    whole, fraction = f"{cents.copy_abs():f}".split(".")
    head = len(whole) % 3 or 3
    groups = [whole[:head]] + [whole[i : i + 3] for i in range(head, len(whole), 3)]
    return f"{sign}{group.join(groups)}{point}{fraction}"


_LOCALE_LANGUAGES = {"da": "da", "nb": "nb", "nn": "nb", "no": "nb"}


def locale_language(environ: Mapping[str, str] | None = None) -> str:
    """How the user's locale writes numbers: ``da``, ``nb`` or ``en`` (the default).

    The locale is the first set of LC_ALL, LC_NUMERIC and LANG, as POSIX reads them: ``da*``
    is Danish (1.234,50), ``nb*``, ``nn*`` and ``no*`` Norwegian (1 234,50), anything else
    (``C``, ``en_GB.UTF-8``, unset) English (1,234.50)."""
    env = os.environ if environ is None else environ
    value = next((v for name in ("LC_ALL", "LC_NUMERIC", "LANG") if (v := env.get(name))), "")
    base = re.split(r"[-_.@]", value.strip().lower(), maxsplit=1)[0]
    return _LOCALE_LANGUAGES.get(base, "en")
