"""Writing one file per write into the outbox, exactly once per idempotency key.

The file name is derived from the idempotency key alone (:func:`file_name`), so a repeat of a
write - in this process, after a crash, or from a second worker at the same moment - lands on
the same name. :func:`write_once` publishes the file atomically with the hub's
:func:`hub.toolkit.files.write_once`, which never replaces an existing file: the first writer wins,
every later one is a no-op, and a reader of the outbox never sees a half-written file.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from hub.toolkit import files


def file_name(kind: str, key: str) -> str:
    """``<kind>-<escaped key>.csv``, e.g. ``creditnote-case%3A12.csv``.

    A name longer than :data:`hub.toolkit.files.MAX_NAME` keeps a prefix of the escaped key and ends
    in ``~`` plus the key's SHA-256 (see :func:`hub.toolkit.files.key_file_name`).
    """
    return files.key_file_name(key, prefix=f"{kind}-", suffix=".csv")


class Outcome(Enum):
    """What :func:`write_once` did."""

    CREATED = "created"
    EXISTED = "existed"  # same content: a plain repeat
    EXISTED_DIFFERENT = "existed_different"  # the key was reused with other data; kept the first


def write_once(directory: Path, name: str, content: bytes) -> Outcome:
    """Create ``directory/name`` with ``content`` unless it exists; never overwrite it.

    An existing file is compared with ``content``: :attr:`Outcome.EXISTED` if it is the same
    (a plain repeat), :attr:`Outcome.EXISTED_DIFFERENT` if not, or if it cannot be read.

    :raises RemoteServerError: the outbox cannot be created or written.
    """
    if files.write_once(directory, name, content):
        return Outcome.CREATED
    try:
        same = (directory / name).read_bytes() == content
    except OSError:
        same = False
    return Outcome.EXISTED if same else Outcome.EXISTED_DIFFERENT
