"""The SMTP server the delivery tests run (the fixtures in ``conftest`` and the conformance
backend in ``delivery_backends``): aiosmtpd on port 0 with a handler that records what it
sees. A module of its own: importing names from "conftest" would depend on which plugin's
conftest was imported last."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class EphemeralController(Controller):
    """A Controller on port 0: learns the port the OS chose before aiosmtpd connects to it."""

    def _trigger_server(self) -> None:
        sockets = getattr(self.server, "sockets", None)  # an asyncio.Server once started
        assert sockets
        self.port = sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes


@dataclass
class Recorder:
    """An aiosmtpd handler that records what it sees; set a reply to refuse MAIL, RCPT or DATA."""

    mail_reply: str | None = None
    rcpt_reply: str | None = None
    data_reply: str | None = None
    ehlos: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.ehlos.append(hostname)
        session.host_name = hostname  # a new-style hook must do what aiosmtpd's default does
        return responses

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if self.mail_reply is not None:
            return self.mail_reply
        envelope.mail_from = address  # a new-style hook must do what aiosmtpd's default does
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.data_reply is not None:
            return self.data_reply
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 Message accepted for delivery"
