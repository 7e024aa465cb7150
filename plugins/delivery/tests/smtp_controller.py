"""The aiosmtpd controller the delivery tests' SMTP servers run on (the fixtures in
``conftest`` and the conformance backend in ``delivery_backends``). A module of its own:
importing names from "conftest" would depend on which plugin's conftest was imported last."""

from __future__ import annotations

from aiosmtpd.controller import Controller


class EphemeralController(Controller):
    """A Controller on port 0: learns the port the OS chose before aiosmtpd connects to it."""

    def _trigger_server(self) -> None:
        sockets = getattr(self.server, "sockets", None)  # an asyncio.Server once started
        assert sockets
        self.port = sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]
