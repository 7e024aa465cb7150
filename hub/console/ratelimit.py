"""Failed logins counted per user name and per client address, in this process.

After :attr:`ConsoleSettings.login_failures` failures within the window for a name (whoever
tries it) or from an address (whatever names it tries), further logins for it are refused, the
right password too, until the oldest of those failures is older than the window; the refusal
says when (429 with ``Retry-After``). A successful login clears its name's failures, not its
address's.

The counts live in this process's memory: a restart forgets them, and each node of several
counts its own (an attacker spreading attempts over N nodes gets N times the tries). The
number of names and addresses remembered is bounded, the least recently failed forgotten first.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class LoginLimiter:
    """Counts failed logins; ``now`` is the clock (seconds, monotonic), given by tests."""

    def __init__(
        self,
        failures: int = 5,
        window: float = 15 * 60,
        *,
        now: Callable[[], float] = time.monotonic,
        remembered: int = 10_000,
    ) -> None:
        self.failures = failures
        self.window = window
        self._now = now
        self._remembered = remembered
        self._lock = threading.Lock()
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    @staticmethod
    def _keys(name: str, address: str) -> tuple[str, str]:
        return f"name:{name.strip().casefold()}", f"address:{address}"

    def _recent(self, key: str, now: float) -> deque[float] | None:
        times = self._seen.get(key)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._seen[key]
            return None
        return times

    def retry_after(self, name: str, address: str) -> int | None:
        """Seconds until a login for ``name`` from ``address`` may be tried again; None: now."""
        with self._lock:
            now = self._now()
            waits = []
            for key in self._keys(name, address):
                times = self._recent(key, now)
                if times is not None and len(times) >= self.failures:
                    waits.append(times[-self.failures] + self.window - now)
            return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, name: str, address: str) -> None:
        with self._lock:
            now = self._now()
            for key in self._keys(name, address):
                times = self._recent(key, now) or deque(maxlen=self.failures)
                times.append(now)
                self._seen[key] = times
                self._seen.move_to_end(key)
            while len(self._seen) > self._remembered:
                self._seen.popitem(last=False)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._seen.pop(self._keys(name, "")[0], None)
