"""Tripletex's error bodies, turned into the hub's errors.

A refused request at Tripletex answers with an ``ApiError`` body::

    {"status": 422, "code": 18000, "message": "Validering feilet.",
     "developerMessage": "...", "link": "...", "requestId": "a1b2...",
     "validationMessages": [{"field": "postings", "message": "Bilaget er ikke i balanse."}]}

:func:`raise_for_response` lets :meth:`hub.toolkit.http.HubHttpClient.raise_for_status` choose the
error type from the status (401/403 ``AuthError``, 429 ``ThrottledError``, 5xx
``RemoteServerError``, other 4xx ``RemoteRequestError``) and adds what Tripletex said: the
message, the code, the field errors and the ``requestId`` Tripletex's support asks for. A
refused credential is named by its setting (``consumer_token``, ``employee_token``), never
shown: every message is scrubbed of the tokens and of the session token, even if a server
echoed one back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

import httpx

from hub.errors import AuthError, PluginError, RemoteRequestError, ThrottledError
from hub.toolkit import wire
from hub.toolkit.http import HubHttpClient

NAME = "norwegian_invoicing"
MASK = "********"
_MAX_FIELD_ERRORS = 5


@dataclass(frozen=True)
class TripletexError:
    """The fields of a Tripletex ``ApiError`` body (all optional)."""

    message: str | None = None
    developer_message: str | None = None
    code: int | None = None
    request_id: str | None = None
    field_errors: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        parts: list[str] = []
        if self.message:
            code = f" (code {self.code})" if self.code is not None else ""
            parts.append(f"{self.message.rstrip('.')}{code}")
        elif self.code is not None:
            parts.append(f"code {self.code}")
        parts += [e.rstrip(".") for e in self.field_errors]
        if self.developer_message and self.developer_message != self.message:
            parts.append(f"developer message: {self.developer_message.rstrip('.')}")
        if self.request_id:
            parts.append(f"requestId {self.request_id}")
        return "; ".join(parts)


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def _field_errors(messages: Any) -> tuple[str, ...]:
    if not isinstance(messages, list):
        return ()
    found: list[str] = []
    for item in messages:
        if not isinstance(item, dict):
            continue
        name, text = _text(item.get("field")), _text(item.get("message"))
        if text:
            found.append(f"{name}: {text}" if name else text)
    return tuple(found[:_MAX_FIELD_ERRORS])


def parse_error(response: httpx.Response) -> TripletexError | None:
    """The Tripletex error in ``response``'s body, or None if the body is not one."""
    try:
        body = wire.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    code = body.get("code")
    error = TripletexError(
        message=_text(body.get("message")),
        developer_message=_text(body.get("developerMessage")),
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        request_id=_text(body.get("requestId")),
        field_errors=_field_errors(body.get("validationMessages")),
    )
    return None if error == TripletexError() else error


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret replaced by a mask."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return text


def _auth_message(what: str, status: int, session: bool, error: TripletexError | None) -> str:
    said = f" (Tripletex: {error.describe()})" if error is not None else ""
    if status == 403:
        return (
            f"{what}: Tripletex refused access (HTTP 403): the tokens are valid but the employee"
            " of employee_token may not do this; give that employee (or the token's"
            f" entitlements) access to customers, invoices, orders and vouchers{said}"
        )
    if session:
        return (
            f"{what}: Tripletex refused to create a session (HTTP {status}): check the settings"
            f" consumer_token and employee_token (and that the employee token is not expired or"
            f" revoked){said}"
        )
    return (
        f"{what}: Tripletex refused a fresh session (HTTP {status}) made from consumer_token and"
        f" employee_token; check those settings and company_id{said}"
    )


def raise_for_response(
    http: HubHttpClient,
    response: httpx.Response,
    *,
    attempts: int,
    secrets: Sequence[str],
    doing: str | None = None,
    session: bool = False,
) -> NoReturn:
    """Raise the hub error for a final response with status >= 400, with Tripletex's details.

    ``doing`` says what the plugin was doing (``"crediting invoice 10001"``), put first;
    ``session`` says the request was the one creating a session (a 401 then means the tokens).
    """
    error = parse_error(response)
    # With a Tripletex body, hand hub.toolkit.http an empty copy so that its message does not repeat
    # the raw body; what Tripletex said is added below, field by field.
    judged = (
        response
        if error is None
        else httpx.Response(
            response.status_code, headers=response.headers, request=response.request
        )
    )
    try:
        http.raise_for_status(judged, attempts=attempts)
    except PluginError as exc:
        base = f"{doing}: {exc}" if doing else str(exc)
        if isinstance(exc, AuthError):
            what = f"{http.plugin}: {response.request.method} {response.request.url.path}"
            what = f"{doing}: {what}" if doing else what
            message = _auth_message(what, response.status_code, session, error)
        elif error is not None:
            message = f"{base}: Tripletex says: {error.describe()}"
        else:
            message = base
        message = scrub(message, secrets)
        new: PluginError
        if isinstance(exc, ThrottledError):
            new = ThrottledError(message, plugin=exc.plugin, retry_after=exc.retry_after)
        else:
            new = type(exc)(message, plugin=exc.plugin)
        raise new from None
    # raise_for_status returns only for status < 400; callers never get here with one.
    raise RemoteRequestError(
        scrub(f"unexpected HTTP {response.status_code} from Tripletex", secrets),
        plugin=http.plugin or None,
    )
