"""Encryption of secret settings at rest (Fernet).

The key comes from ``HUB_SECRET_KEY`` (a Fernet key: 32 url-safe base64-encoded bytes). Without
it, the hub keeps a key file ``secret.key`` in its data directory, created on first use with
mode 0600; back it up with the database, since secrets cannot be read without it.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from hub.config import data_dir
from hub.errors import RemoteServerError, SecretKeyError
from hub.toolkit.files import write_once


def key_file() -> Path:
    return data_dir() / "secret.key"


def _load_or_create_key_file(path: Path) -> bytes:
    """Read the key file, or create it with a new key if there is none.

    The key is written with :func:`hub.toolkit.files.write_once` (mode 0600): to a private temporary
    file beside it, hard-linked into place, so the key file appears whole or not at all and a
    process that reads it never sees half a key. If another process created it first, ours is
    dropped and theirs is used. Either way the key returned is the one read back from the
    file, so every process uses the key on disk.

    :raises SecretKeyError: the key file cannot be created.
    """
    try:
        return path.read_bytes().strip()
    except FileNotFoundError:
        pass
    try:
        write_once(path.parent, path.name, Fernet.generate_key(), mode=0o600)
    except RemoteServerError as exc:
        raise SecretKeyError(f"cannot create the secret key file: {exc}") from None
    return path.read_bytes().strip()


class SecretBox:
    """Encrypts and decrypts secret setting values."""

    def __init__(self, key: bytes | None = None) -> None:
        source = "HUB_SECRET_KEY"
        if key is None:
            env = os.environ.get("HUB_SECRET_KEY")
            if env:
                key = env.encode()
            else:
                source = str(key_file())
                key = _load_or_create_key_file(key_file())
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise SecretKeyError(
                f"the secret key from {source} is not a Fernet key (32 url-safe base64 bytes);"
                " make one with: python -c 'from cryptography.fernet import Fernet;"
                " print(Fernet.generate_key().decode())'"
            ) from None
        self._source = source

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str, *, what: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretKeyError(
                f"cannot decrypt {what}: the key from {self._source} is not the key it was"
                " encrypted with"
            ) from None
