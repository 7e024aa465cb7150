"""Where the hub keeps its things, from the environment or the per-user data directory.

``HUB_DATA_DIR`` overrides the per-user data directory (the embedded SQLite database and the
secret key file live there); ``HUB_DATABASE_URL`` overrides the database.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


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
