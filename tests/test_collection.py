"""Collection (D1–D3): the warning and its statutory deadline, the automatic start, R6 in
collection, the success fee, reminder 3 with collection warning, and the overview.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from decimal import Decimal

import pytest

from hub import clients
from hub.db.engine import Database
from hub.dunning import actions
from hub.dunning import rules as dunning_rules
from hub.dunning.flows import Flow, parse_step
from hub.dunning.overview import collection_overview
from hub.dunning.states import Stage
from hub.errors import InputError
from hub.model import Customer, InvoiceState
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from tests.dunning_support import cases, events, messages, registry_with_outbox, run_day
from tests.helpers import add_client_with_plugin, deliver_pending, run_cycle
from tests.sample_plugins import RecordingPlugin, invoice

D = Decimal
DUE = dt.date(2026, 10, 15)


def day(n: int) -> dt.date:
    """Day n after the due date."""
    return DUE + dt.timedelta(days=n)


@pytest.fixture(params=["DK", "NO"])
def country(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def ledger(country: str) -> RecordingPlugin:
    plugin = RecordingPlugin("alpha")
    currency = {"DK": "DKK", "NO": "NOK"}[country]
    plugin.invoices["1"] = invoice("1", "C1", "1234.55", due_date=DUE, currency=currency)
    plugin.customers["C1"] = Customer("C1", "Østergaard ApS", email="a@example.dk")
    return plugin


@pytest.fixture
def registry(db: Database, box: SecretBox, ledger: RecordingPlugin, country: str) -> PluginRegistry:
    registry = registry_with_outbox(ledger)
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "t"}, country)
    with db.session() as session:
        dunning_rules.set_rules(
            session, clients.get_client(session, "acme"), {"auto_start": "true"}
        )
    return registry


def send_to_collection(
    db: Database, case_id: int, on: dt.date, registry: PluginRegistry, box: SecretBox
) -> None:
    """`hub cases collect`: the warning, delivered at once."""
    with db.session() as session:
        actions.send_to_collection(session, case_id, on, actor="tester")
    deliver_pending(db, registry, box, "acme", on)


def warned_case(db: Database, registry: PluginRegistry, box: SecretBox) -> int:
    """A case started overdue and warned on day 2; its id."""
    run_day(db, registry, box, "acme", day(1))
    case_id = cases(db)[0].id
    send_to_collection(db, case_id, day(2), registry, box)
    return case_id


def pay(ledger: RecordingPlugin, number: str, state: InvoiceState = InvoiceState.PAID) -> None:
    del ledger.invoices[number]
    ledger.settled[number] = state


def test_D1_warning_gives_the_statutory_deadline_then_collection_starts_by_itself(
    db, box, registry, country
) -> None:  # type: ignore[no-untyped-def]
    case_id = warned_case(db, registry, box)
    days = {"DK": 10, "NO": 14}[country]  # inkassoloven § 10 (DK), § 9 (NO)
    deadline = day(2 + days)
    [case] = cases(db)
    assert (case.collection_warned_on, case.collection_deadline) == (day(2), deadline)
    [warning] = [m for m in messages(db) if m.kind == "collection_warning"]
    assert warning.fee == 0 and f"{deadline:%d.%m.%Y}" in warning.body
    assert ("inkassoloven § 10" if country == "DK" else "inkassoloven § 9") in warning.body

    for n in range(3, 3 + days):  # up to and including the deadline: waiting, no reminders
        run_day(db, registry, box, "acme", day(n))
    assert cases(db)[0].stage == "reminder"
    assert [m.kind for m in messages(db)] == ["collection_warning"]

    report = run_day(db, registry, box, "acme", deadline + dt.timedelta(days=1))
    [case] = cases(db)
    assert (case.stage, case.state, case.collection_started_on) == (
        "collection",
        "active",
        deadline + dt.timedelta(days=1),
    )
    assert case.collection_amount == D("1234.55")
    assert report.collections_started == 1
    assert [m.kind for m in messages(db)] == ["collection_warning", "collection_notice"]
    assert "collection_started" in [e["kind"] for e in events(db, case_id)]
    run_day(db, registry, box, "acme", deadline + dt.timedelta(days=2))
    assert len(messages(db)) == 2  # started once


def test_D1_paid_before_the_deadline_closes_as_usual(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    warned_case(db, registry, box)
    pay(ledger, "1")
    run_day(db, registry, box, "acme", day(5))
    [case] = cases(db)
    assert (case.state, case.close_reason, case.stage) == ("closed", "outstanding_zero", "reminder")
    run_day(db, registry, box, "acme", day(30))
    assert [m.kind for m in messages(db)] == ["collection_warning"]


def in_collection(db: Database, registry: PluginRegistry, box: SecretBox) -> int:
    case_id = warned_case(db, registry, box)
    run_day(db, registry, box, "acme", day(20))
    assert cases(db)[0].stage == "collection"
    return case_id


def test_D1_R6_paid_collection_case_stays_open_and_records_the_success_fee_once(
    db, box, registry, ledger
) -> None:  # type: ignore[no-untyped-def]
    case_id = in_collection(db, registry, box)
    pay(ledger, "1")
    report = run_day(db, registry, box, "acme", day(21))
    run_day(db, registry, box, "acme", day(22))
    [case] = cases(db)
    assert (case.state, case.paid_in_accounting) == ("active", True)  # R6: a person closes it
    assert case.success_fee == D("123.46")  # 10 % of 1234.55 = 123.455, half up
    assert report.success_fees == D("123.46")
    assert [e["kind"] for e in events(db, case_id)].count("success_fee") == 1


def test_D1_success_fee_percent_is_the_clients(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        client = clients.get_client(session, "acme")
        dunning_rules.set_rules(session, client, {"success_fee_percent": "12.5"})
        with pytest.raises(InputError, match="from 0 to 100"):
            dunning_rules.set_rules(session, client, {"success_fee_percent": "120"})
    in_collection(db, registry, box)
    currency = ledger.invoices["1"].currency
    part_paid = invoice("1", "C1", "1234.55", due_date=DUE, outstanding_amount=D("234.55"))
    ledger.invoices["1"] = dataclasses.replace(part_paid, currency=currency)
    run_day(db, registry, box, "acme", day(21))
    assert cases(db)[0].success_fee is None  # part paid: not yet
    pay(ledger, "1")
    run_day(db, registry, box, "acme", day(22))
    assert cases(db)[0].success_fee == D("154.32")  # 12.5 % of 1234.55 = 154.31875


def test_D1_success_fee_when_a_person_closes_the_collection_case_as_paid(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    case_id = in_collection(db, registry, box)
    with db.session() as session:
        actions.close(session, case_id, "paid", "paid_to_us", day(25), notify=False, actor="tester")
    assert cases(db)[0].success_fee == D("123.46")


def test_D1_a_credited_collection_case_has_no_success_fee(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    in_collection(db, registry, box)
    pay(ledger, "1", InvoiceState.CREDITED)
    run_day(db, registry, box, "acme", day(21))
    [case] = cases(db)
    assert case.paid_in_accounting and case.success_fee is None


def test_D1_refusals_leave_the_case_as_it_was(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    case_id = cases(db)[0].id
    with pytest.raises(InputError, match="not overdue"):
        send_to_collection(db, case_id, day(0), registry, box)
    send_to_collection(db, case_id, day(1), registry, box)
    with pytest.raises(InputError, match="got its collection warning"):
        send_to_collection(db, case_id, day(2), registry, box)
    with db.session() as session, pytest.raises(InputError, match="flow cannot change"):
        actions.restart_flow(session, case_id, day(2), actor="tester")
    assert [m.kind for m in messages(db)] == ["collection_warning"]
    with db.session() as session:
        actions.pause(session, case_id, "talking", None, None, day(3), actor="tester")
    assert cases(db)[0].collection_deadline is not None


def test_D1_a_paused_case_enters_collection_when_resumed_after_the_deadline(
    db, box, registry
) -> None:  # type: ignore[no-untyped-def]
    case_id = warned_case(db, registry, box)
    with db.session() as session:
        actions.pause(session, case_id, "customer called", None, day(40), day(3), actor="tester")
    run_day(db, registry, box, "acme", day(30))
    assert cases(db)[0].stage == "reminder"  # paused: nothing moves
    run_day(db, registry, box, "acme", day(40))
    assert cases(db)[0].stage == "collection"


def set_reminder_flow(db: Database, *steps: str) -> None:
    with db.session() as session:
        dunning_rules.set_flow(
            session,
            clients.get_client(session, "acme"),
            Flow(Stage.REMINDER, tuple(parse_step(s) for s in steps)),
        )


def test_D2_reminder_3_with_collection_warning(db, box, registry, country) -> None:  # type: ignore[no-untyped-def]
    if country == "DK":
        set_reminder_flow(
            db, "10;due_date;reminder;100", "11;previous;reminder;100",
            "11;previous;collection_warning;100",
        )  # fmt: skip
        sends, deadline_days = (10, 21, 32), 10
    else:
        set_reminder_flow(db, "14;due_date;reminder;35", "15;previous;collection_warning;35")
        sends, deadline_days = (14, 29), 14
    for n in range(1, sends[-1] + 1):
        run_day(db, registry, box, "acme", day(n))
    sent = messages(db)
    assert [m.created_on for m in sent] == [day(n) for n in sends]
    warning = sent[-1]
    assert warning.kind == "collection_warning" and warning.fee > 0
    number = len(sends)
    heading = (
        f"RYKKER {number} – INKASSOVARSEL"
        if country == "DK"
        else f"{number}. PURRING – INKASSOVARSEL"
    )
    assert heading in warning.body  # fmt: skip
    [case] = cases(db)
    assert case.collection_deadline == day(sends[-1] + deadline_days)
    run_day(db, registry, box, "acme", day(sends[-1] + deadline_days + 1))
    assert cases(db)[0].stage == "collection"


def test_D2_the_collection_warning_is_the_last_reminder_step(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError, match="must be the last"):
        set_reminder_flow(db, "10;due_date;collection_warning;0", "11;previous;reminder;0")
    with (
        pytest.raises(InputError, match="collection stage has no steps"),
        db.session() as session,
    ):
        dunning_rules.set_flow(
            session,
            clients.get_client(session, "acme"),
            Flow(Stage.COLLECTION, (parse_step("1;previous;collection_warning;0"),)),
        )


def test_D3_overview_lists_customers_owing_after_the_last_reminder(
    db, box, registry, ledger, country
) -> None:  # type: ignore[no-untyped-def]
    currency = ledger.invoices["1"].currency
    ledger.invoices["2"] = invoice("2", "C1", "100.00", due_date=day(30), currency=currency)
    ledger.invoices["3"] = invoice("3", "C2", "200.00", due_date=DUE, currency=currency)
    ledger.customers["C2"] = Customer("C2", "Blåbær I/S")
    for n in range(1, 40):
        run_day(db, registry, box, "acme", day(n))
    with db.session() as session:
        overview = collection_overview(session, clients.get_client(session, "acme"), day(39))
    assert [row["customer_number"] for row in overview] == ["C1", "C2"]  # both had every reminder
    c1 = overview[0]
    assert c1["customer_name"] == "Østergaard ApS"
    assert [i["invoice_number"] for i in c1["invoices"]] == ["1", "2"]  # the entries behind it
    assert [i["last_reminder_sent"] for i in c1["invoices"]] == [True, False]
    assert c1["outstanding"] == {currency: D("1334.55")}

    ledger.invoices["3"] = invoice("3", "C2", "200.00", due_date=DUE, currency=currency,
                                   outstanding_amount=D("50.00"))  # fmt: skip
    pay(ledger, "1")
    run_day(db, registry, box, "acme", day(40))
    with db.session() as session:
        overview = collection_overview(session, clients.get_client(session, "acme"), day(40))
    assert [row["customer_number"] for row in overview] == ["C2"]  # C1's reminded one is paid
    assert overview[0]["outstanding"] == {currency: D("50.00")}


def test_D1_the_deadline_counts_from_the_day_the_warning_went_out(
    db, box, registry, country, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the outbox directory should be")
    with db.session() as session:  # a delivery that fails until it is fixed
        clients.enable_plugin(
            session, registry, box, "acme", "file_outbox", {"directory": str(blocked)}
        )
    run_day(db, registry, box, "acme", day(1))
    case_id = cases(db)[0].id
    send_to_collection(db, case_id, day(2), registry, box)
    [warning] = [m for m in messages(db) if m.kind == "collection_warning"]
    assert warning.status == "failed"
    for n in range(3, 40):
        run_day(db, registry, box, "acme", day(n))
    assert cases(db)[0].stage == "reminder"  # never delivered: no collection
    with db.session() as session:  # fixed: the warning goes out on day 40 ...
        clients.set_settings(
            session, registry, box, "acme", {"directory": str(tmp_path / "out")}, "file_outbox"
        )
    run_day(db, registry, box, "acme", day(40))
    days = {"DK": 10, "NO": 14}[country]
    run_day(db, registry, box, "acme", day(40 + days))
    assert cases(db)[0].stage == "reminder"  # ... and its statutory days count from then
    run_day(db, registry, box, "acme", day(41 + days))
    assert cases(db)[0].stage == "collection"


def test_D1_two_cycles_at_once_send_one_collection_notice(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    warned_case(db, registry, box)
    errors: list[str] = []

    def cycle() -> None:
        try:
            run_cycle(db, "acme", day(20))
        except Exception as exc:  # the loser fails on the outbox's unique index, or waits
            errors.append(type(exc).__name__)

    threads = [threading.Thread(target=cycle) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    run_cycle(db, "acme", day(20))
    assert [m.kind for m in messages(db)].count("collection_notice") == 1
    assert cases(db)[0].stage == "collection"


def test_D1_the_success_fee_is_recorded_when_paid_after_the_balance_reached_zero(
    db, box, registry, ledger
) -> None:  # type: ignore[no-untyped-def]
    in_collection(db, registry, box)
    ledger.balances["C1"] = D("0.00")  # a payment on account, not yet matched
    run_day(db, registry, box, "acme", day(21))
    [case] = cases(db)
    assert case.paid_in_accounting and case.success_fee is None  # nothing collected yet
    pay(ledger, "1")
    run_day(db, registry, box, "acme", day(22))
    assert cases(db)[0].success_fee == D("123.46")


def test_D1_no_warning_for_an_invoice_the_books_no_longer_know(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(1))
    del ledger.invoices["1"]  # deleted in the books: unknown at the next sync
    run_day(db, registry, box, "acme", day(2))
    with pytest.raises(InputError, match="is unknown in the books"):
        send_to_collection(db, cases(db)[0].id, day(3), registry, box)
