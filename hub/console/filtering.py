"""Filter forms: every form is ``method="post"`` with its CSRF token (docs/console.md), so a
list's filter form posts here and is answered with a redirect to the list's address with the
filters in its query (post, redirect, get): the filtered list has an address to bookmark or
share, and its pagination links keep the filters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Form, Query
from starlette.responses import RedirectResponse

__all__ = ["Filter", "FilterField", "filtered", "value"]

#: A list's filter in its query (``?client=acme``), pages and API alike; None: not given.
Filter = Annotated[str | None, Query(max_length=200)]
#: A filter as its form posts it (the post that :func:`filtered` answers).
FilterField = Annotated[str, Form(max_length=200)]


def value(raw: str | None) -> str | None:
    """A filter's value as typed: blanks around it dropped; None for an empty one (no filter)."""
    if raw is None:
        return None
    stripped = raw.strip()
    return stripped or None


def filtered(path: str, filters: Mapping[str, str | None]) -> RedirectResponse:
    """A 303 redirect to ``path`` with the filters that have a value in its query."""
    query = {name: found for name, raw in filters.items() if (found := value(raw)) is not None}
    return RedirectResponse(f"{path}?{urlencode(query)}" if query else path, status_code=303)
