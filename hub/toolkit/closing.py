"""The one ``with`` protocol of the toolkit's long-lived resources (the HTTP client, the
background server): leaving the block closes the resource."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Closing:
    """A resource for ``with``: entering gives the resource, leaving calls :meth:`close`."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
