"""Logging in and out, and the language of the pages, in a real browser (JavaScript on and
off)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from hub.console.i18n import LANGUAGE_NAMES
from hub.operations import users
from tests.browser.support import (
    ADMIN,
    Served,
    follow,
    log_in,
    log_out,
    password_of,
    path_of,
    screenshot,
    words,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

EN, DA, NB = words("en"), words("da"), words("nb")


def heading(page: Page) -> str:
    return page.locator("h1").inner_text().strip()


def test_a_wrong_password_shows_the_error_and_lets_no_one_in(page: Page, js: bool) -> None:
    page.goto("/login")
    screenshot(page, js, "login")
    log_in(page, ADMIN, "not the password")
    assert page.get_by_role("alert").inner_text().strip() == EN("login.failed")
    assert path_of(page) == "/login"
    assert page.get_by_label(EN("login.name")).input_value() == ADMIN  # kept, to try again
    assert page.get_by_label(EN("login.password")).input_value() == ""  # never sent back
    page.goto("/")
    assert path_of(page) == "/login"  # still no one is logged in


def test_log_in_then_out(page: Page) -> None:
    page.goto("/clients")
    assert path_of(page) == "/login"  # the anonymous are sent to log in first
    log_in(page, ADMIN)
    assert heading(page) == EN("overview.title")
    page.goto("/clients")
    assert heading(page) == EN("clients.title")
    log_out(page)
    assert path_of(page) == "/login"
    assert page.get_by_role("status").inner_text().strip() == EN("login.logged_out")
    page.goto("/clients")
    assert path_of(page) == "/login"  # the session is gone with the logout


def test_after_logging_in_the_browser_goes_where_it_was_sent_from(page: Page) -> None:
    page.goto("/account")
    log_in_here(page, ADMIN)
    assert path_of(page) == "/account"
    assert heading(page) == EN("account.title")


def log_in_here(page: Page, name: str) -> None:
    """Log in on the login page the browser shows (keeping where it was sent from)."""
    page.get_by_label(EN("login.name")).fill(name)
    page.get_by_label(EN("login.password")).fill(password_of(name))
    follow(page, page.get_by_role("button", name=EN("login.submit")))


def test_the_login_page_speaks_the_language_chosen_on_it(page: Page) -> None:
    page.goto("/login")
    assert heading(page) == EN("login.title")
    follow(page, page.get_by_role("link", name=LANGUAGE_NAMES["da"]))
    assert heading(page) == DA("login.title")
    assert page.get_by_role("button", name=DA("login.submit")).is_visible()
    follow(page, page.get_by_role("link", name=LANGUAGE_NAMES["nb"]))
    assert heading(page) == NB("login.title")


def test_a_user_switches_the_language_of_their_pages(page: Page, served: Served, js: bool) -> None:
    name = served.name("lise", js)
    users.add_user(
        served.admin, users.NewUser(name, "viewer", password_of(name), frozenset(), "en")
    )
    log_in(page, name)
    follow(page, page.get_by_role("link", name=name))  # my account
    assert heading(page) == EN("account.title")
    page.get_by_label(EN("account.language")).select_option("da")
    follow(page, page.get_by_role("button", name=EN("common.save")))
    assert heading(page) == DA("account.title")
    assert page.get_by_role("status").inner_text().strip() == DA("account.saved")
    nav = page.get_by_role("navigation", name=DA("nav.label"))
    assert nav.get_by_role("link", name=DA("nav.clients")).is_visible()
    assert page.get_by_role("button", name=DA("nav.logout")).is_visible()
    # The language is the user's: the login page after logging out speaks it, and so do
    # their pages at the next login.
    log_out(page, "da")
    assert heading(page) == DA("login.title")
    log_in(page, name, language="da")
    assert heading(page) == DA("overview.title")
