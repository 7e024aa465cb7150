"""e-conomic's error bodies, turned into the hub's errors.

A refused request at e-conomic answers with a body like::

    {"message": "Validation error.", "developerHint": "Inspect validation errors ...",
     "errorCode": "E04300", "logId": "c7ca5bc2-...", "httpStatusCode": 400,
     "errors": {"currency": {"errors": [{"errorCode": "E06000",
                                         "message": "currency does not exist."}]}}}

:func:`raise_for_response` is :func:`hub.toolkit.vendor.raise_for_response` (the error type
from the status, the secrets scrubbed) with what e-conomic said: the message, the developer
hint, the error code(s), the field errors and the ``logId`` that e-conomic's support asks for.
A refused token is named (app secret or agreement grant) when e-conomic's answer says which.
No token value ever ends up in a message, even if a server echoed one back.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import httpx

from hub.toolkit import vendor

APP_SECRET = "app_secret_token (header X-AppSecretToken)"
AGREEMENT_GRANT = "agreement_grant_token (header X-AgreementGrantToken)"
_MAX_FIELD_ERRORS = 5

# The reference names no error code per token, so the words of e-conomic's message decide
# (lower-cased, letters and digits only): "The X-AppSecretToken is not valid." names the app
# secret, "... X-AgreementGrantToken ..." or "... revoked the grant ..." the agreement grant.
# The developer hint is not read: it tends to name both headers.
_APP_SECRET_WORD = "appsecret"
_GRANT_WORD = "grant"


class EconomicError(vendor.ErrorBody):
    """The fields of an e-conomic error body: ``hint`` is the ``developerHint``, ``reference``
    the ``logId``."""

    reference_label = "logId"

    def words(self) -> str:
        """Message, code and field errors, lower-cased, letters and digits only."""
        text = " ".join(p for p in (self.message, self.code, *self.field_errors) if p)
        return "".join(ch for ch in text.lower() if ch.isalnum())


def _text(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return vendor.text_of(value)


def _field_errors(errors: Any, path: str = "") -> Iterator[str]:
    """``path: CODE message`` for each field error in e-conomic's annotated ``errors`` tree.

    The tree mirrors the request body: ``{"lines": [{"arrayIndex": 0, "unitNetPrice":
    {"errors": [...]}}]}``. Filter errors come as a plain list of strings instead.
    """
    if isinstance(errors, str):
        yield f"{path}: {errors}" if path else errors
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, dict) and ("errorCode" in item or "message" in item):
                code, message = _text(item.get("errorCode")), _text(item.get("message"))
                text = " ".join(p for p in (code, message) if p)
                yield f"{path}: {text}" if path else text
            elif isinstance(item, dict) and "arrayIndex" in item:
                rest = {k: v for k, v in item.items() if k != "arrayIndex"}
                yield from _field_errors(rest, f"{path}[{item['arrayIndex']}]")
            else:
                yield from _field_errors(item, path)
    elif isinstance(errors, dict):
        for key, value in errors.items():
            if key == "errors":
                yield from _field_errors(value, path)
            elif isinstance(value, dict | list):
                yield from _field_errors(value, f"{path}.{key}" if path else str(key))


def parse_error(response: httpx.Response) -> EconomicError | None:
    """The e-conomic error in ``response``'s body, or None if the body is not one."""
    body = vendor.body_of(response)
    if body is None:
        return None
    error = EconomicError(
        message=_text(body.get("message")),
        code=_text(body.get("errorCode")),
        hint=_text(body.get("developerHint")),
        reference=_text(body.get("logId")),
        field_errors=tuple(list(_field_errors(body.get("errors")))[:_MAX_FIELD_ERRORS]),
    )
    if error == EconomicError():
        return None
    return error


def _which_token(error: EconomicError | None) -> str | None:
    if error is None:
        return None
    words = error.words()
    app = _APP_SECRET_WORD in words
    grant = _GRANT_WORD in words
    if app and not grant:
        return APP_SECRET
    if grant and not app:
        return AGREEMENT_GRANT
    return None


def _auth_message(base: str, status: int, error: EconomicError | None) -> str:
    token = _which_token(error)
    said = f" (e-conomic: {error.describe()})" if error is not None else ""
    if token is not None:
        return f"{base}: e-conomic refused the {token} (HTTP {status}); check that setting{said}"
    if status == 403:
        return (
            f"{base}: e-conomic refused access (HTTP 403): the tokens are valid but the app's role"
            " may not use this resource (the app needs a role such as SuperUser that may read"
            f" customers and invoices and book them){said}"
        )
    return (
        f"{base}: e-conomic refused the tokens (HTTP {status}) without saying which; check"
        f" {APP_SECRET} and {AGREEMENT_GRANT}{said}"
    )


#: Raise the hub error for a final response with status >= 400, with e-conomic's details:
#: ``raise_for_response(http, response, attempts=..., secrets=..., doing=...)``, ``doing``
#: saying what the plugin was doing (``"crediting invoice 5001"``), put first.
raise_for_response = functools.partial(
    vendor.raise_for_response, vendor="e-conomic", parse=parse_error, auth_message=_auth_message
)
