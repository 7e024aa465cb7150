"""The hub's idempotency key as it is written into a Tripletex document, to be found again.

Tripletex has no idempotency key of its own, so the plugin writes the hub's key into the
document it makes (a voucher's ``externalVoucherNumber``, an order's ``reference``) and looks
for it before writing. ``externalVoucherNumber`` holds at most 70 characters, so a key too
long for that is written as a digest of itself: still one text per key, the same every time.
"""

from __future__ import annotations

import hashlib

PREFIX = "receivables-hub"
#: ``Voucher.externalVoucherNumber``: "Maximum 70 characters" (Tripletex's spec).
MAX_CHARS = 70


def marker(key: str) -> str:
    """``receivables-hub <key>`` when it fits in 70 characters, else
    ``receivables-hub sha256:<the first hex digits of the key's SHA-256>`` (70 characters)."""
    text = f"{PREFIX} {key}"
    if len(text) <= MAX_CHARS:
        return text
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{PREFIX} sha256:{digest}"[:MAX_CHARS]
