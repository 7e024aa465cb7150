"""The rules of the seeds, one test (at least) each: R1–R6 (auto-close), A1–A6 (actions),
and the cycle's exactly-once and catch-up promises. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pytest
import sqlalchemy as sa

from hub import clients, hookimpl
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import actions
from hub.dunning import rules as dunning_rules
from hub.dunning.cases import start_case
from hub.dunning.states import Stage
from hub.errors import CapabilityMissing, InputError
from hub.model import ClientContext, Customer, CustomerBalance, InvoiceState
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from tests.dunning_support import cases, events, messages, registry_with_outbox, run_day
from tests.helpers import add_client_with_plugin
from tests.sample_plugins import RecordingPlugin, invoice

D = Decimal
DUE = dt.date(2026, 10, 15)


def day(n: int) -> dt.date:
    """Day n after the due date."""
    return DUE + dt.timedelta(days=n)


class Ledger(RecordingPlugin):
    """A ledger whose customer balances can be set apart from the invoices (R2)."""

    def __init__(self, name: str, capabilities: frozenset[str] | None = None) -> None:
        super().__init__(name, capabilities)
        self.balances: dict[str, Decimal] = {}

    @hookimpl
    def fetch_customer_balance(
        self, ctx: ClientContext, customer_numbers: Sequence[str]
    ) -> list[CustomerBalance]:
        answer = super().fetch_customer_balance(ctx, customer_numbers)
        return [
            CustomerBalance(
                b.customer_number, self.balances.get(b.customer_number, b.balance), "DKK"
            )
            for b in answer
        ]


@pytest.fixture
def ledger() -> Ledger:
    plugin = Ledger("alpha")
    plugin.invoices["1"] = invoice("1", "C1", "1250.00", due_date=DUE)
    plugin.customers["C1"] = Customer("C1", "Østergaard ApS", email="a@example.dk", language="da")
    return plugin


@pytest.fixture
def registry(db: Database, box: SecretBox, ledger: Ledger) -> PluginRegistry:
    registry = registry_with_outbox(ledger)
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "t"})
    with db.session() as session:
        dunning_rules.set_rules(
            session, clients.get_client(session, "acme"), {"auto_start": "true"}
        )
    return registry


def pay(ledger: Ledger, number: str, state: InvoiceState = InvoiceState.PAID) -> None:
    del ledger.invoices[number]
    ledger.settled[number] = state


def test_R1_paid_invoice_closes_the_case(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    pay(ledger, "1")
    report = run_day(db, registry, box, "acme", day(-4))
    [case] = cases(db)
    assert report.closed == 1
    assert (case.state, case.closed_by, case.close_code) == ("closed", "auto", "paid_in_accounting")
    assert events(db, case.id)[-1]["kind"] == "closed"


def test_R1_credited_invoice_closes_the_case(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    pay(ledger, "1", InvoiceState.CREDITED)
    run_day(db, registry, box, "acme", day(-4))
    assert cases(db)[0].state == "closed"


def test_R2_customer_balance_zero_closes_the_case(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
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
        actions.change_flow(session, case_id, Stage.COLLECTION, day(2))
    pay(ledger, "1")
    run_day(db, registry, box, "acme", day(3))
    run_day(db, registry, box, "acme", day(4))
    [case] = cases(db)
    assert (case.state, case.stage, case.paid_in_accounting) == ("active", "collection", True)
    assert [e["kind"] for e in events(db, case_id)].count("paid_in_accounting") == 1


def test_A1_close_needs_a_code_and_a_reason_of_that_code(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    case_id = cases(db)[0].id
    with db.session() as session, pytest.raises(InputError, match="not one of"):
        actions.close(session, case_id, "because", "x", day(-4), notify=False)
    with db.session() as session, pytest.raises(InputError, match="does not go with code"):
        actions.close(session, case_id, "dispute", "wrong_customer", day(-4), notify=False)
    with db.session() as session:
        actions.close(session, case_id, "dispute", "customer_disputes_claim", day(-4), notify=True)
    [case] = cases(db)
    assert (case.state, case.closed_by, case.close_code) == ("closed", "user", "dispute")
    assert messages(db)[-1].kind == "closing_confirmation"
    with db.session() as session, pytest.raises(InputError, match="is closed: cannot close"):
        actions.close(session, case_id, "other", "other", day(-3), notify=False)


def test_A2_partial_payment_lowers_what_is_pursued(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    case_id = cases(db)[0].id
    with db.session() as session:
        actions.register_payment(session, case_id, D("250.00"), day(-5), day(-4))
    for bad, why in [(D("1000.01"), "overpayment"), (D("-1"), "positive"), (D("0"), "positive")]:
        with db.session() as session, pytest.raises(InputError, match=why):
            actions.register_payment(session, case_id, bad, day(-5), day(-4))
    run_day(db, registry, box, "acme", day(10))
    assert "1.000,00" in messages(db)[-1].body  # 1250.00 − 250.00
    with db.session() as session:
        actions.register_payment(session, case_id, D("1000.00"), day(10), day(10))
    assert cases(db)[0].close_code == "paid"


def test_A3_credit_note_only_where_the_plugin_can(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    case_id = cases(db)[0].id
    case = actions.credit_note(db, registry, box, case_id, day(-4))
    assert case.credit_note_ref == "alpha-1" and case.close_code == "credited"
    assert ledger.writes == {f"creditnote:{case_id}": "alpha-1"}
    with pytest.raises(InputError, match="is closed"):
        actions.credit_note(db, registry, box, case_id, day(-4))


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
        actions.credit_note(db, registry, box, case_id, day(-4))
    assert cases(db)[0].state == "active"


def test_A4_pause_stops_reminders_until_the_resume_date(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    case_id = cases(db)[0].id
    with db.session() as session:
        actions.pause(session, case_id, "customer called", "pays on the 1st", day(15), day(-4))
    run_day(db, registry, box, "acme", day(10))
    assert [m.kind for m in messages(db)] == []
    run_day(db, registry, box, "acme", day(15))
    assert cases(db)[0].state == "active"
    assert [m.kind for m in messages(db)] == ["reminder_1"]
    with db.session() as session, pytest.raises(InputError, match="is active: cannot resume"):
        actions.resume(session, case_id, day(16))


def test_A5_collection_is_one_way(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(1))
    case_id = cases(db)[0].id
    with db.session() as session:
        actions.change_flow(session, case_id, Stage.INVOICE, day(1))
    with db.session() as session:
        actions.change_flow(session, case_id, Stage.REMINDER, day(2))
    with db.session() as session:
        actions.change_flow(session, case_id, Stage.COLLECTION, day(3))
    with db.session() as session, pytest.raises(InputError, match="never changes back"):
        actions.change_flow(session, case_id, Stage.REMINDER, day(4))
    assert cases(db)[0].stage == "collection"


def test_A6_restart_flow_never_exceeds_the_fee_limit(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    for n in (10, 20, 30):
        run_day(db, registry, box, "acme", day(n))
    case_id = cases(db)[0].id
    with db.session() as session:
        actions.restart_flow(session, case_id, day(31))
    for n in range(31, 80):
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


def test_ten_missed_days_catch_up_one_step_at_a_lawful_pace(db, box, registry) -> None:  # type: ignore[no-untyped-def]
    run_day(db, registry, box, "acme", day(-5))
    run_day(db, registry, box, "acme", day(45))  # reminders 1-3 were all due by now
    assert [m.kind for m in messages(db)][-1] == "reminder_1"
    for n in range(46, 80):
        run_day(db, registry, box, "acme", day(n))
    sent = [(m.kind, m.created_on) for m in messages(db) if m.kind.startswith("reminder_")]
    assert sent == [("reminder_1", day(45)), ("reminder_2", day(55)), ("reminder_3", day(65))]
