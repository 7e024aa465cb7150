"""The session cookie, CSRF on every form, the login's rate limit, and sessions that end."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import time
from pathlib import Path

import httpx
import pytest
from itsdangerous import URLSafeTimedSerializer

from hub.console import ConsoleSettings, make_app
from hub.console.ratelimit import LoginLimiter
from hub.console.rendering import TEMPLATES
from hub.console.serving import AppServer
from hub.console.sessions import COOKIE, PURPOSE
from hub.operations import users
from hub.operations.secrets import derived_keys
from tests.console.conftest import TODAY, Console, csrf_of, password_of


def _set_cookie(answer: httpx.Response) -> str:
    (cookie,) = [v for k, v in answer.headers.multi_items() if k == "set-cookie"]
    return cookie


def _log_in(browser: httpx.Client, name: str, password: str) -> httpx.Response:
    token = csrf_of(browser.get("/login").text)
    return browser.post("/login", data={"name": name, "password": password, "csrf_token": token})


# -- the cookie -----------------------------------------------------------------------------


def test_the_session_cookie_is_httponly_samesite_lax_and_ends_after_eight_hours(
    console: Console,
) -> None:
    browser = console.anonymous()
    answer = _log_in(browser, "bo", password_of("bo"))
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = _set_cookie(answer)
    assert cookie.startswith(f"{COOKIE}=")
    flags = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite", "path", "max-age"} <= flags
    assert "samesite=lax" in cookie.lower().replace(" ", "")
    assert "secure" not in flags  # served over plain http here
    max_age = int(re.search(r"Max-Age=(\d+)", cookie).group(1))  # type: ignore[union-attr]
    assert 8 * 3600 - 60 <= max_age <= 8 * 3600


def test_over_https_the_cookie_is_secure(console: Console) -> None:
    settings = dataclasses.replace(ConsoleSettings(), https=True)
    app = make_app(console.admin.services, console.admin.clock, settings=settings)
    with AppServer(app) as server, httpx.Client(base_url=server.url) as browser:
        answer = browser.get("/login")  # its cookie holds the login form's CSRF token
        assert "secure" in {p.strip().lower() for p in _set_cookie(answer).split(";")}


def test_a_changed_cookie_is_no_session(console: Console) -> None:
    browser = console.login("bo")
    value = browser.cookies[COOKIE]
    forged = value[:-3] + ("AAA" if not value.endswith("AAA") else "BBB")
    browser.cookies.set(COOKIE, forged)
    assert browser.get("/").status_code == 303


def test_a_session_ends_eight_hours_after_the_login_however_active(console: Console) -> None:
    """A cookie signed with the right key but made at a login nine hours ago is refused."""
    keys = derived_keys(console.admin.services, PURPOSE)
    signer = URLSafeTimedSerializer(
        list(reversed(keys)),
        salt="hub.console.session",
        signer_kwargs={"digest_method": hashlib.sha256},
    )
    stamp = users.user_session(console.admin.services, "bo")
    assert stamp is not None
    payload = {"u": "bo", "s": stamp.stamp, "t": int(time.time()) - 9 * 3600, "c": "x", "f": []}
    browser = console.anonymous()
    browser.cookies.set(COOKIE, signer.dumps(payload))
    assert browser.get("/").status_code == 303
    payload["t"] = int(time.time()) - 3600  # an hour ago: still on
    another = console.anonymous()
    another.cookies.set(COOKIE, signer.dumps(payload))
    assert another.get("/").status_code == 200


def test_logging_out_ends_the_session(console: Console) -> None:
    browser = console.login("bo")
    token = csrf_of(browser.get("/").text)
    answer = browser.post("/logout", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert "Du er logget ud." in browser.get("/login").text  # in bo's language
    assert browser.get("/").status_code == 303


def test_a_new_password_or_removing_the_user_ends_their_sessions(console: Console) -> None:
    bo, carl = console.login("bo"), console.login("carl")
    users.set_password(console.admin, "bo", "another long password")
    assert bo.get("/").status_code == 303
    assert console.login("bo", "another long password").get("/").status_code == 200
    users.remove_user(console.admin, "carl")
    assert carl.get("/").status_code == 303


def test_after_login_the_browser_goes_where_it_was_going_on_this_console_only(
    console: Console,
) -> None:
    browser = console.anonymous()
    sent = browser.get("/clients?limit=1")
    assert sent.headers["location"] == "/login?next=%2Fclients%3Flimit%3D1"
    page = browser.get(sent.headers["location"])
    token = csrf_of(page.text)
    form = {"name": "bo", "password": password_of("bo"), "csrf_token": token}
    answer = browser.post("/login", data={**form, "next": "/clients?limit=1"})
    assert answer.headers["location"] == "/clients?limit=1"
    for elsewhere in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        other = console.anonymous()
        token = csrf_of(other.get("/login").text)
        answer = other.post("/login", data={**form, "csrf_token": token, "next": elsewhere})
        assert answer.headers["location"] == "/", elsewhere


# -- CSRF ------------------------------------------------------------------------------------


def test_a_form_without_its_csrf_token_is_refused(console: Console) -> None:
    browser = console.login("anna")
    right = csrf_of(browser.get("/account").text)
    other = csrf_of(console.login("bo").get("/account").text)
    for given in (None, "", "not-the-token", other):
        data = {"language": "da"} if given is None else {"language": "da", "csrf_token": given}
        refused = browser.post("/account", data=data)
        assert refused.status_code == 403, given
        assert "did not come from this console" in refused.text
    assert browser.post("/account", json={"language": "da"}).status_code == 403
    assert "My account" in browser.get("/account").text  # nothing was changed
    assert browser.post("/account", data={"language": "da", "csrf_token": right}).status_code == 303


def test_the_login_form_needs_its_csrf_token_too(console: Console) -> None:
    browser = console.anonymous()
    browser.get("/login")
    answer = browser.post("/login", data={"name": "bo", "password": password_of("bo")})
    assert answer.status_code == 403
    assert browser.get("/").status_code == 303  # not logged in


def test_logging_in_makes_a_new_csrf_token(console: Console) -> None:
    browser = console.anonymous()
    before = csrf_of(browser.get("/login").text)
    _log_in(browser, "bo", password_of("bo"))
    assert csrf_of(browser.get("/account").text) != before


def test_every_post_form_in_every_template_has_the_csrf_field() -> None:
    forms = 0
    for template in Path(TEMPLATES).glob("*.html"):
        for form in re.findall(r"<form\b.*?</form>", template.read_text(), flags=re.S):
            forms += 1
            assert 'method="post"' in form, (template.name, form[:80])
            assert "{{ csrf_field() }}" in form, (template.name, form[:80])
    assert forms >= 6


# -- the login's rate limit --------------------------------------------------------------------


def test_five_failed_logins_for_a_name_refuse_the_sixth_even_with_the_right_password(
    console: Console,
) -> None:
    browser = console.anonymous()
    for _ in range(5):
        failed = _log_in(browser, "bo", "wrong password here")
        assert failed.status_code == 200 and "Wrong user name or password." in failed.text
    refused = _log_in(browser, "bo", password_of("bo"))
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 15 * 60
    assert "Too many failed logins. Try again in 15 minutes." in refused.text
    assert browser.get("/").status_code == 303  # not logged in


def test_five_failed_logins_from_one_address_refuse_every_name_from_it(console: Console) -> None:
    browser = console.anonymous()
    for name in ("x1", "x2", "x3", "x4", "x5"):
        _log_in(browser, name, "wrong password here")
    assert _log_in(browser, "anna", password_of("anna")).status_code == 429


def test_a_successful_login_clears_the_names_failures() -> None:
    limiter = LoginLimiter(5, 900, now=lambda: 0.0)
    for _ in range(4):
        limiter.failed("bo", "10.0.0.1")
    limiter.succeeded("bo")
    limiter.failed("bo", "10.0.0.2")
    assert limiter.retry_after("bo", "10.0.0.2") is None


def test_failures_older_than_the_window_are_forgotten() -> None:
    clock = [1000.0]
    limiter = LoginLimiter(5, 900, now=lambda: clock[0])
    for _ in range(5):
        limiter.failed("Bo", "10.0.0.1")
        clock[0] += 10
    assert limiter.retry_after("bo", "10.0.0.9") == 900 - 50  # by name, whatever the case
    assert limiter.retry_after("anna", "10.0.0.1") == 900 - 50  # by address
    clock[0] = 1000.0 + 900 + 1  # the first failure is out of the window: four are left
    assert limiter.retry_after("bo", "10.0.0.9") is None


def test_the_limiter_remembers_a_bounded_number_of_names() -> None:
    limiter = LoginLimiter(1, 900, now=lambda: 0.0, remembered=100)
    for n in range(1000):
        limiter.failed(f"name{n}", "10.0.0.1")
    assert limiter.retry_after("name999", "10.0.0.2") is not None
    assert limiter.retry_after("name0", "10.0.0.2") is None


@pytest.mark.parametrize("hours", ["0", "x", "1000"])
def test_a_wrong_session_length_is_refused(hours: str) -> None:
    from hub.errors import InputError

    with pytest.raises(InputError, match="HUB_CONSOLE_SESSION_HOURS"):
        ConsoleSettings.from_environment({"HUB_CONSOLE_SESSION_HOURS": hours})


def test_the_settings_come_from_the_environment() -> None:
    settings = ConsoleSettings.from_environment(
        {"HUB_CONSOLE_HTTPS": "1", "HUB_CONSOLE_SESSION_HOURS": "2"}
    )
    assert settings.https and settings.session_seconds == 7200
    assert TODAY  # the fixture's day: nothing here depends on it
