"""What a page or an API route asks FastAPI for: the request's :class:`Context` (``ctx:
Ctx``); paging is :mod:`hub.console.paging`.

:func:`make_app <hub.console.app.make_app>` puts :func:`current_actor` (and, for pages,
:func:`csrf_guard`) in front of every route it includes, so no route can be reached without a
logged-in user, whether or not it asks for ``ctx``; a route asks for ``ctx: Ctx`` to act.

The user is looked up on every request (:func:`hub.operations.users.user_session`,
:func:`~hub.operations.users.token_login`), so a user removed, a role or clients changed, a
password changed (sessions) or a token revoked (API) take effect at the next request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request

from hub.console.errors import CsrfRefused, LoginRequired, Unauthenticated
from hub.console.sessions import CSRF_FIELD, session_of
from hub.errors import ForbiddenError
from hub.operations import users
from hub.operations.context import Actor, Context

__all__ = [
    "Ctx",
    "csrf_guard",
    "current_actor",
    "is_api",
    "require_admin",
    "signed_in",
]

API_PREFIX = "/api/"
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def signed_in(request: Request) -> users.UserSession | None:
    """The user this request acts for, once :func:`current_actor` has found them."""
    found = getattr(request.state, "user", None)
    return found if isinstance(found, users.UserSession) else None


def current_actor(request: Request) -> Actor:
    """Who makes this request: for ``/api/``, the owner of the ``Authorization: Bearer`` token
    (else 401); for a page, the session's user (else a redirect to the login page)."""
    found = signed_in(request)
    if found is not None:
        return found.actor
    services = request.app.state.services
    if is_api(request):
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("this API needs an API token: Authorization: Bearer <token>")
        found = users.token_login(services, token.strip())
        if found is None:
            raise Unauthenticated("the API token is not valid: unknown, or revoked")
    else:
        session = session_of(request)
        if session.user is None:
            raise LoginRequired("log in first")
        found = users.user_session(services, session.user)
        if found is None or found.stamp != session.stamp:
            session.end()  # the user is gone, or has a new password since this login
            raise LoginRequired("log in again")
    request.state.user = found
    return found.actor


def context(request: Request, actor: Annotated[Actor, Depends(current_actor)]) -> Context:
    """The request's one :class:`Context`: the app's services and clock, this user."""
    state = request.app.state
    return Context(state.services, actor, state.clock)


#: A route's parameter ``ctx: Ctx``: the request's :class:`Context` (see :func:`context`).
Ctx = Annotated[Context, Depends(context)]


def require_admin(actor: Annotated[Actor, Depends(current_actor)]) -> None:
    """Refuse (403) a user who is not an admin: a router of admin pages depends on it."""
    if actor.role != "admin":
        raise ForbiddenError(f"{actor.name} is a {actor.role}: only an admin may see this")


async def csrf_guard(request: Request) -> None:
    """Refuse (403) a form sent with an unsafe method without its session's CSRF token in the
    hidden field :data:`~hub.console.sessions.CSRF_FIELD`; see docs/console.md."""
    if request.method in _SAFE_METHODS:
        return
    given: Any = None
    if request.headers.get("content-type", "").startswith(_FORM_TYPES):
        given = (await request.form()).get(CSRF_FIELD)
    if not session_of(request).csrf_matches(given if isinstance(given, str) else None):
        raise CsrfRefused("the form's CSRF token is missing or not this session's")
