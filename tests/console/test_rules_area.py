"""A client's rules and flows in the console, over real HTTP: shown and changed as ``hub rules
set`` and ``hub flows set|reset`` change them, the law's refusal shown next to the field that
broke it, the form keeping what the user typed; the API's JSON is the CLI's ``--json``."""

from __future__ import annotations

import re

import httpx

from hub.operations import flows
from tests.console.area_support import Cli, api_json, cli
from tests.console.conftest import Console, csrf_of

__all__ = ["cli"]  # a fixture


def _post(
    browser: httpx.Client, page: str, data: dict[str, str], path: str | None = None
) -> httpx.Response:
    token = csrf_of(browser.get(page).text)
    return browser.post(path or page, data={**data, "csrf_token": token})


def _stage(html: str, stage: str) -> str:
    """The section of the flows page of ``stage``."""
    found = re.search(rf'<section class="flow" id="stage-{stage}">.*?</section>', html, re.S)
    assert found, f"no {stage} stage on the page"
    return found.group(0)


def _cell_of(html: str, field: str, stage: str = "reminder") -> str:
    """The table cell (``<td>``) of ``stage``'s form that holds the field named ``field``."""
    for cell in re.findall(r"<td\b.*?</td>", _stage(html, stage), flags=re.S):
        if f'name="{field}"' in cell:
            return str(cell)
    raise AssertionError(f"no field {field} on the page")


def _label_of(html: str, field: str) -> str:
    for label in re.findall(r"<label\b.*?</label>", html, flags=re.S):
        if f'name="{field}"' in label:
            return str(label)
    raise AssertionError(f"no field {field} on the page")


def _reminder_rows(steps: list[tuple[str, str, str, str]]) -> dict[str, str]:
    form: dict[str, str] = {}
    for n, (offset, anchor, template, fee) in enumerate(steps):
        form |= {
            f"offset.{n}": offset,
            f"anchor.{n}": anchor,
            f"template.{n}": template,
            f"fee.{n}": fee,
        }
    return form


def test_the_flows_page_shows_each_stages_steps_and_the_law(console: Console) -> None:
    page = console.login("bo").get("/clients/acme/flows")
    assert page.status_code == 200
    text = page.text
    assert "renteloven" not in text  # the law is shown by its figures, refusals name it
    assert "100,00 kr." in text  # the Danish maximum fee, as bo's Danish pages write it
    # the Danish default reminder flow: three steps of 100.00, then two blank rows
    reminder = _stage(text, "reminder")
    assert 'name="fee.2" value="100.00"' in reminder and 'name="offset.4" value=""' in reminder
    assert "Inkassofasen" in text


def test_an_unlawful_fee_is_refused_next_to_its_field_with_the_form_as_typed(
    console: Console,
) -> None:
    """anna asks for a second reminder fee of 150 DKK: refused, naming renteloven § 9 b, in
    the fee cell of row 2; the rows she typed are still there; nothing is stored."""
    anna = console.login("anna")
    steps = [
        ("10", "due_date", "reminder", "100.00"),
        ("11", "previous", "reminder", "150"),
        ("", "due_date", "reminder", ""),
    ]
    refused = _post(
        anna,
        "/clients/acme/flows",
        _reminder_rows(steps),
        "/clients/acme/flows/reminder",
    )
    assert refused.status_code == 422
    fee = _cell_of(refused.text, "fee.1")
    assert "reminder step 2: fee 150.00 DKK is above the maximum 100.00 DKK" in fee
    assert "renteloven § 9 b stk. 1" in fee and 'value="150"' in fee
    assert 'value="11"' in _cell_of(refused.text, "offset.1")
    assert "above the maximum" not in _cell_of(refused.text, "fee.0")
    assert flows.show_flows(console.admin, "acme").defaults == frozenset(flows.Stage)


def test_a_step_too_soon_is_refused_next_to_its_offset(console: Console) -> None:
    anna = console.login("anna")
    steps = [("10", "due_date", "reminder", "100"), ("3", "previous", "reminder", "100")]
    refused = _post(
        anna, "/clients/acme/flows", _reminder_rows(steps), "/clients/acme/flows/reminder"
    )
    assert refused.status_code == 422
    assert "at least 10 days apart" in _cell_of(refused.text, "offset.1")


def test_a_step_that_cannot_be_read_is_refused_at_its_field(console: Console) -> None:
    anna = console.login("anna")
    steps = [("ten", "due_date", "reminder", "100")]
    refused = _post(
        anna, "/clients/acme/flows", _reminder_rows(steps), "/clients/acme/flows/reminder"
    )
    assert refused.status_code == 422
    assert "is not a whole number of days" in _cell_of(refused.text, "offset.0")


def test_a_flow_is_set_from_its_rows_and_reset_to_the_default(console: Console) -> None:
    bo = console.login("bo")
    steps = [
        ("12", "due_date", "reminder", "100.00"),
        ("", "due_date", "reminder", ""),  # blank: no step
        ("14", "previous", "collection_warning", ""),
    ]
    saved = _post(bo, "/clients/acme/flows", _reminder_rows(steps), "/clients/acme/flows/reminder")
    assert saved.status_code == 303
    shown = flows.show_flows(console.admin, "acme").as_dict()["flows"]["reminder"]
    assert not shown["default"]
    assert [
        (s["offset_days"], s["anchor"], s["template"], str(s["fee"])) for s in shown["steps"]
    ] == [
        (12, "due_date", "reminder", "100.00"),
        (14, "previous", "collection_warning", "0.00"),
    ]
    page = bo.get("/clients/acme/flows")
    assert "Flowet for Rykkerfasen er gemt (2 trin)." in page.text
    reset = _post(bo, "/clients/acme/flows", {}, "/clients/acme/flows/reminder/reset")
    assert reset.status_code == 303
    assert flows.show_flows(console.admin, "acme").as_dict()["flows"]["reminder"]["default"]


def test_only_the_rules_changed_in_the_form_are_set(console: Console) -> None:
    bo = console.login("bo")
    page = bo.get("/clients/acme/rules")
    assert page.status_code == 200
    fields = dict(re.findall(r'name="(rule:\w+)" value="([^"]*)"', page.text))
    assert fields["rule:success_fee_percent"] == "10.00"
    saved = _post(
        bo,
        "/clients/acme/rules",
        {
            "rule:auto_start": "true",
            "rule:min_amount": "50",
            "rule:success_fee_percent": "10.00",  # as shown: not changed
            "rule:payment_details": "Bank 1234\r\nReg 5678",
        },
    )
    assert saved.status_code == 303
    assert "3 regel(er) ændret." in bo.get("/clients/acme/rules").text
    rules = flows.show_rules(console.admin, "acme").values
    assert rules["auto_start"] is True and str(rules["min_amount"]) == "50.00"
    assert rules["payment_details"] == "Bank 1234\nReg 5678"


def test_a_refused_rule_is_shown_at_its_field_and_nothing_is_changed(console: Console) -> None:
    bo = console.login("bo")
    refused = _post(
        bo,
        "/clients/acme/rules",
        {"rule:auto_start": "true", "rule:start_date": "31/12/2025", "rule:loss_account": "3720"},
    )
    assert refused.status_code == 422
    label = _label_of(refused.text, "rule:start_date")
    assert "rule start_date: &#39;31/12/2025&#39; is not a date" in label
    assert 'value="31/12/2025"' in label
    assert "is not a date" not in _label_of(refused.text, "rule:auto_start")
    assert flows.show_rules(console.admin, "acme").values["auto_start"] is False


def test_customer_mode_refused_is_shown_at_the_reminder_mode(console: Console) -> None:
    bo = console.login("bo")
    refused = _post(bo, "/clients/acme/rules", {"rule:reminder_mode": "customer"})
    assert refused.status_code == 422
    assert "customer reminders cannot be enabled" in _label_of(refused.text, "rule:reminder_mode")


def test_the_apis_rules_and_flows_are_the_clis(console: Console, cli: Cli) -> None:
    api = console.api("bo")
    assert api_json(api.get("/api/v1/clients/acme/rules")) == cli("rules", "show", "acme", "--json")
    assert api_json(api.get("/api/v1/clients/acme/flows")) == cli(
        "flows", "show", "--client", "acme", "--json"
    )
    changed = api.patch("/api/v1/clients/acme/rules", json={"rules": {"auto_start": "true"}})
    assert changed.json()["changed"] == 1
    assert changed.json()["rules"] == cli("rules", "show", "acme", "--json")
    steps = [
        {"offset_days": 10, "anchor": "due_date", "template": "reminder", "fee": "100.00"},
        {"offset_days": 11, "anchor": "previous", "template": "reminder", "fee": "150.00"},
    ]
    refused = api.put("/api/v1/clients/acme/flows/reminder", json={"steps": steps})
    assert refused.status_code == 422
    assert refused.json()["error"]["kind"] == "input"
    assert "renteloven § 9 b stk. 1" in refused.json()["error"]["message"]
    steps[1]["fee"] = "100.00"
    saved = api.put("/api/v1/clients/acme/flows/reminder", json={"steps": steps})
    assert saved.status_code == 200
    assert saved.json() == cli("flows", "show", "--client", "acme", "--json")
    assert len(saved.json()["flows"]["reminder"]["steps"]) == 2
    reset = api.delete("/api/v1/clients/acme/flows/reminder")
    assert reset.json()["flows"]["reminder"]["default"] is True
    assert api.put("/api/v1/clients/acme/flows/nope", json={"steps": []}).status_code == 400
