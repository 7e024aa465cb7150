"""Where the hub keeps its things, from the environment or the per-user data directory.

``HUB_DATA_DIR`` overrides the per-user data directory (the embedded SQLite database and the
secret key file live there); ``HUB_DATABASE_URL`` overrides the database.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from hub.clock import duration_seconds
from hub.errors import InputError


def data_dir() -> Path:
    override = os.environ.get("HUB_DATA_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_data_dir("receivables-hub", appauthor=False))


def default_database_url() -> str:
    return f"sqlite:///{data_dir() / 'hub.sqlite3'}"


def database_url(explicit: str | None = None) -> str:
    """The database to use: ``--db``, else ``HUB_DATABASE_URL``, else the embedded SQLite file."""
    return chosen_database_url(explicit) or default_database_url()


def chosen_database_url(explicit: str | None = None) -> str | None:
    """The database someone chose (``--db``, else ``HUB_DATABASE_URL``); None for the default.

    A chosen SQLite file must exist (``hub db upgrade`` makes it); the default one in the data
    directory is made on first use, so that a fresh machine works at once."""
    return explicit or os.environ.get("HUB_DATABASE_URL") or None


def _seconds(variable: str, default: int) -> int:
    raw = os.environ.get(variable)
    if raw is None or not raw.strip():
        return default
    if not raw.strip().isdigit() or int(raw) < 1:
        raise InputError(f"{variable}: {raw!r} is not a whole number of seconds (1 or more)")
    return int(raw)


#: How long a recurring-invoice generator holds an invoice it is sending (seconds).
DEFAULT_RECURRING_LEASE = 600


def recurring_lease() -> int:
    """``HUB_RECURRING_LEASE`` (seconds), else 10 minutes: how long an invoice a generator is
    sending stays its own unless renewed (a run renews it every third of that while the plugin
    works). After a crash, the invoice is reconciled once the lease lapses: a shorter lease
    picks it up sooner, at the cost of more renewals; it must stay well above the difference
    between the nodes' clocks."""
    return _seconds("HUB_RECURRING_LEASE", DEFAULT_RECURRING_LEASE)


#: How long the running daemon's lease on its database lasts unless renewed (seconds).
DEFAULT_DAEMON_LEASE = 60


def daemon_lease() -> int:
    """``HUB_DAEMON_LEASE`` (seconds), else 1 minute: the running daemon renews its lease (one
    daemon per database) every third of that; a daemon that crashed on another host is taken
    over once its last heartbeat is older than this (on the same host at once, once its process
    is seen gone). It must stay well above the difference between the hosts' clocks."""
    return _seconds("HUB_DAEMON_LEASE", DEFAULT_DAEMON_LEASE)


#: How long a message a delivery run claimed stays its own (seconds).
DEFAULT_DELIVERY_CLAIM = 900


def delivery_claim() -> int:
    """``HUB_DELIVERY_CLAIM`` (seconds), else 15 minutes: a message a delivery run claimed and
    did not finish (a crash) is delivered again after this. The run renews its claims every
    third of it while it delivers, however long the batch, and sends a message only while its
    claim is still its own; the claim must still stay well above the difference between the
    hosts' clocks."""
    return _seconds("HUB_DELIVERY_CLAIM", DEFAULT_DELIVERY_CLAIM)


def _duration(variable: str, default: float) -> float:
    """``variable`` as a number of seconds above 0, written the plain way (``120``, ``0.5``:
    :func:`hub.clock.duration_seconds`, so no ``inf``, ``nan`` or ``1e3``), else ``default``."""
    raw = os.environ.get(variable)
    if raw is None or not raw.strip():
        return default
    try:
        seconds = duration_seconds(raw)
    except ValueError:
        seconds = 0.0
    if seconds <= 0:
        raise InputError(f"{variable}: {raw!r} is not a number of seconds above 0 (e.g. 120)")
    return seconds


#: How long one HTTP exchange with an accounting system may take, body included (seconds).
DEFAULT_HTTP_DEADLINE = 120.0
#: How long one sync's fetch from the accounting system may take, retries included (seconds).
DEFAULT_SYNC_DEADLINE = 600.0


def http_deadline() -> float:
    """``HUB_HTTP_DEADLINE`` (seconds, fractions allowed), else 2 minutes: the most one HTTP
    exchange of a plugin (connect, send, the answer's headers and whole body) may take. The
    timeouts bound each read; this bounds their sum, so a server trickling its answer a byte
    at a time is given up on. A request that passes it counts as a timeout (retried where
    a timeout is)."""
    return _duration("HUB_HTTP_DEADLINE", DEFAULT_HTTP_DEADLINE)


def sync_deadline() -> float:
    """``HUB_SYNC_DEADLINE`` (seconds, fractions allowed), else 10 minutes: the most one sync
    may spend fetching from the accounting system, every request, page and retry included.
    When it passes, the request under way is given up on, no retry or page follows, and the
    sync stores nothing."""
    return _duration("HUB_SYNC_DEADLINE", DEFAULT_SYNC_DEADLINE)
