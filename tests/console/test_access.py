"""Who may reach what: every route refuses the anonymous user; a consultant sees only their
clients (another's is not found, by URL and by API alike); only an admin changes users."""

from __future__ import annotations

import re

import httpx

from hub.console.routes import served_routes
from tests.console.conftest import Console, csrf_of

#: The only routes anyone may reach (besides the static files).
PUBLIC = {("/login", "GET"), ("/login", "POST")}


def _routes(console: Console) -> list[tuple[str, str]]:
    """Every (path, method) the app serves, path parameters filled in."""
    found = []
    for route in served_routes(console.app):
        if route.path.startswith("/static"):
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in sorted(route.methods - {"HEAD"}):
            found.append((path, method))
    return found


def test_every_route_refuses_the_anonymous_user(console: Console) -> None:
    routes = _routes(console)
    paths = {path for path, _ in routes}
    # the walk found the app's routes, not an empty list
    assert {"/", "/clients", "/users", "/api/v1/clients", "/api/openapi.json"} <= paths
    anonymous = console.anonymous()
    for path, method in routes:
        if (path, method) in PUBLIC:
            continue
        answer = anonymous.request(method, path)
        if path.startswith("/api/"):
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.json()["error"]["kind"] == "unauthenticated"
            assert answer.headers["www-authenticate"].startswith("Bearer")
        else:
            assert answer.status_code == 303, (method, path, answer.text)
            assert answer.headers["location"].startswith("/login"), (method, path)


def test_the_api_takes_no_cookie_and_no_unknown_token(console: Console) -> None:
    """A logged-in browser's cookie opens no API route (so the API needs no CSRF token); a
    token that is not one is refused."""
    browser = console.login("anna")
    assert browser.get("/clients").status_code == 200
    assert browser.get("/api/v1/clients").status_code == 401
    forged = console.anonymous(headers={"Authorization": "Bearer hub_not-a-real-token"})
    assert forged.get("/api/v1/clients").status_code == 401
    basic = console.anonymous(headers={"Authorization": "Basic YW5uYTpwdw=="})
    assert basic.get("/api/v1/clients").status_code == 401


def test_the_login_page_and_the_style_sheet_are_open(console: Console) -> None:
    anonymous = console.anonymous()
    assert anonymous.get("/login").status_code == 200
    css = anonymous.get("/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_a_consultant_cannot_read_another_consultants_client_by_url_or_api(
    console: Console,
) -> None:
    """bo has acme; nordic is carl's. To bo, nordic is exactly as missing as a client that does
    not exist: the same status and the same message, on pages and in the API."""
    bo = console.login("bo")
    assert bo.get("/clients/acme").status_code == 200
    listed = bo.get("/clients").text
    assert "acme" in listed and "nordic" not in listed
    assert "nordic" not in bo.get("/").text

    page, ghost_page = bo.get("/clients/nordic"), bo.get("/clients/ghost")
    assert page.status_code == ghost_page.status_code == 404
    assert page.text.replace("nordic", "ghost") == ghost_page.text

    api = console.api("bo")
    assert [c["name"] for c in api.get("/api/v1/clients").json()["items"]] == ["acme"]
    other, ghost = api.get("/api/v1/clients/nordic"), api.get("/api/v1/clients/ghost")
    assert other.status_code == ghost.status_code == 404
    assert other.json()["error"]["kind"] == "not_found"
    said, ghost_said = other.json()["error"]["message"], ghost.json()["error"]["message"]
    assert said == ghost_said.replace("ghost", "nordic")

    carl = console.api("carl")
    assert carl.get("/api/v1/clients/nordic").status_code == 200
    assert carl.get("/api/v1/clients/acme").status_code == 404


def test_a_viewer_or_consultant_cannot_change_users_pages_or_api(console: Console) -> None:
    for name in ("vera", "bo"):
        browser = console.login(name)
        refused = browser.get("/users")
        assert refused.status_code == 403
        token = csrf_of(browser.get("/account").text)
        form = {"csrf_token": token, "name": "eve", "role": "admin", "password": "x" * 20}
        assert browser.post("/users", data=form).status_code == 403
        assert browser.post("/users/anna/remove", data={"csrf_token": token}).status_code == 403

        api = console.api(name)
        body = {"name": "eve", "role": "admin", "password": "x" * 20}
        answer = api.post("/api/v1/users", json=body)
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["kind"] == "forbidden"
        assert api.delete("/api/v1/users/anna").status_code == 403
        assert api.get("/api/v1/users").status_code == 403
    anna = console.api("anna")
    assert [u["name"] for u in anna.get("/api/v1/users").json()["items"]] == [
        "anna",
        "bo",
        "carl",
        "vera",
    ]


def test_a_viewer_may_still_choose_the_language_of_their_own_pages(console: Console) -> None:
    vera = console.login("vera")
    token = csrf_of(vera.get("/account").text)
    assert vera.post("/account", data={"csrf_token": token, "language": "en"}).status_code == 303
    assert "My account" in vera.get("/account").text


def test_the_navigation_offers_users_to_admins_only(console: Console) -> None:
    def nav(browser: httpx.Client) -> str:
        return browser.get("/").text.split("</nav>")[0]

    assert 'href="/users"' in nav(console.login("anna"))
    assert 'href="/users"' not in nav(console.login("bo"))
