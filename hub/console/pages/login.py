"""Logging in and out (the one page anyone may see), rate-limited: :mod:`..ratelimit`."""

from __future__ import annotations

import math
import re
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from hub.console.deps import signed_in
from hub.console.i18n import LANGUAGES
from hub.console.rendering import flash, redirect, render, words
from hub.console.sessions import session_of
from hub.operations import users

public = APIRouter()
router = APIRouter()

_SAFE_NEXT = re.compile(r"/(?![/\\])[^\s\\]*")


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this console, never another site."""
    if target and _SAFE_NEXT.fullmatch(target):
        return target
    return "/"


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _login_page(
    request: Request,
    *,
    next_path: str,
    name: str = "",
    error: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "login.html",
        {"next": next_path, "name": name, "error": error},
        status=status,
        headers=headers,
    )


@public.get("/login")
def login_page(request: Request, next: str = "/", lang: str | None = None) -> Response:
    """The login form (``?lang=da|nb|en`` chooses its language before anyone logs in)."""
    session = session_of(request)
    if lang in LANGUAGES and session.language != lang:
        session.language = lang
        session.modified = True
    return _login_page(request, next_path=safe_next(next))


@public.post("/login")
def log_in(
    request: Request,
    name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    limiter = request.app.state.limiter
    address = _client_address(request)
    target = safe_next(next)
    wait = limiter.retry_after(name, address)
    if wait is not None:
        text = words(request)("login.limited", minutes=math.ceil(wait / 60))
        return _login_page(
            request,
            next_path=target,
            name=name,
            error=text,
            status=429,
            headers={"Retry-After": str(wait)},
        )
    found = users.log_in(request.app.state.services, name, password)
    if found is None:
        limiter.failed(name, address)
        return _login_page(
            request, next_path=target, name=name, error=words(request)("login.failed")
        )
    limiter.succeeded(name)
    session_of(request).log_in(found.actor.name, found.stamp)
    return redirect(target)


@router.post("/logout")
def log_out(request: Request) -> Response:
    found = signed_in(request)
    session = session_of(request)
    session.end()
    if found is not None:
        session.language = found.language
    flash(request, "ok", "login.logged_out")
    return redirect("/login")
