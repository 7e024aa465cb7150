"""How ``hub demo`` writes amounts and counts for people."""

from __future__ import annotations

from decimal import Decimal

from hub.amounts import format_number, locale_language


def amount(value: Decimal, currency: str | None = None) -> str:
    """``1234.5`` as the user's locale writes it (``1,234.50``; ``1.234,50`` under ``da``),
    and ``1,234.50 DKK`` with ``currency``: the demo writes amounts as the hub's own commands
    show them."""
    text = format_number(value, locale_language())
    return f"{text} {currency}" if currency else text


def danish_amount(value: Decimal) -> str:
    """``1234.5`` as ``1.234,50``: the way a Danish accounting export writes money."""
    return format_number(value, "da")


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 case``, ``2 cases``; ``many`` where the plural is not ``word + s``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
