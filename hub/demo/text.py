"""How ``hub demo`` writes amounts and counts for people."""

from __future__ import annotations

from decimal import Decimal


def amount(value: Decimal) -> str:
    """``1234.5`` as ``1.234,50``: the way Danish and Norwegian readers write money."""
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
