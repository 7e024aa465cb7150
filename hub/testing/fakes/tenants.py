"""What the fakes' tenants (e-conomic's agreements, Tripletex's companies) share: the
:class:`Tenant` base (the fake's lock and clock) and the :class:`Tenants` registry that adds
them under the token that reaches them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Generic, TypeVar

__all__ = ["Tenant", "Tenants"]

T = TypeVar("T")


class Tenant:
    """A tenant's share of the fake it lives in: the fake's lock (the tenant's methods take
    it) and the fake's clock (``today`` follows the fake's, which tests may move)."""

    def __init__(self, *, lock: threading.RLock, today: Callable[[], date]) -> None:
        self._lock = lock
        self._today = today

    @property
    def today(self) -> date:
        return self._today()


class Tenants(Generic[T]):
    """A fake's tenants in the order added (``all``) and by the token that reaches each
    (``by_token``); ``token_name`` words the refusal of a token already in use."""

    def __init__(self, lock: threading.RLock, token_name: str) -> None:
        self._lock = lock
        self.token_name = token_name
        self.all: list[T] = []
        self.by_token: dict[str, T] = {}

    def add(self, token: str, make: Callable[[], T]) -> T:
        """The tenant ``make`` builds, registered under ``token``; a token in use is refused
        (``ValueError``) before anything is made."""
        with self._lock:
            if token in self.by_token:
                raise ValueError(f"{self.token_name} already in use")
            tenant = make()
            self.all.append(tenant)
            self.by_token[token] = tenant
            return tenant
