"""The first pages: overview, clients, my account, users and tokens; each in the user's
language, error pages too, and none with a script."""

from __future__ import annotations

import re

from hub.operations import clients
from tests.console.conftest import Console, csrf_of


def test_each_user_sees_the_overview_in_their_language_with_their_clients(
    console: Console,
) -> None:
    anna = console.login("anna").get("/").text
    assert "<h1>Overview</h1>" in anna and "acme" in anna and "nordic" in anna
    bo = console.login("bo").get("/").text
    assert "<h1>Overblik</h1>" in bo and "Logget ind som bo (konsulent)." in bo
    assert "acme" in bo and "nordic" not in bo
    vera = console.login("vera").get("/").text
    assert "<h1>Oversikt</h1>" in vera and 'lang="nb"' in vera


def test_the_login_page_follows_the_browser_and_its_language_links(console: Console) -> None:
    danish = console.anonymous(headers={"Accept-Language": "da-DK,da;q=0.9,en;q=0.5"})
    assert "<h1>Log ind</h1>" in danish.get("/login").text
    browser = console.anonymous(headers={"Accept-Language": "de"})
    assert "<h1>Log in</h1>" in browser.get("/login").text
    assert "<h1>Logg inn</h1>" in browser.get("/login?lang=nb").text
    assert "<h1>Logg inn</h1>" in browser.get("/login").text  # remembered for this browser


def test_a_wrong_password_is_said_in_the_pages_language_and_not_echoed(console: Console) -> None:
    browser = console.anonymous(headers={"Accept-Language": "nb"})
    token = csrf_of(browser.get("/login").text)
    answer = browser.post(
        "/login", data={"name": "vera", "password": "not vera's password", "csrf_token": token}
    )
    assert "Feil brukernavn eller passord." in answer.text
    assert "not vera&#39;s password" not in answer.text and "not vera's" not in answer.text
    assert 'value="vera"' in answer.text  # the name stays typed


def test_my_account_changes_my_language(console: Console) -> None:
    bo = console.login("bo")
    page = bo.get("/account")
    assert "<h1>Min konto</h1>" in page.text and "konsulent" in page.text
    answer = bo.post("/account", data={"csrf_token": csrf_of(page.text), "language": "en"})
    assert answer.status_code == 303 and answer.headers["location"] == "/account"
    after = bo.get("/account").text
    assert "<h1>My account</h1>" in after and "Your language is saved." in after
    refused = bo.post("/account", data={"csrf_token": csrf_of(after), "language": "sv"})
    assert refused.status_code == 422
    assert "language &#39;sv&#39; is not known: use da, nb or en" in refused.text


def test_error_pages_are_in_the_users_language(console: Console) -> None:
    bo = console.login("bo")
    forbidden = bo.get("/users")
    assert forbidden.status_code == 403 and "<h1>Ikke tilladt</h1>" in forbidden.text
    missing = bo.get("/clients/nordic")
    assert missing.status_code == 404 and "<h1>Ikke fundet</h1>" in missing.text
    nowhere = bo.get("/no/such/page")
    assert nowhere.status_code == 404 and "<h1>Ikke fundet</h1>" in nowhere.text
    assert 'href="/account"' in nowhere.text  # still bo's page, with bo's navigation
    vera = console.login("vera").get("/users")
    assert "<h1>Ikke tillatt</h1>" in vera.text


def test_the_clients_list_is_paged(console: Console) -> None:
    clients.add_client(console.admin, "zeta", "DK")
    anna = console.login("anna")
    first = anna.get("/clients?limit=2").text
    assert "1–2 of 3" in first and "zeta" not in first
    link = re.search(r'<a rel="next" href="([^"]+)"', first)
    assert link is not None
    second = anna.get(link.group(1).replace("&amp;", "&")).text
    assert "3–3 of 3" in second and "zeta" in second and 'rel="prev"' in second


def test_a_client_page_shows_its_plugin_with_the_secret_masked(console: Console) -> None:
    page = console.login("bo").get("/clients/acme").text
    assert "ledger" in page and "api_token" in page and "********" in page


def test_an_admin_adds_a_user_who_can_then_log_in(console: Console) -> None:
    anna = console.login("anna")
    page = anna.get("/users")
    form = {
        "csrf_token": csrf_of(page.text),
        "name": "dora",
        "role": "consultant",
        "clients": "acme, nordic",
        "language": "nb",
        "password": "dora's long password",
    }
    answer = anna.post("/users", data=form)
    assert answer.status_code == 303
    listed = anna.get("/users").text
    assert "User dora added." in listed and "acme, nordic" in listed
    dora = console.login("dora", "dora's long password").get("/").text
    assert "<h1>Oversikt</h1>" in dora and "acme" in dora and "nordic" in dora


def test_a_refused_user_form_comes_back_with_why_and_without_the_password(
    console: Console,
) -> None:
    anna = console.login("anna")
    form = {
        "csrf_token": csrf_of(anna.get("/users").text),
        "name": "dora",
        "role": "viewer",
        "clients": "ghost",
        "password": "dora's long password",
    }
    answer = anna.post("/users", data=form)
    assert answer.status_code == 422
    assert "no client named &#39;ghost&#39;" in answer.text
    assert 'value="dora"' in answer.text and 'value="ghost"' in answer.text
    assert "dora&#39;s long password" not in answer.text
    assert "dora" not in anna.get("/users").text.split("<h2>")[0]  # not added


def test_an_admin_removes_a_user(console: Console) -> None:
    anna = console.login("anna")
    token = csrf_of(anna.get("/users").text)
    assert anna.post("/users/carl/remove", data={"csrf_token": token}).status_code == 303
    page = anna.get("/users").text
    assert "User carl removed." in page and 'href="/users/carl"' not in page
    refused = anna.post("/users/anna/remove", data={"csrf_token": token})
    assert refused.status_code == 422 and "last admin" in refused.text


def test_a_token_made_on_the_page_is_shown_once_and_revoked_there(console: Console) -> None:
    anna = console.login("anna")
    page = anna.get("/users/bo")
    made = anna.post(
        "/users/bo/tokens", data={"csrf_token": csrf_of(page.text), "purpose": "robot"}
    )
    assert made.status_code == 200
    token = re.search(r'<code class="token">([^<]+)</code>', made.text)
    assert token is not None
    robot = console.anonymous(headers={"Authorization": f"Bearer {token.group(1)}"})
    assert robot.get("/api/v1/me").status_code == 200
    again = anna.get("/users/bo").text
    assert token.group(1) not in again and "robot" in again
    token_id = re.search(r'action="/tokens/(\d+)/revoke"', again)
    assert token_id is not None
    revoked = anna.post(f"/tokens/{token_id.group(1)}/revoke", data={"csrf_token": csrf_of(again)})
    assert revoked.status_code == 303 and revoked.headers["location"] == "/users/bo"
    assert robot.get("/api/v1/me").status_code == 401
    assert "revoked" in anna.get("/users/bo").text


def test_no_page_has_a_script_and_each_is_served_with_the_strict_headers(
    console: Console,
) -> None:
    anna = console.login("anna")
    for path in ("/", "/clients", "/clients/acme", "/account", "/users", "/users/bo", "/nope"):
        answer = anna.get(path)
        assert "<script" not in answer.text.lower() and " on" + "click" not in answer.text
        assert "default-src 'none'" in answer.headers["content-security-policy"], path
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["cache-control"] == "no-store"
    assert "<script" not in console.anonymous().get("/login").text.lower()
