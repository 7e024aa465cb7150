"""The clients area, as a person and a program use it over real HTTP: the client list and the
form that adds one; a client's page with a settings form for each installed plugin, made from
the plugin's settings schema (a secret is a password field whose stored value never reaches
the browser), enabling, disabling, testing the connection; removing a client after typing its
name. Who may see and change what, on every page of the clients, rules and flows, recurring
and runs areas; and the API's JSON, which is the CLI's ``--json``."""

from __future__ import annotations

import re

import httpx
import pytest

from hub import hookimpl
from hub.errors import AuthError
from hub.model import ClientContext, Invoice
from hub.operations import clients, plugins
from tests.console.area_support import (
    API_CHANGES,
    CLIENT_API,
    CLIENT_PAGES,
    PAGE_CHANGES,
    Cli,
    add_agreement,
    api_json,
    cli,
    needs_access_checks,
    no_secret_in,
)
from tests.console.conftest import SECRET_SETTING, Console, csrf_of
from tests.sample_plugins import RecordingPlugin, invoice

__all__ = ["cli"]  # a fixture

RIGHT_TOKEN = "the-right-token-of-nordic-42"


class StrictLedger(RecordingPlugin):
    """A ledger that refuses every API token but :data:`RIGHT_TOKEN` (HTTP 401)."""

    @hookimpl
    def fetch_open_invoices(self, ctx: ClientContext) -> list[Invoice]:
        if ctx.settings["api_token"] != RIGHT_TOKEN:
            raise AuthError("the ledger refused the API token (HTTP 401)")
        return super().fetch_open_invoices(ctx)


def _post(browser: httpx.Client, page: str, path: str, data: dict[str, str]) -> httpx.Response:
    """Send a form of ``page`` (its CSRF token) to ``path``."""
    token = csrf_of(browser.get(page).text)
    return browser.post(path, data={**data, "csrf_token": token})


def _label_of(html: str, field: str) -> str:
    """The ``<label>`` that holds the input or select named ``field``."""
    for label in re.findall(r"<label\b.*?</label>", html, flags=re.S):
        if f'name="{field}"' in label:
            return str(label)
    raise AssertionError(f"no field {field} on the page")


# -- who may see and change what ---------------------------------------------------------


@pytest.mark.parametrize("who", ["anna", "bo"])
def test_every_page_and_api_route_of_a_client_answers_an_admin_and_its_consultant(
    console: Console, who: str
) -> None:
    agreement = add_agreement(console)
    browser, api = console.login(who), console.api(who)
    answers = []
    for path in (*CLIENT_PAGES, "/clients", "/recurring", "/runs"):
        page = browser.get(path.format(id=agreement))
        assert page.status_code == 200, (path, page.text)
        assert "acme" in page.text, path
        answers.append(page)
    for path in (*CLIENT_API, "/api/v1/plugins", "/api/v1/recurring"):
        answer = api.get(path.format(id=agreement))
        assert answer.status_code == 200, (path, answer.text)
        answers.append(answer)
    no_secret_in(*answers)


def test_a_consultant_gets_not_found_for_another_clients_pages_and_api(console: Console) -> None:
    """bo has acme; nordic is carl's: every page, form and API route of nordic is not found
    for bo, with the message a client that does not exist gets; an agreement of nordic's is
    not found under acme either."""
    clients.enable_plugin(console.admin, "nordic", "ledger", {"api_token": "n"})
    theirs = add_agreement(console, "nordic")
    bo, api = console.login("bo"), console.api("bo")
    token = csrf_of(bo.get("/clients/acme").text)
    for path in CLIENT_PAGES:
        for client in ("nordic", "ghost"):
            page = bo.get(path.replace("acme", client).format(id=theirs))
            assert page.status_code == 404, (path, client)
    for path, form in PAGE_CHANGES:
        answer = bo.post(
            path.replace("acme", "nordic").format(id=theirs), data={**form, "csrf_token": token}
        )
        assert answer.status_code == 404, (path, answer.text)
    check = bo.post("/clients/nordic/plugins/ledger/check", data={"csrf_token": token})
    assert check.status_code == 404
    for path in CLIENT_API:
        answer = api.get(path.replace("acme", "nordic").format(id=theirs))
        assert answer.status_code == 404, path
        assert (
            answer.json()["error"]["message"] == "no client named 'nordic' (see `hub clients list`)"
        )
    for method, path, body in API_CHANGES:
        answer = api.request(method, path.replace("acme", "nordic").format(id=theirs), json=body)
        assert answer.status_code == 404, (method, path, answer.text)
    assert bo.get(f"/clients/acme/recurring/{theirs}").status_code == 404
    assert api.get(f"/api/v1/clients/acme/recurring/{theirs}").status_code == 404
    assert "nordic" not in bo.get("/recurring").text + bo.get("/runs").text
    assert [a["client"] for a in api_json(api.get("/api/v1/recurring"))] == []
    # nothing of nordic's changed
    assert clients.show_client(console.admin, "nordic").plugins[0].enabled


@needs_access_checks
def test_a_viewer_is_refused_every_change_by_page_and_api(console: Console) -> None:
    agreement = add_agreement(console)
    vera, api = console.login("vera"), console.api("vera")
    before = clients.show_client(console.admin, "acme").as_dict()
    token = csrf_of(vera.get("/clients/acme").text)
    answers = []
    for path, form in PAGE_CHANGES:
        answer = vera.post(path.format(id=agreement), data={**form, "csrf_token": token})
        assert answer.status_code == 403, (path, answer.text)
        answers.append(answer)
    for method, path, body in API_CHANGES:
        answer = api.request(method, path.format(id=agreement), json=body)
        assert answer.status_code == 403, (method, path, answer.text)
        assert answer.json()["error"]["kind"] == "forbidden"
        answers.append(answer)
    added = vera.post("/clients", data={"name": "new", "country": "DK", "csrf_token": token})
    assert added.status_code == 403
    assert api.post("/api/v1/clients", json={"name": "new", "country": "DK"}).status_code == 403
    no_secret_in(*answers)
    assert clients.show_client(console.admin, "acme").as_dict() == before
    assert [c.name for c in clients.list_clients(console.admin)] == ["acme", "nordic"]


def test_a_viewer_sees_the_settings_but_no_form_to_change_them(console: Console) -> None:
    page = console.login("vera").get("/clients/acme")
    assert page.status_code == 200
    assert "/plugins/ledger/settings" not in page.text and "/remove" not in page.text
    assert 'type="password"' not in page.text
    no_secret_in(page)


# -- adding and removing clients ---------------------------------------------------------


def test_a_client_added_in_the_form_gets_its_countrys_defaults(console: Console) -> None:
    anna = console.login("anna")
    added = _post(anna, "/clients", "/clients", {"name": "fjord", "country": "NO"})
    assert added.status_code == 303 and added.headers["location"] == "/clients/fjord"
    page = anna.get("/clients/fjord")
    assert "NOK" in page.text and "Europe/Oslo" in page.text
    assert "Client fjord added." in page.text


def test_a_refused_client_is_shown_at_its_field_with_what_was_typed(console: Console) -> None:
    anna = console.login("anna")
    refused = _post(
        anna, "/clients", "/clients", {"name": "fjord", "country": "NO", "currency": "KRONER"}
    )
    assert refused.status_code == 422
    label = _label_of(refused.text, "currency")
    assert "currency &#39;KRONER&#39; is not an ISO 4217 code" in label
    assert 'value="KRONER"' in label and 'value="fjord"' in refused.text
    taken = _post(anna, "/clients", "/clients", {"name": "acme", "country": "DK"})
    assert taken.status_code == 422
    assert "exists already" in _label_of(taken.text, "name")
    assert [c.name for c in clients.list_clients(console.admin)] == ["acme", "nordic"]


def test_a_client_is_removed_only_once_its_name_is_typed(console: Console) -> None:
    anna = console.login("anna")
    confirm = anna.get("/clients/nordic/remove")
    assert confirm.status_code == 200 and 'name="confirm"' in confirm.text
    wrong = _post(anna, "/clients/nordic/remove", "/clients/nordic/remove", {"confirm": "acme"})
    assert wrong.status_code == 422
    assert "nordic" in [c.name for c in clients.list_clients(console.admin)]
    done = _post(anna, "/clients/nordic/remove", "/clients/nordic/remove", {"confirm": "nordic"})
    assert done.status_code == 303 and done.headers["location"] == "/clients"
    assert [c.name for c in clients.list_clients(console.admin)] == ["acme"]
    assert anna.get("/clients/nordic").status_code == 404


# -- plugins and their settings ----------------------------------------------------------


def test_the_settings_form_is_made_from_the_plugins_schema(console: Console) -> None:
    page = console.login("bo").get("/clients/acme")
    assert page.status_code == 200
    token = _label_of(page.text, "setting:api_token")
    assert 'type="password"' in token and 'value=""' in token
    assert "En værdi er gemt" in token  # bo reads Danish: "a value is stored"
    size = _label_of(page.text, "setting:page_size")
    assert 'inputmode="decimal"' in size and 'placeholder="100"' in size
    assert 'type="url"' in _label_of(page.text, "setting:base_url")
    assert "/clients/acme/plugins/ledger/settings" in page.text  # enabled: its settings form
    no_secret_in(page)


def test_a_secret_not_given_is_kept_and_never_sent_to_the_browser(console: Console) -> None:
    """carl enables the ledger for nordic with a token, then changes another setting leaving
    the token's field empty: the token stored is kept, and no page or answer ever holds it."""
    carl = console.login("carl")
    answers = [carl.get("/clients/nordic")]
    assert "/clients/nordic/plugins/ledger/enable" in answers[0].text
    enabled = _post(
        carl,
        "/clients/nordic",
        "/clients/nordic/plugins/ledger/enable",
        {"setting:api_token": RIGHT_TOKEN, "setting:page_size": "25"},
    )
    assert enabled.status_code == 303
    answers.append(carl.get("/clients/nordic"))
    assert "setting:api_token" in answers[-1].text and "Plugin ledger enabled." in answers[-1].text
    saved = _post(
        carl,
        "/clients/nordic",
        "/clients/nordic/plugins/ledger/settings",
        {"setting:api_token": "", "setting:page_size": "75", "setting:base_url": ""},
    )
    assert saved.status_code == 303
    answers.append(carl.get("/clients/nordic"))
    assert "1 setting(s) of plugin ledger saved." in answers[-1].text
    shown = clients.show_client(console.admin, "nordic").plugins[0].settings
    assert shown == {"api_token": "********", "page_size": "75"}
    # the token kept is the one given: the plugin is called with it
    checked = plugins.check_connection(console.admin, "nordic")
    ledger = console.admin.registry.pm.get_plugin("ledger")
    assert checked.ok and ledger.calls[-1][1].settings["api_token"] == RIGHT_TOKEN
    answers.append(carl.get("/api/v1/clients/nordic"))
    answers += [
        console.api("carl").get(p)
        for p in ("/api/v1/clients/nordic", "/api/v1/clients/nordic/plugins")
    ]
    for answer in answers:
        assert RIGHT_TOKEN not in answer.text
    no_secret_in(*answers)


def test_a_refused_setting_is_shown_at_its_field_and_the_form_keeps_what_was_typed(
    console: Console,
) -> None:
    bo = console.login("bo")
    refused = _post(
        bo,
        "/clients/acme",
        "/clients/acme/plugins/ledger/settings",
        {"setting:api_token": "a-new-token-typed", "setting:page_size": "many"},
    )
    assert refused.status_code == 422
    label = _label_of(refused.text, "setting:page_size")
    assert "must be a whole number" in label and 'value="many"' in label
    assert "a-new-token-typed" not in refused.text  # a secret typed is not shown back either
    no_secret_in(refused)
    shown = clients.show_client(console.admin, "acme").plugins[0].settings
    assert "page_size" not in shown  # nothing was stored


def test_a_plugin_is_disabled_and_enabled_again_with_its_stored_secret(console: Console) -> None:
    bo = console.login("bo")
    off = _post(bo, "/clients/acme", "/clients/acme/plugins/ledger/disable", {})
    assert off.status_code == 303
    page = bo.get("/clients/acme")
    assert "/clients/acme/plugins/ledger/enable" in page.text
    on = _post(bo, "/clients/acme", "/clients/acme/plugins/ledger/enable", {})
    assert on.status_code == 303
    assert clients.show_client(console.admin, "acme").plugins[0].enabled
    no_secret_in(page, bo.get("/clients/acme"))


def test_test_connection_shows_success_or_the_plugins_error(console: Console) -> None:
    console.admin.registry.register("strict", StrictLedger("strict"))
    strict = console.admin.registry.pm.get_plugin("strict")
    strict.invoices = {"1": invoice("1"), "2": invoice("2"), "3": invoice("3")}
    clients.enable_plugin(console.admin, "nordic", "strict", {"api_token": "a-wrong-token"})
    carl = console.login("carl")
    failed = _post(carl, "/clients/nordic", "/clients/nordic/plugins/strict/check", {})
    assert failed.status_code == 200
    assert "The connection test of plugin strict failed:" in failed.text
    assert "the ledger refused the API token (HTTP 401)" in failed.text
    assert "a-wrong-token" not in failed.text
    clients.set_settings(console.admin, "nordic", {"api_token": RIGHT_TOKEN})
    fine = _post(carl, "/clients/nordic", "/clients/nordic/plugins/strict/check", {})
    assert "Connected: plugin strict answered with 3 open invoice(s)." in fine.text
    answer = console.api("carl").post("/api/v1/clients/nordic/plugins/strict/check")
    assert answer.json() == {
        "client": "nordic",
        "plugin": "strict",
        "ok": True,
        "open_invoices": 3,
        "error": None,
    }


# -- the API is the CLI ------------------------------------------------------------------


def test_the_apis_json_is_the_clis_json(console: Console, cli: Cli) -> None:
    api = console.api("anna")
    assert api_json(api.get("/api/v1/clients")) == cli("clients", "list", "--json")
    assert api_json(api.get("/api/v1/clients/acme")) == cli("clients", "show", "acme", "--json")
    assert api_json(api.get("/api/v1/plugins")) == cli("plugins", "list", "--json")
    checked = api_json(api.post("/api/v1/clients/acme/plugins/ledger/check"))
    assert checked == cli("clients", "check", "acme", "--json")
    assert checked["ok"] is True


def test_clients_and_settings_are_changed_through_the_api(console: Console, cli: Cli) -> None:
    api = console.api("anna")
    made = api.post("/api/v1/clients", json={"name": "fjord", "country": "NO"})
    assert made.status_code == 201
    assert made.json() == {
        "name": "fjord",
        "country": "NO",
        "currency": "NOK",
        "timezone": "Europe/Oslo",
        "plugin": None,
    }
    refused = api.post("/api/v1/clients", json={"name": "x y", "country": "SE"})
    assert refused.status_code == 422 and refused.json()["error"]["kind"] == "input"
    enabled = api.post(
        "/api/v1/clients/fjord/plugins/ledger/enable",
        json={"settings": {"api_token": "fjords-token-123", "page_size": "5"}},
    )
    assert enabled.status_code == 200 and "fjords-token-123" not in enabled.text
    assert enabled.json() == cli("clients", "show", "fjord", "--json")
    changed = api.patch(
        "/api/v1/clients/fjord/plugins/ledger", json={"settings": {"page_size": "6"}}
    )
    assert changed.json()["plugins"][0]["settings"] == {"api_token": "********", "page_size": "6"}
    missing = api.post("/api/v1/clients/nordic/plugins/ledger/enable", json={"settings": {}})
    assert missing.status_code == 422 and "api_token" in missing.json()["error"]["message"]
    off = api.post("/api/v1/clients/fjord/plugins/ledger/disable")
    assert off.json()["plugins"][0]["enabled"] is False
    assert api.delete("/api/v1/clients/fjord").status_code == 204
    assert api.get("/api/v1/clients/fjord").status_code == 404
    no_secret_in(enabled, changed, missing, off)
    assert SECRET_SETTING not in api.get("/api/v1/clients/acme/plugins").text
