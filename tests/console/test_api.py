"""The HTTP API: JSON as the CLI's --json, errors with the CLI's messages, pagination on
every list, the OpenAPI document, and tokens (shown once, revoked at once)."""

from __future__ import annotations

import json

import pytest

from hub.cli.main import main
from hub.console.routes import served_routes
from tests.console.conftest import Console


def _cli(capsys: pytest.CaptureFixture[str], db_url: str, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--db", db_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_json_is_the_clis_json(
    console: Console, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api = console.api("anna")
    for route, command in (
        ("/api/v1/clients", ["clients", "list", "--json"]),
        ("/api/v1/users", ["users", "list", "--json"]),
    ):
        code, out, _ = _cli(capsys, db_url, *command)
        assert code == 0
        assert api.get(route).json()["items"] == json.loads(out), route
    code, out, _ = _cli(capsys, db_url, "clients", "show", "acme", "--json")
    assert api.get("/api/v1/clients/acme").json() == json.loads(out)
    code, out, _ = _cli(capsys, db_url, "users", "show", "bo", "--json")
    assert api.get("/api/v1/users/bo").json() == json.loads(out)


def test_errors_are_json_with_the_clis_message(
    console: Console, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    api = console.api("anna")
    code, _, err = _cli(capsys, db_url, "clients", "show", "ghost")
    assert code == 2
    missing = api.get("/api/v1/clients/ghost")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/json"
    assert missing.json() == {
        "error": {"kind": "not_found", "message": err.strip().removeprefix("error: ")}
    }

    short = api.post("/api/v1/users", json={"name": "eve", "role": "viewer", "password": "short"})
    assert short.status_code == 422
    assert short.json()["error"] == {
        "kind": "input",
        "message": "the password for eve is too short: it must have at least 12 characters",
    }
    role = api.post("/api/v1/users", json={"name": "eve", "role": "boss", "password": "x" * 20})
    assert role.status_code == 422
    assert "role 'boss' is not known" in role.json()["error"]["message"]


def test_a_malformed_request_is_400_naming_the_field_never_the_value(console: Console) -> None:
    api = console.api("anna")
    for query in ("limit=0", "limit=501", "offset=-1", "limit=many"):
        answer = api.get(f"/api/v1/clients?{query}")
        assert answer.status_code == 400, query
        error = answer.json()["error"]
        assert error["kind"] == "bad_request" and query.split("=")[0] in error["message"]
    secret = "a password nobody may see again"
    extra = api.post(
        "/api/v1/users", json={"name": "eve", "role": "admin", "password": secret, "x": 1}
    )
    assert extra.status_code == 400 and "x:" in extra.json()["error"]["message"]
    assert secret not in extra.text
    broken = api.post(
        "/api/v1/users", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 400


def test_unknown_routes_and_methods_are_json_too(console: Console) -> None:
    api = console.api("anna")
    missing = api.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["kind"] == "not_found"
    wrong = api.put("/api/v1/clients")
    assert wrong.status_code == 405 and wrong.json()["error"]["kind"] == "method_not_allowed"


def test_every_list_is_paged(console: Console) -> None:
    api = console.api("anna")
    whole = api.get("/api/v1/clients").json()
    assert (whole["total"], whole["limit"], whole["offset"]) == (2, 50, 0)
    second = api.get("/api/v1/clients?limit=1&offset=1").json()
    assert second == {"items": whole["items"][1:], "total": 2, "limit": 1, "offset": 1}
    assert api.get("/api/v1/clients?offset=5").json()["items"] == []
    # every GET route without a path parameter that answers a list answers a page of it
    for route in served_routes(console.app):
        if route.path.startswith("/api/v1/") and "GET" in route.methods and "{" not in route.path:
            body = api.get(route.path, params={"limit": 1}).json()
            if "items" in body:
                assert {"items", "total", "limit", "offset"} <= set(body), route.path
                assert body["limit"] == 1 and len(body["items"]) <= 1, route.path


def test_the_openapi_document_needs_a_token_and_no_swagger_page_exists(console: Console) -> None:
    assert console.anonymous().get("/api/openapi.json").status_code == 401
    document = console.api("vera").get("/api/openapi.json").json()
    paths = document["paths"]
    assert "/api/v1/clients" in paths and "/api/v1/users/{name}/tokens" in paths
    assert not any(not p.startswith("/api/") for p in paths), "pages are not in the API"
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    listing = paths["/api/v1/clients"]["get"]["responses"]
    items = listing["200"]["content"]["application/json"]["schema"]["properties"]["items"]
    fields = {"name", "country", "currency", "timezone", "plugin"}
    assert set(items["items"]["properties"]) == fields
    assert "400" in listing  # a malformed request is 400, not FastAPI's own 422
    assert "HTTPValidationError" not in json.dumps(document)
    browser = console.login("anna")
    for path in ("/docs", "/redoc", "/api/docs", "/docs/oauth2-redirect"):
        assert browser.get(path).status_code == 404, path
    assert "swagger" not in json.dumps(document).lower()


def test_me_and_my_language(console: Console) -> None:
    api = console.api("bo")
    assert api.get("/api/v1/me").json() == {
        "name": "bo",
        "role": "consultant",
        "clients": ["acme"],
        "language": "da",
    }
    changed = api.patch("/api/v1/me", json={"language": "nb"})
    assert changed.status_code == 200 and changed.json()["language"] == "nb"
    assert "Oversikt" in console.login("bo").get("/").text
    refused = api.patch("/api/v1/me", json={"language": "de"})
    assert refused.status_code == 422
    assert refused.json()["error"]["message"] == "language 'de' is not known: use da, nb or en"


def test_a_token_is_shown_once_and_a_revoked_token_stops_at_once(console: Console) -> None:
    admin = console.api("anna")
    made = admin.post("/api/v1/users/bo/tokens", json={"name": "robot"})
    assert made.status_code == 201
    token, token_id = made.json()["token"], made.json()["id"]
    assert token.startswith("hub_") and made.json()["prefix"] == token[:10]
    robot = console.anonymous(headers={"Authorization": f"Bearer {token}"})
    assert robot.get("/api/v1/me").json()["name"] == "bo"
    shown = admin.get("/api/v1/users/bo").text + admin.get("/api/v1/tokens").text
    assert token not in shown and token[:10] in shown

    revoked = admin.delete(f"/api/v1/tokens/{token_id}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    refused = robot.get("/api/v1/me")
    assert refused.status_code == 401 and refused.json()["error"]["kind"] == "unauthenticated"
    again = admin.delete(f"/api/v1/tokens/{token_id}")
    assert again.status_code == 422 and "revoked already" in again.json()["error"]["message"]


def test_an_admin_adds_and_removes_a_user_through_the_api(console: Console) -> None:
    admin = console.api("anna")
    body = {"name": "eve", "role": "viewer", "password": "eve's long password", "clients": ["acme"]}
    added = admin.post("/api/v1/users", json=body)
    assert added.status_code == 201 and added.json()["clients"] == ["acme"]
    assert "eve's long password" not in added.text
    assert console.login("eve", "eve's long password").get("/").status_code == 200
    assert admin.delete("/api/v1/users/eve").status_code == 204
    assert admin.get("/api/v1/users/eve").status_code == 404


def test_a_body_over_a_mebibyte_is_refused_before_it_is_read(console: Console) -> None:
    api = console.api("anna")
    big = api.post(
        "/api/v1/users", content=b"x" * (1024 * 1024 + 1), headers={"content-type": "text/plain"}
    )
    assert big.status_code == 413


def test_the_one_json_writer_writes_amounts_with_two_decimals_and_dates_iso() -> None:
    import datetime as dt
    from decimal import Decimal

    from hub.records import to_json

    written = to_json({"fee": Decimal("100"), "on": dt.date(2026, 1, 31), "odd": Decimal("0.125")})
    assert json.loads(written) == {"fee": "100.00", "on": "2026-01-31", "odd": "0.125"}
