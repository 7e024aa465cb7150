"""The JSON writer of the fake accounting servers: compact text with each ``Decimal`` written as
a JSON number digit for digit (``Decimal("1250.50")`` -> ``1250.50``), never through
``float``, and a ``date`` as its ISO string.

The fakes write every answer with it, so it is built for speed: the C encoder writes each
Decimal as a marked string whose quotes and markers are then cut out. (The plugins' writer,
:func:`hub.toolkit.wire.dumps`, writes request bodies, refuses floats and knows no dates.)
Reading is :func:`hub.toolkit.wire.loads`.
"""

from __future__ import annotations

import json
import secrets
from datetime import date
from decimal import Decimal

__all__ = ["dumps"]

# A Decimal is handed to the C encoder as a string between two markers that no real text
# contains (a NUL and a random token); the quoted markers are then cut out of the JSON text.
_TOKEN = secrets.token_hex(8)
_OPEN, _CLOSE = f"\x00{_TOKEN}<", f">{_TOKEN}\x00"
_OPEN_IN_JSON = '"' + json.dumps(_OPEN)[1:-1]
_CLOSE_IN_JSON = json.dumps(_CLOSE)[1:-1] + '"'


def _encode_default(value: object) -> object:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value} is not a JSON number")
        return f"{_OPEN}{value:f}{_CLOSE}"
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


_ENCODER = json.JSONEncoder(default=_encode_default, ensure_ascii=False, separators=(",", ":"))


def dumps(value: object) -> str:
    """Compact JSON text of ``value``; a ``Decimal`` becomes a JSON number, a ``date`` its ISO
    string."""
    text = _ENCODER.encode(value)
    if _OPEN_IN_JSON in text:
        text = text.replace(_OPEN_IN_JSON, "").replace(_CLOSE_IN_JSON, "")
    return text
