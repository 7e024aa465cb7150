"""The cases pages and /api/v1/cases over real HTTP: the list with its filters and pages, a
case's page, its actions through the same operations as ``hub cases`` (a confirmation first
for what cannot be undone, the operation's refusal on the page, the console user named in the
case's history and the audit log), and who may see and change what. With ``-m postgres``
every test runs on PostgreSQL too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import httpx

from hub.operations import cases
from tests.console import world
from tests.console.conftest import Console, csrf_of

#: Every action's page route and API route, with what its form and body need.
ACTIONS: list[tuple[str, dict[str, str], str, dict[str, Any]]] = [
    (
        "close",
        {"closing": "dispute:customer_disputes_claim"},
        "close",
        {"code": "dispute", "reason": "customer_disputes_claim"},
    ),
    (
        "payment",
        {"amount": "10.00", "paid_on": "2026-03-01"},
        "payments",
        {"amount": "10.00", "date": "2026-03-01"},
    ),
    ("credit-note", {}, "credit-note", {}),
    ("pause", {"reason": "phoned"}, "pause", {"reason": "phoned"}),
    ("resume", {}, "resume", {}),
    ("flow", {"to": "invoice"}, "flow", {"to": "invoice"}),
    ("restart", {}, "restart", {}),
    ("collect", {}, "collect", {}),
    ("write-off", {"reason": "loss_confirmed"}, "write-off", {"reason": "loss_confirmed"}),
    ("abandon-posting", {"reason": "looked"}, "abandon-posting", {"reason": "looked"}),
]


def post(browser: httpx.Client, path: str, form: dict[str, str]) -> httpx.Response:
    """A form sent as the browser sends it, with the CSRF token of the page it is on."""
    token = csrf_of(browser.get("/cases").text)
    return browser.post(path, data={**form, "csrf_token": token})


def detail(console: Console, case_id: int) -> dict[str, Any]:
    return cases.show_case(console.admin, case_id).as_dict()


def test_the_list_filters_and_pages_for_an_admin_and_the_clients_consultant(
    console: Console,
) -> None:
    first, second, third = world.three_cases(console)
    for name in ("anna", "bo"):
        listed = console.login(name).get("/cases")
        assert listed.status_code == 200
        for case_id in (first, second, third):
            assert f'href="/cases/{case_id}"' in listed.text
    bo = console.login("bo")
    assert "Østergaard ApS" not in bo.get("/cases").text  # the list shows numbers, not names
    chosen = post(bo, "/cases/filter", {"customer": " C2 ", "overdue": "true", "stage": ""})
    assert chosen.status_code == 303
    assert chosen.headers["location"] == "/cases?customer=C2&overdue=true"
    overdue = bo.get(chosen.headers["location"]).text
    assert f'href="/cases/{third}"' in overdue and f'href="/cases/{second}"' not in overdue
    assert 'value="C2"' in overdue and "checked" in overdue  # the filters shown as chosen
    paged = bo.get("/cases?customer=C2&limit=1").text
    assert "1–1 af 2" in paged and 'href="/cases?customer=C2&amp;offset=1&amp;limit=1"' in paged
    assert bo.get("/cases?stage=nonsense").status_code == 400

    carl = console.login("carl")
    assert "No cases match." in carl.get("/cases").text
    theirs, missing = carl.get(f"/cases/{first}"), carl.get("/cases/999")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.text.replace(f"no case {first} ", "no case 999 ") == missing.text
    assert carl.get("/cases?client=acme").status_code == 404
    api = console.api("carl")
    theirs_json, missing_json = api.get(f"/api/v1/cases/{first}"), api.get("/api/v1/cases/999")
    assert theirs_json.status_code == missing_json.status_code == 404
    assert (
        theirs_json.json()["error"]["message"].replace(str(first), "999")
        == (missing_json.json()["error"]["message"])
    )
    assert api.get("/api/v1/cases").json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
    assert api.get(f"/api/v1/cases/{first}/actions").status_code == 404


def test_a_case_page_shows_its_invoices_letters_and_history(console: Console) -> None:
    first, _, _ = world.three_cases(console)
    cases.close_case(console.admin, cases.CloseRequest(first, "paid", "paid_to_us", notify=True))
    page = console.login("anna").get(f"/cases/{first}")
    assert page.status_code == 200
    text = page.text
    assert "<h1>Case 1</h1>" in text.replace(str(first), "1")
    assert "1001" in text and "DKK 1,250.00" in text  # its invoice and amount
    assert "Sagen om faktura 1001 er afsluttet" in text  # its letter's subject, as written
    assert 'href="/letters/' in text
    assert "<code>closed</code>" in text and "root" in text  # who acted
    assert "The case is closed: there is nothing to do." in text


def test_an_action_changes_the_case_as_the_cli_does_and_names_the_console_user(
    console: Console,
) -> None:
    first, second, third = world.three_cases(console)
    bo = console.login("bo")
    # pause: no confirmation (resuming undoes it)
    paused = post(bo, f"/cases/{first}/pause", {"reason": "kunden ringede", "note": "ok"})
    assert paused.status_code == 303 and paused.headers["location"] == f"/cases/{first}"
    assert "Sag 1 er sat på pause." in bo.get(f"/cases/{first}").text.replace(str(first), "1")
    # the same through the operation `hub cases pause` calls, on another case
    cases.pause_case(console.admin, cases.PauseRequest(third, "kunden ringede", "ok"))
    by_console, by_cli = detail(console, first), detail(console, third)
    for key in ("stage", "state", "pause_reason", "resume_on", "next_step"):
        assert by_console[key] == by_cli[key], key
    console_event, cli_event = by_console["events"][-1], by_cli["events"][-1]
    assert (console_event["by"], cli_event["by"]) == ("bo", "root")
    for key in ("on", "kind", "reason", "data"):
        assert console_event[key] == cli_event[key], key

    # close: a confirmation page first, and nothing changes until it is confirmed
    form = {"closing": "dispute:customer_disputes_claim", "notify": ""}
    asked = post(bo, f"/cases/{first}/close", form)
    assert asked.status_code == 200 and 'name="confirmed" value="yes"' in asked.text
    assert 'name="closing" value="dispute:customer_disputes_claim"' in asked.text
    assert "kan ikke genåbnes" in asked.text
    assert detail(console, first)["state"] == "paused"
    done = post(bo, f"/cases/{first}/close", {**form, "confirmed": "yes"})
    assert done.status_code == 303
    closed = detail(console, first)
    assert (closed["state"], closed["close_code"], closed["close_reason"]) == (
        "closed",
        "dispute",
        "customer_disputes_claim",
    )
    assert closed["closed_by"] == "user" and closed["events"][-1]["by"] == "bo"
    assert "Sag 1 er lukket (tvist: kunden bestrider kravet)." in bo.get(
        f"/cases/{first}"
    ).text.replace(str(first), "1")
    audit = console.login("anna").get("/audit?action=case.close").text
    assert "case.close" in audit and "<td>bo</td>" in audit and f"case {first}" in audit

    # the operation's refusal is shown on the case page, with its status
    assert post(bo, f"/cases/{third}/resume", {}).status_code == 303  # paused: it resumes
    refused = post(bo, f"/cases/{second}/resume", {})
    assert refused.status_code == 422
    assert "Sag " in refused.text and 'role="alert"' in refused.text
    assert f"case {second} is active" in refused.text
    wrong = post(bo, f"/cases/{second}/payment", {"amount": "12,3x", "paid_on": "2026-03-01"})
    assert wrong.status_code == 422 and "amount" in wrong.text and 'value="12,3x"' in wrong.text

    # and the API acts the same, as bo
    api = console.api("bo")
    paid = api.post(
        f"/api/v1/cases/{second}/payments", json={"amount": "100.00", "date": "2026-03-01"}
    )
    assert paid.status_code == 200, paid.text
    assert paid.json()["payments"] == [
        {"paid_on": "2026-03-01", "amount": "100.00", "currency": "DKK", "by": "bo"}
    ]
    assert paid.json()["outstanding_amount"] == "200.00"
    again = api.post(f"/api/v1/cases/{second}/resume")
    assert again.status_code == 422 and again.json()["error"]["kind"] == "input"


def test_a_credit_note_and_a_write_off_post_to_the_books_after_a_confirmation(
    console: Console,
) -> None:
    first, _, third = world.three_cases(console)
    bo = console.login("bo")
    books = world.ledger(console)
    asked = post(bo, f"/cases/{first}/credit-note", {})
    assert asked.status_code == 200 and "Det bogføres." in asked.text
    assert not [c for c in books.calls if c[0] == "create_credit_note"]
    done = post(bo, f"/cases/{first}/credit-note", {"confirmed": "yes"})
    assert done.status_code == 303
    assert [c[2].invoice_number for c in books.calls if c[0] == "create_credit_note"] == ["1001"]
    credited = detail(console, first)
    assert credited["close_code"] == "credited" and credited["events"][-1]["by"] == "bo"

    asked = post(bo, f"/cases/{third}/write-off", {"reason": "amount_too_small_to_pursue"})
    assert asked.status_code == 200 and 'value="amount_too_small_to_pursue"' in asked.text
    assert not [c for c in books.calls if c[0] == "post_journal_lines"]
    done = post(
        bo,
        f"/cases/{third}/write-off",
        {"reason": "amount_too_small_to_pursue", "confirmed": "yes"},
    )
    assert done.status_code == 303
    assert len([c for c in books.calls if c[0] == "post_journal_lines"]) == 1
    assert detail(console, third)["close_code"] == "written_off"
    assert "afskrevet: bilag" in bo.get(f"/cases/{third}").text


def test_a_viewer_is_refused_every_action_and_sees_no_form_to_take_one(
    console: Console,
) -> None:
    first, _, _ = world.three_cases(console)
    before = detail(console, first)
    vera = console.login("vera")
    page = vera.get(f"/cases/{first}")
    assert page.status_code == 200
    assert "Du kan se saken, men ikke endre den." in page.text
    assert f'action="/cases/{first}/' not in page.text
    assert 'action="/cases"' not in vera.get("/cases").text  # no form to start a case
    api = console.api("vera")
    for path, form, api_path, body in ACTIONS:
        for confirmed in ("", "yes"):
            answer = post(vera, f"/cases/{first}/{path}", {**form, "confirmed": confirmed})
            assert answer.status_code == 403, (path, confirmed, answer.text[-500:])
        answer = api.post(f"/api/v1/cases/{first}/{api_path}", json=body)
        assert answer.status_code == 403, (api_path, answer.text)
        assert answer.json()["error"]["kind"] == "forbidden"
    assert post(vera, "/cases", {"client": "acme", "invoice": "1002"}).status_code == 403
    assert api.post("/api/v1/cases", json={"client": "acme", "invoice": "1002"}).status_code == 403
    assert detail(console, first) == before


def test_the_api_answers_what_the_cli_prints_with_json(console: Console, db_url: str) -> None:
    first, _, _ = world.three_cases(console)
    api = console.api("anna")
    # a change the audit log keeps, through the API
    assert api.post(f"/api/v1/cases/{first}/pause", json={"reason": "phoned"}).status_code == 200

    def hub(*args: str) -> Any:
        env = {**os.environ, "HUB_DATABASE_URL": db_url, "HUB_USER": "root"}
        out = subprocess.run(
            [sys.executable, "-m", "hub.cli.main", "--today", "2026-03-02", *args, "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    listed = api.get("/api/v1/cases", params={"customer": "C2", "overdue": "true"}).json()
    assert listed["total"] == 1
    assert listed["items"] == hub("cases", "list", "--customer", "C2", "--overdue")
    assert api.get("/api/v1/cases").json()["items"] == hub("cases", "list")
    assert api.get(f"/api/v1/cases/{first}").json() == hub("cases", "show", str(first))
    assert api.get("/api/v1/audit", params={"client": "acme"}).json()["items"] == hub(
        "audit", "list", "--client", "acme"
    )
