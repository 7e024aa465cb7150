"""The console's pages, one router per area (``pages/<area>.py``); see docs/console.md.

:func:`hub.console.app.make_app` includes every router of :data:`ROUTERS` behind the login
and the CSRF check, and those of :data:`PUBLIC` (the login page) behind the CSRF check only.
A new area adds its module's ``router`` to :data:`ROUTERS`.
"""

from __future__ import annotations

from fastapi import APIRouter

from hub.console.pages import (
    account,
    audit,
    cases,
    clients,
    dispatch,
    letters,
    login,
    overview,
    recurring,
    rules,
    runs,
    users,
)

#: Routers that anyone may reach (the login page): only ever the login.
PUBLIC: list[APIRouter] = [login.public]

#: Routers of pages for a logged-in user.
ROUTERS: list[APIRouter] = [
    login.router,
    overview.router,
    account.router,
    clients.router,
    users.router,
    rules.router,
    recurring.router,
    runs.router,
    cases.router,
    letters.router,
    dispatch.router,
    audit.router,
]
