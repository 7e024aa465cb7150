"""The audit log: every kind of change a person makes leaves exactly one entry, with who, the
client, what, and before and after, secrets masked; a refused or failed change leaves none;
``hub audit list`` filters and shows each user only what they may see. Runs on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from hub.cli.main import main
from hub.db import tables as t
from hub.errors import ForbiddenError, InputError, NotFoundError, PluginError
from hub.logging import MASK
from hub.operations import audit, cases, clients, collection, flows, recurring, secrets
from hub.operations import sync as sync_ops
from hub.operations.context import Context
from hub.secrets import SecretBox
from tests.audit_world import (
    ADMIN,
    CARLA,
    SECRETS,
    TERMS,
    VERA,
    World,
    audit_rows,
    build,
    snapshot,
)

NEW_SECRETS = ("tok-c-90d1e7a3f4", "tok-c-5b2c8e1a77")
LAWFUL = ["10;due_date;reminder;0.00", "24;due_date;reminder;100.00"]


@pytest.fixture
def world(db, box: SecretBox) -> World:  # type: ignore[no-untyped-def]
    return build(db, box)


#: (action, client, the change, whether it has a before, whether it has an after)
Step = tuple[str, str | None, Callable[[Context], object], bool, bool]


def _steps(world: World) -> list[Step]:
    a1, a2, a3, a4 = world.cases["a"]
    b1 = world.cases["b"][0]
    agreement = world.agreements["a"]

    def failing_credit_note(ctx: Context) -> None:
        world.ledger.fail_credit_notes = True
        with pytest.raises(PluginError, match="HTTP 503"):
            cases.credit_note(ctx, b1)
        world.ledger.fail_credit_notes = False

    def failing_recurring_run(ctx: Context) -> None:
        world.ledger.fail_invoices = True
        assert len(recurring.run_due_named(ctx, "a").failed) == 1
        world.ledger.fail_invoices = False

    return [
        ("client.add", "c", lambda c: clients.add_client(c, "c", "NO"), False, True),
        (
            "client.enable",
            "c",
            lambda c: clients.enable_plugin(c, "c", "alpha", {"api_token": NEW_SECRETS[0]}),
            False,
            True,
        ),
        (
            "client.settings",
            "c",
            lambda c: clients.set_settings(
                c, "c", {"api_token": NEW_SECRETS[1], "page_size": "50"}
            ),
            True,
            True,
        ),
        ("client.disable", "c", lambda c: clients.disable_plugin(c, "c", "alpha"), True, True),
        ("client.remove", "c", lambda c: clients.remove_client(c, "c"), True, False),
        (
            "client.grant",
            "a",
            lambda c: clients.grant_feature(c, "a", clients.CUSTOMER_REMINDERS),
            False,
            True,
        ),
        (
            "client.revoke",
            "a",
            lambda c: clients.revoke_feature(c, "a", clients.CUSTOMER_REMINDERS),
            True,
            False,
        ),
        ("rules.set", "a", lambda c: flows.set_rules(c, "a", ["min_amount=10.00"]), True, True),
        (
            "flow.set",
            "a",
            lambda c: flows.set_flow(c, "a", flows.Stage.REMINDER, LAWFUL),
            True,
            True,
        ),
        ("flow.reset", "a", lambda c: flows.reset_flow(c, "a", flows.Stage.REMINDER), True, True),
        ("sync.run", "a", lambda c: sync_ops.sync(c, sync_ops.SyncRequest("a")), False, True),
        (
            "case.pause",
            "a",
            lambda c: cases.pause_case(c, cases.PauseRequest(a1, "dispute", "called")),
            True,
            True,
        ),
        ("case.resume", "a", lambda c: cases.resume_case(c, a1), True, True),
        (
            "case.payment",
            "a",
            lambda c: cases.register_payment(
                c, cases.PaymentRequest(a1, Decimal("100.00"), dt.date(2026, 11, 30))
            ),
            True,
            True,
        ),
        ("case.start", "a", lambda c: cases.start_case(c, client="a", invoice="5"), False, True),
        (
            "case.change_flow",
            "a",
            lambda c: cases.change_flow(
                c, cases.open_case_of(c, "a", invoice="5"), cases.Stage.REMINDER
            ),
            True,
            True,
        ),
        ("case.restart_flow", "a", lambda c: cases.restart_flow(c, a2), True, True),
        (
            "case.close",
            "a",
            lambda c: cases.close_case(c, cases.CloseRequest(a2, "paid", "paid_to_us")),
            True,
            True,
        ),
        ("case.credit_note", "a", lambda c: cases.credit_note(c, a3), True, True),
        (
            "case.write_off",
            "a",
            lambda c: collection.write_off(c, collection.WriteOffRequest(a4)),
            True,
            True,
        ),
        ("case.collect", "a", lambda c: collection.collect(c, a1), True, True),
        ("case.credit_note", "b", failing_credit_note, True, True),
        (
            "case.abandon_posting",
            "b",
            lambda c: cases.abandon_posting(c, cases.AbandonRequest(b1, "not in the books")),
            True,
            True,
        ),
        ("recurring.invoice", "a", failing_recurring_run, False, True),
        (
            "recurring.abandon",
            "a",
            lambda c: recurring.abandon(c, agreement, "a", 1, "refused"),
            True,
            True,
        ),
        (
            "recurring.deactivate",
            "a",
            lambda c: recurring.deactivate(c, agreement, "a", "ended"),
            True,
            True,
        ),
        (
            "recurring.add",
            "a",
            lambda c: recurring.add_agreement(c, recurring.AddAgreement("a", "C3", TERMS)),
            False,
            True,
        ),
        ("secrets.rotate", None, lambda c: secrets.rotate(c), False, True),
    ]


def test_each_kind_of_change_leaves_exactly_one_entry_with_before_and_after(
    world: World,
) -> None:
    admin = world.ctx(ADMIN)
    for action, client, change, has_before, has_after in _steps(world):
        known = len(audit_rows(world.db))
        change(admin)
        rows = audit_rows(world.db)
        assert len(rows) == known + 1, action
        entry = rows[-1]
        assert (entry.actor, entry.client, entry.action) == ("root", client, action)
        assert (entry.before is not None, entry.after is not None) == (has_before, has_after), (
            action
        )
    by_action = {row.action: row for row in audit_rows(world.db)}
    pause = by_action["case.pause"]
    assert (pause.subject, pause.before["state"], pause.after["state"]) == (
        f"case {world.cases['a'][0]}",
        "active",
        "paused",
    )
    assert pause.after["pause_reason"] == "dispute" and "pause_reason" not in pause.before
    assert by_action["case.payment"].after["paid_in_hub"] == "100.00"
    rules = by_action["rules.set"]
    assert (rules.before["min_amount"], rules.after["min_amount"]) == (None, "10.00")
    assert by_action["flow.set"].after == {"default": False, "steps": LAWFUL}
    assert by_action["flow.reset"].after["default"] is True
    settings = by_action["client.settings"]
    assert settings.subject == "plugin alpha"
    assert settings.before["settings"] == {"api_token": MASK}
    assert settings.after["settings"] == {"api_token": MASK, "page_size": "50"}
    assert settings.after["given"] == ["api_token", "page_size"]
    assert by_action["case.write_off"].after["write_off_key"].startswith("writeoff:")
    assert by_action["client.remove"].before["name"] == "c"  # the history outlives the client
    assert by_action["sync.run"].subject.startswith("run ")
    assert by_action["recurring.invoice"].subject == f"agreement {world.agreements['a']} invoice 1"


def _raw(world: World) -> str:
    with world.db.engine.connect() as conn:
        return repr(conn.execute(sa.select(t.AuditEntry.__table__)).all())


def test_no_secret_value_reaches_the_audit_log_or_its_listing(
    world: World, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = world.ctx(ADMIN)
    for _, _, change, _, _ in _steps(world)[:5]:  # a client added, its secrets set, removed
        change(admin)
    clients.set_settings(admin, "a", {"api_token": "tok-a-rotated-0042"})
    raw = _raw(world)
    assert "api_token" in raw and MASK in raw
    for secret in (*SECRETS.values(), *NEW_SECRETS, "tok-a-rotated-0042"):
        assert secret not in raw
    capsys.readouterr()
    assert main(["--db", db_url, "audit", "list", "--json", "--limit", "1000"]) == 0
    listed = capsys.readouterr().out
    assert len(json.loads(listed)) == len(audit_rows(world.db))
    for secret in (*SECRETS.values(), *NEW_SECRETS, "tok-a-rotated-0042"):
        assert secret not in listed


def test_a_refused_or_failed_change_leaves_no_entry_and_nothing_changed(world: World) -> None:
    admin = world.ctx(ADMIN)
    a1 = world.cases["a"][0]
    refused: list[tuple[type[Exception], Callable[[Context], object]]] = [
        (InputError, lambda c: flows.set_flow(c, "a", flows.Stage.REMINDER, ["5;due_date;r;999"])),
        (InputError, lambda c: cases.close_case(c, cases.CloseRequest(a1, "paid", "no reason"))),
        (InputError, lambda c: cases.resume_case(c, a1)),  # not paused
        (InputError, lambda c: clients.enable_plugin(c, "a", "alpha", {"colour": "red"})),
        (InputError, lambda c: clients.add_client(c, "a", "DK")),  # exists already
        (InputError, lambda c: flows.set_rules(c, "a", ["min_amount=lots"])),
        (NotFoundError, lambda c: cases.close_case(c, cases.CloseRequest(99, "paid", "paid"))),
    ]
    before = snapshot(world.db)
    for error, change in refused:
        with pytest.raises(error):
            change(admin)
    for error, change in [
        (ForbiddenError, lambda c: flows.set_rules(c, "a", ["min_amount=5.00"])),
        (ForbiddenError, lambda c: cases.pause_case(c, cases.PauseRequest(a1, "x"))),
    ]:
        with pytest.raises(error):
            change(world.ctx(VERA))
    with pytest.raises(NotFoundError):
        flows.set_rules(world.ctx(CARLA), "b", ["min_amount=5.00"])
    assert snapshot(world.db) == before


def _entries(ctx: Context, **filters: Any) -> list[audit.AuditLine]:
    return audit.list_audit(ctx, audit.AuditFilter(**filters)).entries


def test_each_user_sees_the_entries_of_their_clients_and_admins_those_of_no_client(
    world: World,
) -> None:
    admin, carla = world.ctx(ADMIN), world.ctx(CARLA)
    secrets.rotate(admin)
    cases.pause_case(carla, cases.PauseRequest(world.cases["a"][0], "dispute"))
    assert {e.client for e in _entries(admin)} == {"a", "b", None}
    assert {e.client for e in _entries(world.ctx(VERA))} == {"a", "b"}
    assert {e.client for e in _entries(carla)} == {"a"}
    with pytest.raises(NotFoundError) as caught:
        _entries(carla, client="b")
    assert str(caught.value) == "no client named 'b' (see `hub clients list`)"
    [mine] = _entries(carla, user="carla")
    assert (mine.action, mine.subject) == ("case.pause", f"case {world.cases['a'][0]}")
    assert mine.changes() == "state: active → paused; pause_reason: — → dispute"


def test_hub_audit_list_filters_by_client_user_action_and_day(
    world: World, db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_USER", "karen")
    assert main(["--db", db_url, "rules", "set", "b", "min_amount=5.00"]) == 0
    cases.close_case(
        world.ctx(CARLA), cases.CloseRequest(world.cases["a"][1], "paid", "paid_to_us")
    )

    def listed(*args: str) -> list[dict[str, Any]]:
        capsys.readouterr()
        assert main(["--db", db_url, "audit", "list", "--json", *args]) == 0
        rows: list[dict[str, Any]] = json.loads(capsys.readouterr().out)
        return rows

    everything = listed("--limit", "1000")
    assert [r["id"] for r in everything] == sorted((r["id"] for r in everything), reverse=True)
    [karen] = listed("--user", "karen")
    assert (karen["client"], karen["action"], karen["subject"]) == ("b", "rules.set", "rules")
    assert (karen["before"]["min_amount"], karen["after"]["min_amount"]) == (None, "5.00")
    assert {r["client"] for r in listed("--client", "a", "--limit", "1000")} == {"a"}
    assert [r["actor"] for r in listed("--action", "case.close")] == ["carla"]
    started = listed("--action", "case", "--limit", "1000")
    assert {r["action"] for r in started} == {"case.start", "case.close"}
    assert len(listed("--limit", "2")) == 2
    assert (
        listed("--since", (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)).isoformat()) == []
    )
    assert len(listed("--since", "2000-01-01", "--limit", "1000")) == len(everything)
    capsys.readouterr()
    assert main(["--db", db_url, "audit", "list", "--client", "a", "--limit", "1"]) == 0
    shown = capsys.readouterr().out
    assert "case.close" in shown and "carla" in shown and "more: --offset 1" in shown
    assert main(["--db", db_url, "audit", "list", "--limit", "0"]) == 2
    assert "--limit: 0 must be from 1 to 1000" in capsys.readouterr().err


def test_changes_read_as_a_person_writes_them_never_as_python_reprs() -> None:
    def line(before: dict[str, object] | None, after: dict[str, object] | None) -> audit.AuditLine:
        return audit.AuditLine(
            1, "2026-02-01T09:30:00+00:00", "anna", "acme", "x", "y", before, after
        )

    changed = line({"auto_start": False, "excluded": []}, {"auto_start": True, "excluded": ["7"]})
    assert changed.changes() == "auto_start: false → true; excluded: — → 7"
    added = line(None, {"id": 3, "client": "acme", "settings": {"dir": "/x"}, "given": ["dir"]})
    assert added.changes() == "added: settings: dir=/x; given: dir"
