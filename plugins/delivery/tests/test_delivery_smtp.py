"""The SMTP plugin against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
import structlog
from hub_delivery import smtp
from hub_delivery.message import message_id
from smtp_server import EphemeralController, Recorder

from hub.errors import AuthError, RemoteRequestError, RemoteServerError, SettingsError
from hub.model import ClientContext, OutgoingMessage

MakeMessage = Callable[..., OutgoingMessage]
MakeCtx = Callable[..., ClientContext]
StartServer = Callable[..., Any]

PASSWORD = "s3cret-Pæssword!"


def _ctx(make_ctx: MakeCtx, port: int, **settings: str) -> ClientContext:
    """Settings for the test server; plain text (tls=none) unless the test says otherwise."""
    values = {"host": "127.0.0.1", "port": str(port), "from_address": "faktura@blaabaer.dk"}
    if "starttls" not in settings:
        values["tls"] = "none"
    values.update(settings)
    return make_ctx(smtp, **values)


def _parse(content: bytes) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(content)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_sends_the_message_without_starttls(
    smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server()
    reference = smtp.deliver_message(ctx=_ctx(make_ctx, server.port), message=make_message())
    assert reference == message_id("message:42", "blaabaer.dk")
    [received] = server.handler.received
    assert received.mail_from == "faktura@blaabaer.dk"
    assert received.rcpt_tos == ["soren@example.dk"]
    email = _parse(received.content)
    sender = email["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("Blåbær ApS", "faktura@blaabaer.dk")
    assert email["Reply-To"].addresses[0].addr_spec == "bogholderi@blaabaer.dk"
    recipient = email["To"].addresses[0]
    assert (recipient.display_name, recipient.addr_spec) == ("Søren Ærø", "soren@example.dk")
    assert email["Subject"] == "Påmindelse: faktura 123 på 1.250,00 kr."
    assert email["Message-ID"] == reference
    assert email["X-Hub-Kind"] == "reminder_1"
    assert email["X-Hub-Customer"] == "1001"
    body = email.get_content().replace("\r\n", "\n")
    assert body == "Kære Søren Ærø\n\nFaktura 123 er forfalden. Venlig hilsen\nBlåbær ApS\n"


def test_a_repeat_sends_again_with_the_same_message_id(
    smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server()
    ctx = _ctx(make_ctx, server.port)
    first = smtp.deliver_message(ctx=ctx, message=make_message(sender_email=None))
    second = smtp.deliver_message(ctx=ctx, message=make_message(sender_email=None))
    assert first == second
    ids = [_parse(r.content)["Message-ID"] for r in server.handler.received]
    assert ids == [first, first]
    assert _parse(server.handler.received[0].content)["Reply-To"] is None


@pytest.mark.parametrize("password", [PASSWORD, "ascii-only-secret"])
def test_logs_in_with_username_and_password(
    password: str, smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server(users={"blaabaer": password})
    ctx = _ctx(
        make_ctx,
        server.port,
        username="blaabaer",
        password=password,
        allow_plaintext_login="true",
    )
    smtp.deliver_message(ctx=ctx, message=make_message())
    assert len(server.handler.received) == 1


@pytest.mark.parametrize("password", [PASSWORD, "ascii-only-secret"])
def test_a_wrong_password_is_an_auth_error_that_never_shows_it(
    password: str, smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server(users={"blaabaer": "the-right-one"})
    with structlog.testing.capture_logs() as logs:
        ctx = _ctx(
            make_ctx,
            server.port,
            username="blaabaer",
            password=password,
            allow_plaintext_login="true",
        )
        with pytest.raises(AuthError) as caught:
            smtp.deliver_message(ctx=ctx, message=make_message())
    text = str(caught.value)
    assert "username" in text and "'blaabaer'" in text and "535" in text
    assert password not in text and password not in repr(caught.value)
    assert caught.value.__cause__ is None
    assert logs, "the failure is logged"
    assert password not in repr(logs)
    assert password not in repr(ctx)
    assert server.handler.received == []


def test_no_e_mail_address_fails_without_connecting(
    smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server()
    with pytest.raises(RemoteRequestError, match="customer 1001 has no e-mail address"):
        smtp.deliver_message(
            ctx=_ctx(make_ctx, server.port), message=make_message(recipient_email=None)
        )
    assert server.handler.ehlos == []
    assert server.handler.received == []


@pytest.mark.parametrize("refuse", ["mail_reply", "rcpt_reply", "data_reply"])
def test_a_4xx_answer_is_a_server_error_to_retry(
    refuse: str, smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server(**{refuse: "450 try later"})
    with pytest.raises(RemoteServerError, match="450 try later") as caught:
        smtp.deliver_message(ctx=_ctx(make_ctx, server.port), message=make_message())
    assert "tried again later" in str(caught.value)
    assert server.handler.received == []


def test_a_4xx_answer_to_the_sender_does_not_blame_the_setting(
    smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server(mail_reply="451 4.3.0 try again later")
    with pytest.raises(RemoteServerError) as caught:
        smtp.deliver_message(ctx=_ctx(make_ctx, server.port), message=make_message())
    assert "right now" in str(caught.value) and "setting from_address" not in str(caught.value)


@pytest.mark.parametrize("refuse", ["mail_reply", "rcpt_reply", "data_reply"])
def test_a_5xx_answer_is_a_refusal(
    refuse: str, smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server(**{refuse: "550 no such user"})
    with pytest.raises(RemoteRequestError, match="550 no such user"):
        smtp.deliver_message(ctx=_ctx(make_ctx, server.port), message=make_message())
    assert server.handler.received == []


def test_nothing_listening_is_a_server_error(
    free_port: int, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    with pytest.raises(RemoteServerError, match="cannot reach SMTP server 127.0.0.1"):
        smtp.deliver_message(ctx=_ctx(make_ctx, free_port), message=make_message())


def test_a_silent_server_times_out(
    silent_port: int, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    ctx = _ctx(make_ctx, silent_port, timeout="1")
    with pytest.raises(RemoteServerError, match="did not answer within 1 s"):
        smtp.deliver_message(ctx=ctx, message=make_message())


def test_a_server_that_hangs_up_is_a_server_error(
    hangup_port: int, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    with pytest.raises(RemoteServerError, match="closed the connection"):
        smtp.deliver_message(ctx=_ctx(make_ctx, hangup_port), message=make_message())


def test_starttls_is_required_when_set(
    smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server()
    ctx = _ctx(make_ctx, server.port, starttls="true")
    with pytest.raises(RemoteServerError, match="does not offer STARTTLS"):
        smtp.deliver_message(ctx=ctx, message=make_message())
    assert server.handler.received == []


def test_starttls_verifies_the_certificate(
    smtp_server: StartServer,
    self_signed_tls: ssl.SSLContext,
    make_ctx: MakeCtx,
    make_message: MakeMessage,
) -> None:
    server = smtp_server(tls_context=self_signed_tls, users={"blaabaer": PASSWORD})
    ctx = _ctx(make_ctx, server.port, starttls="true", username="blaabaer", password=PASSWORD)
    with pytest.raises(RemoteServerError, match="TLS failed") as caught:
        smtp.deliver_message(ctx=ctx, message=make_message())
    assert "certificate" in str(caught.value)
    assert server.handler.received == []


def test_settings_are_checked_and_defaulted(make_ctx: MakeCtx, make_message: MakeMessage) -> None:
    config = smtp.load_config(
        make_ctx(smtp, host="mail.example.dk", from_address="faktura@blaabaer.dk").settings
    )
    assert (config.port, config.tls, config.timeout) == (25, "starttls", 30)
    assert config.allow_plaintext_login is False
    assert (config.username, config.password) == (None, None)
    secret = smtp.load_config(
        make_ctx(smtp, host="h", from_address="a@b.dk", username="u", password=PASSWORD).settings
    )
    assert PASSWORD not in repr(secret)
    bad = [
        ({"from_address": "a@b.dk"}, "setting host is required"),
        ({"host": "h"}, "setting from_address is required"),
        ({"host": "h", "from_address": "nope"}, "setting from_address"),
        ({"host": "h", "from_address": "a@b.dk", "port": "x"}, "setting port must be"),
        ({"host": "h", "from_address": "a@b.dk", "port": "70000"}, "setting port must be"),
        ({"host": "h", "from_address": "a@b.dk", "timeout": "0"}, "setting timeout must be"),
        ({"host": "h", "from_address": "a@b.dk", "starttls": "maybe"}, "setting starttls"),
        ({"host": "h", "from_address": "a@b.dk", "username": "u"}, "setting password is"),
        ({"host": "a..b", "from_address": "a@b.dk"}, "setting host: 'a..b' is not a usable"),
        ({"host": "h", "from_address": "a@b.dk", "password": PASSWORD}, "setting username is"),
    ]
    for settings, error in bad:
        with pytest.raises(SettingsError, match=error) as caught:
            smtp.deliver_message(ctx=make_ctx(smtp, **settings), message=make_message())
        assert PASSWORD not in str(caught.value)


# -- TLS by default, and no password in plain text unless allowed ---------------------------


@pytest.fixture
def trusted_tls(
    self_signed_tls: ssl.SSLContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> ssl.SSLContext:
    """The self-signed server context, its certificate trusted by the plugin (``SSL_CERT_FILE``
    is where OpenSSL's default trust store is read from)."""
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "server.pem"))
    return self_signed_tls


def _settings(port: int, **settings: str) -> dict[str, str]:
    """The test server's settings with nothing said about TLS: the plugin's defaults."""
    return {"host": "127.0.0.1", "port": str(port), "from_address": "faktura@blaabaer.dk"} | (
        settings
    )


def test_starttls_is_the_default_and_the_login_goes_over_it(
    smtp_server: StartServer,
    trusted_tls: ssl.SSLContext,
    make_ctx: MakeCtx,
    make_message: MakeMessage,
) -> None:
    # The server refuses AUTH before STARTTLS: the login can only succeed over TLS.
    server = smtp_server(
        tls_context=trusted_tls, users={"blaabaer": PASSWORD}, auth_require_tls=True
    )
    ctx = make_ctx(smtp, **_settings(server.port, username="blaabaer", password=PASSWORD))
    smtp.deliver_message(ctx=ctx, message=make_message())
    assert len(server.handler.received) == 1


def test_a_server_without_starttls_is_refused_by_default(
    smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server()
    with pytest.raises(RemoteServerError, match="does not offer STARTTLS") as caught:
        smtp.deliver_message(ctx=make_ctx(smtp, **_settings(server.port)), message=make_message())
    assert "tls=implicit" in str(caught.value) and "tls=none" in str(caught.value)
    assert server.handler.received == []


def test_implicit_tls_speaks_tls_from_the_start(
    trusted_tls: ssl.SSLContext, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    handler = Recorder()
    controller = EphemeralController(
        handler, hostname="127.0.0.1", port=0, server_hostname="127.0.0.1", ssl_context=trusted_tls
    )
    controller.start()
    try:
        ctx = make_ctx(smtp, **_settings(controller.port, tls="implicit"))
        smtp.deliver_message(ctx=ctx, message=make_message())
    finally:
        controller.stop()
    assert len(handler.received) == 1
    assert smtp.load_config(_settings(1, tls="implicit") | {"port": ""}).port == 465


@pytest.mark.parametrize("plain", [{"tls": "none"}, {"starttls": "false"}])
def test_a_login_in_plain_text_is_refused_before_connecting(
    plain: dict[str, str], smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server(users={"blaabaer": PASSWORD})
    ctx = make_ctx(smtp, **_settings(server.port, username="blaabaer", password=PASSWORD, **plain))
    with pytest.raises(SettingsError) as caught:
        smtp.deliver_message(ctx=ctx, message=make_message())
    text = str(caught.value)
    assert text.startswith("setting username: logging in to SMTP server 127.0.0.1:")
    assert "would send the password unencrypted" in text
    assert "allow_plaintext_login=true" in text and PASSWORD not in text
    assert server.handler.ehlos == [] and server.handler.received == []


def test_a_login_in_plain_text_allowed_explicitly_is_logged_as_a_warning(
    smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server(users={"blaabaer": PASSWORD})
    ctx = make_ctx(
        smtp,
        **_settings(
            server.port,
            username="blaabaer",
            password=PASSWORD,
            tls="none",
            allow_plaintext_login="true",
        ),
    )
    with structlog.testing.capture_logs() as logs:
        smtp.deliver_message(ctx=ctx, message=make_message())
    assert len(server.handler.received) == 1
    [warning] = [e for e in logs if e["event"] == "delivery.smtp.plaintext_login"]
    assert warning["log_level"] == "warning" and warning["username"] == "blaabaer"
    assert "unencrypted" in warning["reason"]
    assert PASSWORD not in repr(logs)


def test_without_a_login_plain_text_needs_no_permission(
    smtp_server: StartServer, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    server = smtp_server()
    with structlog.testing.capture_logs() as logs:
        smtp.deliver_message(
            ctx=make_ctx(smtp, **_settings(server.port, starttls="false")), message=make_message()
        )
    assert len(server.handler.received) == 1  # starttls=false, set before tls, still works
    assert not [e for e in logs if e["log_level"] == "warning"]


def test_tls_must_be_one_of_its_modes(make_ctx: MakeCtx, make_message: MakeMessage) -> None:
    ctx = make_ctx(smtp, **_settings(25, tls="yes"))
    with pytest.raises(SettingsError, match="setting tls must be one of starttls, implicit, none"):
        smtp.deliver_message(ctx=ctx, message=make_message())
