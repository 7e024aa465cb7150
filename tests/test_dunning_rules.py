"""The rules of the seeds, one test (at least) each: R1–R6 (auto-close), A1–A6 (actions),
and the cycle's exactly-once and catch-up promises. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hub import clients
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import actions
from hub.dunning import rules as dunning_rules
from hub.dunning.cases import start_case
from hub.dunning.states import Stage
from hub.errors import CapabilityMissing, InputError, RemoteServerError
from hub.model import Customer, InvoiceState
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from tests.dunning_support import cases, events, messages, registry_with_outbox, run_day
from tests.helpers import add_client_with_plugin, run_cycle, sync_client
from tests.sample_plugins import RecordingPlugin, invoice

D = Decimal
DUE = dt.date(2026, 10, 15)


def day(n: int) -> dt.date:
    """Day n after the due date."""
    return DUE + dt.timedelta(days=n)


@pytest.fixture
def ledger() -> RecordingPlugin:
    plugin = RecordingPlugin("alpha")
    plugin.invoices["1"] = invoice("1", "C1", "1250.00", due_date=DUE)
    plugin.customers["C1"] = Customer("C1", "Østergaard ApS", email="a@example.dk", language="da")
    return plugin


@pytest.fixture
def registry(db: Database, box: SecretBox, ledger: RecordingPlugin) -> PluginRegistry:
    registry = registry_with_outbox(ledger)
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "t"})
    with db.session() as session:
        dunning_rules.set_rules(
            session, clients.get_client(session, "acme"), {"auto_start": "true"}
        )
    return registry


def pay(ledger: RecordingPlugin, number: str, state: InvoiceState = InvoiceState.PAID) -> None:
    del ledger.invoices[number]
    ledger.settled[number] = state


def test_R1_paid_invoice_closes_the_case(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    started = run_day(db, registry, box, "acme", day(-5))
    assert [e["action"] for e in started.entries] == ["started"]
    pay(ledger, "1")
    report = run_day(db, registry, box, "acme", day(-4))
    [case] = cases(db)
    assert report.closed == 1
    assert report.entries == [{"case": case.id, "action": "closed", "reason": "outstanding_zero"}]
    assert (case.state, case.closed_by, case.close_code) == ("closed", "auto", "paid_in_accounting")
    assert events(db, case.id)[-1]["kind"] == "closed"


def test_R1_credited_invoice_closes_the_case(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    pay(ledger, "1", InvoiceState.CREDITED)
    run_day(db, registry, box, "acme", day(-4))
    assert cases(db)[0].state == "closed"


def test_R2_customer_balance_zero_closes_the_case(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    # R2 is on by default only for a plugin whose balance is the ledger's own (seed 000:
    # e-conomic's); this plugin's is not (tests/test_settle_guard.py), so it is set here.
    with db.session() as session:
        dunning_rules.set_rules(
            session, clients.get_client(session, "acme"), {"auto_close_balance": "true"}
        )
    run_day(db, registry, box, "acme", day(-5))
    ledger.balances["C1"] = D("0.00")  # e.g. a payment on account not yet matched to invoice 1
    run_day(db, registry, box, "acme", day(-4))
    [case] = cases(db)
    assert (case.state, case.close_reason) == ("closed", "customer_balance_zero")


def test_R3_status_of_every_followed_invoice_is_asked_in_one_batch(
    db, box, registry, ledger
) -> None:  # type: ignore[no-untyped-def]
    for n in range(2, 40):
        ledger.invoices[str(n)] = invoice(str(n), "C1", "10.00", due_date=DUE)
    with db.session() as session:  # 38 of 39 paid at once: past the settle guard's default
        dunning_rules.set_rules(
            session, clients.get_client(session, "acme"), {"settle_guard_percent": "100"}
        )
    run_day(db, registry, box, "acme", day(-5))
    for n in range(2, 40):
        pay(ledger, str(n))
    ledger.calls.clear()
    run_day(db, registry, box, "acme", day(-4))
    status_calls = [c for c in ledger.calls if c[0] == "fetch_invoice_status"]
    assert len(status_calls) == 1 and len(status_calls[0][2]) == 38
    assert sum(c.state == "closed" for c in cases(db)) == 38


def test_R4_switches_keep_cases_open(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        dunning_rules.set_rules(
            session,
            clients.get_client(session, "acme"),
            {"auto_close_paid": "false", "auto_close_balance": "off"},
        )
    run_day(db, registry, box, "acme", day(-5))
    ledger.balances["C1"] = D("-5.00")
    run_day(db, registry, box, "acme", day(-3))
    assert cases(db)[0].state == "active"  # balance ≤ 0 but R2 is off
    pay(ledger, "1")
    run_day(db, registry, box, "acme", day(20))
    [case] = cases(db)
    assert case.state == "active"  # paid but R1 is off
    assert [m.kind for m in messages(db)] == ["friendly_reminder"]  # nothing owed: no reminder


def test_R5_fees_do_not_keep_a_paid_case_open(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    run_day(db, registry, box, "acme", day(10))
    assert [m.fee for m in messages(db)][-1] == D("100.00")
    pay(ledger, "1")
    run_day(db, registry, box, "acme", day(11))
    assert cases(db)[0].state == "closed"


def test_R6_collection_case_is_never_closed_automatically(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(1))
    case_id = cases(db)[0].id
    with db.session() as session:
        actions.change_flow(
            session, case_id, Stage.COLLECTION, day(2), actor="tester"
        )  # the warning (D1)
    run_day(db, registry, box, "acme", day(2))  # it goes out
    run_day(db, registry, box, "acme", day(13))  # deadline day(12) passed: in collection
    pay(ledger, "1")
    run_day(db, registry, box, "acme", day(14))
    run_day(db, registry, box, "acme", day(15))
    [case] = cases(db)
    assert (case.state, case.stage, case.paid_in_accounting) == ("active", "collection", True)
    assert [e["kind"] for e in events(db, case_id)].count("paid_in_accounting") == 1


def test_A1_close_needs_a_code_and_a_reason_of_that_code(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    case_id = cases(db)[0].id
    with db.session() as session, pytest.raises(InputError, match="not one of"):
        actions.close(session, case_id, "because", "x", day(-4), notify=False, actor="tester")
    with db.session() as session, pytest.raises(InputError, match="does not go with code"):
        actions.close(
            session, case_id, "dispute", "wrong_customer", day(-4), notify=False, actor="tester"
        )
    with db.session() as session:
        actions.close(
            session,
            case_id,
            "dispute",
            "customer_disputes_claim",
            day(-4),
            notify=True,
            actor="tester",
        )
    [case] = cases(db)
    assert (case.state, case.closed_by, case.close_code) == ("closed", "user", "dispute")
    assert messages(db)[-1].kind == "closing_confirmation"
    with db.session() as session, pytest.raises(InputError, match="is closed: cannot close"):
        actions.close(session, case_id, "other", "other", day(-3), notify=False, actor="tester")


def test_A2_partial_payment_lowers_what_is_pursued(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    case_id = cases(db)[0].id
    with db.session() as session:
        actions.register_payment(session, case_id, D("250.00"), day(-5), day(-4), actor="tester")
    for bad, why in [(D("1000.01"), "overpayment"), (D("-1"), "positive"), (D("0"), "positive")]:
        with db.session() as session, pytest.raises(InputError, match=why):
            actions.register_payment(session, case_id, bad, day(-5), day(-4), actor="tester")
    run_day(db, registry, box, "acme", day(10))
    assert "1.000,00" in messages(db)[-1].body  # 1250.00 − 250.00
    with db.session() as session:
        actions.register_payment(session, case_id, D("1000.00"), day(10), day(10), actor="tester")
    assert cases(db)[0].close_code == "paid"


def test_A3_credit_note_only_where_the_plugin_can(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    case_id = cases(db)[0].id
    case = actions.credit_note(db, registry, box, case_id, day(-4), actor="tester")
    assert case.credit_note_ref == "alpha-1" and case.close_code == "credited"
    assert ledger.writes == {f"creditnote:{case_id}": "alpha-1"}
    with pytest.raises(InputError, match="is closed"):
        actions.credit_note(db, registry, box, case_id, day(-4), actor="tester")


def test_A3_a_credit_note_retried_on_a_later_day_sends_the_first_request(  # type: ignore[no-untyped-def]
    db, box, registry, ledger
) -> None:
    """The answer is lost after the write (a crash, a reset connection); the retry, days
    later, must be the very request the key was first sent with: an API that checks the body
    of a repeated key (as Stripe-like APIs do) refuses a changed one for good."""
    run_day(db, registry, box, "acme", day(-5))
    case_id = cases(db)[0].id
    write = ledger._write

    def answer_lost(hook: str, ctx: object, key: str, payload: object) -> str:
        write(hook, ctx, key, payload)
        raise RemoteServerError("connection reset after the request was sent")

    ledger._write = answer_lost
    try:
        with pytest.raises(RemoteServerError):
            actions.credit_note(db, registry, box, case_id, day(-4), actor="tester")
    finally:
        del ledger._write
    case = actions.credit_note(db, registry, box, case_id, day(3), actor="tester")
    first, retry = [p for hook, _, p in ledger.calls if hook == "create_credit_note"]
    assert retry == first and retry.date == day(-4)
    assert case.credit_note_ref == "alpha-1" and case.close_code == "credited"


def test_A3_credit_note_refused_without_the_capability(db, box) -> None:  # type: ignore[no-untyped-def]
    plain = RecordingPlugin("beta", capabilities=frozenset())
    plain.invoices["9"] = invoice("9", "C1", "100.00", due_date=DUE)
    registry = registry_with_outbox(plain)
    add_client_with_plugin(db, registry, box, "b", "beta", {"api_token": "t"})
    run_day(db, registry, box, "b", day(-5))
    with db.session() as session:
        inv = session.scalars(sa.select(t.Invoice)).one()
        client = clients.get_client(session, "b")
        case = start_case(session, client, inv, day(-5), "tester", "user")
        session.flush()
        case_id = case.id
    with pytest.raises(CapabilityMissing, match="credit_note"):
        actions.credit_note(db, registry, box, case_id, day(-4), actor="tester")
    assert cases(db)[0].state == "active"


def test_A4_pause_stops_reminders_until_the_resume_date(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    case_id = cases(db)[0].id
    with db.session() as session:
        actions.pause(
            session, case_id, "customer called", "pays on the 1st", day(15), day(-4), actor="tester"
        )
    run_day(db, registry, box, "acme", day(10))
    assert [m.kind for m in messages(db)] == []
    run_day(db, registry, box, "acme", day(15))
    assert cases(db)[0].state == "active"
    assert [m.kind for m in messages(db)] == ["reminder_1"]
    with db.session() as session, pytest.raises(InputError, match="is active: cannot resume"):
        actions.resume(session, case_id, day(16), actor="tester")


def test_A4_a_pause_note_with_a_nul_is_refused_and_a_multi_line_one_kept(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    case_id = cases(db)[0].id
    with db.session() as session, pytest.raises(InputError, match=r"pause note holds .*'\\x00'"):
        actions.pause(session, case_id, "called", "pays\x00 soon", None, day(-4), actor="tester")
    assert cases(db)[0].state == "active"
    with db.session() as session:
        actions.pause(session, case_id, "called", "pays on\nthe 1st", None, day(-4), actor="t")
    assert (cases(db)[0].state, cases(db)[0].pause_note) == ("paused", "pays on\nthe 1st")


def test_A5_collection_is_one_way(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))  # not yet due: in the invoice flow
    case_id = cases(db)[0].id
    with db.session() as session:
        actions.change_flow(session, case_id, Stage.REMINDER, day(-4), actor="tester")
    with db.session() as session:
        actions.change_flow(session, case_id, Stage.INVOICE, day(-3), actor="tester")
    with db.session() as session, pytest.raises(InputError, match="not overdue"):
        actions.change_flow(
            session, case_id, Stage.COLLECTION, day(-2), actor="tester"
        )  # no warning yet
    with db.session() as session:
        actions.change_flow(
            session, case_id, Stage.COLLECTION, day(2), actor="tester"
        )  # the warning (D1)
    run_day(db, registry, box, "acme", day(2))  # it goes out
    with db.session() as session, pytest.raises(InputError, match="flow cannot change"):
        actions.change_flow(session, case_id, Stage.REMINDER, day(4), actor="tester")
    run_day(db, registry, box, "acme", day(13))
    assert cases(db)[0].stage == "collection"
    with db.session() as session, pytest.raises(InputError, match="never changes back"):
        actions.change_flow(session, case_id, Stage.REMINDER, day(14), actor="tester")


def test_A6_restart_flow_never_exceeds_the_fee_limit(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    for n in (10, 21, 32):  # the Danish default: due + 10, then a day after each 10-day deadline
        run_day(db, registry, box, "acme", day(n))
    case_id = cases(db)[0].id
    with db.session() as session:
        actions.restart_flow(session, case_id, day(33), actor="tester")
    for n in range(33, 90):
        run_day(db, registry, box, "acme", day(n))
    reminders = [m for m in messages(db) if m.kind.startswith("reminder_")]
    assert len(reminders) == 6  # the flow ran twice ...
    assert sum(m.fee > 0 for m in reminders) == 3  # ... but only three fees (renteloven § 9 b)
    assert any(e["kind"] == "fee_waived" for e in events(db, case_id))


def test_repeating_a_sync_on_the_same_day_sends_nothing_twice(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    run_day(db, registry, box, "acme", day(-3))
    first = run_day(db, registry, box, "acme", day(10))
    again = run_day(db, registry, box, "acme", day(10))
    assert (first.messages, again.messages) == (1, 0)
    assert len(messages(db)) == 2  # friendly reminder + reminder 1
    assert [(m.status, m.last_error) for m in messages(db)] == [("sent", None)] * 2


def test_missed_days_catch_up_one_step_at_a_lawful_pace(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    run_day(db, registry, box, "acme", day(45))  # reminders 1-3 were all due by now
    assert [m.kind for m in messages(db)][-1] == "reminder_1"
    for n in range(46, 80):
        run_day(db, registry, box, "acme", day(n))
    sent = [(m.kind, m.created_on) for m in messages(db) if m.kind.startswith("reminder_")]
    # each next fee after the previous reminder's 10-day deadline has passed
    assert sent == [("reminder_1", day(45)), ("reminder_2", day(56)), ("reminder_3", day(67))]


def test_no_fee_on_an_invoice_in_another_currency(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    ledger.invoices["1"] = invoice("1", "C1", "1250.00", due_date=DUE, currency="EUR")
    run_day(db, registry, box, "acme", day(-5))
    run_day(db, registry, box, "acme", day(10))
    [reminder] = [m for m in messages(db) if m.kind == "reminder_1"]
    assert reminder.fee == D("0.00")  # a fee in DKK cannot be added to a EUR invoice
    waived = next(e for e in events(db, cases(db)[0].id) if e["kind"] == "fee_waived")
    assert "EUR" in waived["reason"]


def test_a_new_case_for_the_same_invoice_keeps_the_claims_fees(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    for n in (10, 21, 32):
        run_day(db, registry, box, "acme", day(n))
    first = cases(db)[0].id
    with db.session() as session:
        actions.close(
            session, first, "error", "started_by_mistake", day(33), notify=False, actor="tester"
        )
        inv = session.scalars(sa.select(t.Invoice)).one()
        start_case(session, clients.get_client(session, "acme"), inv, day(33), "tester", "user")
    for n in range(34, 70):
        run_day(db, registry, box, "acme", day(n))
    fees = [m.fee for m in messages(db) if m.kind.startswith("reminder_")]
    assert len(fees) == 6 and sum(f > 0 for f in fees) == 3  # the law counts per claim


def test_a_reminder_not_yet_delivered_is_cancelled_when_the_case_closes(
    db,
    box,
    registry,
    ledger,
    hub_env,  # type: ignore[no-untyped-def]
) -> None:
    run_day(db, registry, box, "acme", day(-5))
    (hub_env / "outbox").parent.mkdir(parents=True, exist_ok=True)
    (hub_env / "outbox").write_text("not a directory: delivery fails")
    run_day(db, registry, box, "acme", day(10))
    assert messages(db)[-1].status == "failed"
    pay(ledger, "1")
    (hub_env / "outbox").unlink()
    run_day(db, registry, box, "acme", day(11))
    [reminder] = messages(db)
    assert reminder.status == "cancelled" and "closed" in (reminder.last_error or "")


def test_an_invoice_the_books_no_longer_know_is_not_chased(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    del ledger.invoices["1"]  # deleted in the books: fetch_invoice_status answers UNKNOWN
    for n in range(1, 40):
        run_day(db, registry, box, "acme", day(n))
    assert messages(db) == []
    assert cases(db)[0].state == "active"  # not paid either: a person must look


def test_A5_the_invoice_flow_is_refused_for_an_overdue_invoice(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(1))
    case_id = cases(db)[0].id
    with db.session() as session, pytest.raises(InputError, match="overdue since"):
        actions.change_flow(session, case_id, Stage.INVOICE, day(2), actor="tester")
    assert [e["kind"] for e in events(db, case_id)] == ["started"]  # nothing changed
    assert cases(db)[0].stage == "reminder"


def test_one_case_that_fails_does_not_stop_the_others(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    ledger.invoices["2"] = invoice("2", "C2", "99.00", due_date=DUE)
    ledger.customers["C2"] = Customer("C2", "Two Lines A/S")
    run_day(db, registry, box, "acme", day(-5))
    sync_client(db, registry, box, "acme", day(10))
    with db.session() as session:  # a name stored before the hub refused such names at sync
        session.execute(
            sa.update(t.Customer)
            .where(t.Customer.customer_number == "C2")
            .values(name="Two\nLines A/S")  # cannot stand in a letter
        )
    report = run_cycle(db, "acme", day(10))
    assert (report.messages, report.failed) == (1, 1)
    good, bad = cases(db)
    assert [m.case_id for m in messages(db)] == [good.id]
    assert (good.step_index, bad.step_index) == (1, 0)
    assert events(db, bad.id)[-1]["kind"] == "step_failed"
    actions_seen = [(e["case"], e["action"]) for e in report.entries]
    assert (good.id, "step_sent") in actions_seen and (bad.id, "step_failed") in actions_seen


def test_a_message_is_claimed_by_one_delivery_run_only(db, box, registry, hub_env) -> None:  # type: ignore[no-untyped-def]
    from hub.dunning.messages import _claim

    run_day(db, registry, box, "acme", day(-5))
    (hub_env / "outbox").parent.mkdir(parents=True, exist_ok=True)
    (hub_env / "outbox").write_text("blocked")
    run_day(db, registry, box, "acme", day(10))
    [message] = messages(db)
    assert _claim(db, [message.id], "run-1") == {message.id}
    assert _claim(db, [message.id], "run-2") == set()  # a second run at once: left alone


def test_A3_refuses_to_credit_a_partly_paid_invoice(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    ledger.invoices["1"] = invoice(
        "1", "C1", "1250.00", due_date=DUE, outstanding_amount=D("250.00")
    )
    run_day(db, registry, box, "acme", day(-5))
    with pytest.raises(InputError, match="partly paid"):
        actions.credit_note(db, registry, box, cases(db)[0].id, day(-4), actor="tester")
    assert ledger.writes == {} and cases(db)[0].credit_note_key is None


def test_a_quiet_day_reads_the_same_number_of_times_for_n_and_2n_cases(
    db,
    box,
    registry,
    ledger,  # type: ignore[no-untyped-def]
) -> None:
    from sqlalchemy import event

    from tests.helpers import run_cycle

    def statements_for_quiet_day(count: int) -> int:
        for n in range(count):
            ledger.invoices[f"q{count}-{n}"] = invoice(f"q{count}-{n}", "C1", "10.00", due_date=DUE)
        run_day(db, registry, box, "acme", day(-8))
        seen: list[str] = []
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            run_cycle(db, "acme", day(-7))
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    assert statements_for_quiet_day(20) == statements_for_quiet_day(40)
