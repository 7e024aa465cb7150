"""The ``file_outbox`` delivery plugin: each message as one ``.eml`` file in a directory.

The file name is derived from the idempotency key alone (:func:`file_name`), so a repeat of a
delivery - in this process, after a crash, or from a second worker at the same moment - lands
on the same name. :func:`write_once` publishes the file atomically with ``os.link``, which never
replaces an existing file: the first writer wins, every later call is a no-op that returns the
same file name, and a reader of the directory never sees a half-written ``.eml`` file.

Stateless: every call reads ``ctx.settings`` afresh.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

import structlog

from hub import hookimpl
from hub.errors import RemoteRequestError, RemoteServerError
from hub.model import ClientContext, OutgoingMessage, SettingSpec, SystemInfo
from hub_delivery import __version__, settings
from hub_delivery.message import PLACEHOLDER_ADDRESS, build_email, escape_key, to_bytes

NAME = "file_outbox"

DIRECTORY = SettingSpec(
    name="directory",
    type="path",
    required=True,
    description="Directory where each letter or e-mail is written as one .eml file"
    " (created if missing).",
)

SETTINGS: tuple[SettingSpec, ...] = (DIRECTORY,)

#: Longest file name we produce (bytes; most file systems allow 255).
MAX_NAME = 200

#: The extension of a delivered message. Temporary files end in ``.part`` and start with ``.``.
SUFFIX = ".eml"

#: ``os.link`` failures that mean "this file system has no hard links", not "it exists".
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV, errno.EMLINK}
)


def _log(ctx: ClientContext) -> Any:
    return ctx.log if ctx.log is not None else structlog.get_logger().bind(plugin=NAME)


def file_name(key: str) -> str:
    """``<escaped key>.eml``, e.g. ``message%3A12.eml`` for ``message:12``.

    A name longer than :data:`MAX_NAME` keeps a prefix of the escaped key and ends in ``~``
    plus the key's SHA-256 (``~`` never occurs in an escaped key, so long and short names
    cannot collide).
    """
    escaped = escape_key(key)
    name = f"{escaped}{SUFFIX}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    keep = MAX_NAME - len(digest) - 1 - len(SUFFIX)
    return f"{escaped[:keep]}~{digest}{SUFFIX}"


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_once(directory: Path, name: str, content: bytes) -> bool:
    """Create ``directory/name`` with ``content`` unless it exists; never overwrite it.

    The content goes to a hidden temporary file in the same directory (``.tmp-*.part``, so a
    program picking up ``*.eml`` ignores it), is fsynced, and is then hard-linked to its name,
    which fails if the name exists. Without hard links (some network and FAT file systems) it
    falls back to a rename after an existence check, which leaves a tiny window for two
    simultaneous writers of the same key; the later one then replaces the earlier file.

    :returns: True if this call created the file, False if it existed already.
    :raises RemoteServerError: the directory cannot be created or written.
    """
    target = directory / name
    try:
        directory.mkdir(parents=True, exist_ok=True)
        if target.exists():
            return False
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
                return False
            except OSError as exc:
                if exc.errno not in _NO_HARD_LINKS:
                    raise
                if target.exists():
                    return False
                os.replace(temp, target)
            _fsync_dir(directory)
            return True
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
    except OSError as exc:
        raise RemoteServerError(
            f"cannot write {str(target)!r} in the file outbox: {exc.strerror or exc}",
            plugin=NAME,
        ) from None


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # e.g. no permission: let write_once report it
        return False


@hookimpl
def system_info() -> SystemInfo:
    return SystemInfo(
        name=NAME,
        title="File outbox (.eml files in a directory)",
        version=__version__,
        capabilities=frozenset({"deliver"}),
        settings=SETTINGS,
        kind="delivery",
    )


@hookimpl
def deliver_message(ctx: ClientContext, message: OutgoingMessage) -> str:
    """Write ``message`` as ``<escaped key>.eml`` into the directory, once; return the name.

    :raises SettingsError: ``directory`` is not set.
    :raises RemoteRequestError: the sender e-mail or the recipient's e-mail address is not an
        e-mail address.
    :raises RemoteServerError: the directory cannot be created or written.
    """
    log = _log(ctx)
    directory = Path(settings.required(ctx.settings, DIRECTORY)).expanduser()
    name = file_name(message.idempotency_key)
    if _exists(directory / name):  # a repeat: do not even build it again
        log.info("delivery.file_outbox.exists", file=name, kind=message.kind)
        return name
    try:
        email = build_email(message, from_address=message.sender_email or PLACEHOLDER_ADDRESS)
    except ValueError as exc:
        raise RemoteRequestError(
            f"message {message.idempotency_key!r} cannot be written: {exc}", plugin=NAME
        ) from None
    created = write_once(directory, name, to_bytes(email))
    log.info(
        "delivery.file_outbox.written" if created else "delivery.file_outbox.exists",
        file=name,
        kind=message.kind,
        customer=message.customer_number,
    )
    return name
