"""Files written once, atomically, under a name derived from a key.

Plugins that deliver by dropping files into a directory (the generic CSV outbox, the ``.eml``
file outbox) and the hub's own secret key file share one rule: a file appears whole or not at
all, and once it exists it is never replaced. The name is derived from a key alone
(:func:`key_file_name`), so a repeat - in this process, after a crash, or from a second worker
at the same moment - lands on the same name, and :func:`write_once` lets the first writer win.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import stat
import string
from pathlib import Path

from hub.errors import InvalidDataError, RemoteServerError, SettingsError

__all__ = [
    "MAX_NAME",
    "escape_key",
    "key_file_name",
    "make_dir",
    "read_regular_file",
    "write_once",
]

#: Longest file name :func:`key_file_name` produces by default (most file systems allow 255).
MAX_NAME = 200

#: Characters an escaped key keeps as they are.
_SAFE = frozenset(string.ascii_letters + string.digits + "._-")

#: Length of a SHA-256 hex digest, the tail of a shortened name.
_DIGEST_LEN = 64

#: ``os.link`` failures that mean "this file system has no hard links", not "it exists".
_NO_HARD_LINKS = frozenset(
    {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV, errno.EMLINK}
)


def escape_key(key: str) -> str:
    """Percent-escape (UTF-8, ``%XX`` upper-case) every character outside ``[A-Za-z0-9._-]``.

    Injective: ``%`` itself is escaped, so different keys always give different results, and
    the result is always a safe file name part (no ``/``, no ``~``, ASCII only). Lone
    surrogates are encoded as they are (``surrogatepass``) rather than refused.

    >>> escape_key("case:12/æ%")
    'case%3A12%2F%C3%A6%25'
    """
    return "".join(
        char
        if char in _SAFE
        else "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
        for char in key
    )


def key_file_name(
    key: str, *, prefix: str = "", suffix: str = "", max_length: int = MAX_NAME
) -> str:
    """``<prefix><escaped key><suffix>``, at most ``max_length`` characters long.

    A name that would be longer keeps as much of the escaped key as fits and ends in ``~``
    plus the key's SHA-256 in hex before ``suffix``:
    ``<prefix><escaped key, cut>~<sha256 of key><suffix>``. ``~`` never occurs in an escaped
    key, so a shortened name cannot collide with a spelled-out one, and the digest keeps
    different long keys apart. The escaped key is ASCII, so for an ASCII ``prefix`` and
    ``suffix`` the length in characters is also the length in bytes.

    >>> key_file_name("case:12", prefix="creditnote-", suffix=".csv")
    'creditnote-case%3A12.csv'

    :param key: the key (an idempotency key, say); any string.
    :param prefix: text before the escaped key, e.g. ``"voucher-"``; used as it is.
    :param suffix: text after it, e.g. ``".eml"``; used as it is.
    :param max_length: the longest name to return.
    :raises ValueError: ``prefix`` and ``suffix`` leave no room for ``~`` and the digest.
    """
    escaped = escape_key(key)
    name = f"{prefix}{escaped}{suffix}"
    if len(name) <= max_length:
        return name
    keep = max_length - len(prefix) - len(suffix) - 1 - _DIGEST_LEN
    if keep < 0:
        raise ValueError(
            f"prefix {prefix!r} and suffix {suffix!r} leave no room for a"
            f" {_DIGEST_LEN + 1}-character digest in {max_length} characters"
        )
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{prefix}{escaped[:keep]}~{digest}{suffix}"


def _fsync_dir(directory: Path) -> None:
    """Make a new directory entry durable, where the platform can open a directory."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def make_dir(directory: Path, mode: int = 0o777) -> None:
    """Create ``directory`` and its missing parents, each one this call creates with ``mode``
    (less the umask); a directory that exists already is left as it is (its owner chose its
    mode). ``0o700``: only the owner can list or enter what the hub creates.

    :raises OSError: it cannot be created.
    """
    missing = []
    current = directory
    while not current.is_dir() and current.parent != current:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=mode)
        except FileExistsError:
            if not path.is_dir():
                raise


def write_once(
    directory: Path, name: str, content: bytes, *, mode: int = 0o666, dir_mode: int = 0o777
) -> bool:
    """Create ``directory/name`` with ``content`` unless it exists; never overwrite it.

    ``directory`` is created if missing. The content goes to a hidden temporary file in the
    same directory (``.tmp-<random>.part``, so a program picking up ``*.csv`` or ``*.eml``
    ignores it), is fsynced, and is then hard-linked to its name, which fails if the name
    exists; the directory is fsynced after. A reader therefore never sees a half-written
    file, and of several simultaneous writers exactly one creates it. Without hard links
    (some network and FAT file systems) it falls back to a rename after an existence check,
    which leaves a tiny window for two simultaneous writers of the same name: the later one
    then replaces the earlier file (still whole). The temporary file is always removed.

    :param directory: where the file goes.
    :param name: the file name, a single path component (see :func:`key_file_name`).
    :param content: the file's bytes.
    :param mode: permission bits of a created file, as for :func:`os.open` (reduced by the
        umask); e.g. ``0o600`` for a private file. An existing file is not touched.
    :param dir_mode: permission bits of ``directory`` if this call creates it (see
        :func:`make_dir`); e.g. ``0o700`` for a private directory.
    :returns: True if this call created the file, False if the name existed already (its
        content is not compared).
    :raises RemoteServerError: the directory or the file cannot be created or written; the
        message names the path.
    """
    target = directory / name
    try:
        make_dir(directory, dir_mode)
        if target.exists():
            return False
        temp = directory / f".tmp-{secrets.token_hex(8)}.part"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
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
        raise RemoteServerError(f"cannot write {str(target)!r}: {exc.strerror or exc}") from None


def _kind(mode: int) -> str:
    """What a file that is not a regular file is, for a message."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _read_at_most(fd: int, size: int, max_bytes: int) -> bytes:
    """The file's bytes, expected to be ``size`` long, but never more than ``max_bytes + 1``.

    A read of n bytes allocates n bytes at once, so the first read asks for ``size + 1``
    (never for the limit); only a file that grew since ``fstat`` is read on, in 1 MiB steps.
    """
    parts: list[bytes] = []
    total, step, limit = 0, size + 1, max_bytes + 1
    while total < limit:
        chunk = os.read(fd, min(step, limit - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
        step = 1 << 20
    return parts[0] if len(parts) == 1 else b"".join(parts)


def read_regular_file(
    path: Path, *, setting: str, max_bytes: int, limit_setting: str | None = None
) -> bytes:
    """The whole content of the regular file at ``path``, which a path ``setting`` names,
    read only if it is at most ``max_bytes`` long; never more than ``max_bytes + 1`` bytes
    are read.

    A device (``/dev/zero``), a named pipe, a socket or a directory is refused before a byte
    is read: such a "file" may never end, or block forever. The file is opened without
    blocking (a named pipe with no writer would block ``open``) and checked with ``fstat`` on
    the open descriptor, so it cannot be swapped between the check and the read. A file that
    grows past the limit while it is read is refused too.

    :raises SettingsError: nothing is at ``path``, or it is not a regular file (the message
        names the setting and what is there instead).
    :raises InvalidDataError: the file is larger than ``max_bytes`` (``where`` is the file's
        name; the message names ``limit_setting`` when given).
    :raises RemoteServerError: the file exists but cannot be read (permissions, I/O).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except (FileNotFoundError, NotADirectoryError):
        raise SettingsError(f"setting {setting}: {str(path)!r} does not exist") from None
    except IsADirectoryError:
        raise SettingsError(
            f"setting {setting}: {str(path)!r} is a directory, not a regular file"
        ) from None
    except OSError as exc:
        raise RemoteServerError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise SettingsError(
                f"setting {setting}: {str(path)!r} is {_kind(info.st_mode)}, not a regular"
                " file; name the exported file itself"
            )
        data = b"" if info.st_size > max_bytes else _read_at_most(fd, info.st_size, max_bytes)
    except OSError as exc:
        raise RemoteServerError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    size = max(info.st_size, len(data))
    if size > max_bytes:
        hint = f" (raise the setting {limit_setting} if it is right)" if limit_setting else ""
        raise InvalidDataError(
            f"the file is {size:,} bytes or more, larger than the limit of {max_bytes:,}"
            f" bytes{hint}; nothing from it was read",
            where=path.name,
        )
    return data
