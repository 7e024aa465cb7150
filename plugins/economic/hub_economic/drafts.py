"""Draft invoices and booking them, once per idempotency key.

Credit notes and invoices are both made the e-conomic way: ``POST /invoices/drafts``, then
``POST /invoices/booked`` with the draft's number. Each POST carries an ``Idempotency-Key``
derived from the hub's key (``<key>:draft``, ``<key>:book``), so a POST retried after a lost
answer is answered from e-conomic's cache instead of being applied twice.

e-conomic remembers a key for one hour. The hub's contract asks for more (the same key after
a crash and a restart, days later, must not write twice), so every document also carries the
hub's key in ``references.other`` (filterable on drafts and booked invoices), and a write first
looks for it:

* a booked invoice with the key: done before; its number is the answer, nothing is written;
* a draft with the key (the draft was made, booking it was not): that draft is booked;
* neither: a draft is made and booked.

So a write costs two look-ups before its POSTs; writes are rare, and the look-ups are what
makes "once" hold beyond e-conomic's hour.
"""

from __future__ import annotations

import hashlib
from typing import Any

from hub.errors import InvalidDataError
from hub_economic import mapping
from hub_economic.client import NAME, EconomicClient, Json
from hub_economic.mapping import Where

DRAFTS = "/invoices/drafts"
BOOKED = "/invoices/booked"
KEY_PREFIX = "receivables-hub"
_REFERENCE_MAX = 250  # references.other holds at most 250 characters


def marker(key: str) -> str:
    """The text put in ``references.other`` to find the document of ``key`` again.

    The hub's key as it is when it fits, else a digest of it (still one text per key).
    """
    text = f"{KEY_PREFIX} {key}"
    if len(text) <= _REFERENCE_MAX:
        return text
    return f"{KEY_PREFIX} sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"


def idempotency_key(key: str, step: str) -> str:
    """The ``Idempotency-Key`` of one POST of the write ``key`` (distinct per step)."""
    return f"{KEY_PREFIX}:{key}:{step}"


def filter_value(text: str) -> str:
    """``text`` escaped for an e-conomic filter value: ``$ ( ) * ,`` get a ``$`` before them.

    Brackets are sent as they are: e-conomic refuses ``$[`` and ``$]`` (reference §2).
    """
    return "".join(f"${c}" if c in "$()*," else c for c in text)


def _one(client: EconomicClient, path: str, text: str) -> Json | None:
    items = client.collection(path, {"filter": f"references.other$eq:{filter_value(text)}"})
    if len(items) > 1:
        numbers = [i.get("bookedInvoiceNumber", i.get("draftInvoiceNumber")) for i in items]
        raise InvalidDataError(
            f"{len(items)} documents carry the reference {text!r} ({numbers}); the hub made at"
            " most one, so a person must look at them",
            plugin=NAME,
            where=f"{client.base_url}{path}",
        )
    return items[0] if items else None


def find_booked(client: EconomicClient, key: str) -> Json | None:
    """The booked invoice (or credit note) made for ``key``, if there is one."""
    return _one(client, BOOKED, marker(key))


def find_draft(client: EconomicClient, key: str) -> Json | None:
    """The draft invoice made for ``key`` and not booked yet, if there is one."""
    return _one(client, DRAFTS, marker(key))


def booked_number(body: Any, url: str) -> int:
    if not isinstance(body, dict):
        raise InvalidDataError("the answer is not a booked invoice object", plugin=NAME, where=url)
    return mapping.number(body, "bookedInvoiceNumber", Where(url, None, "booked invoice"))


def draft_number(body: Any, url: str) -> int:
    if not isinstance(body, dict):
        raise InvalidDataError("the answer is not a draft invoice object", plugin=NAME, where=url)
    return mapping.number(body, "draftInvoiceNumber", Where(url, None, "draft invoice"))


def create_draft(
    client: EconomicClient, key: str, body: Json, doing: str, *, step: str = "draft"
) -> Json:
    """``POST /invoices/drafts``: the new draft (with its ``draftInvoiceNumber``)."""
    answer = client.post(DRAFTS, body, idempotency_key=idempotency_key(key, step), doing=doing)
    draft_number(answer, f"{client.base_url}{DRAFTS}")
    result: Json = answer
    return result


def book(client: EconomicClient, key: str, draft: int, doing: str) -> int:
    """``POST /invoices/booked`` for draft ``draft``: the booked invoice's number."""
    answer = client.post(
        BOOKED,
        {"draftInvoice": {"draftInvoiceNumber": draft}},
        idempotency_key=idempotency_key(key, "book"),
        doing=doing,
    )
    return booked_number(answer, f"{client.base_url}{BOOKED}")
