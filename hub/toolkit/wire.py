"""JSON on the wire, with amounts as :class:`~decimal.Decimal` both ways.

Accounting APIs send amounts as JSON numbers (e-conomic's ``"remainder": 1250.50``,
Tripletex's ``"amountOutstanding": 1250.50``). Read with the standard library's defaults they
would become binary floats; :func:`loads` makes every number with a fraction or an exponent a
``Decimal`` and refuses ``NaN``/``Infinity``, which are not JSON.

The standard library cannot write a ``Decimal`` as a JSON number at all (httpx's ``json=``
calls :func:`json.dumps`), so :func:`dumps` writes request bodies itself (the clients of
:func:`hub.toolkit.http.make_client` use it for every ``json=``): a ``Decimal`` is
written digit for digit (``-1250.50`` stays ``-1250.50``), and a ``float`` is refused, so no
amount can go out through binary floating point by mistake.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def loads(content: bytes | str) -> Any:
    """Parse JSON; numbers with a fraction or exponent become ``Decimal``, integers ``int``.

    :raises ValueError: the content is not JSON (``json.JSONDecodeError`` is a ``ValueError``),
        contains ``NaN``/``Infinity``, or is not UTF-8 (``UnicodeDecodeError``).
    """
    return json.loads(content, parse_float=Decimal, parse_constant=_refuse_constant)


def _number(value: Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"{value} cannot be sent as a JSON number")
    # Fixed-point notation: Decimal("1E+2") is written 100, never in exponent form.
    return format(value, "f")


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, Decimal):
        out.append(_number(value))
    elif isinstance(value, int):
        out.append(str(int(value)))
    elif isinstance(value, float):
        raise TypeError(f"refusing to send the float {value!r}: amounts must be Decimal")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {key!r}")
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, Sequence):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot send {type(value).__name__} as JSON: {value!r}")


def dumps(value: Any) -> bytes:
    """The UTF-8 JSON text of ``value`` (dicts, lists, str, int, bool, None, ``Decimal``)."""
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")
