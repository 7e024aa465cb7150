"""Shared rate budgets: the gate every HTTP request of a plugin passes before it is sent.

A vendor's rate limit belongs to a credential, not to one process: e-conomic counts the
requests of an *app* (every agreement that app serves draws on one budget), Tripletex those of
a consumer token. When several clients of one credential sync at once, in one process or on
several nodes, each :class:`~hub.toolkit.http.HubHttpClient` honouring only its own 429s would
still overrun the budget together. So the hub may *install* a :class:`RateGate` for the whole
process (:func:`install`), and every client made with ``make_client(..., rate_key=secret)``

* asks it before every attempt, retries included (:meth:`RateGate.acquire`), and
* tells it how long a 429 asked to wait (:meth:`RateGate.throttled`), so every process using
  that credential pauses, not only the one that was refused.

No gate is installed by default (:func:`installed` is None): the client sends at once, as
before. The daemons install one (:func:`hub.operations.rate_budget.install_for`: a token bucket
per key in PostgreSQL shared by every node, or in memory on SQLite); a plugin need do nothing
but pass the credential the vendor's budget belongs to as ``rate_key``.

Keys: a gate never sees the credential. The client turns it into :func:`key`, the plugin's
name and the first 16 hex digits of the secret's SHA-256 (``"economic:3f2a..."``): what a gate
stores, logs or shows. The secret itself is neither kept by the client nor given to the gate.

Writing a gate: follow :class:`RateGate`. ``acquire`` blocks, but never past ``wait_at_most``
seconds (the job's deadline, :mod:`hub.toolkit.deadline`, as the client reckons it): a gate that
cannot let the request go within that returns False *at once* and takes nothing, and the client
raises :class:`~hub.errors.DeadlineError` naming the budget. A key whose plugin has no budget
takes no token, but a 429 pauses it all the same: :meth:`RateGate.throttled` records the pause
for any key, and ``acquire`` waits it out (within ``wait_at_most``), then lets the key through
at once. Gates are called from many threads at once.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

__all__ = ["Budget", "RateGate", "install", "installed", "key", "plugin_of"]

#: Hex digits of the secret's SHA-256 kept in a key: enough to tell credentials apart, too few
#: to stand for the secret.
KEY_DIGITS = 16


@dataclass(frozen=True)
class Budget:
    """At most ``requests`` requests in any ``seconds`` seconds (both whole numbers above 0),
    however the window is laid: sliding, or fixed as a vendor may count it.

    Kept as a token bucket that holds at most :attr:`burst` tokens (a hundredth of the budget,
    at least one) and gains the rest, ``requests - burst``, evenly over ``seconds``; each
    attempt of a request takes one. Any ``seconds``-long window then sees at most ``burst +
    (requests - burst) = requests`` requests: a full bucket after a quiet spell cannot add a
    second budget's worth on top of a busy window, as a bucket the size of the budget would.
    While busy, requests go out at ``requests - burst`` per ``seconds``."""

    requests: int
    seconds: int

    def __post_init__(self) -> None:
        for name in ("requests", "seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"a budget's {name} must be a whole number above 0, not {value!r}")

    @property
    def burst(self) -> int:
        """The most tokens the bucket holds: requests that may go out at once."""
        return max(1, self.requests // 100)

    @property
    def rate(self) -> Decimal:
        """Tokens gained a second, exactly (a budget of one request a window gains it over the
        window)."""
        return Decimal(max(self.requests - self.burst, 1)) / self.seconds

    def describe(self) -> str:
        return f"{self.requests} requests per {self.seconds} s"


@runtime_checkable
class RateGate(Protocol):
    """What the HTTP client asks before each attempt. Implementations: in-memory
    (:class:`hub.operations.rate_budget.MemoryGate`) and PostgreSQL
    (:class:`hub.operations.rate_budget.PostgresGate`)."""

    def acquire(self, key: str, *, wait_at_most: float | None = None) -> bool:
        """Take one request's share of ``key``'s budget, waiting until the budget allows it
        (and any pause :meth:`throttled` set is over).

        ``wait_at_most``: seconds the caller can wait (None: as long as it takes). Returns True
        once taken; False at once, having taken nothing, when the budget would not allow the
        request within ``wait_at_most``."""
        ...

    def throttled(self, key: str, seconds: float) -> None:
        """The vendor refused a request of ``key`` (HTTP 429) and asked to wait ``seconds``:
        no request of ``key`` is let through, in any process sharing the gate, until then,
        whether its plugin has a budget or not."""
        ...

    def describe(self, key: str) -> str:
        """``key``'s budget for messages: ``"the rate budget of economic:3f2a... (9000
        requests per 60 s)"``."""
        ...


def key(plugin: str, secret: str) -> str:
    """The key of ``secret``'s budget: ``f"{plugin}:{sha256(secret)[:16]}"``. The secret is
    not recoverable from it."""
    digest = hashlib.sha256(secret.encode("utf-8")).hexdigest()[:KEY_DIGITS]
    return f"{plugin}:{digest}"


def plugin_of(rate_key: str) -> str:
    """The plugin a key belongs to (the part before the colon)."""
    return rate_key.split(":", 1)[0]


_lock = threading.Lock()
_installed: RateGate | None = None


def install(gate: RateGate | None) -> RateGate | None:
    """Make ``gate`` the process's gate (None: no gate); returns the one it replaces."""
    global _installed
    with _lock:
        previous, _installed = _installed, gate
    return previous


def installed() -> RateGate | None:
    """The process's gate, or None (the default: requests are sent at once)."""
    return _installed
