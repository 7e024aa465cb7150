"""Amounts and dates as the hub writes them to people, for a front end that shows them.

The console shows an amount exactly as a letter in the same language writes it (one function,
:func:`format_amount`), so a page and the letter it lists never disagree: ``1.234,50 kr.`` in
Danish, ``1 234,50 kr`` in Norwegian (a no-break space between the thousands), ``DKK 1,234.50``
in English; a currency other than the language's own is written by its code (``1.234,50 NOK``).
"""

from __future__ import annotations

from hub.dunning import letters

__all__ = ["LANGUAGES", "format_amount"]

#: The languages the hub writes: Danish, Norwegian (bokmål), English.
LANGUAGES = letters.LANGUAGES

#: ``format_amount(Decimal("1234.5"), "DKK", "da") == "1.234,50 kr."``
format_amount = letters.format_amount
