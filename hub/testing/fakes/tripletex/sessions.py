"""Session tokens and authentication of the fake Tripletex (see
:mod:`hub.testing.fakes.tripletex`): ``/token/session/:create`` (``POST`` with a body, legacy
``PUT`` with query parameters), HTTP Basic with the session token as password, expiry and
revocation.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from hub.testing.fakes.tripletex.company import Company
from hub.testing.fakes.tripletex.fields import ALL, Shaper
from hub.testing.fakes.tripletex.model import ApiError, Session, validation_error
from hub.testing.fakes.tripletex.query import Result
from hub.testing.fakes.tripletex.render import render
from hub.testing.fakes.wire import dumps

__all__ = ["Sessions", "basic_token"]

_NAMES = ("consumerToken", "employeeToken", "expirationDate")


def _basic(header: str | None) -> tuple[str, str] | None:
    """``(user, password)`` of an ``Authorization: Basic ...`` header."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        text = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, _, password = text.partition(":")
    return user.strip(), password


def basic_token(header: str | None) -> str | None:
    decoded = _basic(header)
    return decoded[1] if decoded is not None and decoded[1] else None


def _unauthorized(developer: str) -> ApiError:
    return ApiError(401, 3000, "Unauthorized", developer_message=developer)


def _invalid(name: str, message: str) -> ApiError:
    return validation_error([(name, message)], code=15000, message="Validation failed")


class Sessions:
    """The session tokens of a fake (``tokens``: by token); the caller holds the fake's lock."""

    def __init__(
        self,
        today: Callable[[], date],
        next_id: Callable[[], int],
        by_id: Mapping[int, Company],
        by_employee_token: Mapping[str, Company],
    ) -> None:
        self._today = today
        self._next_id = next_id
        self._by_id = by_id
        self._by_employee_token = by_employee_token
        self.tokens: dict[str, Session] = {}

    def new(self, company: Company, expiration: date) -> Session:
        session = Session(
            id=self._next_id(),
            token=secrets.token_urlsafe(24),
            company_id=company.id,
            consumer_token=company.consumer_token,
            employee_token=company.employee_token,
            expiration=expiration,
        )
        self.tokens[session.token] = session
        return session

    def expire_all(self) -> None:
        for session in self.tokens.values():
            session.revoked = True

    def employee_token(self, headers: Mapping[str, str]) -> str:
        """Whose rate-limit bucket a request counts in ("" without a known session)."""
        session = self.tokens.get(basic_token(headers.get("authorization")) or "")
        return session.employee_token if session is not None else ""

    def create(self, method: str, query: Mapping[str, list[str]], parsed: Any, host: str) -> Result:
        """``POST`` (201, body) or legacy ``PUT`` (200, query) ``/token/session/:create``."""
        if method == "POST":
            doc = parsed if isinstance(parsed, dict) else {}
            values = {n: doc.get(n) for n in _NAMES}
            wrong = [n for n, v in values.items() if v is not None and not isinstance(v, str)]
            if wrong or not isinstance(parsed, dict):
                raise validation_error(
                    [(n, "Verdien er ikke av korrekt type for dette feltet.") for n in wrong],
                    code=16000,
                    message="Request mapping failed",
                )
        else:
            values = {n: (query.get(n) or [""])[0] for n in _NAMES}
        missing = [n for n, v in values.items() if not v]
        if missing:
            raise validation_error(
                [(n, "Kan ikke være null.") for n in missing],
                code=15000,
                message="Validation failed",
            )
        raw = str(values["expirationDate"])
        try:
            expiration = date.fromisoformat(raw) if len(raw) == 10 else None
        except ValueError:
            expiration = None
        if expiration is None:
            raise _invalid("expirationDate", f"Ugyldig dato: {raw!r} (format YYYY-MM-DD).")
        if expiration <= self._today():
            raise _invalid("expirationDate", "Utløpsdatoen må være etter dagens dato.")
        company = self._by_employee_token.get(str(values["employeeToken"]))
        if company is None or company.consumer_token != values["consumerToken"]:
            raise _unauthorized("Invalid consumer token or employee token.")
        session = self.new(company, expiration)
        shaper = Shaper(host, render)
        model, fields = render(session, shaper)
        text = dumps({"value": shaper.shape(model, fields, ALL)})
        return Result(201 if method == "POST" else 200, text)

    def authenticate(self, headers: Mapping[str, str]) -> tuple[Company, Session]:
        """The company and session of a request's Basic auth; 401 (3000) or 403 (9000)."""
        decoded = _basic(headers.get("authorization"))
        if decoded is None or not decoded[1]:
            raise _unauthorized(
                "No session token: send HTTP Basic auth, user 0 and the session token as password."
            )
        user, token = decoded
        session = self.tokens.get(token)
        if session is None:
            raise _unauthorized("Unknown session token.")
        if session.revoked or self._today() >= session.expiration:
            raise _unauthorized("The session token has expired; create a new one.")
        company = self._by_id[session.company_id]
        if user not in ("", "0", str(company.id)):
            raise ApiError(
                403,
                9000,
                "Forbidden",
                developer_message=f"No access to company {user} with this session.",
            )
        return company, session

    def delete(self, company: Company, token: str) -> None:
        """``DELETE /token/session/{token}`` (a token of the same company)."""
        session = self.tokens.get(token)
        if session is None or session.company_id != company.id:
            raise ApiError(404, 6000, "Object not found", developer_message="No such session.")
        session.revoked = True
