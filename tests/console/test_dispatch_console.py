"""The dispatch page and /api/v1/dispatch over real HTTP: a client whose letters need approval,
its plan for a day, the letters waiting, approving some, holding one back with a reason (each
in the audit log, by the console's user), and who may see and do it. With ``-m postgres`` on
PostgreSQL too."""

from __future__ import annotations

import datetime as dt
import json

import httpx

from hub.operations import dispatch, flows
from hub.operations import sync as sync_ops
from hub.records import to_json
from tests.console import world
from tests.console.conftest import Console, csrf_of


def waiting_letters(console: Console) -> list[int]:
    """acme's first reminders of two cases (1001 and 1004, both over ten days overdue), made by
    a sync and waiting for approval."""
    flows.set_rules(console.admin, "acme", ["approval=required"])
    world.three_cases(console)
    world.book(console, "1004", customer="C4", gross="42.00", days_overdue=20)
    world.sync(console)
    world.start(console, "1004")
    sync_ops.sync(console.admin, sync_ops.SyncRequest("acme"))
    letters = dispatch.list_waiting(console.admin, "acme")
    assert {letter.status for letter in letters} == {"pending_approval"}
    return [letter.id for letter in letters]


def post(browser: httpx.Client, path: str, form: dict[str, object]) -> httpx.Response:
    token = csrf_of(browser.get("/dispatch?client=acme").text)
    return browser.post(path, data={**form, "csrf_token": token})


def test_a_consultant_approves_some_and_holds_one_back(console: Console) -> None:
    letters = waiting_letters(console)
    assert len(letters) == 2
    bo = console.login("bo")
    page = bo.get("/dispatch")  # bo's only client is chosen for him
    assert page.status_code == 200
    assert "Hvert brev venter på godkendelse." in page.text
    for letter in letters:
        assert f'name="letter" value="{letter}"' in page.text
        assert f'action="/dispatch/letters/{letter}/hold"' in page.text
    first, second = letters

    held = post(bo, f"/dispatch/letters/{second}/hold", {"client": "acme", "reason": "  "})
    assert held.status_code == 422 and 'role="alert"' in held.text  # a reason is required
    held = post(bo, f"/dispatch/letters/{second}/hold", {"client": "acme", "reason": "ringer"})
    assert held.status_code == 303 and held.headers["location"] == "/dispatch?client=acme"
    approved = post(bo, "/dispatch/acme/approve", {"letter": [first]})
    assert approved.status_code == 303
    shown = bo.get("/dispatch?client=acme").text
    assert "1 brev(e) godkendt" in shown and "bo: ringer" in shown
    by_id = {m.id: m for m in dispatch.list_waiting(console.admin, "acme")}
    assert by_id[second].status == "held" and by_id[second].held_by == "bo"
    assert first not in by_id or by_id[first].approved_by == "bo"  # out, or queued to go

    nothing = post(bo, "/dispatch/acme/approve", {})
    assert nothing.status_code == 422 and "approve either all" in nothing.text
    audit = console.api("anna").get("/api/v1/audit", params={"action": "dispatch"}).json()
    assert [(e["actor"], e["action"]) for e in audit["items"]] == [
        ("bo", "dispatch.approve"),
        ("bo", "dispatch.hold"),
    ]


def test_the_plan_and_the_api_and_who_may_do_what(console: Console) -> None:
    letters = waiting_letters(console)
    api = console.api("bo")
    plan = api.get("/api/v1/dispatch/acme/plan", params={"date": "2026-03-09"})
    assert plan.status_code == 200
    expected = dispatch.plan_dispatch(console.admin, "acme", on=dt.date(2026, 3, 9))
    assert plan.json() == json.loads(to_json(expected.as_dict()))
    assert api.get("/api/v1/dispatch/acme/plan", params={"date": "2026-01-01"}).status_code == 422
    waiting = api.get("/api/v1/dispatch/acme/waiting").json()
    assert waiting["items"] == json.loads(
        to_json([m.as_dict() for m in dispatch.list_waiting(console.admin, "acme")])
    )
    page = console.login("anna").get("/dispatch?client=acme&date=2026-03-09")
    assert page.status_code == 200 and "09.03.2026" not in page.text  # anna reads English
    assert "2026-03-09" in page.text

    vera = console.login("vera")  # sees the plan, changes nothing
    shown = vera.get("/dispatch")
    assert shown.status_code == 200 and 'name="letter"' not in shown.text
    assert post(vera, "/dispatch/acme/approve", {"every": "yes"}).status_code == 403
    hold = {"client": "acme", "reason": "no"}
    assert post(vera, f"/dispatch/letters/{letters[0]}/hold", hold).status_code == 403
    viewer = console.api("vera")
    assert viewer.post("/api/v1/dispatch/acme/approve", json={"all": True}).status_code == 403
    carl = console.login("carl")  # acme is not his: not found
    assert carl.get("/dispatch?client=acme").status_code == 404
    assert post(carl, "/dispatch/acme/approve", {"every": "yes"}).status_code == 404
    assert post(carl, f"/dispatch/letters/{letters[0]}/hold", hold).status_code == 404
    assert console.api("carl").get("/api/v1/dispatch/acme/waiting").status_code == 404
    assert {m.status for m in dispatch.list_waiting(console.admin, "acme")} == {"pending_approval"}
    approved = api.post("/api/v1/dispatch/acme/approve", json={"all": True})
    assert approved.status_code == 200
    assert sorted(m["id"] for m in approved.json()["approved"]) == sorted(letters)
