"""Pagination, the same on every list: ``?limit=&offset=`` in, a :class:`Paged` out.

A list route takes ``page: PageParams`` and returns ``page.of(items)`` (a list in memory) or
``Paged(items, total, page.limit, page.offset)`` (an operation that counts and slices in the
database). The API writes it as ``{"items": [...], "total", "limit", "offset"}``
(:func:`hub.console.jsonapi.listing`); a page shows it with the ``pagination`` macro.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True)
class Paged(Generic[T]):
    """One page of a list: ``items``, from the ``offset``-th of ``total``."""

    items: Sequence[T]
    total: int
    limit: int
    offset: int

    @property
    def first(self) -> int:
        """The number of the first item shown, counting from 1 (0 when none is)."""
        return self.offset + 1 if self.items else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.items)

    @property
    def previous_offset(self) -> int | None:
        return max(self.offset - self.limit, 0) if self.offset > 0 else None

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None


@dataclass(frozen=True)
class Paging:
    """``?limit=&offset=``: at most ``limit`` items from the ``offset``-th."""

    limit: int = DEFAULT_LIMIT
    offset: int = 0

    def of(self, items: Sequence[T]) -> Paged[T]:
        """This page of ``items`` (a whole list already in memory)."""
        window = items[self.offset : self.offset + self.limit]
        return Paged(window, len(items), self.limit, self.offset)


def paging(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"How many items (1-{MAX_LIMIT}).")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, description="How many items to skip.")] = 0,
) -> Paging:
    return Paging(limit, offset)


#: A list route's parameter ``page: PageParams``.
PageParams = Annotated[Paging, Depends(paging)]
