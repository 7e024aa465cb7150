"""Where the hub keeps its things, from the environment or the per-user data directory.

``HUB_DATA_DIR`` overrides the per-user data directory (the embedded SQLite database and the
secret key file live there); ``HUB_DATABASE_URL`` overrides the database.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

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
    return explicit or os.environ.get("HUB_DATABASE_URL") or default_database_url()


#: How long a recurring-invoice generator holds an invoice it is sending (seconds).
DEFAULT_RECURRING_LEASE = 600


def recurring_lease() -> int:
    """``HUB_RECURRING_LEASE`` (seconds), else 10 minutes: how long an invoice a generator is
    sending stays its own unless renewed (a run renews it every third of that while the plugin
    works). After a crash, the invoice is reconciled once the lease lapses: a shorter lease
    picks it up sooner, at the cost of more renewals; it must stay well above the difference
    between the nodes' clocks."""
    raw = os.environ.get("HUB_RECURRING_LEASE")
    if raw is None or not raw.strip():
        return DEFAULT_RECURRING_LEASE
    if not raw.strip().isdigit() or int(raw) < 1:
        raise InputError(
            f"HUB_RECURRING_LEASE: {raw!r} is not a whole number of seconds (1 or more)"
        )
    return int(raw)
