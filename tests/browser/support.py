"""What the browser tests share besides their fixtures: the data the console is seeded with,
and the steps a person takes on every page (log in, look, take a screenshot)."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hub.console.i18n import Words
from hub.operations.context import Context

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

CHROMIUM = Path(os.environ.get("HUB_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = os.environ.get("HUB_CONSOLE_SCREENSHOTS", "") == "1"
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "console"
VIEWPORT = {"width": 1280, "height": 800}

#: The console's today (every request's Clock) and the fake e-conomic's.
TODAY = dt.date(2026, 3, 2)
#: The one user made in the shell (``hub users add anna --role admin``); the rest are made on
#: the Users page.
ADMIN = "anna"
PASSWORD = "a long enough password"

#: The fake e-conomic agreement a consultant connects a client to, with the settings form.
APP_SECRET_TOKEN = "fjord-app-secret-0123456789"
AGREEMENT_GRANT_TOKEN = "fjord-grant-0123456789"
CUSTOMERS = {101: "Fjordside Byg A/S", 102: "Lindholm Café ApS", 103: "Ærø Kajak I/S"}
#: (invoice, customer, net amount, days overdue on TODAY): one in each age bracket.
INVOICES = (
    (20001, 101, "8000.00", 12),
    (20002, 101, "2400.00", 44),
    (20003, 102, "1200.00", 75),
    (20004, 103, "640.00", 120),
    (20005, 102, "96.00", 5),
)


def password_of(name: str) -> str:
    return f"{name} {PASSWORD}"


def words(language: str = "en") -> Words:
    """The console's words in ``language`` (what a page says, from the one catalogue)."""
    return Words(language)


@dataclass
class Served:
    """The served console and what stands behind it."""

    url: str
    economic_url: str
    #: The shell's admin, to arrange what a test is not about (through the operations).
    admin: Context
    workdir: Path

    def name(self, base: str, js: bool) -> str:
        """A name of this run's own (``fjord`` with JavaScript, as the screenshots show it;
        ``fjord-nojs`` without): the two runs of a test share the module's database."""
        return base if js else f"{base}-nojs"


def screenshot(page: Page, js: bool, name: str) -> None:
    """``docs/console/<name>.png`` of what the page shows (1280×800), when asked for
    (``HUB_CONSOLE_SCREENSHOTS=1``) and JavaScript is on (the pages look the same without)."""
    if SCREENSHOTS and js:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOT_DIR / f"{name}.png"))


def follow(page: Page, target: Locator) -> None:
    """Click a link or a form's button, and wait until the page it leads to has loaded (a
    click returns once the browser has begun to navigate)."""
    with page.expect_navigation(wait_until="load"):
        target.click()


def log_in(page: Page, name: str, password: str | None = None, language: str = "en") -> None:
    """Log in as a person does: open the login page, type the name and the password, press
    the button."""
    said = words(language)
    page.goto("/login")
    page.get_by_label(said("login.name")).fill(name)
    page.get_by_label(said("login.password")).fill(password or password_of(name))
    follow(page, page.get_by_role("button", name=said("login.submit")))


def log_out(page: Page, language: str = "en") -> None:
    follow(page, page.get_by_role("button", name=words(language)("nav.logout")))


def path_of(page: Page) -> str:
    """The path the browser shows (without the server and the query)."""
    return re.sub(r"^https?://[^/]+", "", page.url).split("?")[0]
