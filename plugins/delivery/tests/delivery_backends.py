"""The conformance kit's backends for the delivery plugins: a directory, and an SMTP server.

A module of its own (not ``conftest``): several plugins' test directories have a conftest, so
importing names from "conftest" would depend on which one was imported last. The SMTP server
is the one the conftest's fixtures run (``smtp_server``: aiosmtpd on 127.0.0.1, port 0, in a
thread).

Both systems are reachable from another process (a directory on disk, a TCP port), as the kit
needs: it repeats each delivery in a fresh Python process.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from email import policy
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from smtp_server import EphemeralController, Recorder

from hub.testing.conformance import ConformanceBackend
from hub.testing.conformance.backend import Effect, Fault

#: What the server answers to MAIL FROM while the ``server_error`` fault lasts: a temporary
#: failure, as a server answers when its queue or disk is full or it is shutting down.
TEMPORARY_FAILURE = "451 4.3.0 Temporary local problem, please try again later"


class FileOutboxBackend(ConformanceBackend):
    """The ``file_outbox`` plugin's directory; a delivered message is one ``.eml`` file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.outbox = directory / "outbox"

    def settings(self) -> dict[str, str]:
        return {"directory": str(self.outbox)}

    def effects(self, kind: Effect) -> set[str]:
        """The ``.eml`` files (hidden ``.tmp-*.part`` files of a write in progress are not)."""
        if kind != "message" or not self.outbox.is_dir():
            return set()
        return {
            path.name
            for path in self.outbox.iterdir()
            if path.suffix == ".eml" and not path.name.startswith(".")
        }

    def fault(self, kind: Fault) -> AbstractContextManager[dict[str, str]]:
        if kind != "server_error":
            raise NotImplementedError(f"a directory cannot fail with {kind!r}")
        return self._unwritable()

    @contextmanager
    def _unwritable(self) -> Iterator[dict[str, str]]:
        """A directory that cannot be created: its parent is a plain file (as when a share is
        not mounted and a file sits where it should be). Works as root too, unlike chmod."""
        blocker = self.directory / "not-a-directory"
        blocker.write_text("a file where the outbox's parent directory should be\n")
        try:
            yield {"directory": str(blocker / "outbox")}
        finally:
            blocker.unlink(missing_ok=True)


class SmtpBackend(ConformanceBackend):
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that wants a login (AUTH PLAIN/LOGIN).

    Use it as a context manager: the server runs until the block ends.
    """

    USERNAME = "acme-kredit"
    #: Non-ASCII on purpose: the plugin sends such credentials in UTF-8 (RFC 4954).
    PASSWORD = "Kodeord-Æ9x!q7-conformance"
    WRONG_PASSWORD = "not-the-password-41"
    FROM_ADDRESS = "faktura@acme.example"

    def __init__(self) -> None:
        self.mailbox = Recorder()
        self._controller = EphemeralController(
            self.mailbox,
            hostname="127.0.0.1",
            port=0,
            server_hostname="mail.conformance.test",
            authenticator=self._authenticate,
            auth_require_tls=False,  # no TLS on 127.0.0.1; STARTTLS has its own plugin tests
        )
        self.port = 0

    def __enter__(self) -> SmtpBackend:
        self._controller.start()
        self.port = self._controller.port
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._controller.stop()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = (auth_data.login, auth_data.password) == (
            self.USERNAME.encode(),
            self.PASSWORD.encode(),
        )
        return AuthResult(success=ok, handled=False)

    def settings(self) -> dict[str, str]:
        return {
            "host": "127.0.0.1",
            "port": str(self.port),
            "username": self.USERNAME,
            "password": self.PASSWORD,
            "from_address": self.FROM_ADDRESS,
            # No TLS on 127.0.0.1 (STARTTLS has its own plugin tests): the login in plain
            # text is allowed explicitly, as an operator of a trusted relay would.
            "tls": "none",
            "allow_plaintext_login": "true",
            "timeout": "10",  # a hung server fails the test in seconds, not half a minute
        }

    def effects(self, kind: Effect) -> set[str]:
        """The Message-IDs received: SMTP cannot take a message back, and a repeat carries
        the same id, which receivers drop (see ``hub_delivery.smtp``)."""
        if kind != "message":
            return set()
        parser = BytesParser(policy=policy.default)
        return {
            str(parser.parsebytes(m.content, headersonly=True)["Message-ID"] or f"no id #{n}")
            for n, m in enumerate(list(self.mailbox.received))
        }

    def fault(self, kind: Fault) -> AbstractContextManager[dict[str, str]]:
        if kind == "auth":
            return self._wrong_password()
        if kind == "server_error":
            return self._temporary_failure()
        raise NotImplementedError(f"an SMTP server cannot fail with {kind!r}")

    @contextmanager
    def _wrong_password(self) -> Iterator[dict[str, str]]:
        """The server refuses the login (535): the settings carry a wrong password."""
        yield {**self.settings(), "password": self.WRONG_PASSWORD}

    @contextmanager
    def _temporary_failure(self) -> Iterator[dict[str, str]]:
        """Every MAIL FROM is answered 451 (try later): nothing is accepted meanwhile."""
        self.mailbox.mail_reply = TEMPORARY_FAILURE  # one attribute: read whole by the server
        try:
            yield self.settings()
        finally:
            self.mailbox.mail_reply = None
