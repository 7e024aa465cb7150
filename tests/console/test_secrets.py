"""No secret ever appears in an answer: no password, no API token (but in the one answer that
makes it), no secret setting, no key; whoever asks, whatever page or route."""

from __future__ import annotations

import re

import httpx

from hub.console.routes import served_routes
from tests.console.conftest import SECRET_SETTING, USERS, Console, csrf_of, password_of

#: Values for the path parameters of every GET route.
_PARAMETERS = {
    "name": ["acme", "nordic", "bo", "anna"],
    "token_id": ["1"],
    "client": ["acme", "nordic"],
    "case_id": ["1"],
    "message_id": ["1"],
}


def _get_paths(console: Console) -> list[str]:
    paths = []
    for route in served_routes(console.app):
        if "GET" not in route.methods or route.path.startswith("/static"):
            continue
        names = re.findall(r"\{([^}]+)\}", route.path)
        if not names:
            paths.append(route.path)
            continue
        (name,) = names
        for value in _PARAMETERS[name]:
            paths.append(route.path.replace(f"{{{name}}}", value))
    return paths


def _answers(console: Console) -> list[httpx.Response]:
    answers = []
    paths = _get_paths(console)
    for name in USERS:
        browser, api = console.login(name), console.api(name)
        for path in paths:
            answers.append((api if path.startswith("/api/") else browser).get(path))
        # the answers to forms: a failed login, a refused and an accepted user, a language
        anonymous = console.anonymous()
        token = csrf_of(anonymous.get("/login").text)
        wrong = {"name": name, "password": password_of(name) + "!", "csrf_token": token}
        answers.append(anonymous.post("/login", data=wrong))
        form = {
            "csrf_token": csrf_of(browser.get("/account").text),
            "name": f"{name}-x",
            "role": "viewer",
            "password": password_of(name),
        }
        answers.append(browser.post("/users", data=form, follow_redirects=True))
        answers.append(browser.post("/users", data={**form, "password": "short"}))
        answers.append(
            api.post("/api/v1/users", json={k: v for k, v in form.items() if k != "csrf_token"})
        )
    return answers


def test_no_answer_holds_a_secret(console: Console) -> None:
    for name in USERS:
        console.token(name)
    secrets = {
        SECRET_SETTING,
        *console.tokens.values(),
        *(password_of(name) for name in USERS),
    }
    answers = _answers(console)
    assert len(answers) > 40
    for answer in answers:
        seen = answer.text + str(answer.headers)
        for secret in secrets:
            assert secret not in seen, (answer.request.method, answer.request.url, secret[:6])
            assert secret.replace("'", "&#39;") not in seen
    # the secret setting is there, masked, for those who may see the client
    shown = console.api("anna").get("/api/v1/clients/acme").json()
    assert shown["plugins"][0]["settings"]["api_token"] == "********"
