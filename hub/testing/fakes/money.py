"""Amounts in the fake accounting servers: ``Decimal`` with two places throughout."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from hub.amounts import CENT, ZERO

__all__ = ["CENT", "HUNDRED", "ZERO", "money"]

HUNDRED = Decimal(100)


def money(value: Decimal | int | str) -> Decimal:
    """``value`` rounded half-up to two places; never ``-0.00``."""
    amount = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    return ZERO if amount.is_zero() else amount
