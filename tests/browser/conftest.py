"""The console in a real headless Chromium, driven by Playwright (marker ``browser``).

* ``chromium``: one browser for all the browser tests (package scope: launched once, closed
  when they are done), Debian's ``/usr/bin/chromium`` (``HUB_TEST_CHROMIUM`` names another);
  never a browser Playwright downloads. Where Chromium or the ``playwright`` package is
  absent the tests skip and say which; in CI (``CI=true``; ``.ci/run`` installs both) they
  fail instead.
* ``served``: one console per test module, served by uvicorn on a free loopback port, on a fresh
  SQLite database, with a fake e-conomic server on loopback (as ``hub demo`` serves it) holding
  an agreement with overdue invoices. Only the admin ``anna`` exists (as after
  ``hub users add anna --role admin``); everything else a test does through the pages.
* ``js``: each test that takes it (or ``page``) runs twice, with JavaScript on and off: the
  console is server-rendered and must work the same without script.
* ``page``: a fresh browser context (cookies, language ``en-US``, 1280×800) and its page.

With ``HUB_CONSOLE_SCREENSHOTS=1`` the JavaScript-on run writes the screenshots of
docs/console.md to ``docs/console/*.png`` (``support.screenshot``); without it nothing is
written, so CI never rewrites them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from decimal import Decimal
from typing import TYPE_CHECKING, NoReturn

import pytest
from cryptography.fernet import Fernet

from hub.amounts import CENT
from hub.clock import Clock
from hub.console import ConsoleSettings, make_app
from hub.console.ratelimit import LoginLimiter
from hub.console.serving import AppServer
from hub.db.engine import Database, create_engine, upgrade
from hub.operations import users
from hub.operations.context import Actor, Context, Services
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from hub.testing.fakes.economic import EconomicServer, FakeEconomic
from tests.browser.support import (
    ADMIN,
    AGREEMENT_GRANT_TOKEN,
    APP_SECRET_TOKEN,
    CHROMIUM,
    CUSTOMERS,
    INVOICES,
    TODAY,
    VIEWPORT,
    Served,
    password_of,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def _fake_economic() -> FakeEconomic:
    fake = FakeEconomic(today=TODAY)
    agreement = fake.add_agreement(
        app_secret_token=APP_SECRET_TOKEN,
        agreement_grant_token=AGREEMENT_GRANT_TOKEN,
        company_name="Fjord Rådgivning A/S",
    )
    for number, name in CUSTOMERS.items():
        agreement.add_customer(
            customer_number=number, name=name, email=f"{number}@example.dk", currency="DKK"
        )
    for invoice, customer, net, overdue in INVOICES:
        due = TODAY - dt.timedelta(days=overdue)
        agreement.add_invoice(
            booked_invoice_number=invoice,
            customer_number=customer,
            date=due - dt.timedelta(days=14),
            due_date=due,
            net_amount=Decimal(net),
            vat_amount=(Decimal(net) / 4).quantize(CENT),
            currency="DKK",
        )
    return fake


def absent(reason: str) -> NoReturn:
    """Skip, saying why; in CI (``CI=true``, where ``.ci/run`` installs Chromium) fail
    instead, so CI can never go green by skipping the browser tests."""
    if os.environ.get("CI", "").lower() in ("1", "true"):
        pytest.fail(f"CI runs the browser tests, but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """One headless Chromium for every browser test."""
    if not CHROMIUM.exists():
        absent(f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        absent("the playwright package is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The console on a fresh database, beside a fake e-conomic; only the admin exists."""
    workdir = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{workdir / 'hub.sqlite3'}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    db = Database(url)
    services = Services(
        db, load_plugins(honour_environment=False), SecretBox(Fernet.generate_key())
    )
    admin = Context(services, Actor("root", operator=True), Clock(fixed=TODAY))
    users.add_user(admin, users.NewUser(ADMIN, "admin", password_of(ADMIN), frozenset(), "en"))
    app = make_app(
        services, Clock(fixed=TODAY), settings=ConsoleSettings(), limiter=LoginLimiter(50, 900)
    )
    with EconomicServer(_fake_economic()) as economic:
        server = AppServer(app).start()
        try:
            yield Served(server.url, economic.url, admin, workdir)
        finally:
            server.stop()
            db.dispose()


@pytest.fixture(params=[True, False], ids=["js", "nojs"])
def js(request: pytest.FixtureRequest) -> bool:
    """JavaScript on, then off: the same test in both."""
    return bool(request.param)


@pytest.fixture
def page(chromium: Browser, served: Served, js: bool) -> Iterator[Page]:
    """A new browser (no cookies) on the console, in English, 1280×800."""
    context = chromium.new_context(
        base_url=served.url, viewport=VIEWPORT, locale="en-US", java_script_enabled=js
    )
    context.set_default_timeout(5_000)
    try:
        yield context.new_page()
    finally:
        context.close()
