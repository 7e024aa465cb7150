"""What the acting user may see and change: the one place the operations ask.

Every front end (the CLI, the daemon, the console, the API) calls the same operations with its
``ctx.actor`` (:class:`hub.operations.context.Actor`); the rules are kept here, not in a front
end, so no page or route can forget them.

Seeing:
    a client by name goes through :meth:`Context.client` or :func:`client_row`; a thing
    addressed by id (a case, an agreement) whose client the user may not see is refused with
    :func:`refuse_unseen`, as if it did not exist (the same :class:`NotFoundError` and
    message); a list across clients is narrowed with :func:`seen_names` or :func:`seen_ids`.
Changing:
    :func:`permit` is the one check that the user may change a client (:class:`ForbiddenError`
    naming the user, the client and what was refused) and returns the :class:`Change` that
    records the change in the audit log (:func:`hub.operations.audit.record`), in the
    change's own transaction; :func:`changing` wraps both around a block.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from hub.db import tables as t
from hub.errors import ForbiddenError, NotFoundError
from hub.operations import audit
from hub.operations.context import Actor, Context

__all__ = [
    "Change",
    "changing",
    "client_row",
    "permit",
    "refuse_unseen",
    "seen_ids",
    "seen_names",
]


def client_row(ctx: Context, session: Session, name: str) -> t.Client:
    """The client named ``name`` as stored; :class:`NotFoundError` if there is none or the user
    may not see it (the same message either way)."""
    row = session.get(t.Client, ctx.client(session, name).id)  # loaded already: no query
    assert row is not None
    return row


def refuse_unseen(ctx: Context, client: str, missing: str) -> None:
    """Refuse a thing of ``client`` the user may not see as if it did not exist: raise
    :class:`NotFoundError` with ``missing``, the message a missing one gets."""
    if not ctx.actor.may_see(client):
        raise NotFoundError(missing)


def seen_names(ctx: Context, column: InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """A condition on a column holding a client's name: one of the clients the user may see."""
    clients = ctx.actor.clients
    return true() if clients is None else column.in_(sorted(clients))


def seen_ids(ctx: Context, column: InstrumentedAttribute[Any]) -> ColumnElement[bool]:
    """A condition on a column holding a client's id: one of the clients the user may see (a
    row of no client, such as a run without one, only for a user who sees every client)."""
    clients = ctx.actor.clients
    if clients is None:
        return true()
    return column.in_(select(t.Client.id).where(t.Client.name.in_(sorted(clients))))


@dataclass
class Change:
    """A change the acting user may make (:func:`permit` said so), to be recorded in the audit
    log with ``before`` and ``after`` once made; see :func:`hub.operations.audit.record`."""

    ctx: Context
    action: str
    client: str | None
    subject: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None

    def record(self, session: Session) -> None:
        """Write the entry in ``session``, the transaction that makes the change."""
        audit.record(
            session,
            self.ctx,
            action=self.action,
            client=self.client,
            subject=self.subject,
            before=self.before,
            after=self.after,
        )


def _refusal(actor: Actor, action: str, client: str | None, subject: str) -> str:
    """``user 'vera' is a viewer, who changes nothing: case.close of case 12 (client 'a')
    refused``."""
    if actor.role == "viewer":
        why = "is a viewer, who changes nothing"
    elif client is None:
        why = f"is a {actor.role}; only an admin makes changes of no one client's"
    else:
        why = f"is a {actor.role} not assigned client {client!r}"
    where = "" if client is None or subject == f"client {client}" else f" (client {client!r})"
    return f"user {actor.name!r} {why}: {action} of {subject}{where} refused"


def permit(ctx: Context, *, action: str, client: str | None, subject: str) -> Change:
    """The one check before a change: may ``ctx.actor`` make ``action`` to ``subject`` of
    ``client`` (None: a change of no one client's, an admin's)? Returns the :class:`Change`
    to record once it is made.

    Check that the user may *see* the client first (:meth:`Context.client`, a case's client
    with :func:`refuse_unseen`): a client they may not see is not found, not forbidden.

    :raises ForbiddenError: the user may not; the message names the user, the client and the
        action refused. Nothing is changed or recorded.
    """
    if not ctx.actor.may_change(client):
        raise ForbiddenError(_refusal(ctx.actor, action, client, subject))
    return Change(ctx, action, client, subject)


@contextmanager
def changing(
    session: Session,
    ctx: Context,
    *,
    action: str,
    client: str | None,
    subject: str,
    before: Mapping[str, Any] | None = None,
) -> Iterator[Change]:
    """:func:`permit` the change, let the block make it (and set ``after``), then record it in
    ``session``. A block that raises records nothing, and its transaction rolls back."""
    change = permit(ctx, action=action, client=client, subject=subject)
    change.before = before
    yield change
    change.record(session)
