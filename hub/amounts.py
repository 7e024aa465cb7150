"""Amounts: typed by a person (CLI options, rules, flow steps), exact, finite, two decimals; and
the one VAT split of a part of an invoice (the write-off's voucher, a plugin's credit note);
and the one way an amount is written for a person in a language (letters, the CLI's tables)."""

from __future__ import annotations

import re
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


def parse_amount(raw: str, *, what: str, minimum: Decimal = Decimal(0)) -> Decimal:
    """``raw`` as an exact amount ≥ ``minimum`` with at most two decimals; else an InputError
    naming ``what`` and the reason. Exponent notation, NaN, infinities (:func:`plain_decimal`)
    and amounts too large to store are refused."""
    try:
        value = plain_decimal(raw)
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
