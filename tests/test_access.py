"""What a user may see and change, as every front end gets it from the operations: a
consultant only their clients (another's is not found, by name, by id and in every list), a
viewer nothing to change, an admin everything. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from hub.errors import ForbiddenError, NotFoundError
from hub.operations import (
    audit,
    cases,
    clients,
    collection,
    flows,
    health,
    invoices,
    messages,
    recurring,
    reports,
    runs,
    secrets,
    users,
)
from hub.operations import sync as sync_ops
from hub.operations.context import Actor, Context
from hub.secrets import SecretBox
from tests.audit_world import ADMIN, CARLA, TERMS, TODAY, VERA, World, build, snapshot

REMINDER_STEPS = ["10;due_date;reminder;0", "24;due_date;reminder;100.00"]


@pytest.fixture
def world(db, box: SecretBox) -> World:  # type: ignore[no-untyped-def]
    return build(db, box)


#: What of :func:`by_name` only reads.
READS = frozenset(
    {"client day", "show client", "invoices", "flows", "rules", "cases", "open case"}
    | {"messages", "runs", "overview", "agreements"}
)


def by_name(name: str) -> list[tuple[str, Callable[[Context], object]]]:
    """Everything a person can ask about, or do to, the client called ``name``."""
    return [
        ("client day", lambda c: clients.client_day(c, name)),
        ("show client", lambda c: clients.show_client(c, name)),
        ("invoices", lambda c: invoices.list_invoices(c, name)),
        ("flows", lambda c: flows.show_flows(c, name)),
        ("rules", lambda c: flows.show_rules(c, name)),
        ("cases", lambda c: cases.list_cases(c, cases.CaseFilter(client=name))),
        ("open case", lambda c: cases.open_case_of(c, name, invoice="1")),
        ("messages", lambda c: messages.list_messages(c, client=name)),
        ("runs", lambda c: runs.list_runs(c, client=name)),
        ("overview", lambda c: collection.collection_overview(c, name)),
        ("agreements", lambda c: recurring.list_agreements(c, name)),
        ("set rules", lambda c: flows.set_rules(c, name, ["auto_start=1"])),
        ("set flow", lambda c: flows.set_flow(c, name, flows.Stage.REMINDER, REMINDER_STEPS)),
        ("reset flow", lambda c: flows.reset_flow(c, name, flows.Stage.REMINDER)),
        ("enable", lambda c: clients.enable_plugin(c, name, "alpha", {"api_token": "x"})),
        ("settings", lambda c: clients.set_settings(c, name, {"page_size": "5"})),
        ("disable", lambda c: clients.disable_plugin(c, name, "alpha")),
        ("remove", lambda c: clients.remove_client(c, name)),
        ("grant", lambda c: clients.grant_feature(c, name, clients.CUSTOMER_REMINDERS)),
        ("revoke", lambda c: clients.revoke_feature(c, name, clients.CUSTOMER_REMINDERS)),
        ("start case", lambda c: cases.start_case(c, client=name, invoice="1")),
        ("sync", lambda c: sync_ops.sync(c, sync_ops.SyncRequest(name))),
        ("recurring run", lambda c: recurring.run_due_named(c, name)),
        (
            "add agreement",
            lambda c: recurring.add_agreement(c, recurring.AddAgreement(name, "C2", TERMS)),
        ),
    ]


def by_case(case_id: int) -> list[tuple[str, Callable[[Context], object]]]:
    """Everything a person can ask about, or do to, case ``case_id``."""
    return [
        ("show", lambda c: cases.show_case(c, case_id)),
        ("close", lambda c: cases.close_case(c, cases.CloseRequest(case_id, "paid", "paid_to_us"))),
        (
            "payment",
            lambda c: cases.register_payment(
                c, cases.PaymentRequest(case_id, Decimal("10.00"), TODAY)
            ),
        ),
        ("credit note", lambda c: cases.credit_note(c, case_id)),
        ("pause", lambda c: cases.pause_case(c, cases.PauseRequest(case_id, "dispute"))),
        ("resume", lambda c: cases.resume_case(c, case_id)),
        ("change flow", lambda c: cases.change_flow(c, case_id, cases.Stage.INVOICE)),
        ("restart flow", lambda c: cases.restart_flow(c, case_id)),
        (
            "abandon posting",
            lambda c: cases.abandon_posting(c, cases.AbandonRequest(case_id, "looked")),
        ),
        ("collect", lambda c: collection.collect(c, case_id)),
        ("write off", lambda c: collection.write_off(c, collection.WriteOffRequest(case_id))),
    ]


def by_agreement(agreement_id: int, name: str) -> list[tuple[str, Callable[[Context], object]]]:
    return [
        ("show agreement", lambda c: recurring.show_agreement(c, agreement_id)),
        ("deactivate", lambda c: recurring.deactivate(c, agreement_id, name, "stop")),
        ("abandon invoice", lambda c: recurring.abandon(c, agreement_id, name, 1, "gone")),
    ]


def refusal(call: Callable[[Context], object], ctx: Context) -> str:
    with pytest.raises(NotFoundError) as caught:
        call(ctx)
    return str(caught.value)


def test_a_consultant_finds_no_other_client_by_name_as_if_it_did_not_exist(world: World) -> None:
    carla, admin = world.ctx(CARLA), world.ctx(ADMIN)
    before = snapshot(world.db)
    for what, call in by_name("b"):
        # the very message an admin gets for a client that does not exist, with b's name
        missing = refusal(dict(by_name("nosuch"))[what], admin).replace("nosuch", "b")
        assert refusal(call, carla) == missing, what
    assert snapshot(world.db) == before


def test_a_consultant_finds_no_case_or_agreement_of_another_client_by_id(world: World) -> None:
    carla, admin = world.ctx(CARLA), world.ctx(ADMIN)
    before = snapshot(world.db)
    hidden, missing_id = world.cases["b"][0], 999_999
    for (what, call), (_, missing) in zip(by_case(hidden), by_case(missing_id), strict=True):
        expected = refusal(missing, admin).replace(str(missing_id), str(hidden))
        assert refusal(call, carla) == expected, what
    agreement = world.agreements["b"]
    assert refusal(by_agreement(agreement, "b")[0][1], carla) == refusal(
        by_agreement(missing_id, "b")[0][1], admin
    ).replace(str(missing_id), str(agreement))
    for what, call in by_agreement(agreement, "b")[1:]:
        assert "no client named 'b'" in refusal(call, carla), what
    assert snapshot(world.db) == before


def _lists(ctx: Context) -> dict[str, set[Any]]:
    """The clients each list across clients shows ``ctx``'s user."""
    gauges = health.health(ctx)
    return {
        "clients": {c.name for c in clients.list_clients(ctx)},
        "cases": {r["client"] for r in cases.list_cases(ctx, cases.CaseFilter()).rows},
        "messages": {m.client for m in messages.list_messages(ctx)},
        "runs": {r["client"] for r in runs.list_runs(ctx)},
        "agreements": {a.client for a in recurring.list_agreements(ctx)},
        "case counts": {c.client for c in reports.case_counts(ctx) if c.by_stage_and_state},
        "law tallies": {t.client for t in reports.law_tallies(ctx)},
        "recurring made": {m.client for m in reports.recurring_made(ctx)},
        "health cases": {name for name, _, n in gauges.open_cases if n},
        "health syncs": set(gauges.last_syncs),
        "audit": {e.client for e in audit.list_audit(ctx, audit.AuditFilter()).entries},
    }


def test_every_list_shows_a_consultant_their_clients_and_an_admin_all(world: World) -> None:
    recurring.run_due_named(world.ctx(ADMIN), "a")
    recurring.run_due_named(world.ctx(ADMIN), "b")
    consultant = _lists(world.ctx(CARLA))
    assert consultant == {what: {"a"} for what in consultant}
    everything = _lists(world.ctx(ADMIN))
    assert everything == {what: {"a", "b"} for what in everything}
    viewer = _lists(world.ctx(VERA))
    assert viewer == {what: {"a", "b"} for what in viewer}
    # the runs and secrets of a client a consultant may not see are not counted either
    assert sum(reports.run_counts(world.ctx(CARLA)).values()) * 2 == sum(
        reports.run_counts(world.ctx(ADMIN)).values()
    )
    assert secrets.check(world.ctx(CARLA)).secrets == 1
    assert secrets.check(world.ctx(ADMIN)).secrets == 2


def test_a_consultant_acts_on_their_own_client(world: World) -> None:
    carla = world.ctx(CARLA)
    case_id = world.cases["a"][0]
    closed = cases.close_case(carla, cases.CloseRequest(case_id, "paid", "paid_to_us"))
    assert closed.state == "closed"
    assert flows.set_rules(carla, "a", ["auto_start=1"]).changed == 1
    assert cases.show_case(carla, case_id).detail["events"][-1]["by"] == "carla"


def test_a_consultant_touches_nothing_of_no_ones(world: World) -> None:
    carla = world.ctx(CARLA)
    before = snapshot(world.db)
    with pytest.raises(ForbiddenError, match="only an admin makes changes of no one client's"):
        secrets.rotate(carla)
    assert snapshot(world.db) == before


def test_a_consultants_new_client_is_theirs_and_no_one_elses(world: World) -> None:
    """A consultant who adds a client sees it from their next request on (it is assigned to
    them in the adding transaction); another consultant does not."""
    admin = world.ctx(ADMIN)
    users.add_user(admin, users.NewUser("carla", "consultant", "a long passphrase", {"a"}))
    users.add_user(admin, users.NewUser("otto", "consultant", "another passphrase", {"a"}))
    clients.add_client(world.ctx(CARLA), "c", "DK")
    carla = users.user_session(world.ctx(ADMIN).services, "carla")
    otto = users.user_session(world.ctx(ADMIN).services, "otto")
    assert carla is not None and otto is not None
    assert carla.actor.clients == {"a", "c"}
    assert otto.actor.clients == {"a"}
    assert [c.name for c in clients.list_clients(world.ctx(carla.actor))] == ["a", "c"]
    with pytest.raises(NotFoundError):
        clients.show_client(world.ctx(otto.actor), "c")


def _every_change(world: World) -> list[tuple[str, Callable[[Context], object]]]:
    changes = [(what, call) for what, call in by_name("a") if what not in READS]
    changes += [(w, c) for w, c in by_case(world.cases["a"][0]) if w != "show"]
    changes += by_agreement(world.agreements["a"], "a")[1:]
    changes += [
        ("add client", lambda c: clients.add_client(c, "c", "DK")),
        ("rotate", lambda c: secrets.rotate(c)),
    ]
    return changes


def test_a_viewer_changes_nothing_and_is_told_who_what_and_which_client(world: World) -> None:
    vera = world.ctx(VERA)
    before = snapshot(world.db)
    changes = _every_change(world)
    assert len(changes) == 27
    for what, call in changes:
        with pytest.raises(ForbiddenError) as caught:
            call(vera)
        message = str(caught.value)
        assert message.startswith("user 'vera' is a viewer, who changes nothing: "), what
        assert message.endswith(" refused"), what
        if what not in {"rotate", "add client"}:
            assert "(client 'a') refused" in message or "of client a refused" in message, what
    assert snapshot(world.db) == before


def test_a_viewer_assigned_some_clients_sees_only_those(world: World) -> None:
    viewer = world.ctx(Actor("vic", role="viewer", clients=frozenset({"b"})))
    assert [c.name for c in clients.list_clients(viewer)] == ["b"]
    with pytest.raises(NotFoundError):
        cases.close_case(viewer, cases.CloseRequest(world.cases["a"][0], "paid", "paid_to_us"))
    with pytest.raises(ForbiddenError):
        cases.close_case(viewer, cases.CloseRequest(world.cases["b"][0], "paid", "paid_to_us"))


def test_the_shells_user_is_an_admin_and_sees_every_client(world: World) -> None:
    shell = Actor.from_environment({"HUB_USER": "ops"})
    assert (shell.role, shell.clients) == ("admin", None)
    ctx = world.ctx(shell)
    assert {c.name for c in clients.list_clients(ctx)} == {"a", "b"}
    day = clients.client_day(ctx, "b")
    assert day.today == TODAY and isinstance(day.today, dt.date)
