"""What every failure looks like in the console: one table from error to HTTP status.

An operation's :class:`~hub.errors.HubError` keeps the message the CLI prints (``error:
<message>``); the API answers it as ``{"error": {"kind": ..., "message": ...}}`` and a page
shows it in the user's language's frame (its title and a back link). :func:`status_of` is the
one mapping; :mod:`hub.console.app` installs the handlers that use it. Page and API code raise
and let these handlers answer: a route never builds an error response of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub.errors import (
    ConflictError,
    ForbiddenError,
    HubError,
    InputError,
    NotFoundError,
    PluginError,
)


class Problem(Exception):
    """A refusal by the console itself (not an operation's): its status, kind and message,
    and the headers it needs (``Retry-After``, ``WWW-Authenticate``)."""

    status = 400
    kind = "bad_request"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}


class BadRequest(Problem):
    """The request is malformed: a parameter of the wrong type, a body that is not JSON."""


class Unauthenticated(Problem):
    """An API request without a valid token (401); a page instead redirects to the login."""

    status = 401
    kind = "unauthenticated"

    def __init__(self, message: str) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="hub"'})


class LoginRequired(Problem):
    """A page asked for without a session: answered with a redirect to the login page."""

    status = 303
    kind = "login_required"


class CsrfRefused(Problem):
    """A form sent without its session's CSRF token (or with another's)."""

    status = 403
    kind = "csrf"


class RateLimited(Problem):
    """Too many failed logins for a name or from an address."""

    status = 429
    kind = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class TooLarge(Problem):
    status = 413
    kind = "too_large"


@dataclass(frozen=True)
class Status:
    code: int
    kind: str


#: Each error type of the hub and its status, the most specific first.
_HUB_STATUS: tuple[tuple[type[HubError], Status], ...] = (
    (NotFoundError, Status(404, "not_found")),
    (ForbiddenError, Status(403, "forbidden")),
    (ConflictError, Status(409, "conflict")),
    (InputError, Status(422, "input")),
    (PluginError, Status(502, "plugin")),
    (HubError, Status(500, "failed")),
)

#: Statuses from the router itself (no route, wrong method) and others HTTP has.
_HTTP_KINDS = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "input",
    429: "rate_limited",
}


def status_of(exc: HubError | Problem) -> Status:
    """The status and kind an error is answered with (see the module's docstring)."""
    if isinstance(exc, Problem):
        return Status(exc.status, exc.kind)
    for kind, status in _HUB_STATUS:
        if isinstance(exc, kind):
            return status
    return Status(500, "failed")  # pragma: no cover - HubError is last above


def http_kind(code: int) -> str:
    return _HTTP_KINDS.get(code, "failed" if code >= 500 else "bad_request")
