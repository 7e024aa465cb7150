"""The console served for real: uvicorn on a free loopback port, an httpx client with cookies,
a database from ``db_url`` (SQLite and PostgreSQL), and users of each role made through the
operations.

A test asks for ``console`` (a :class:`Console`) and then ``console.login("bo")`` (a client
whose cookies hold bo's session), ``console.api("bo")`` (a client with bo's API token),
``console.anonymous()``; ``console.admin`` is the shell's admin context, to arrange data
through the operations. See docs/console.md, "Test fixtures".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI

from hub.clock import Clock
from hub.console import ConsoleSettings, make_app
from hub.console.ratelimit import LoginLimiter
from hub.console.serving import AppServer
from hub.db.engine import Database
from hub.operations import clients, users
from hub.operations.context import Actor, Context, Services
from hub.secrets import SecretBox
from tests.helpers import registry_with
from tests.sample_plugins import RecordingPlugin

#: Every test user's password (each user's name is put in front, so no two are alike).
PASSWORD = "a long enough password"
#: The secret setting of client acme's plugin: it must never appear in an answer.
SECRET_SETTING = "s3cr3t-api-token-of-acme-0123456789"
TODAY = dt.date(2026, 3, 2)

#: name -> (role, clients, language)
USERS: dict[str, tuple[users.Role, frozenset[str], users.Language]] = {
    "anna": ("admin", frozenset(), "en"),
    "bo": ("consultant", frozenset({"acme"}), "da"),
    "carl": ("consultant", frozenset({"nordic"}), "en"),
    "vera": ("viewer", frozenset({"acme"}), "nb"),
}

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def password_of(name: str) -> str:
    return f"{name} {PASSWORD}"


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = _CSRF.search(html)
    assert found, f"no CSRF field on the page: {html[:500]}"
    return found.group(1)


@dataclass
class Console:
    url: str
    app: FastAPI
    admin: Context
    limiter: LoginLimiter
    tokens: dict[str, str] = field(default_factory=dict)
    _clients: list[httpx.Client] = field(default_factory=list)

    def anonymous(self, **options: object) -> httpx.Client:
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30, **options)  # type: ignore[arg-type]
        self._clients.append(client)
        return client

    def login(self, name: str, password: str | None = None) -> httpx.Client:
        """A browser logged in as ``name`` (its cookie jar holds the session)."""
        browser = self.anonymous()
        page = browser.get("/login")
        assert page.status_code == 200, page.text
        answer = browser.post(
            "/login",
            data={
                "name": name,
                "password": password or password_of(name),
                "csrf_token": csrf_of(page.text),
            },
        )
        assert answer.status_code == 303, answer.text
        return browser

    def token(self, name: str) -> str:
        if name not in self.tokens:
            self.tokens[name] = users.create_token(self.admin, name, "tests").token
        return self.tokens[name]

    def api(self, name: str) -> httpx.Client:
        """An API client with ``name``'s token."""
        return self.anonymous(headers={"Authorization": f"Bearer {self.token(name)}"})

    def close(self) -> None:
        for client in self._clients:
            client.close()


def seed(admin: Context) -> None:
    """Two clients (acme with a plugin and a secret setting) and a user of each role."""
    clients.add_client(admin, "acme", "DK")
    clients.add_client(admin, "nordic", "NO")
    clients.enable_plugin(admin, "acme", "ledger", {"api_token": SECRET_SETTING})
    for name, (role, seen, language) in USERS.items():
        users.add_user(admin, users.NewUser(name, role, password_of(name), seen, language))


@pytest.fixture
def console(db_url: str, box: SecretBox) -> Iterator[Console]:
    db = Database(db_url)
    services = Services(db, registry_with(RecordingPlugin("ledger")), box)
    admin = Context(services, Actor("root"), Clock(fixed=TODAY))
    seed(admin)
    limiter = LoginLimiter(5, 15 * 60)
    app = make_app(services, Clock(fixed=TODAY), settings=ConsoleSettings(), limiter=limiter)
    server = AppServer(app).start()
    console = Console(server.url, app, admin, limiter)
    try:
        yield console
    finally:
        console.close()
        server.stop()
        db.dispose()
