"""The composition root of one run: the services, who acts, and the clock, fixed once.

A front end (the CLI, the daemon, the demo, a console still to come) builds one
:class:`Context` when a run starts and passes it to every operation it calls. An operation
resolves each client once (:meth:`Context.client`), which fixes that client's ``today``
once, and passes both down: nothing below this layer reads the clock, the acting user or the
environment for them, so a run that crosses midnight acts for one day from start to end.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from hub.clients import get_client
from hub.clock import Clock
from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import NotFoundError
from hub.plugins import PluginRegistry
from hub.records import made_from
from hub.secrets import SecretBox


@dataclass(frozen=True)
class Services:
    """What every operation works with: the database, the plugins and the secret box.

    ``registry`` may be the function that gives the plugins (``hub.plugins.get_registry``):
    then they are loaded when an operation first needs them, and a command that needs none
    (``hub clients list``) starts without importing every plugin."""

    db: Database
    registry: PluginRegistry | Callable[[], PluginRegistry]
    box: SecretBox


Role = Literal["admin", "consultant", "viewer"]
"""What a user may do: an admin everything; a consultant see and change the clients assigned
to them; a viewer see them and change nothing. The shell's user (the CLI, the daemon) is an
admin: whoever has the shell has the database."""


@dataclass(frozen=True)
class Actor:
    """Who acts: recorded in case histories, agreements and grants, and what they may do.

    ``role`` and ``clients`` (None: every client) limit what the console's and the API's users
    see and change; :meth:`Context.client` enforces the seeing.

    ``operator``: whether this user may grant features to a client (C2); who is an operator is
    decided by whoever runs the hub (``HUB_OPERATORS``), never by the user.
    """

    name: str
    operator: bool = False
    role: Role = "admin"
    clients: frozenset[str] | None = None

    def may_see(self, client: str) -> bool:
        """Whether this user may see ``client`` at all (``clients`` None: every client)."""
        return self.clients is None or client in self.clients

    def may_change(self, client: str | None = None) -> bool:
        """Whether this user may change ``client`` (None: a change of no one client's, such as
        users, which only an admin may make)."""
        if self.role == "viewer":
            return False
        if client is None:
            return self.role == "admin"
        return self.may_see(client)

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> Actor:
        """``HUB_USER``, else the operating-system user; an operator if ``HUB_OPERATORS``
        (comma-separated) names them."""
        env = os.environ if environ is None else environ
        name = env.get("HUB_USER") or _os_user()
        operators = {n.strip() for n in env.get("HUB_OPERATORS", "").split(",") if n.strip()}
        return cls(name=name, operator=name in operators)


def _os_user() -> str:
    """The operating-system user; a uid without a name (a container's user with no passwd
    entry and no ``USER``) is recorded as ``uid N`` rather than stopping every command."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}"


@dataclass(frozen=True)
class ClientDay:
    """A client as one operation acts for it: looked up once, its ``today`` fixed once."""

    id: int
    name: str
    country: str
    currency: str
    timezone: str
    today: dt.date


@dataclass(frozen=True)
class Context:
    """One run's services, actor and clock; see the module's docstring."""

    services: Services
    actor: Actor
    clock: Clock = field(default_factory=Clock)

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def registry(self) -> PluginRegistry:
        registry = self.services.registry
        return registry() if callable(registry) else registry

    @property
    def box(self) -> SecretBox:
        return self.services.box

    def day_of(self, client: t.Client) -> ClientDay:
        """``client`` (a row already loaded) with its today fixed now."""
        return made_from(ClientDay, client, today=self.clock.today(client.timezone))

    def client(self, session: Session, name: str) -> ClientDay:
        """The client named ``name``, with its today fixed now; :class:`NotFoundError` if none."""
        if not self.actor.may_see(name):
            raise NotFoundError(f"no client named {name!r} (see `hub clients list`)")
        return self.day_of(get_client(session, name))
