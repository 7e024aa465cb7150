"""The listings the console and the API page through, and what a case offers a person: cases
by client, stage, state, customer and overdue, a page at a time; the actions a case offers
now; the outbox a page at a time and one letter's stored text. Each answers only what the
acting user may see. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from hub.errors import ForbiddenError, InputError, NotFoundError, RemoteServerError
from hub.operations import cases, messages
from hub.secrets import SecretBox
from tests.audit_world import ADMIN, CARLA, VERA, World, build


@pytest.fixture
def world(db, box: SecretBox) -> World:  # type: ignore[no-untyped-def]
    return build(db, box)


def ids(found: cases.CaseList) -> list[int]:
    return [int(row["id"]) for row in found.rows]


def test_cases_are_filtered_and_paged(world: World) -> None:
    admin = world.ctx(ADMIN)
    every = cases.list_cases(admin, cases.CaseFilter())
    assert every.total == 8 and ids(every) == sorted(world.cases["a"] + world.cases["b"])
    page = cases.list_cases(admin, cases.CaseFilter(), limit=3, offset=3)
    assert page.total == 8 and page.rows == every.rows[3:6]
    assert cases.list_cases(admin, cases.CaseFilter(), limit=3, offset=9).rows == []

    c2 = cases.list_cases(admin, cases.CaseFilter(customer="C2"))
    assert ids(c2) == [world.cases["a"][1], world.cases["b"][1]]
    assert ids(cases.list_cases(admin, cases.CaseFilter(client="b", customer="C2"))) == [
        world.cases["b"][1]
    ]
    # invoice 5 of customer C1 is not due: its case is open but not overdue
    later = cases.start_case(admin, client="a", invoice="5").id
    overdue = cases.list_cases(admin, cases.CaseFilter(client="a", overdue=True))
    assert ids(overdue) == world.cases["a"] and overdue.total == 4
    c1 = cases.list_cases(admin, cases.CaseFilter(client="a", customer="C1"))
    assert ids(c1) == [world.cases["a"][0], later]
    # closed, a case is overdue no more; paused, it still is
    cases.close_case(admin, cases.CloseRequest(world.cases["a"][0], "error", "duplicate_case"))
    cases.pause_case(admin, cases.PauseRequest(world.cases["a"][1], "phoned"))
    overdue = cases.list_cases(admin, cases.CaseFilter(client="a", overdue=True), limit=2)
    assert ids(overdue) == world.cases["a"][1:3] and overdue.total == 3
    assert ids(cases.list_cases(admin, cases.CaseFilter(state=cases.CaseState.CLOSED))) == [
        world.cases["a"][0]
    ]


def test_a_consultant_lists_only_their_clients_cases(world: World) -> None:
    carla = world.ctx(CARLA)
    mine = cases.list_cases(carla, cases.CaseFilter(), limit=50)
    assert ids(mine) == world.cases["a"] and mine.total == 4
    assert cases.list_cases(carla, cases.CaseFilter(customer="C3")).total == 1
    with pytest.raises(NotFoundError, match="no client named 'b'"):
        cases.list_cases(carla, cases.CaseFilter(client="b"))


def test_what_a_case_offers_and_to_whom(world: World) -> None:
    admin, carla, vera = world.ctx(ADMIN), world.ctx(CARLA), world.ctx(VERA)
    case_id = world.cases["a"][0]
    offered = cases.case_actions(admin, case_id)
    assert offered.may_change and offered.client == "a"
    assert offered.offered == (
        "close",
        "payment",
        "credit_note",
        "pause",
        "change_flow",
        "restart_flow",
        "collect",
        "write_off",
    )
    assert offered.flows == ("invoice", "collection")  # from the reminder stage
    assert "written_off" not in offered.closing_codes  # D4 closes so, after posting
    assert offered.closing_codes["dispute"] == (
        "customer_disputes_claim",
        "complaint_about_goods_or_service",
    )
    # a viewer sees the same offer but may not act, and is refused before any confirmation
    seen = cases.case_actions(vera, case_id)
    assert not seen.may_change and seen.offered == offered.offered
    with pytest.raises(ForbiddenError, match="'vera' is a viewer"):
        cases.refuse_unless_may_change(vera, case_id, "close")
    assert cases.refuse_unless_may_change(carla, case_id, "close").may_change
    with pytest.raises(NotFoundError) as unseen:
        cases.case_actions(carla, world.cases["b"][0])
    with pytest.raises(NotFoundError) as missing:
        cases.case_actions(admin, 999)
    assert str(unseen.value) == str(missing.value).replace("999", str(world.cases["b"][0]))

    cases.pause_case(admin, cases.PauseRequest(case_id, "phoned"))
    assert "resume" in cases.case_actions(admin, case_id).offered
    # a credit note asked for and not finished: finish it, or abandon it, nothing else
    world.ledger.fail_credit_notes = True
    with pytest.raises(RemoteServerError):
        cases.credit_note(admin, case_id)
    assert cases.case_actions(admin, case_id).offered == ("credit_note", "abandon_posting")
    cases.abandon_posting(admin, cases.AbandonRequest(case_id, "not in the books"))
    cases.close_case(admin, cases.CloseRequest(case_id, "error", "duplicate_case"))
    assert cases.case_actions(admin, case_id).offered == ()


def test_the_outbox_is_filtered_and_paged_and_a_letter_shown_as_stored(world: World) -> None:
    admin, carla = world.ctx(ADMIN), world.ctx(CARLA)
    every = messages.page_messages(admin, messages.MessageFilter())
    assert every.total == len(every.items) == 8  # a reminder for each case
    assert [m.id for m in every.items] == sorted(m.id for m in every.items)
    page = messages.page_messages(admin, messages.MessageFilter(), limit=3, offset=6)
    assert page.total == 8 and page.items == every.items[6:]
    assert messages.list_messages(admin, client="b") == [m for m in every.items if m.client == "b"]
    case_id = world.cases["a"][2]
    of_case = messages.page_messages(admin, messages.MessageFilter(case_id=case_id)).items
    assert [m.case_id for m in of_case] == [case_id]
    assert messages.page_messages(admin, messages.MessageFilter(customer="C3")).total == 2
    assert {m.kind for m in every.items} == {"reminder_1"}
    for kind in ("reminder_1", "reminder"):  # a reminder is any numbered one
        assert messages.page_messages(admin, messages.MessageFilter(kind=kind)).total == 8
    assert messages.page_messages(admin, messages.MessageFilter(kind="reminder_2")).total == 0
    assert (
        messages.page_messages(admin, messages.MessageFilter(kind="closing_confirmation")).total
        == 0
    )
    with pytest.raises(InputError, match="letter kind 'poem' is not one of"):
        messages.page_messages(admin, messages.MessageFilter(kind="poem"))
    with pytest.raises(InputError, match="message status 'lost' is not one of"):
        messages.page_messages(admin, messages.MessageFilter(status="lost"))

    mine = messages.page_messages(carla, messages.MessageFilter())
    assert mine.total == 4 and {m.client for m in mine.items} == {"a"}
    letter = messages.show_message(admin, of_case[0].id)
    assert letter.subject == of_case[0].subject and letter.recipient_name == "Kunde 3"
    assert "Kunde 3" in letter.body and letter.body.endswith("\n")
    assert letter.as_dict()["body"] == letter.body
    theirs = next(m for m in every.items if m.client == "b")
    with pytest.raises(NotFoundError) as unseen:
        messages.show_message(carla, theirs.id)
    with pytest.raises(NotFoundError) as missing:
        messages.show_message(admin, 9999)
    assert str(unseen.value) == str(missing.value).replace("9999", str(theirs.id))
