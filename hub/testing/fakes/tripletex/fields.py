"""Tripletex's ``fields`` parameter for the fake (see :mod:`hub.testing.fakes.tripletex`).

The grammar (the spec's "Fields" section): a comma list of names, each optionally followed by a
parenthesised sub-list; ``*`` means every field of that object. A linked object that is not
expanded is written as ``{"id": ..., "url": ...}`` (``url`` is host and path without a scheme, as
real answers write it); ``customer(*)`` writes the whole customer, ``customer(name)`` only its
name. A name the model does not have is a 400 (code 11000) "Illegal field in fields filter", as
real answers say. An absent or empty ``fields`` means ``*``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hub.testing.fakes.tripletex.model import ApiError

__all__ = ["ALL", "RENDERERS", "FieldTree", "Link", "Shaper", "parse_fields", "renders"]


@dataclass(slots=True)
class FieldTree:
    """A parsed ``fields`` value: ``star`` (every field) and the named fields, each with its
    own sub-tree (``None``: not expanded)."""

    star: bool = False
    names: dict[str, FieldTree | None] = field(default_factory=dict)


ALL = FieldTree(star=True)


@dataclass(frozen=True, slots=True)
class Link:
    """A reference to another object: written as ``{id, url}`` or, expanded, as the object."""

    path: str  # e.g. "customer", "ledger/account"
    id: int
    target: object = None  # the record to render when the link is expanded


def _illegal(name: str, model: str) -> ApiError:
    return ApiError(
        400,
        11000,
        f"Illegal field in fields filter: {name}. {name} does not match a field in the model: "
        f"{model}",
    )


def parse_fields(text: str | None) -> FieldTree:
    """Parse a ``fields`` value; a syntax error is a 400 (code 11000)."""
    if text is None or not text.strip():
        return ALL
    tree, rest = _parse_list(text.replace(" ", ""), 0)
    if rest != len(text.replace(" ", "")):
        raise ApiError(400, 11000, f"Illegal fields filter: unbalanced ')' in {text!r}")
    return tree


def _parse_list(text: str, at: int) -> tuple[FieldTree, int]:
    tree = FieldTree()
    while at < len(text):
        end = at
        while end < len(text) and text[end] not in ",()":
            end += 1
        name = text[at:end]
        if not name:
            raise ApiError(400, 11000, f"Illegal fields filter: empty field name in {text!r}")
        sub: FieldTree | None = None
        at = end
        if at < len(text) and text[at] == "(":
            sub, at = _parse_list(text, at + 1)
            if at >= len(text) or text[at] != ")":
                raise ApiError(400, 11000, f"Illegal fields filter: missing ')' in {text!r}")
            at += 1
        if name == "*":
            tree.star = True
        else:
            tree.names[name] = sub
        if at < len(text) and text[at] == ",":
            at += 1
            continue
        break
    return tree, at


Renderer = Callable[[object, "Shaper"], tuple[str, dict[str, Any]]]
RecordRenderer = Callable[[Any, "Shaper"], dict[str, Any]]
R = TypeVar("R", bound=RecordRenderer)

RENDERERS: dict[type, tuple[str, RecordRenderer]] = {}
"""Each record type's model name and the function that writes its fields (see :func:`renders`)."""


def renders(kind: type, model: str) -> Callable[[R], R]:
    """Register the decorated function as the writer of ``kind``'s records, as ``model``."""

    def register(fn: R) -> R:
        RENDERERS[kind] = (model, fn)
        return fn

    return register


class Shaper:
    """Writes rendered records as JSON-ready values for one request: ``host`` goes into the
    ``url`` of links, ``render`` turns a link's target into ``(model name, fields)``;
    ``receivables`` is the company's customer account (a customer's ``ledgerAccount``)."""

    def __init__(self, host: str, render: Renderer, receivables: Link | None = None) -> None:
        self.prefix = f"{host}/v2/"
        self.render = render
        self.receivables = receivables

    def url(self, path: str, ident: int) -> str:
        return f"{self.prefix}{path}/{ident}"

    def head(self, path: str, ident: int, version: int = 0) -> dict[str, Any]:
        """The ``id``, ``version`` and ``url`` every stored record's fields begin with."""
        return {"id": ident, "version": version, "url": self.url(path, ident)}

    def shape(self, model: str, doc: dict[str, Any], tree: FieldTree) -> dict[str, Any]:
        """``doc`` (a record's fields, links as :class:`Link`) cut to ``tree``."""
        names = tree.names
        for name in names:
            if name not in doc and name != "changes":
                raise _illegal(name, model)
        out: dict[str, Any] = {}
        for key, value in doc.items():
            if tree.star or key in names:
                out[key] = self._value(value, names.get(key))
        if "changes" in names and "id" in doc:
            out["changes"] = []  # asked for explicitly; the fake keeps no change log
        return out

    def _value(self, value: Any, sub: FieldTree | None) -> Any:
        if isinstance(value, Link):
            if sub is None or value.target is None:
                return {"id": value.id, "url": self.url(value.path, value.id)}
            model, doc = self.render(value.target, self)
            return self.shape(model, doc, sub)
        if isinstance(value, list):
            return [self._value(item, sub) for item in value]
        return value
