"""The ``file_outbox`` delivery plugin: each message as one ``.eml`` file in a directory.

The file name is derived from the idempotency key alone
(:func:`hub.toolkit.files.key_file_name`), so
a repeat of a delivery - in this process, after a crash, or from a second worker at the same
moment - lands on the same name.
:func:`hub.toolkit.files.write_once` publishes the file atomically with
``os.link``, which never replaces an existing file: the first writer wins, every later call is
a no-op that returns the same file name, and a reader of the directory never sees a
half-written ``.eml`` file. A letter is private to the hub's user: mode 0600, and the directory
0700 when the plugin creates it (an existing directory keeps its mode).

Stateless: every call reads ``ctx.settings`` afresh.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog

from hub import hookimpl
from hub.errors import RemoteRequestError, RemoteServerError
from hub.model import ClientContext, OutgoingMessage, SettingSpec
from hub.toolkit import files
from hub.toolkit.plugin import info_hook
from hub_delivery import __version__, settings
from hub_delivery.message import PLACEHOLDER_ADDRESS, build_email, to_bytes

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
MAX_NAME = files.MAX_NAME

#: The extension of a delivered message. Temporary files end in ``.part`` and start with ``.``.
SUFFIX = ".eml"


def _log(ctx: ClientContext) -> Any:
    return ctx.log if ctx.log is not None else structlog.get_logger().bind(plugin=NAME)


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # e.g. no permission: let files.write_once report it
        return False


system_info = info_hook(
    NAME,
    "File outbox (.eml files in a directory)",
    __version__,
    {"deliver"},
    SETTINGS,
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
    name = files.key_file_name(message.idempotency_key, suffix=SUFFIX, max_length=MAX_NAME)
    if _exists(directory / name):  # a repeat: do not even build it again
        log.info("delivery.file_outbox.exists", file=name, kind=message.kind)
        return name
    try:
        email = build_email(message, from_address=message.sender_email or PLACEHOLDER_ADDRESS)
    except ValueError as exc:
        raise RemoteRequestError(
            f"message {message.idempotency_key!r} cannot be written: {exc}", plugin=NAME
        ) from None
    try:
        # A letter holds a customer's name, address and debt: only the hub's user reads it.
        created = files.write_once(directory, name, to_bytes(email), mode=0o600, dir_mode=0o700)
    except RemoteServerError as exc:
        raise RemoteServerError(f"file outbox: {exc}", plugin=NAME) from None
    log.info(
        "delivery.file_outbox.written" if created else "delivery.file_outbox.exists",
        file=name,
        kind=message.kind,
        customer=message.customer_number,
    )
    return name
