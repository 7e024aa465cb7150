"""The console's settings: from the environment (``hub web``, ``hub run``) or given (tests)."""

from __future__ import annotations

import os
from dataclasses import dataclass

from hub.errors import InputError

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"", "0", "false", "no", "off"})


@dataclass(frozen=True)
class ConsoleSettings:
    """How the console keeps its sessions and guards its login.

    ``https``: the console is reached over https (behind a TLS proxy): its cookies are marked
    ``Secure``, so a browser never sends them over plain http (``HUB_CONSOLE_HTTPS=1``).
    ``session_hours``: a login lasts this long, however active (``HUB_CONSOLE_SESSION_HOURS``).
    ``login_failures`` failed logins within ``login_window_minutes`` for one user name, or from
    one address, refuse further attempts for it until the oldest is that old (429).
    """

    https: bool = False
    session_hours: int = 8
    login_failures: int = 5
    login_window_minutes: int = 15
    #: The largest request body accepted (bytes); a larger one is refused 413.
    max_body: int = 1_048_576

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> ConsoleSettings:
        env = os.environ if environ is None else environ
        raw = env.get("HUB_CONSOLE_HTTPS", "").strip().lower()
        if raw not in _TRUE | _FALSE:
            raise InputError(f"HUB_CONSOLE_HTTPS: {raw!r} is not 1 or 0 (true or false)")
        hours = env.get("HUB_CONSOLE_SESSION_HOURS", "").strip()
        if hours and (not hours.isdigit() or not 1 <= int(hours) <= 24 * 30):
            raise InputError(
                f"HUB_CONSOLE_SESSION_HOURS: {hours!r} is not a whole number of hours (1-720)"
            )
        return cls(https=raw in _TRUE, session_hours=int(hours) if hours else cls.session_hours)

    @property
    def session_seconds(self) -> int:
        return self.session_hours * 3600
