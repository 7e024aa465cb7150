"""``hub web``: the console (pages and the HTTP API) until Ctrl-C."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Annotated

import typer

from hub.cli.output import say
from hub.cli.state import state
from hub.errors import InputError

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from hub.console.serving import AppServer


#: What ``hub web --help`` ends with (see :class:`hub.cli.lazy.Lazy`).
EPILOG = "Example: hub web --port 8080"


def web(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on (0: any free).")] = 8080,
    https: Annotated[
        bool,
        typer.Option(
            "--https",
            help="The console is reached over https (a TLS proxy in front): its cookies are"
            " marked Secure (as HUB_CONSOLE_HTTPS=1).",
        ),
    ] = False,
) -> None:
    """Serve the console and its API (/api/v1) until Ctrl-C or SIGTERM; see docs/console.md.

    Users log in with the names and passwords `hub users add` gives them.
    """
    from hub.console import ConsoleSettings, make_app
    from hub.console.serving import serve_until_stopped

    if not 0 <= port <= 65535:
        raise InputError(f"--port: {port} is not a port (0-65535)")
    settings = ConsoleSettings.from_environment()
    if https:
        settings = dataclasses.replace(settings, https=True)
    ctx = state.context()
    server = serve_console(make_app(ctx.services, ctx.clock, settings=settings), host, port)
    say(f"console: {server.url}/ (API: {server.url}/api/v1/); Ctrl-C stops it")
    serve_until_stopped(server)


def serve_console(app: ASGIApp, host: str, port: int) -> AppServer:
    """The console's server, its socket bound; a port in use is an :class:`InputError`."""
    from hub.console.serving import AppServer

    try:
        return AppServer(app, host, port)
    except OSError as exc:
        raise InputError(
            f"--port: cannot listen on {host}:{port}: {exc.strerror or exc}; another process"
            " uses it, or choose another port (--port 0 picks a free one)"
        ) from exc
