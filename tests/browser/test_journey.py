"""The console's journey (issue 17): a consultant who never used a shell runs a client from the
console alone, in a real browser, with JavaScript on and off; the JavaScript-on run takes the
screenshots of docs/console.md (``HUB_CONSOLE_SCREENSHOTS=1``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from hub.operations import clients, flows, sync
from tests.browser.support import (
    ADMIN,
    AGREEMENT_GRANT_TOKEN,
    APP_SECRET_TOKEN,
    CUSTOMERS,
    Served,
    log_in,
    log_out,
    password_of,
    path_of,
    screenshot,
    words,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

EN = words("en")


def heading(page: Page) -> str:
    return page.locator("h1").inner_text().strip()


def status(page: Page) -> str:
    """The page's flash message (what the last form did)."""
    return page.get_by_role("status").first.inner_text().strip()


def row_with(page: Page, text: str) -> Locator:
    """The one table row that says ``text``."""
    row = page.locator("tbody tr", has_text=text)
    assert row.count() == 1, f"{row.count()} rows say {text!r}: {page.content()[:3000]}"
    return row


def nav_to(page: Page, key: str) -> None:
    """Follow the main navigation's entry ``key`` (as a person clicks it)."""
    page.get_by_role("navigation", name=EN("nav.label")).get_by_role("link", name=EN(key)).click()


def filter_by_client(page: Page, client: str) -> None:
    """Choose ``client`` in a list's filter form and apply it."""
    filters = page.locator("form.filters")
    filters.get_by_label(EN("cases.client")).select_option(client)
    filters.get_by_role("button", name=EN("common.filter")).click()


def add_consultant(page: Page, name: str, client: str) -> None:
    """The admin adds a consultant of ``client`` on the Users page."""
    nav_to(page, "nav.users")
    assert heading(page) == EN("users.title")
    form = page.locator("form", has=page.get_by_role("button", name=EN("users.add_submit")))
    form.get_by_label(EN("users.name"), exact=True).fill(name)
    form.get_by_label(EN("users.role")).select_option("consultant")
    form.get_by_label(EN("users.clients")).fill(client)
    form.get_by_label(EN("users.password"), exact=True).fill(password_of(name))
    form.get_by_role("button", name=EN("users.add_submit")).click()
    assert status(page) == EN("users.added", name=name)
    assert EN("role.consultant") in row_with(page, name).inner_text()


def arrange_client(served: Served, client: str) -> None:
    """The client on the fake e-conomic, its rules, and a sync, through the operations.

    Until the clients pages (add a client, the plugin's settings form, rules, "run sync now")
    are merged, the shell's admin does what the consultant will do there.
    """
    ctx = served.admin
    clients.add_client(ctx, client, "DK")
    settings = {
        "app_secret_token": APP_SECRET_TOKEN,
        "agreement_grant_token": AGREEMENT_GRANT_TOKEN,
        "base_url": served.economic_url,
        "journal_number": "1",
    }
    clients.enable_plugin(ctx, client, "economic", settings)
    letters = served.workdir / "letters" / client
    clients.enable_plugin(ctx, client, "file_outbox", {"directory": str(letters)})
    flows.set_rules(
        ctx,
        client,
        ["start_date=2025-01-01", "auto_start=true", "payment_details=Reg.nr. 1234 konto 5678901"],
    )


def run_sync(served: Served, client: str) -> None:
    sync.sync(served.admin, sync.SyncRequest(client))


def test_a_consultant_runs_a_client_from_the_console_alone(
    page: Page, served: Served, js: bool
) -> None:
    consultant, client = served.name("cora", js), served.name("fjord", js)
    arrange_client(served, client)

    # The admin makes the consultant on the Users page.
    log_in(page, ADMIN)
    add_consultant(page, consultant, client)
    screenshot(page, js, "users")
    log_out(page)

    # The consultant logs in and sees their one client.
    log_in(page, consultant)
    assert heading(page) == EN("overview.title")
    cards = page.locator("ul.cards li")
    assert cards.count() == 1
    assert client in cards.first.inner_text()

    run_sync(served, client)

    # The client's overview: open amount by age and cases by stage, as charts.
    cards.first.get_by_role("link", name=EN("overview.see_client")).click()
    assert path_of(page) == f"/overview/{client}"
    assert page.locator("svg").count() >= 2  # the two charts
    for word in ("overview.days_0_30", "overview.days_31_60", "overview.days_61_90"):
        assert EN(word) in page.locator("main").inner_text()
    assert EN("overview.days_over_90") in page.locator("main").inner_text()
    screenshot(page, js, "overview")

    # Cases: the client's, one per overdue invoice.
    nav_to(page, "nav.cases")
    filter_by_client(page, client)
    assert page.locator("tbody tr").count() == 5
    screenshot(page, js, "cases")
    builder = row_with(page, "20001")
    assert "101" in builder.inner_text()
    builder.get_by_role("link").first.click()
    case_id = int(path_of(page).rsplit("/", 1)[1])
    screenshot(page, js, "case")

    # Close the case with a reason: a confirmation first, then the case says who closed it.
    close = page.locator("form[action$='/close']")
    close.get_by_label(EN("cases.closing")).select_option("dispute:customer_disputes_claim")
    close.get_by_role("button", name=EN("cases.action.close")).click()
    assert heading(page) == EN("cases.confirm_title")
    page.get_by_role("button", name=EN("cases.confirm_yes")).click()
    assert path_of(page) == f"/cases/{case_id}"
    shown = {"code": EN("close_code.dispute"), "reason": EN("close_reason.customer_disputes_claim")}
    assert status(page) == EN("cases.done.close", id=case_id, **shown)
    assert EN("state.closed") in page.locator("dl.facts").inner_text()
    history = page.locator("table.history tbody tr").last.inner_text()
    assert "closed" in history
    assert consultant in history  # the case's history names who closed it

    # Letters: what was sent, each as it was sent.
    nav_to(page, "nav.letters")
    filter_by_client(page, client)
    assert page.locator("tbody tr").count() == 4  # one reminder per invoice past its grace
    screenshot(page, js, "letters")
    row_with(page, "20004").get_by_role("link", name="20004").click()  # its subject
    assert CUSTOMERS[103] in page.locator("pre").inner_text()

    # The audit log names the consultant for what they did.
    nav_to(page, "nav.audit")
    filter_by_client(page, client)
    closing = row_with(page, "case.close")
    assert consultant in closing.inner_text()
    assert re.search(rf"case {case_id}\b", closing.inner_text())
    screenshot(page, js, "audit")
