"""Pages: templates rendered in the user's language, flash messages, redirects.

A page route returns :func:`render` (a template with its values) or, after a form, a
:func:`redirect` to the page to show next with a :func:`flash` message (post, redirect, get).
Every template extends ``base.html`` and gets, besides its own values:

``t("key", **values)``
    a word from :data:`hub.console.i18n.CATALOGUE` in the user's language;
``csrf_field()``
    the hidden field with the session's CSRF token: EVERY ``<form method="post">`` has it;
``amount(value, currency)``, ``date(value)``
    an amount or a date (or datetime) as the user's language writes it;
``page_url(offset, limit)``
    this page's address with another offset (the ``pagination`` macro uses it);
``user``
    the :class:`~hub.operations.users.UserSession` logged in (None on the login page);
``lang``, ``languages`` (code to own name), ``nav``, ``flashes``, ``path``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse, RedirectResponse

from hub.console import i18n
from hub.console.deps import signed_in
from hub.console.routes import served_routes
from hub.console.sessions import CSRF_FIELD, session_of
from hub.operations.users import UserSession

TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC = Path(__file__).resolve().parent / "static"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

#: The navigation: (word, path, admins only). An entry is shown once a page answers GET at
#: its path, so a new area's router makes its entry appear.
NAV: tuple[tuple[str, str, bool], ...] = (
    ("nav.overview", "/", False),
    ("nav.clients", "/clients", False),
    ("nav.cases", "/cases", False),
    ("nav.letters", "/letters", False),
    ("nav.dispatch", "/dispatch", False),
    ("nav.recurring", "/recurring", False),
    ("nav.runs", "/runs", False),
    ("nav.audit", "/audit", False),
    ("nav.users", "/users", True),
)


def language_of(request: Request) -> str:
    """The user's language; before login the one chosen on the login page, else the
    browser's (``Accept-Language``), else English."""
    found = signed_in(request)
    if found is not None:
        return found.language
    chosen = session_of(request).language
    if chosen in i18n.LANGUAGES:
        return chosen
    return i18n.negotiate(request.headers.get("accept-language"))


def words(request: Request) -> i18n.Words:
    return i18n.Words(language_of(request))


def _paths_served(request: Request) -> frozenset[str]:
    state = request.app.state
    served: frozenset[str] | None = getattr(state, "page_paths", None)
    if served is None:
        served = frozenset(r.path for r in served_routes(request.app) if "GET" in r.methods)
        state.page_paths = served
    return served


def _nav(request: Request, found: UserSession | None) -> list[tuple[str, str]]:
    if found is None:
        return []
    served = _paths_served(request)
    admin = found.actor.role == "admin"
    return [(key, path) for key, path, admins in NAV if path in served and (admin or not admins)]


def render(
    request: Request,
    template: str,
    values: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """``template`` rendered with ``values`` and what every template gets (module docstring)."""
    found = signed_in(request)
    lang = language_of(request)
    session = session_of(request)

    def csrf_field() -> Markup:
        token = escape(session.csrf_token())
        return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">')

    def amount(value: Decimal | None, currency: str) -> str:
        return "" if value is None else i18n.amount(value, currency, lang)

    def date(value: dt.date | None) -> str:
        return "" if value is None else i18n.date(value, lang)

    def page_url(offset: int, limit: int) -> str:
        query = {k: v for k, v in request.query_params.items() if k not in ("offset", "limit")}
        return f"{request.url.path}?{urlencode({**query, 'offset': offset, 'limit': limit})}"

    context: dict[str, Any] = {
        "t": i18n.Words(lang),
        "lang": lang,
        "languages": i18n.LANGUAGE_NAMES,
        "user": found,
        "path": request.url.path,
        "nav": _nav(request, found),
        "flashes": session.take_flashes(),
        "csrf_field": csrf_field,
        "amount": amount,
        "date": date,
        "page_url": page_url,
        **(values or {}),
    }
    body = _env.get_template(template).render(context)
    return HTMLResponse(body, status_code=status, headers=headers)


def flash(request: Request, kind: str, key: str, **values: object) -> None:
    """A message for the next page, in the user's language (``kind``: ``ok`` or ``error``);
    never put a secret in one: it travels in the session cookie."""
    session_of(request).flash(kind, words(request)(key, **values))


def flash_text(request: Request, kind: str, text: str) -> None:
    """A message already written (an operation's refusal, which names the thing and why)."""
    session_of(request).flash(kind, text)


def redirect(path: str) -> RedirectResponse:
    """To ``path`` (on this console) with 303, so the browser GETs it."""
    return RedirectResponse(path, status_code=303)
