"""The console's session: a signed cookie, and the CSRF token bound to it.

The cookie (``hub_session``) holds the logged-in user's name, the stamp of their password
(:attr:`hub.operations.users.UserSession.stamp`: a new password ends every session made
before it), when they logged in, the CSRF token, and the flash messages waiting to be shown.
It is signed (HMAC-SHA256, itsdangerous) with a key derived from the hub's secret key for this
purpose alone (:func:`hub.operations.secrets.derived_keys`), so every node that shares the
secret key accepts it and nothing in it can be changed by the browser; it is not encrypted
and holds no secret but the CSRF token, which is the browser's own. It is ``HttpOnly``,
``SameSite=Lax``, ``Path=/``, ``Secure`` when the console is reached over https
(:attr:`ConsoleSettings.https`), and it ends :attr:`ConsoleSettings.session_hours` after the
login however active the user is.

Nothing is kept on the server: logging out deletes the cookie in the browser, but a copy taken
before would stay valid until it ends. A user removed, or given a new password, is logged out
at their next request, wherever the copy is.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.console.settings import ConsoleSettings

COOKIE = "hub_session"
#: The label of the key the cookie is signed with (derived from the hub's secret key).
PURPOSE = "hub console session cookie v1"
#: The name of the CSRF token's hidden field in every form.
CSRF_FIELD = "csrf_token"
_SALT = "hub.console.session"
_SCOPE_KEY = "hub.session"
#: A cookie larger than this is not read (a browser keeps about 4 KB).
_MAX_COOKIE = 4000


@dataclass
class Session:
    """One browser's session; changes are written back in the response's cookie."""

    user: str | None = None
    stamp: str | None = None
    login_at: int | None = None
    csrf: str = ""
    flashes: list[tuple[str, str]] = field(default_factory=list)
    #: The language of a visitor not logged in (None: the browser's).
    language: str | None = None
    modified: bool = False
    ended: bool = False

    def csrf_token(self) -> str:
        """The token a form carries in its hidden :data:`CSRF_FIELD`; made on first use."""
        if not self.csrf:
            self.csrf = secrets.token_urlsafe(32)
            self.modified = True
        return self.csrf

    def csrf_matches(self, given: str | None) -> bool:
        return bool(self.csrf) and given is not None and hmac.compare_digest(self.csrf, given)

    def log_in(self, user: str, stamp: str) -> None:
        """A new session for ``user``: a new CSRF token too, so none known before the login
        (a planted one) is any use after."""
        self.user, self.stamp, self.login_at = user, stamp, int(time.time())
        self.csrf = secrets.token_urlsafe(32)
        self.language = None
        self.modified = True

    def end(self) -> None:
        """Log out: the cookie is deleted (flash messages set after this survive)."""
        self.user = self.stamp = self.login_at = None
        self.csrf = ""
        self.ended = True
        self.modified = True

    def flash(self, kind: str, text: str) -> None:
        """A message for the next page shown (``kind``: ``ok`` or ``error``)."""
        self.flashes.append((kind, text))
        self.modified = True

    def take_flashes(self) -> list[tuple[str, str]]:
        taken, self.flashes = self.flashes, []
        if taken:
            self.modified = True
        return taken

    def as_payload(self) -> dict[str, Any]:
        return {
            "u": self.user,
            "s": self.stamp,
            "t": self.login_at,
            "c": self.csrf,
            "f": [list(f) for f in self.flashes],
            "l": self.language,
        }

    @classmethod
    def from_payload(cls, data: Any) -> Session:
        if not isinstance(data, dict):
            return cls()
        flashes = [
            (str(f[0]), str(f[1]))
            for f in data.get("f") or []
            if isinstance(f, list) and len(f) == 2
        ]
        login_at = data.get("t")
        return cls(
            user=_text(data.get("u")),
            stamp=_text(data.get("s")),
            login_at=login_at if isinstance(login_at, int) else None,
            csrf=_text(data.get("c")) or "",
            flashes=flashes[:10],
            language=_text(data.get("l")),
        )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def session_of(connection: HTTPConnection) -> Session:
    """The request's session (:class:`SessionMiddleware` put it there)."""
    session = connection.scope.get(_SCOPE_KEY)
    if not isinstance(session, Session):
        raise RuntimeError("no session: the app is not wrapped in SessionMiddleware")
    return session


class SessionMiddleware:
    """Reads the session cookie into the request's scope, and writes it back when changed.

    ``keys``: the signing keys, the current first (older ones still verify, so a rotation of
    the hub's secret key with the old key kept logs no one out).
    """

    def __init__(self, app: ASGIApp, keys: list[bytes], settings: ConsoleSettings) -> None:
        if not keys:
            raise ValueError("the session needs a signing key")
        self.app = app
        self.settings = settings
        # itsdangerous signs with the last key and verifies with any.
        self._serializer = URLSafeTimedSerializer(
            list(reversed(keys)),
            salt=_SALT,
            signer_kwargs={"digest_method": hashlib.sha256},
        )

    def _load(self, raw: str | None) -> Session:
        if not raw or len(raw) > _MAX_COOKIE:
            return Session()
        try:
            data = self._serializer.loads(raw, max_age=self.settings.session_seconds)
        except BadSignature:  # forged, damaged, or older than a session lasts
            return Session()
        session = Session.from_payload(data)
        if session.user is not None and (
            session.login_at is None
            or time.time() - session.login_at > self.settings.session_seconds
        ):
            return Session(modified=True)  # over: the browser gets a cookie without the user
        return session

    def _cookie(self, session: Session) -> str:
        secure = "; Secure" if self.settings.https else ""
        flags = f"Path=/; HttpOnly; SameSite=Lax{secure}"
        if session.ended and not session.flashes:
            return f"{COOKIE}=; Max-Age=0; {flags}"
        value = self._serializer.dumps(session.as_payload())
        if session.login_at is not None:
            left = self.settings.session_seconds - (int(time.time()) - session.login_at)
        else:
            left = self.settings.session_seconds
        return f"{COOKIE}={value}; Max-Age={max(left, 0)}; {flags}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        session = self._load(HTTPConnection(scope).cookies.get(COOKIE))
        scope[_SCOPE_KEY] = session

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.modified:
                MutableHeaders(scope=message).append("set-cookie", self._cookie(session))
            await send(message)

        await self.app(scope, receive, send_with_cookie)
