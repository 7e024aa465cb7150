"""How ``hub demo`` writes amounts and counts for people."""

from __future__ import annotations

from decimal import Decimal


def amount(value: Decimal, currency: str | None = None) -> str:
    """``1234.5`` as ``1234.50`` (and ``1234.50 DKK`` with ``currency``): the demo tells its
    story in English, and writes amounts as the hub's own commands show them."""
    text = f"{value:.2f}"
    return f"{text} {currency}" if currency else text


def danish_amount(value: Decimal) -> str:
    """``1234.5`` as ``1.234,50``: the way a Danish accounting export writes money."""
    whole, _, cents = f"{value:.2f}".partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups: list[str] = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return f"{sign}{'.'.join(groups)},{cents}"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 case``, ``2 cases``; ``many`` where the plural is not ``word + s``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
