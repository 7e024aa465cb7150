"""Encryption of secret settings at rest (Fernet), with old keys kept for reading (rotation).

Where the keys come from:

* ``HUB_SECRET_KEY``: the current key (a Fernet key: 32 url-safe base64-encoded bytes). It
  encrypts every secret stored from now on.
* ``HUB_SECRET_KEY_OLD``: previous keys, separated by commas or white space. They only
  decrypt, so secrets stored under them stay readable until ``hub secrets rotate`` has
  re-encrypted them under the current key.
* Without ``HUB_SECRET_KEY``, the key file ``secret.key`` in the data directory (mode 0600):
  its first key is the current one, any further keys (one a line; ``#`` starts a comment) are
  previous ones. ``hub secrets rotate --new-key`` puts a new key first.

The key file is created with a new key on first use, but only for a database that holds no
secrets: when it holds some and the key file is missing (deleted, not restored from a backup),
a new key could read none of them, so the hub refuses and says so (:class:`SecretKeyError`).
Back the key file up with the database; secrets cannot be read without it.

Other keys the hub needs (the console's session signing key) are derived from these keys with
HKDF-SHA256 and a label naming their purpose (:meth:`SecretBox.derived_keys`): every node that
shares the secret key derives the same ones, and none of them reveals the key or another.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets as random_names
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hub.config import data_dir
from hub.errors import RemoteServerError, SecretKeyError
from hub.toolkit.files import write_once

#: The variable of the current key, and of the previous keys (decrypt only).
KEY_VARIABLE = "HUB_SECRET_KEY"
OLD_KEYS_VARIABLE = "HUB_SECRET_KEY_OLD"

_GIVEN = "the key given"
_MAKE_KEY = (
    "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"
)


def key_file() -> Path:
    return data_dir() / "secret.key"


def _load_or_create_key_file(path: Path, stored_secrets: Callable[[], int] | None = None) -> bytes:
    """Read the key file, or create it with a new key if there is none.

    A new key is made only when ``stored_secrets`` (how many secrets the database holds) says
    there are none: secrets encrypted with a lost key file cannot be read with a new one, and
    a new key would leave the database with secrets under two keys. Without
    ``stored_secrets`` (no database at hand) the key is made.

    The key is written with :func:`hub.toolkit.files.write_once` (mode 0600, and the data directory
    0700 if it makes it): to a private temporary
    file beside it, hard-linked into place, so the key file appears whole or not at all and a
    process that reads it never sees half a key. If another process created it first, ours is
    dropped and theirs is used. Either way the key returned is the one read back from the
    file, so every process uses the key on disk.

    :raises SecretKeyError: the key file is missing while the database holds secrets, or it
        cannot be created.
    """
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    stored = stored_secrets() if stored_secrets is not None else 0
    if stored:
        raise SecretKeyError(
            f"the secret key file {path} is missing, but the database holds {stored} secret"
            f" setting(s) encrypted with a key: restore the key file from your backup, or set"
            f" {KEY_VARIABLE} to the key; a new key is made only for a database without secrets"
        )
    try:
        write_once(path.parent, path.name, Fernet.generate_key(), mode=0o600, dir_mode=0o700)
    except RemoteServerError as exc:
        raise SecretKeyError(f"cannot create the secret key file: {exc}") from None
    return path.read_bytes().strip()


def _file_keys(content: bytes) -> list[bytes]:
    """The keys of a key file: one a line, blank lines and ``#`` comments ignored."""
    keys = []
    for line in content.splitlines():
        line = line.split(b"#", 1)[0].strip()
        if line:
            keys.append(line)
    return keys


@dataclass(frozen=True)
class _Key:
    """A key: its Fernet, and its bytes only to derive other keys from (never shown)."""

    fernet: Fernet
    material: bytes = field(repr=False)


def _derive(material: bytes, purpose: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        material
    )


def _fernet(key: bytes, source: str) -> _Key:
    try:
        return _Key(Fernet(key), base64.urlsafe_b64decode(key))
    except (ValueError, TypeError):
        raise SecretKeyError(
            f"the secret key from {source} is not a Fernet key (32 url-safe base64 bytes);"
            f" make one with: {_MAKE_KEY}"
        ) from None


def _replace_key_file(path: Path, keys: Sequence[bytes]) -> None:
    """Write ``keys`` (current first) to the key file at once: a private temporary file
    beside it, fsynced, renamed over it; a reader sees the old file or the new, whole."""
    temp = path.parent / f".tmp-{random_names.token_hex(8)}.part"
    try:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"\n".join(keys) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as exc:
        raise SecretKeyError(
            f"cannot write the secret key file {path}: {exc.strerror or exc}"
        ) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


class SecretBox:
    """Encrypts secret setting values with the current key; decrypts with it or an old one.

    ``key`` (and ``old_keys``) given: those are used. Otherwise ``HUB_SECRET_KEY`` and
    ``HUB_SECRET_KEY_OLD`` are read (and checked) at once; without ``HUB_SECRET_KEY`` the key
    file is read on first use, and created then if ``stored_secrets`` (a count of the secrets
    in the database) says there are none (see :func:`_load_or_create_key_file`).
    """

    def __init__(
        self,
        key: bytes | None = None,
        *,
        old_keys: Sequence[bytes] | None = None,
        stored_secrets: Callable[[], int] | None = None,
    ) -> None:
        self._stored_secrets = stored_secrets
        self._old: list[_Key] = []
        self._old_sources: list[str] = []
        if old_keys is not None:
            self._old = [_fernet(k, "the old keys given") for k in old_keys]
            self._old_sources = ["the old keys given"] * len(self._old)
        elif key is None:
            raw = os.environ.get(OLD_KEYS_VARIABLE, "")
            for part in re.split(r"[\s,]+", raw.strip()):
                if part:
                    self._old.append(_fernet(part.encode(), OLD_KEYS_VARIABLE))
                    self._old_sources.append(OLD_KEYS_VARIABLE)
        self._current: _Key | None = None
        #: Where the current key comes from, as messages name it.
        self.source = _GIVEN
        if key is None:
            env = os.environ.get(KEY_VARIABLE)
            if env:
                key, self.source = env.encode(), KEY_VARIABLE
            else:
                self.source = str(key_file())
        if key is not None:
            self._current = _fernet(key, self.source)
        self._file_old: list[_Key] = []

    @property
    def from_key_file(self) -> bool:
        """Whether the current key is the key file's (no ``HUB_SECRET_KEY``)."""
        return self.source not in (KEY_VARIABLE, _GIVEN)

    @property
    def key_said(self) -> str:
        """The current key as a message names it: "the key from HUB_SECRET_KEY" etc."""
        return self.source if self.source == _GIVEN else f"the key from {self.source}"

    def _load(self) -> _Key:
        if self._current is None:
            path = key_file()
            keys = _file_keys(_load_or_create_key_file(path, self._stored_secrets))
            if not keys:
                raise SecretKeyError(
                    f"the secret key file {path} holds no key: restore it from your backup"
                )
            self._current = _fernet(keys[0], str(path))
            self._file_old = [_fernet(k, str(path)) for k in keys[1:]]
        return self._current

    def _all(self) -> list[_Key]:
        return [self._load(), *self._file_old, *self._old]

    def _keys_said(self) -> str:
        old = len(self._file_old) + len(self._old)
        sources = sorted(set(self._old_sources) | ({self.source} if self._file_old else set()))
        more = f" or any of {old} old key(s) from {', '.join(sources)}" if old else ""
        return f"{self.key_said}{more}"

    def derived_keys(self, purpose: str) -> list[bytes]:
        """A key for ``purpose`` (a label such as ``"hub console sessions"``) derived from the
        current key, then one from each old key (HKDF-SHA256, the label as its info): the same
        on every node with the same keys, and different for every purpose. A key rotated out
        of use stops being derived from once it is dropped."""
        return [_derive(key.material, purpose) for key in self._all()]

    def encrypt(self, plain: str) -> str:
        return self._load().fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str, *, what: str) -> str:
        try:
            return MultiFernet([key.fernet for key in self._all()]).decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                f"cannot decrypt {what}: {self._keys_said()} is not the key it was encrypted"
                f" with; restore that key (as {KEY_VARIABLE}, in {OLD_KEYS_VARIABLE} or in the"
                " key file) and run `hub secrets rotate`"
            ) from None

    def key_of(self, token: str) -> int | None:
        """Which key reads ``token``: 0 the current key, 1.. an old one, None none of them."""
        for index, key in enumerate(self._all()):
            try:
                key.fernet.decrypt(token.encode())
            except InvalidToken:
                continue
            return index
        return None

    def reencrypt(self, token: str) -> str:
        """``token`` decrypted with whichever key reads it and encrypted with the current key.

        :raises InvalidToken: no key reads it.
        """
        return MultiFernet([key.fernet for key in self._all()]).rotate(token.encode()).decode()

    def new_key_in_file(self) -> None:
        """Make a new current key in the key file; the keys it held stay in it as old keys.

        :raises SecretKeyError: the current key is not the key file's (it is
            ``HUB_SECRET_KEY``, which the operator sets), or the file cannot be written.
        """
        if not self.from_key_file:
            raise SecretKeyError(
                f"the current key is {KEY_VARIABLE}, not the key file: to rotate, set the new"
                f" key as {KEY_VARIABLE} and the old one in {OLD_KEYS_VARIABLE}, then run"
                " `hub secrets rotate` without --new-key"
            )
        path = key_file()
        old = _file_keys(path.read_bytes()) if path.exists() else []
        if not old:
            self._load()  # no key yet: the usual first key, made only without secrets
            return
        new = Fernet.generate_key()
        _replace_key_file(path, [new, *old])
        self._current = None
        self._load()

    def forget_old_keys_in_file(self) -> int:
        """Leave only the current key in the key file; return how many old keys were dropped."""
        if not self.from_key_file:
            return 0
        path = key_file()
        keys = _file_keys(path.read_bytes())
        if len(keys) > 1:
            _replace_key_file(path, keys[:1])
            self._file_old = []
        return len(keys) - 1
