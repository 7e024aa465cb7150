"""Tripletex's error bodies, turned into the hub's errors.

A refused request at Tripletex answers with an ``ApiError`` body::

    {"status": 422, "code": 18000, "message": "Validering feilet.",
     "developerMessage": "...", "link": "...", "requestId": "a1b2...",
     "validationMessages": [{"field": "postings", "message": "Bilaget er ikke i balanse."}]}

:func:`raise_for_response` is :func:`hub.toolkit.vendor.raise_for_response` (the error type
from the status, the secrets scrubbed) with what Tripletex said: the message, the code, the
field errors and the ``requestId`` Tripletex's support asks for. A
refused credential is named by its setting (``consumer_token``, ``employee_token``), never
shown: every message is scrubbed of the tokens and of the session token, even if a server
echoed one back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NoReturn

import httpx

from hub.toolkit import vendor
from hub.toolkit.http import HubHttpClient
from hub.toolkit.vendor import text_of as _text

NAME = "norwegian_invoicing"
_MAX_FIELD_ERRORS = 5


class TripletexError(vendor.ErrorBody):
    """The fields of a Tripletex ``ApiError`` body: ``code`` as ``code 4000``, ``hint`` the
    ``developerMessage`` (when it says more than the message), ``reference`` the
    ``requestId``."""

    hint_label = "developer message"
    reference_label = "requestId"


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
    body = vendor.body_of(response)
    if body is None:
        return None
    code, message = body.get("code"), _text(body.get("message"))
    developer = _text(body.get("developerMessage"))
    error = TripletexError(
        message=message,
        code=f"code {code}" if isinstance(code, int) and not isinstance(code, bool) else None,
        hint=developer if developer != message else None,
        reference=_text(body.get("requestId")),
        field_errors=_field_errors(body.get("validationMessages")),
    )
    return None if error == TripletexError() else error


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
    vendor.raise_for_response(
        http,
        response,
        vendor="Tripletex",
        parse=parse_error,
        auth_message=lambda what, status, error: _auth_message(what, status, session, error),
        attempts=attempts,
        secrets=secrets,
        doing=doing,
    )
