"""Amounts: typed by a person (CLI options, rules, flow steps), exact, finite, two decimals; and
the one VAT split of a part of an invoice (the write-off's voucher, a plugin's credit note)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from hub.errors import InputError

#: The largest amount the money columns hold (NUMERIC(18, 2)).
LIMIT = Decimal(10) ** 16
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


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
