"""Fixtures for the delivery plugin tests: real messages, contexts and a real SMTP server.

The SMTP server is aiosmtpd on 127.0.0.1 with an ephemeral port, run in a thread; its handler
records what it saw (EHLOs, envelopes) and can be told to refuse recipients or data.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from smtp_server import EphemeralController, Recorder

from hub.model import ClientContext, OutgoingMessage
from hub.testing.contexts import plugin_context


@pytest.fixture
def make_message() -> Callable[..., OutgoingMessage]:
    """make_message(**overrides): a Danish reminder to Søren Ærø, overridable field by field."""

    def make(**overrides: Any) -> OutgoingMessage:
        values: dict[str, Any] = {
            "idempotency_key": "message:42",
            "kind": "reminder_1",
            "language": "da",
            "customer_number": "1001",
            "recipient_name": "Søren Ærø",
            "recipient_email": "soren@example.dk",
            "subject": "Påmindelse: faktura 123 på 1.250,00 kr.",
            "body": "Kære Søren Ærø\n\nFaktura 123 er forfalden. Venlig hilsen\nBlåbær ApS\n",
            "sender_name": "Blåbær ApS",
            "sender_email": "bogholderi@blaabaer.dk",
        }
        values.update(overrides)
        return OutgoingMessage(**values)

    return make


@pytest.fixture
def make_ctx() -> Callable[..., ClientContext]:
    """make_ctx(plugin_module, **settings): a ClientContext as the core builds it.

    The settings mapping masks the plugin's secret settings, as the core's does.
    """

    def make(plugin: ModuleType, **settings: str) -> ClientContext:
        return plugin_context(
            plugin.system_info(), settings, today=dt.date(2024, 6, 1), client_name="Blåbær ApS"
        )

    return make


@dataclass
class Server:
    port: int
    handler: Recorder


@pytest.fixture
def smtp_server() -> Iterator[Callable[..., Server]]:
    """smtp_server(mail_reply=, rcpt_reply=, data_reply=, users=, **smtp_kwargs): a running SMTP
    server.

    ``mail_reply``/``rcpt_reply``/``data_reply`` (e.g. ``"450 try later"``) refuse every
    MAIL/RCPT/DATA with that
    answer. ``users`` ({login: password}) switches on AUTH (PLAIN and LOGIN, allowed without
    TLS unless ``auth_require_tls=True``). Other keywords go to aiosmtpd's ``SMTP`` (e.g.
    ``tls_context``).
    """
    controllers: list[EphemeralController] = []

    def start(
        *,
        mail_reply: str | None = None,
        rcpt_reply: str | None = None,
        data_reply: str | None = None,
        users: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Server:
        handler = Recorder(mail_reply=mail_reply, rcpt_reply=rcpt_reply, data_reply=data_reply)
        if users is not None:
            kwargs["authenticator"] = _authenticator(users)
            kwargs.setdefault("auth_require_tls", False)
        controller = EphemeralController(
            handler, hostname="127.0.0.1", port=0, server_hostname="mail.test", **kwargs
        )
        controller.start()
        controllers.append(controller)
        return Server(controller.port, handler)

    yield start
    for controller in controllers:
        controller.stop()


def _authenticator(users: dict[str, str]) -> Callable[..., AuthResult]:
    def authenticate(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        ok = users.get(login) == auth_data.password.decode()
        return AuthResult(success=ok, handled=False)

    return authenticate


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 where nothing listens."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections (the kernel does) but never says a word."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def hangup_port() -> Iterator[int]:
    """A port whose server accepts each connection and closes it at once, without a greeting."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    listener.close()


@pytest.fixture
def self_signed_tls(tmp_path: Path) -> ssl.SSLContext:
    """A server TLS context with a fresh self-signed certificate for 127.0.0.1 (not trusted)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file = tmp_path / "server.pem"
    key_file = tmp_path / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    return context
