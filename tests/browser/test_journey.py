"""The console's journey (issue 17): a consultant who never used a shell runs a client from the
console alone, in a real browser, with JavaScript on and off; the JavaScript-on run takes the
screenshots of docs/console.md (``HUB_CONSOLE_SCREENSHOTS=1``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from tests.browser.support import (
    ADMIN,
    AGREEMENT_GRANT_TOKEN,
    APP_SECRET_TOKEN,
    CUSTOMERS,
    INVOICES,
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
    follow(
        page, page.get_by_role("navigation", name=EN("nav.label")).get_by_role("link", name=EN(key))
    )


def filter_by_client(page: Page, client: str) -> None:
    """Choose ``client`` in a list's filter form and apply it."""
    filters = page.locator("form.filters")
    filters.get_by_label(EN("cases.client")).select_option(client)
    follow(page, filters.get_by_role("button", name=EN("common.filter")))


def add_consultant(page: Page, name: str, client: str) -> None:
    """The admin adds a consultant of ``client`` on the Users page."""
    nav_to(page, "nav.users")
    assert heading(page) == EN("users.title")
    form = page.locator("form", has=page.get_by_role("button", name=EN("users.add_submit")))
    field(form, EN("users.name")).fill(name)
    field(form, EN("users.role")).select_option("consultant")
    field(form, EN("users.clients")).fill(client)
    field(form, EN("users.password")).fill(password_of(name))
    follow(page, form.get_by_role("button", name=EN("users.add_submit")))
    assert status(page) == EN("users.added", name=name)
    assert EN("role.consultant") in row_with(page, name).inner_text()


def add_client(page: Page, client: str) -> None:
    """The admin adds a Danish client on the Clients page."""
    nav_to(page, "nav.clients")
    form = page.locator("form", has=page.get_by_role("button", name=EN("clients.add_submit")))
    field(form, EN("client.name")).fill(client)
    field(form, EN("client.country")).select_option("DK")
    follow(page, form.get_by_role("button", name=EN("clients.add_submit")))
    assert path_of(page) == f"/clients/{client}"
    assert status(page) == EN("clients.added", name=client)


def plugin_form(page: Page, plugin: str) -> Locator:
    """The settings form of ``plugin`` on a client's page."""
    return page.locator(f"section#plugin-{plugin} form.stacked")


def field(form: Locator, label: str) -> Locator:
    """The field whose label begins with ``label`` (a label may go on with a hint)."""
    starts = re.compile(rf"^\s*{re.escape(label)}\b")
    return form.locator("label", has_text=starts).locator("input, select, textarea")


def rule(page: Page, name: str) -> Locator:
    """The field of rule ``name`` on the rules page."""
    return page.locator(f"#rule-{name}").locator("input, select, textarea")


def client_tab(page: Page, key: str) -> None:
    """Follow one of a client's sections (plugins, rules, flows, recurring, runs)."""
    tabs = page.get_by_role("navigation", name=EN("client.sections"))
    follow(page, tabs.get_by_role("link", name=EN(key)))


def test_a_consultant_runs_a_client_from_the_console_alone(
    page: Page, served: Served, js: bool
) -> None:
    consultant, client = served.name("cora", js), served.name("fjord", js)

    # The admin adds the client and its consultant. (A consultant may add only a client
    # assigned to them already, and only a client that exists can be assigned.)
    log_in(page, ADMIN)
    add_client(page, client)
    add_consultant(page, consultant, client)
    screenshot(page, js, "users")
    log_out(page)

    # The consultant logs in and sees their one client.
    log_in(page, consultant)
    assert heading(page) == EN("overview.title")
    cards = page.locator("ul.cards li")
    assert cards.count() == 1
    assert client in cards.first.inner_text()
    nav_to(page, "nav.clients")
    screenshot(page, js, "clients")
    follow(page, row_with(page, client).get_by_role("link", name=client))

    # Enable e-conomic with its settings form, against the fake e-conomic on loopback.
    economic = plugin_form(page, "economic")
    field(economic, "app_secret_token").fill(APP_SECRET_TOKEN)
    field(economic, "agreement_grant_token").fill(AGREEMENT_GRANT_TOKEN)
    field(economic, "base_url").fill(served.economic_url)
    field(economic, "journal_number").fill("1")
    follow(page, economic.get_by_role("button", name=EN("client.enable")))
    assert status(page) == EN("client.plugin_enabled", plugin="economic")
    assert APP_SECRET_TOKEN not in page.content()  # a secret is never sent back
    assert AGREEMENT_GRANT_TOKEN not in page.content()
    follow(
        page, page.locator("section#plugin-economic").get_by_role("button", name=EN("client.check"))
    )
    assert status(page) == EN("client.check_ok", plugin="economic", count=len(INVOICES))
    screenshot(page, js, "client")
    # Its letters go out as files (the delivery plugin's form).
    outbox = plugin_form(page, "file_outbox")
    field(outbox, "directory").fill(str(served.workdir / "letters" / client))
    follow(page, outbox.get_by_role("button", name=EN("client.enable")))
    assert status(page) == EN("client.plugin_enabled", plugin="file_outbox")

    # The rules: a refused value is shown at its field, with what was typed kept.
    client_tab(page, "client.tab_rules")
    rule(page, "start_date").fill("2025-01-01")
    rule(page, "auto_start").select_option("true")
    rule(page, "payment_details").fill("Reg.nr. 1234 konto 5678901")
    rule(page, "approval").fill("required")  # the cycle's letters wait for a person
    rule(page, "min_amount").fill("lots")
    follow(page, page.get_by_role("button", name=EN("common.save")))
    refused = page.locator("#rule-min_amount [role=alert]")
    assert "min_amount" in refused.inner_text()
    assert rule(page, "payment_details").input_value() == "Reg.nr. 1234 konto 5678901"
    rule(page, "min_amount").fill("")
    follow(page, page.get_by_role("button", name=EN("common.save")))
    assert status(page) == EN("rules.saved", count=4)
    screenshot(page, js, "rules")
    client_tab(page, "client.tab_flows")
    screenshot(page, js, "flows")

    # Run a sync now: the invoices come from e-conomic, the cycle starts a case for each.
    client_tab(page, "client.tab_runs")
    follow(page, page.get_by_role("button", name=EN("runs.sync_now")))
    fetched = page.locator("table").first.locator("tbody td")
    assert fetched.first.inner_text().strip() == str(len(INVOICES))  # new
    screenshot(page, js, "sync")

    # Dispatch: the day's letters wait for approval; the consultant approves them all and
    # they go out at once.
    nav_to(page, "nav.dispatch")
    waiting = page.locator("table.waiting tbody tr")
    assert waiting.count() == 4
    for n in range(4):
        assert EN("status.pending_approval") in waiting.nth(n).inner_text()
    screenshot(page, js, "dispatch")
    follow(page, page.get_by_role("button", name=EN("dispatch.approve_all")))
    assert status(page) == EN("dispatch.approved", count=4, sent=4, failed=0)
    assert page.locator("table.waiting").count() == 0
    assert EN("dispatch.none_waiting") in page.locator("main").inner_text()

    # The client's overview: open amount by age and cases by stage, as charts.
    nav_to(page, "nav.overview")
    cards = page.locator("ul.cards li")
    # The client's overview: open amount by age and cases by stage, as charts.
    follow(page, cards.first.get_by_role("link", name=EN("overview.see_client")))
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
    follow(page, builder.get_by_role("link").first)
    case_id = int(path_of(page).rsplit("/", 1)[1])
    screenshot(page, js, "case")

    # Close the case with a reason: a confirmation first, then the case says who closed it.
    close = page.locator("form[action$='/close']")
    close.get_by_label(EN("cases.closing")).select_option("dispute:customer_disputes_claim")
    follow(page, close.get_by_role("button", name=EN("cases.action.close")))
    assert heading(page) == EN("cases.confirm_title")
    follow(page, page.get_by_role("button", name=EN("cases.confirm_yes")))
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
    follow(page, row_with(page, "20004").get_by_role("link", name="20004"))  # its subject
    assert CUSTOMERS[103] in page.locator("pre").inner_text()

    # The audit log names the consultant for what they did.
    nav_to(page, "nav.audit")
    filter_by_client(page, client)
    closing = row_with(page, "case.close")
    assert consultant in closing.inner_text()
    assert re.search(rf"case {case_id}\b", closing.inner_text())
    assert consultant in row_with(page, "dispatch.approve").inner_text()
    assert consultant in row_with(page, "rules.set").inner_text()
    screenshot(page, js, "audit")
