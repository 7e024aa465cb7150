"""What every user may change of their own account, whatever their role: the language of
their console pages. Everything else about a user is an admin's (:mod:`hub.operations.users`).
"""

from __future__ import annotations

from sqlalchemy import select

from hub.db import tables as t
from hub.errors import NotFoundError
from hub.operations import audit
from hub.operations.context import Context
from hub.operations.users import Language, parse_language


def set_own_language(ctx: Context, language: str) -> Language:
    """Set the acting user's page language; a viewer may too (it changes no client).

    :raises InputError: ``language`` is not one of :data:`hub.operations.users.LANGUAGES`.
    :raises NotFoundError: the acting user is not a console user (the shell's user).
    """
    chosen = parse_language(language)
    with ctx.db.session() as session:
        user = session.scalar(select(t.User).where(t.User.name == ctx.actor.name))
        if user is None:
            raise NotFoundError(f"no user named {ctx.actor.name!r} (see `hub users list`)")
        before = user.language
        user.language = chosen
        audit.record(
            session,
            ctx,
            action="user.language",
            client=None,
            subject=f"user {user.name}",
            before={"language": before},
            after={"language": chosen},
        )
    return chosen
