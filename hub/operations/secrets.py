"""Secret settings: re-encrypt them under the current key (rotation), and check that the
configured keys read every one of them.

See :mod:`hub.secrets` for where the keys come from (``HUB_SECRET_KEY``, ``HUB_SECRET_KEY_OLD``,
the key file) and :mod:`hub.clients` for the refusals that keep every stored secret readable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hub import clients
from hub.db.engine import Database
from hub.errors import SecretKeyError
from hub.operations import access
from hub.operations.context import Context, Services
from hub.records import Record
from hub.secrets import SecretBox


def secret_box(database: Callable[[], Database]) -> SecretBox:
    """The secret box of a front end: keys from the environment or the key file, and a key
    file made only while ``database()`` holds no secrets (a lost key file is reported, never
    silently replaced)."""

    def stored() -> int:
        with database().session() as session:
            return clients.count_secrets(session)

    return SecretBox(stored_secrets=stored)


@dataclass(frozen=True)
class Rotation(Record):
    """What ``hub secrets rotate`` did."""

    secrets: int  # re-encrypted under the current key (all there are)
    were_old: int  # of them, how many were under an old key before
    key: str  # where the current key comes from
    new_key: bool  # a new current key was put in the key file
    old_keys_dropped: int  # old keys removed from the key file afterwards


@dataclass(frozen=True)
class SecretsCheck(Record):
    """Whether the configured keys read every stored secret (never a value)."""

    key: str
    secrets: int
    current: int  # under the current key
    old: int  # under an old key: readable, `hub secrets rotate` moves them to the current
    unreadable: list[str] = field(default_factory=list)  # "client 'acme': alpha.api_token"


def rotate(ctx: Context, *, new_key: bool = False, drop_old: bool = False) -> Rotation:
    """Re-encrypt every stored secret under the current key, all in one transaction.

    ``new_key``: first put a new current key in the key file (the keys it held stay in it,
    after the new one, so whatever happens next every secret stays readable). Refused when
    the key comes from ``HUB_SECRET_KEY`` (the operator sets the new one there). ``drop_old``:
    after the secrets are committed under the current key, leave only it in the key file.

    :raises SecretKeyError: a stored secret cannot be read with the configured keys (nothing
        is changed, not even the key file), or the key file cannot be written.
    """
    box = ctx.box
    change = access.permit(ctx, action="secrets.rotate", client=None, subject="secret settings")
    with ctx.db.session() as session:
        # Under the secrets' lock: no other rotation changes the key file meanwhile.
        clients.refuse_unreadable_everywhere(session, box, nothing="nothing re-encrypted")
        if new_key:
            box.new_key_in_file()
        total, were_old = clients.rotate_secrets(session, box)
        change.after = {
            "secrets": total,
            "were_old": were_old,
            "new_key": new_key,
            "drop_old": drop_old,
        }
        change.record(session)
    dropped = 0
    if drop_old:
        with ctx.db.session() as session:
            # A secret stored under an old key since (a `clients set` that loaded the keys
            # before the rotation) would be lost with it: then the old keys stay.
            clients.lock_secrets(session)
            old = [s for s in clients.stored_secrets(session, box) if s.key_index]
            if old:
                raise SecretKeyError(
                    f"{total} secret(s) re-encrypted, but the old keys were kept:"
                    f" {len(old)} secret(s) were stored under one meanwhile; run"
                    " `hub secrets rotate --drop-old` again"
                )
            dropped = box.forget_old_keys_in_file()
    return Rotation(total, were_old, box.source, new_key, dropped)


def check(ctx: Context) -> SecretsCheck:
    """Which configured key reads each stored secret (of the clients the acting user may
    see); the ones none reads are named."""
    with ctx.db.session() as session:
        found = [s for s in clients.stored_secrets(session, ctx.box) if ctx.actor.may_see(s.client)]
    unreadable = [
        f"client {s.client!r}: {s.plugin}.{s.setting}" for s in found if s.key_index is None
    ]
    return SecretsCheck(
        key=ctx.box.source,
        secrets=len(found),
        current=sum(1 for s in found if s.key_index == 0),
        old=sum(1 for s in found if s.key_index),
        unreadable=unreadable,
    )


def derived_keys(services: Services, purpose: str) -> list[bytes]:
    """Keys for ``purpose`` derived from the hub's secret key (the current key's first, then
    each old key's; see :meth:`hub.secrets.SecretBox.derived_keys`): the same on every node
    that shares the secret key, and never the key itself. The console signs its session
    cookies with them."""
    return services.box.derived_keys(purpose)
