"""The ``smtp`` delivery plugin: each message as an e-mail to the customer, over SMTP.

One connection per message: connect, ``EHLO``, ``STARTTLS``, ``AUTH`` (if a username is set),
``MAIL``/``RCPT``/``DATA``, ``QUIT``. The envelope sender is the ``from_address`` setting.

**Encryption.** The ``tls`` setting says how: ``starttls`` (the default) upgrades the
connection with STARTTLS before anything else is said, and a server that does not offer it is
an error, never a silent fallback to plain text; ``implicit`` speaks TLS from the first byte
(port 465 by default); ``none`` sends in plain text (a relay on a trusted network). Either TLS
verifies the server's certificate against the system's trust store (``SSL_CERT_FILE`` names
another). A login over ``tls=none`` would send the password readably, so it is refused, when
the settings are set (:func:`check_settings`) and again when sending, unless
``allow_plaintext_login=true`` says the operator accepts that; every such login then logs a
warning (never the password). ``starttls``, the setting before ``tls``, still works where
``tls`` is not set: ``true`` is ``tls=starttls``, ``false`` is ``tls=none``.

**Idempotency.** SMTP cannot take a message back, so the plugin cannot make a repeat a no-op.
Instead the ``Message-ID`` is derived from the idempotency key alone
(:func:`hub_delivery.message.message_id`): a repeat carries the same id, and receivers that
drop duplicate Message-IDs drop it. A repeat happens only when a call failed after the server
may already have taken the message (the connection broke while waiting for the answer to
``DATA``) and the core tries again. Once the server has accepted the message, this plugin never
raises (a failing ``QUIT`` is ignored), so the core records it as sent.

**Errors.** No e-mail address, a rejected recipient or message (5xx) is a
:class:`~hub.errors.RemoteRequestError` (the core keeps the message as failed, for a person);
a server that cannot be reached, times out, disconnects or answers 4xx is a
:class:`~hub.errors.RemoteServerError` (the core tries again later); refused credentials are an
:class:`~hub.errors.AuthError` naming the ``username`` setting. The password never appears in
an error or a log line.

Stateless: every call reads ``ctx.settings`` afresh.
"""

from __future__ import annotations

import base64
import contextlib
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import structlog

from hub import hookimpl
from hub.errors import (
    AuthError,
    PluginError,
    RemoteRequestError,
    RemoteServerError,
    SettingsError,
)
from hub.model import ClientContext, OutgoingMessage, SettingSpec
from hub.toolkit.plugin import info_hook
from hub_delivery import __version__, settings
from hub_delivery.message import build_email, parse_address

NAME = "smtp"

HOST = SettingSpec(
    name="host", required=True, description="SMTP server host name, e.g. smtp.example.dk."
)
PORT = SettingSpec(
    name="port",
    type="integer",
    description="SMTP server port; unset: 465 with tls=implicit, else 25 (587 is the usual"
    " port for submission with STARTTLS).",
)
USERNAME = SettingSpec(
    name="username", description="User name to log in with (AUTH); no login when unset."
)
PASSWORD = SettingSpec(
    name="password", secret=True, description="Password for username (required with it)."
)
FROM_ADDRESS = SettingSpec(
    name="from_address",
    required=True,
    description="Envelope sender and From address, e.g. faktura@example.dk; the message's"
    " sender name is its display name and its sender e-mail the Reply-To.",
)
#: The values of the ``tls`` setting.
TLS_MODES = ("starttls", "implicit", "none")
TLS = SettingSpec(
    name="tls",
    description="How the connection is encrypted (certificate verified): starttls (the"
    " default; a server that does not offer STARTTLS is an error), implicit (TLS from the"
    " start, port 465) or none (plain text, for a relay on a trusted network).",
)
STARTTLS = SettingSpec(
    name="starttls",
    type="boolean",
    description="The setting before tls, used where tls is not set: true is tls=starttls,"
    " false is tls=none.",
)
ALLOW_PLAINTEXT_LOGIN = SettingSpec(
    name="allow_plaintext_login",
    type="boolean",
    default="false",
    description="Log in (username) with tls=none, the password sent unencrypted: refused"
    " unless true; each such login logs a warning.",
)
TIMEOUT = SettingSpec(
    name="timeout",
    type="integer",
    default="30",
    description="Seconds to wait for the server at each step before giving up (retried later).",
)

SETTINGS: tuple[SettingSpec, ...] = (
    HOST,
    PORT,
    USERNAME,
    PASSWORD,
    FROM_ADDRESS,
    TLS,
    STARTTLS,
    ALLOW_PLAINTEXT_LOGIN,
    TIMEOUT,
)

#: Longest piece of a server answer quoted in an error.
_MAX_REPLY = 200


@dataclass(frozen=True)
class Config:
    """One client's SMTP settings, checked, defaults applied. ``repr`` hides the password."""

    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)
    from_address: str
    tls: str  # one of TLS_MODES
    allow_plaintext_login: bool
    timeout: int

    @property
    def server(self) -> str:
        return f"SMTP server {self.host}:{self.port}"


def load_config(values: Mapping[str, str]) -> Config:
    """The checked settings from ``ctx.settings``.

    :raises SettingsError: a setting is missing or wrong, or a login would send the password
        unencrypted without ``allow_plaintext_login``; names the settings (never shows the
        password).
    """
    username = settings.value(values, USERNAME)
    password = settings.value(values, PASSWORD)
    if username is not None and password is None:
        raise SettingsError("setting password is required when username is set")
    if password is not None and username is None:
        raise SettingsError("setting username is required when password is set")
    from_address = settings.required(values, FROM_ADDRESS)
    try:
        parse_address(from_address)
    except ValueError as exc:
        raise SettingsError(f"setting from_address: {exc}") from None
    tls, why = _tls(values)
    allow_plaintext_login = settings.boolean(values, ALLOW_PLAINTEXT_LOGIN)
    port = (
        settings.integer(values, PORT, minimum=1, maximum=65535)
        if settings.value(values, PORT) is not None
        else (465 if tls == "implicit" else 25)
    )
    host = settings.required(values, HOST)
    if username is not None and tls == "none" and not allow_plaintext_login:
        raise SettingsError(
            f"setting username: logging in to SMTP server {host}:{port} with {why} would send"
            " the password unencrypted; use tls=starttls (the default) or tls=implicit, or set"
            " allow_plaintext_login=true to accept that"
        )
    return Config(
        host=host,
        port=port,
        username=username,
        password=password,
        from_address=from_address.strip(),
        tls=tls,
        allow_plaintext_login=allow_plaintext_login,
        timeout=settings.integer(values, TIMEOUT, minimum=1),
    )


def _tls(values: Mapping[str, str]) -> tuple[str, str]:
    """The TLS mode and the words naming where it came from: ``tls``, else the older
    ``starttls`` (true/false), else starttls by default."""
    tls = settings.value(values, TLS)
    if tls is not None:
        mode = tls.lower()
        if mode not in TLS_MODES:
            raise SettingsError(f"setting tls must be one of {', '.join(TLS_MODES)}, not {tls!r}")
        return mode, f"tls={mode}"
    if settings.value(values, STARTTLS) is not None:
        if settings.boolean(values, STARTTLS):
            return "starttls", "starttls=true"
        return "none", "starttls=false (that is, tls=none)"
    return "starttls", "tls=starttls"


@hookimpl
def check_settings(settings: Mapping[str, str]) -> None:
    """Refuse, at ``hub clients enable|set``, settings :func:`load_config` would refuse at
    every delivery (a login over ``tls=none`` without ``allow_plaintext_login``, a username
    without password, a ``tls`` that is not one of :data:`TLS_MODES`)."""
    load_config(settings)


def _log(ctx: ClientContext) -> Any:
    return ctx.log if ctx.log is not None else structlog.get_logger().bind(plugin=NAME)


system_info = info_hook(
    NAME, "E-mail over SMTP", __version__, {"deliver"}, SETTINGS, kind="delivery"
)


@hookimpl
def deliver_message(ctx: ClientContext, message: OutgoingMessage) -> str:
    """Send ``message`` to ``message.recipient_email``; return its ``Message-ID``.

    :raises RemoteRequestError: the customer has no (usable) e-mail address, or the server
        refused the recipient or the message for good (5xx).
    :raises RemoteServerError: the server could not be reached, timed out, disconnected or
        answered "try later" (4xx).
    :raises AuthError: the server refused the login (names the ``username`` setting).
    :raises SettingsError: a setting is missing or wrong.
    """
    log = _log(ctx)
    recipient = (message.recipient_email or "").strip()
    if not recipient:
        raise RemoteRequestError(
            f"customer {message.customer_number} has no e-mail address; add one in the"
            " accounting system, or deliver the letter on paper",
            plugin=NAME,
        )
    config = load_config(ctx.settings)
    try:
        email = build_email(
            message, from_address=config.from_address, reply_to=message.sender_email
        )
    except ValueError as exc:
        raise RemoteRequestError(
            f"message {message.idempotency_key!r} cannot be sent: {exc}", plugin=NAME
        ) from None
    message_id = str(email["Message-ID"])
    envelope_to = email["To"].addresses[0].addr_spec
    if config.username is not None and config.tls == "none":
        log.warning(
            "delivery.smtp.plaintext_login",
            server=config.server,
            username=config.username,
            reason="tls=none and allow_plaintext_login=true: the password is sent unencrypted",
        )
    try:
        _send(config, email, envelope_to)
    except PluginError as exc:
        log.warning(
            "delivery.smtp.failed",
            error=type(exc).__name__,
            reason=str(exc),
            message_id=message_id,
            customer=message.customer_number,
        )
        raise
    log.info(
        "delivery.smtp.sent",
        server=config.server,
        message_id=message_id,
        kind=message.kind,
        customer=message.customer_number,
    )
    return message_id


def _send(config: Config, email: EmailMessage, recipient: str) -> None:
    """Deliver ``email`` to ``recipient`` over one connection; errors as hub errors."""
    step = "connect"
    try:
        if config.tls == "implicit":
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                config.host, config.port, timeout=config.timeout, context=_tls_context()
            )
        else:
            connection = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    except (OSError, smtplib.SMTPException) as exc:
        raise _translate(exc, config, step) from None
    except UnicodeError:  # the host name cannot be encoded (IDNA) for DNS
        raise SettingsError(f"setting host: {config.host!r} is not a usable host name") from None
    accepted = False
    try:
        step = "greet"
        connection.ehlo_or_helo_if_needed()  # EHLO, else HELO, else SMTPHeloError
        if config.tls == "starttls":
            if not connection.has_extn("starttls"):
                raise RemoteServerError(
                    f"{config.server} does not offer STARTTLS (setting tls is starttls, the"
                    " default); nothing was sent. Set tls=implicit for a server that speaks"
                    " TLS from the start, or tls=none for a relay on a trusted network",
                    plugin=NAME,
                )
            step = "starttls"
            connection.starttls(context=_tls_context())
            connection.ehlo_or_helo_if_needed()
        if config.username is not None and config.password is not None:
            step = "login"
            _login(connection, config.username, config.password)
        step = "send"
        refused = connection.send_message(
            email, from_addr=config.from_address, to_addrs=[recipient]
        )
        if refused:  # one recipient only, so smtplib raises instead; kept for safety
            code, reply = next(iter(refused.values()))
            raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
        accepted = True
    except PluginError:
        raise
    except (OSError, smtplib.SMTPException) as exc:
        raise _translate(exc, config, step) from None
    finally:
        if accepted:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.quit()  # the message is accepted: a failing QUIT changes nothing
        with contextlib.suppress(OSError):
            connection.close()


def _tls_context() -> ssl.SSLContext:
    """Certificates verified against the system's trust store (``SSL_CERT_FILE`` overrides)."""
    return ssl.create_default_context()


def _login(connection: smtplib.SMTP, username: str, password: str) -> None:
    """Log in; with non-ASCII credentials (``æøå`` in a password) by AUTH PLAIN or LOGIN in UTF-8.

    :meth:`smtplib.SMTP.login` encodes credentials as ASCII and fails on anything else, while
    RFC 4954 carries them as UTF-8; this sends the same commands with UTF-8 bytes.
    """
    if username.isascii() and password.isascii():
        connection.login(username, password)
        return
    connection.ehlo_or_helo_if_needed()
    if not connection.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError("SMTP AUTH extension not supported by server.")
    methods = connection.esmtp_features["auth"].upper().split()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode("ascii")

    if "PLAIN" in methods:
        secret = b"\0" + username.encode() + b"\0" + password.encode()
        code, reply = connection.docmd("AUTH", "PLAIN " + b64(secret))
    elif "LOGIN" in methods:
        code, reply = connection.docmd("AUTH", "LOGIN " + b64(username.encode()))
        if code == 334:
            code, reply = connection.docmd(b64(password.encode()))
    else:
        raise smtplib.SMTPException("No suitable authentication method found.")
    if code not in (235, 503):  # 503: already logged in (as smtplib accepts it)
        raise smtplib.SMTPAuthenticationError(code, reply)


def _reply(config: Config, code: int, reply: bytes | str) -> str:
    """``code text`` of a server answer, shortened, with the password (if any) masked."""
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    text = " ".join(text.split())[:_MAX_REPLY]
    if config.password:
        text = text.replace(config.password, "********")
    return f"{code} {text}".strip()


def _by_code(code: int, config: Config, what: str) -> PluginError:
    """A failure answer during MAIL/RCPT/DATA: 4xx try later, 530 log in, other 5xx refused."""
    if 400 <= code < 500:
        return RemoteServerError(f"{what} (temporary; tried again later)", plugin=NAME)
    if code == 530:
        return AuthError(
            f"{what}: the server wants a login; set the setting username (and its password)",
            plugin=NAME,
        )
    return RemoteRequestError(what, plugin=NAME)


def _translate(exc: BaseException, config: Config, step: str) -> PluginError:
    """The hub error for an SMTP failure during ``step``, naming the server and its answer.

    Whatever the text, the password never appears in it.
    """
    error = _classify(exc, config, step)
    text = str(error)
    if config.password and config.password in text:
        return type(error)(text.replace(config.password, "********"), plugin=NAME)
    return error


def _classify(exc: BaseException, config: Config, step: str) -> PluginError:
    server = config.server
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        reply = _reply(config, exc.smtp_code, exc.smtp_error)
        if 400 <= exc.smtp_code < 500:
            return RemoteServerError(
                f"{server} could not log in user {config.username!r} right now: {reply}",
                plugin=NAME,
            )
        return AuthError(
            f"{server} refused the login of user {config.username!r} (settings username and"
            f" password): {reply}",
            plugin=NAME,
        )
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        answers = list(exc.recipients.values()) or [(550, b"refused")]
        code, text = answers[0]
        reply = _reply(config, code, text)
        return _by_code(code, config, f"{server} refused the recipient: {reply}")
    if isinstance(exc, smtplib.SMTPSenderRefused):
        reply = _reply(config, exc.smtp_code, exc.smtp_error)
        if 400 <= exc.smtp_code < 500:  # "try later": nothing wrong with the setting
            return _by_code(
                exc.smtp_code,
                config,
                f"{server} cannot take mail from {config.from_address!r} right now: {reply}",
            )
        return _by_code(
            exc.smtp_code,
            config,
            f"{server} refused the sender {config.from_address!r} (setting from_address): {reply}",
        )
    if isinstance(exc, smtplib.SMTPDataError):
        reply = _reply(config, exc.smtp_code, exc.smtp_error)
        return _by_code(exc.smtp_code, config, f"{server} refused the message: {reply}")
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        if step == "login":
            return AuthError(
                f"{server} does not offer a login (AUTH) for user {config.username!r} (setting"
                " username); it may want TLS first (setting tls)",
                plugin=NAME,
            )
        return RemoteRequestError(
            f"{server} cannot take this message: {exc} (an address with non-ASCII characters"
            " needs a server with SMTPUTF8)",
            plugin=NAME,
        )
    if isinstance(exc, smtplib.SMTPResponseException):  # greeting, EHLO, STARTTLS, other
        reply = _reply(config, exc.smtp_code, exc.smtp_error)
        return RemoteServerError(f"{server} failed at {step}: {reply}", plugin=NAME)
    if isinstance(exc, smtplib.SMTPServerDisconnected) and isinstance(
        exc.__context__, TimeoutError
    ):  # smtplib turns a read timeout into "Connection unexpectedly closed: timed out"
        exc = exc.__context__
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return RemoteServerError(f"{server} closed the connection at {step}", plugin=NAME)
    if isinstance(exc, ssl.SSLError):
        reason = getattr(exc, "verify_message", None) or exc.reason or str(exc)
        return RemoteServerError(f"{server}: TLS failed at {step}: {reason}", plugin=NAME)
    if isinstance(exc, TimeoutError):
        return RemoteServerError(
            f"{server} did not answer within {config.timeout} s (setting timeout) at {step}",
            plugin=NAME,
        )
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        return RemoteServerError(f"cannot reach {server} ({step}): {reason}", plugin=NAME)
    if config.username is not None and step == "login":  # e.g. "No suitable authentication"
        return AuthError(
            f"{server} cannot log in user {config.username!r} (setting username): {exc}",
            plugin=NAME,
        )
    return RemoteServerError(f"{server} failed at {step}: {exc}", plugin=NAME)
