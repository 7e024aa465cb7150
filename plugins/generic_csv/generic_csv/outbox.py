"""Writing one file per write into the outbox, exactly once per idempotency key.

The file name is derived from the idempotency key alone (:func:`file_name`), so a repeat of a
write - in this process, after a crash, or from a second worker at the same moment - lands on
the same name. :func:`write_once` publishes the file atomically with ``os.link``, which never
replaces an existing file: the first writer wins, every later one is a no-op, and a reader of
the outbox never sees a half-written file.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import string
from enum import Enum
from pathlib import Path

from hub.errors import RemoteServerError

_SAFE = frozenset(string.ascii_letters + string.digits + "._-")

#: Longest file name we produce (bytes; most file systems allow 255).
MAX_NAME = 200

#: ``os.link`` failures that mean "this file system has no hard links", not "it exists".
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV, errno.EMLINK}
)


def escape_key(key: str) -> str:
    """Percent-escape (UTF-8, ``%XX`` upper-case) every character outside ``[A-Za-z0-9._-]``.

    Injective: ``%`` itself is escaped, so different keys always give different names.
    """
    return "".join(
        char
        if char in _SAFE
        else "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        for char in key
    )


def file_name(kind: str, key: str) -> str:
    """``<kind>-<escaped key>.csv``, e.g. ``creditnote-case%3A12.csv``.

    A name longer than :data:`MAX_NAME` keeps a prefix of the escaped key and ends in ``~``
    plus the key's SHA-256 (``~`` never occurs in an escaped key, so long and short names
    cannot collide).
    """
    name = f"{kind}-{escape_key(key)}.csv"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    keep = MAX_NAME - len(kind) - len(digest) - 6
    return f"{kind}-{escape_key(key)[:keep]}~{digest}.csv"


class Outcome(Enum):
    """What :func:`write_once` did."""

    CREATED = "created"
    EXISTED = "existed"  # same content: a plain repeat
    EXISTED_DIFFERENT = "existed_different"  # the key was reused with other data; kept the first


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _existing(target: Path, content: bytes) -> Outcome:
    try:
        same = target.read_bytes() == content
    except OSError:
        same = False
    return Outcome.EXISTED if same else Outcome.EXISTED_DIFFERENT


def write_once(directory: Path, name: str, content: bytes) -> Outcome:
    """Create ``directory/name`` with ``content`` unless it exists; never overwrite it.

    The content goes to a hidden temporary file in the same directory (``.tmp-*.part``, so
    programs importing ``*.csv`` ignore it), is fsynced, and is then hard-linked to its name,
    which fails if the name exists. Without hard links (some network and FAT file systems) it
    falls back to a rename after an existence check, which leaves a tiny window for two
    simultaneous writers of the same key; the later one then replaces identical content.

    :raises RemoteServerError: the outbox cannot be created or written.
    """
    target = directory / name
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if target.exists():
            return _existing(target, content)
        temp = directory / f".tmp-{secrets.token_hex(8)}.part"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            try:
                os.link(temp, target)
            except FileExistsError:
                return _existing(target, content)
            except OSError as exc:
                if exc.errno not in _NO_HARD_LINKS:
                    raise
                if target.exists():
                    return _existing(target, content)
                os.replace(temp, target)
            _fsync_dir(directory)
            return Outcome.CREATED
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
    except OSError as exc:
        raise RemoteServerError(
            f"cannot write {str(target)!r} in the outbox: {exc.strerror or exc}"
        ) from None
