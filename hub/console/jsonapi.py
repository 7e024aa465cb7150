"""The API's JSON: the CLI's ``--json`` (:func:`hub.records.to_json`, one writer for both),
lists paged, and the OpenAPI description of what a route answers.

A route returns :func:`one` (a record or a dict), :func:`listing` (a :class:`Paged`) or
:func:`no_content`; it documents its answer with ``responses=doc(RecordClass)`` (or
``doc(RecordClass, listed=True)``), which describes the record's JSON exactly as
``as_dict()`` writes it: the JSON names of its fields, amounts as strings, dates as ISO
strings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import types
import typing
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, Union

from starlette.responses import Response

from hub.console.paging import Paged
from hub.records import to_json

__all__ = [
    "doc",
    "error_body",
    "json_response",
    "listing",
    "no_content",
    "one",
    "schema_of",
    "with_fields",
]

MEDIA_TYPE = "application/json"


def _plain(value: Any) -> Any:
    as_dict = getattr(value, "as_dict", None)
    return as_dict() if callable(as_dict) else value


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """``data`` (dicts, lists, and what :func:`hub.records.json_value` writes) as JSON."""
    return Response(
        to_json(data, indent=None) + "\n",
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def one(record: Any, status: int = 200) -> Response:
    """A record (its ``as_dict()``, as ``--json`` prints it) or a dict."""
    return json_response(_plain(record), status)


def listing(page: Paged[Any]) -> Response:
    """A page of a list: ``{"items": [...], "total": N, "limit": L, "offset": O}``."""
    return json_response(
        {
            "items": [_plain(item) for item in page.items],
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
        }
    )


def no_content() -> Response:
    return Response(status_code=204)


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"kind": kind, "message": message}}


# -- OpenAPI -------------------------------------------------------------------------------

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["kind", "message"],
            "properties": {
                "kind": {"type": "string", "examples": ["not_found"]},
                "message": {"type": "string", "description": "as the CLI says it"},
            },
        }
    },
}


def _type_schema(kind: Any) -> dict[str, Any]:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (Union, types.UnionType):
        options = [_type_schema(a) for a in args]
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin is Literal:
        return {"type": "string", "enum": list(args)}
    if origin in (list, tuple, set, frozenset) or kind in (list, set, frozenset):
        return {"type": "array", "items": _type_schema(args[0]) if args else {}}
    if origin is dict or kind is dict:
        return {"type": "object", "additionalProperties": _type_schema(args[1]) if args else {}}
    if kind is type(None):
        return {"type": "null"}
    if isinstance(kind, type):
        if issubclass(kind, bool):
            return {"type": "boolean"}
        if issubclass(kind, int):
            return {"type": "integer"}
        if issubclass(kind, Decimal):
            return {"type": "string", "pattern": r"^-?\d+\.\d{2,}$", "description": "an amount"}
        if issubclass(kind, dt.datetime):
            return {"type": "string", "format": "date-time"}
        if issubclass(kind, dt.date):
            return {"type": "string", "format": "date"}
        if issubclass(kind, Enum):
            return {"type": "string", "enum": [m.value for m in kind]}
        if issubclass(kind, str):
            return {"type": "string"}
        if dataclasses.is_dataclass(kind):
            return schema_of(kind)
    return {}


def schema_of(record: type[Any]) -> dict[str, Any]:
    """The JSON schema of a record's ``as_dict()``: its fields by their JSON names."""
    hints = typing.get_type_hints(record)
    properties: dict[str, Any] = {}
    for f in dataclasses.fields(record):
        name = f.metadata.get("json", f.name)
        if name is not None:
            properties[name] = _type_schema(hints[f.name])
    return {
        "type": "object",
        "title": record.__name__,
        "properties": properties,
        "required": list(properties),
    }


def with_fields(record: type[Any], **more: type[Any] | dict[str, Any]) -> dict[str, Any]:
    """The schema of ``record`` with more fields (a type, or a schema), as a route answers a
    record with more beside it (``ClientDetails``: the summary's fields and ``plugins``)."""
    schema = schema_of(record)
    for name, kind in more.items():
        schema["properties"][name] = kind if isinstance(kind, dict) else _type_schema(kind)
        schema["required"].append(name)
    return schema


def doc(
    record: type[Any] | dict[str, Any] | None = None,
    *,
    listed: bool = False,
    status: int = 200,
    description: str = "OK",
    errors: tuple[int, ...] = (400, 401, 403, 404, 422),
) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: its answer (a record, or a schema from :func:`with_fields`;
    a page of them with ``listed``) and the errors it may give, each with the error body."""
    answers: dict[int | str, dict[str, Any]] = {}
    if record is None:
        answers[status] = {"description": description}
    else:
        body = record if isinstance(record, dict) else schema_of(record)
        if listed:
            body = {
                "type": "object",
                "required": ["items", "total", "limit", "offset"],
                "properties": {
                    "items": {"type": "array", "items": body},
                    "total": {"type": "integer"},
                    "limit": {"type": "integer"},
                    "offset": {"type": "integer"},
                },
            }
        answers[status] = {"description": description, "content": {MEDIA_TYPE: {"schema": body}}}
    for code in errors:
        answers[code] = {
            "description": "error",
            "content": {MEDIA_TYPE: {"schema": _ERROR_SCHEMA}},
        }
    return answers
