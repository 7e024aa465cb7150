"""``hub demo --serve``: the console on the demo's database, with a demo user to log in as.

The user ``demo`` is an admin with a new random password, which is printed: it exists only in
the demo's throw-away database. The console's today is the demo's last simulated day, so its
pages show the clients as the timeline left them.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from hub.clock import Clock
from hub.console import ConsoleSettings, make_app
from hub.console.serving import AppServer, serve_until_stopped
from hub.db.engine import Database
from hub.demo import DemoResult
from hub.errors import InputError
from hub.operations import users
from hub.operations.context import Actor, Context, Services
from hub.plugins import PluginRegistry

#: The demo user's name.
DEMO_USER = "demo"


def open_console(
    result: DemoResult, registry: PluginRegistry, host: str = "127.0.0.1", port: int = 8080
) -> tuple[AppServer, str]:
    """The console's server on the demo's database (bound, not started) and the password of
    the demo user it made."""
    services = Services(Database(result.database), registry, result.box)
    clock = Clock(fixed=result.timeline.last)
    password = secrets.token_urlsafe(12)
    ctx = Context(services, Actor("hub demo", operator=True), clock)
    users.add_user(ctx, users.NewUser(DEMO_USER, "admin", password))
    app = make_app(services, clock, settings=ConsoleSettings.from_environment())
    try:
        server = AppServer(app, host, port)
    except OSError as exc:
        raise InputError(
            f"--port: cannot listen on {host}:{port}: {exc.strerror or exc}; choose another"
            " port (--port 0 picks a free one)"
        ) from exc
    return server, password


def serve(
    result: DemoResult,
    registry: PluginRegistry,
    say: Callable[[str], None],
    host: str = "127.0.0.1",
    port: int = 8080,
) -> None:
    """Serve the console on the demo's database until Ctrl-C, having said how to log in."""
    server, password = open_console(result, registry, host, port)
    server.start()
    say(f"The console: {server.url}/login")
    say(f"  user: {DEMO_USER}  password: {password}  (this demo's database only)")
    say("  Ctrl-C stops it.")
    serve_until_stopped(server)
