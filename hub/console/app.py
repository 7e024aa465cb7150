"""The console's ASGI app: :func:`make_app`.

What every request goes through, outermost first: the security headers (no script, no frame,
no cache), the body size limit, the session cookie (:mod:`hub.console.sessions`), the router;
then, for every route but the login page and the static files, the logged-in user
(:func:`hub.console.deps.current_actor`) and, for a page's form, its CSRF token
(:func:`hub.console.deps.csrf_guard`). Errors are answered by the handlers here, from the one
table in :mod:`hub.console.errors`: JSON under ``/api/``, a page in the user's language
elsewhere.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub import __version__
from hub.clock import Clock
from hub.console import api, pages
from hub.console.deps import csrf_guard, current_actor, is_api, signed_in
from hub.console.errors import LoginRequired, Problem, TooLarge, http_kind, status_of
from hub.console.i18n import CATALOGUE, DEFAULT_LANGUAGE
from hub.console.jsonapi import error_body, json_response
from hub.console.ratelimit import LoginLimiter
from hub.console.rendering import STATIC, render, words
from hub.console.sessions import PURPOSE, SessionMiddleware, session_of
from hub.console.settings import ConsoleSettings
from hub.errors import HubError
from hub.logging import get_logger
from hub.operations import users
from hub.operations.context import Services
from hub.operations.secrets import derived_keys

__all__ = ["make_app"]

log = get_logger("hub.console")

#: No script, no plugin, no frame, nothing from elsewhere: the pages need none.
_SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


class _SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _BodyLimit:
    """Refuses (413) a request body larger than ``limit`` bytes, declared or sent."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > self.limit):
                response = Response(
                    "request body too large\n", status_code=413, media_type="text/plain"
                )
                await response(scope, receive, send)
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise TooLarge(f"the request body is larger than {self.limit} bytes")
            return message

        await self.app(scope, counted, send)


def _resolve_softly(request: Request) -> None:
    """For an error page outside any route (no such page): the session's user, if valid, so
    the page is in their language and has their navigation."""
    if signed_in(request) is not None or is_api(request):
        return
    session = session_of(request)
    if session.user is None:
        return
    found = users.user_session(request.app.state.services, session.user)
    if found is not None and found.stamp == session.stamp:
        request.state.user = found


def _page_error(
    request: Request,
    status: int,
    message: str | None,
    headers: dict[str, str] | None = None,
    *,
    text_key: str | None = None,
) -> Response:
    """The error page: a title and a text in the user's language for the status (or
    ``text_key``), and ``message`` (an operation's, which names the thing and why) below."""
    _resolve_softly(request)
    said = words(request)
    general = text_key or f"error.{status}"
    title = said(f"error.{status}.title") if status in (403, 404) else said("error.title")
    text = said(general) if general in CATALOGUE[DEFAULT_LANGUAGE] else said("error.500")
    return render(
        request,
        "error.html",
        {"status": status, "title": title, "text": text, "detail": message},
        status=status,
        headers=headers,
    )


def _answer(
    request: Request,
    status: int,
    kind: str,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    detail: bool = True,
) -> Response:
    if is_api(request):
        return json_response(error_body(kind, message), status, headers)
    return _page_error(request, status, message if detail else None, headers)


def _hub_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HubError)
    status = status_of(exc)
    if status.code >= 500:
        log.error("console.operation_failed", path=request.url.path, error=str(exc))
    return _answer(request, status.code, status.kind, str(exc))


def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    if isinstance(exc, LoginRequired):
        target = request.url.path
        if request.url.query:
            target += f"?{request.url.query}"
        where = "/login" if request.method != "GET" else f"/login?next={quote(target, safe='')}"
        return Response(status_code=303, headers={"location": where})
    status = status_of(exc)
    if not is_api(request) and exc.kind == "csrf":
        return _page_error(request, status.code, None, exc.headers, text_key="error.csrf")
    return _answer(request, status.code, status.kind, str(exc), exc.headers)


def _http_error(request: Request, exc: Exception) -> Response:
    """The router's own refusals (no such path, a method the path does not take): the page
    says it in the user's language, without the router's English."""
    assert isinstance(exc, StarletteHTTPException)
    code = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else "error"
    headers = dict(exc.headers or {})
    return _answer(request, code, http_kind(code), message, headers, detail=False)


def _invalid(request: Request, exc: Exception) -> Response:
    """A parameter or body the route's types refuse: 400, naming each field and why, never
    the value given (it could be a password)."""
    assert isinstance(exc, RequestValidationError)
    said = []
    for error in exc.errors():
        where = ".".join(
            str(part) for part in error.get("loc", ()) if part not in ("body", "query", "path")
        )
        said.append(f"{where or 'request'}: {error.get('msg', 'not valid')}")
    return _answer(request, 400, "bad_request", "; ".join(said) or "the request is not valid")


def _unexpected(request: Request, exc: Exception) -> Response:
    log.error(
        "console.request_failed",
        path=request.url.path,
        error=type(exc).__name__,
        exc_info=exc,
    )
    return _answer(request, 500, "internal", "internal error; it has been logged", detail=False)


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The API's OpenAPI document (pages are not in it): bearer tokens, and 400 rather than
    FastAPI's 422 for a request its types refuse."""
    document: dict[str, Any] | None = getattr(app.state, "openapi", None)
    if document is not None:
        return document
    document = get_openapi(
        title="Receivables hub API",
        version=__version__,
        description="The hub's HTTP API: see docs/console.md.",
        routes=app.routes,
    )
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if "HTTPValidationError" in str(responses.get("422", "")):
                del responses["422"]
    components = document.setdefault("components", {})
    schemas = components.get("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    components["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    document["security"] = [{"bearer": []}]
    app.state.openapi = document
    return document


def make_app(
    services: Services,
    clock: Clock | None = None,
    *,
    settings: ConsoleSettings | None = None,
    limiter: LoginLimiter | None = None,
) -> FastAPI:
    """The console's app (pages and ``/api/v1``) on ``services``; ``clock`` gives every
    request's today (default: the real clock); ``settings`` default to the environment's.

    :raises SecretKeyError: the hub's secret key (which the session key is derived from)
        cannot be read.
    """
    settings = settings or ConsoleSettings.from_environment()
    app = FastAPI(
        title="Receivables hub",
        version=__version__,
        openapi_url=None,  # served by the API's own, authenticated route
        docs_url=None,  # no Swagger or ReDoc pages: they load scripts from elsewhere
        redoc_url=None,
    )
    app.state.services = services
    app.state.clock = clock or Clock()
    app.state.settings = settings
    app.state.limiter = limiter or LoginLimiter(
        settings.login_failures, settings.login_window_minutes * 60
    )
    app.state.openapi_document = lambda: _openapi(app)

    signed_in_page = [Depends(current_actor), Depends(csrf_guard)]
    for router in pages.PUBLIC:
        app.include_router(router, dependencies=[Depends(csrf_guard)], include_in_schema=False)
    for router in pages.ROUTERS:
        app.include_router(router, dependencies=signed_in_page, include_in_schema=False)
    for router in api.ROUTERS:
        app.include_router(router, prefix=api.PREFIX, dependencies=[Depends(current_actor)])
    app.include_router(
        api.DOCUMENT, prefix="/api", dependencies=[Depends(current_actor)], include_in_schema=False
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    app.add_exception_handler(HubError, _hub_error)
    app.add_exception_handler(Problem, _problem)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(Exception, _unexpected)

    app.add_middleware(SessionMiddleware, keys=derived_keys(services, PURPOSE), settings=settings)
    app.add_middleware(_BodyLimit, limit=settings.max_body)
    app.add_middleware(_SecurityHeaders)
    return app
