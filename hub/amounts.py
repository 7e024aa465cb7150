"""Amounts typed by a person (CLI options, rules, flow steps): exact, finite, two decimals."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from hub.errors import InputError

#: The largest amount the money columns hold (NUMERIC(18, 2)).
LIMIT = Decimal(10) ** 16
CENT = Decimal("0.01")


def parse_amount(raw: str, *, what: str, minimum: Decimal = Decimal(0)) -> Decimal:
    """``raw`` as an exact amount ≥ ``minimum`` with at most two decimals; else an InputError
    naming ``what`` and the reason. NaN, infinities and amounts too large to store are refused."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or abs(value) >= LIMIT:
        raise InputError(f"{what}: {raw!r} is not an amount like 100.00")
    if value < minimum:
        raise InputError(f"{what}: {raw!r} must be {minimum} or more")
    if value != value.quantize(CENT):
        raise InputError(f"{what}: {raw!r} has more than two decimals")
    return value.quantize(CENT)
