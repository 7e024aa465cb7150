"""Customer-based reminders (C1–C5): the requirements and the operator's grant, one
consolidated reminder per customer, switching back, collection per invoice, lawful fees.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from hub import clients
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import actions, coverage, customer_mode
from hub.dunning import rules as dunning_rules
from hub.errors import InputError
from hub.model import Customer, InvoiceState
from hub.operations.context import Actor
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from tests.dunning_support import cases, events, messages, registry_with_outbox, run_day
from tests.helpers import add_client_with_plugin
from tests.sample_plugins import RecordingPlugin, invoice

D = Decimal
DUE = dt.date(2026, 10, 15)
START = "2026-09-01"
CAPABLE = frozenset({"customer_balance", "entries_sync", "journal", "credit_note"})


def day(n: int) -> dt.date:
    return DUE + dt.timedelta(days=n)


@pytest.fixture
def operator(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HUB_OPERATORS", "olivia, oscar")
    monkeypatch.setenv("HUB_USER", "olivia")
    return "olivia"


@pytest.fixture
def ledger() -> RecordingPlugin:
    """Five overdue invoices over three customers."""
    plugin = RecordingPlugin("alpha", capabilities=CAPABLE)
    for number, customer, gross, due in (
        ("1", "C1", "1000.00", DUE),
        ("2", "C1", "250.00", DUE + dt.timedelta(days=5)),
        ("3", "C1", "125.50", DUE + dt.timedelta(days=7)),
        ("4", "C2", "400.00", DUE),
        ("5", "C3", "80.00", DUE),
    ):
        plugin.invoices[number] = invoice(number, customer, gross, due_date=due)
    for number, name in (("C1", "Østergaard ApS"), ("C2", "Blåbær I/S"), ("C3", "Ærø Cykler")):
        plugin.customers[number] = Customer(number, name, email=f"{number}@example.dk")
    return plugin


@pytest.fixture
def registry(db: Database, box: SecretBox, ledger: RecordingPlugin) -> PluginRegistry:
    registry = registry_with_outbox(ledger)
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "t"})
    return registry


def as_actor(action: Callable[..., Any], session: Session, feature: str) -> Any:
    """Grant or revoke ``feature`` for acme as the acting user of the environment
    (``HUB_USER``, ``HUB_OPERATORS``), as a front end does."""
    actor = Actor.from_environment()
    return action(session, "acme", feature, by=actor.name, operator=actor.operator)


def set_mode(db: Database, registry: PluginRegistry, mode: str, on: dt.date) -> list[t.Case]:
    with db.session() as session:
        client = clients.get_client(session, "acme")
        return customer_mode.set_mode(session, registry, client, mode, on, actor="olivia")


def enable_customer_mode(db: Database, registry: PluginRegistry, on: dt.date) -> None:
    with db.session() as session:
        client = clients.get_client(session, "acme")
        as_actor(customer_mode.grant, session, "customer_reminders")
        dunning_rules.set_rules(session, client, {"start_date": START})
        customer_mode.set_mode(session, registry, client, "customer", on, actor="olivia")


def total_of(body: str) -> str:
    match = re.search(r"I alt at betale: (.+)", body)
    assert match, body
    return match.group(1)


def test_C2_customer_mode_is_refused_listing_every_missing_requirement(
    db, box, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    plain = RecordingPlugin("plain", capabilities=frozenset({"journal"}))
    registry = registry_with_outbox(plain)
    add_client_with_plugin(db, registry, box, "acme", "plain", {"api_token": "t"})
    with db.session() as session:
        dunning_rules.set_rules(
            session, clients.get_client(session, "acme"), {"entry_sync": "false"}
        )
    with pytest.raises(InputError) as refused:
        set_mode(db, registry, "customer", day(1))
    message = str(refused.value)
    for missing in (
        "does not report customer balances",
        "does not synchronise entries",
        "entry synchronisation is switched off",
        "no operator has granted customer reminders",
        "no general start date",
    ):
        assert missing in message
    with db.session() as session:
        assert dunning_rules.rules_of(
            session, clients.get_client(session, "acme")
        ).reminder_mode == ("invoice")


def test_C2_a_consultant_cannot_grant_the_feature_to_themselves(db, registry, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("HUB_USER", "carl")
    monkeypatch.delenv("HUB_OPERATORS", raising=False)
    with db.session() as session, pytest.raises(InputError, match="'carl' is not an operator"):
        as_actor(customer_mode.grant, session, "customer_reminders")
    monkeypatch.setenv("HUB_OPERATORS", "olivia")
    with db.session() as session, pytest.raises(InputError, match="not an operator"):
        as_actor(customer_mode.grant, session, "customer_reminders")
    monkeypatch.setenv("HUB_USER", "olivia")
    with db.session() as session:
        grant = as_actor(customer_mode.grant, session, "customer_reminders")
        assert grant.granted_by == "olivia"
    with db.session() as session, pytest.raises(InputError, match="no feature 'everything'"):
        as_actor(customer_mode.grant, session, "everything")


def test_C1_one_reminder_per_customer_with_the_total(db, box, registry, operator) -> None:  # type: ignore[no-untyped-def]
    enable_customer_mode(db, registry, day(8))
    report = run_day(db, registry, box, "acme", day(8))
    assert report.started == 3
    customer_cases = cases(db)
    assert [(c.mode, c.customer_number, c.invoice_id) for c in customer_cases] == [
        ("customer", "C1", None),
        ("customer", "C2", None),
        ("customer", "C3", None),
    ]
    for n in range(9, 19):
        run_day(db, registry, box, "acme", day(n))
    sent = messages(db)
    assert [m.kind for m in sent] == ["customer_reminder"] * 3  # one per customer, not five
    by_customer = {m.recipient_name: m for m in sent}
    c1 = by_customer["Østergaard ApS"]
    for number in ("1", "2", "3"):
        assert f"Faktura {number} af" in c1.body
    assert "Samlet udestående saldo: 1.375,50 kr." in c1.body
    assert total_of(c1.body) == "1.475,50 kr."  # with the 100 kr. fee
    assert total_of(by_customer["Blåbær I/S"].body) == "500,00 kr."
    assert total_of(by_customer["Ærø Cykler"].body) == "180,00 kr."
    with db.session() as session:
        covered = session.scalars(
            sa.select(t.MessageInvoice.invoice_id).where(t.MessageInvoice.message_id == c1.id)
        ).all()
    assert len(covered) == 3


def test_C1_a_person_cannot_start_an_invoice_case_in_customer_mode(
    db, box, registry, operator
) -> None:  # type: ignore[no-untyped-def]
    enable_customer_mode(db, registry, day(8))
    run_day(db, registry, box, "acme", day(8))
    with db.session() as session, pytest.raises(InputError, match=r"customer mode.*\(C1\)"):
        actions.start_by_hand(session, clients.get_client(session, "acme"), "1", day(8), "olivia")
    assert [c.mode for c in cases(db)] == ["customer"] * 3  # no invoice case beside them


def test_C1_a_paid_invoice_lowers_the_next_reminders_total(
    db, box, registry, ledger, operator
) -> None:  # type: ignore[no-untyped-def]
    enable_customer_mode(db, registry, day(8))
    for n in range(8, 19):
        run_day(db, registry, box, "acme", day(n))
    del ledger.invoices["2"]
    ledger.settled["2"] = InvoiceState.PAID
    for n in range(19, 31):
        run_day(db, registry, box, "acme", day(n))
    c1 = [m for m in messages(db) if m.recipient_name == "Østergaard ApS"]
    assert len(c1) == 2
    assert "Samlet udestående saldo: 1.125,50 kr." in c1[1].body  # 1 375,50 less invoice 2
    assert "Faktura 2 af" not in c1[1].body
    assert total_of(c1[1].body) == "1.325,50 kr."  # + this fee + the earlier one


def test_C1_R2_a_customer_whose_balance_reaches_zero_has_the_case_closed(
    db, box, registry, ledger, operator
) -> None:  # type: ignore[no-untyped-def]
    enable_customer_mode(db, registry, day(8))
    run_day(db, registry, box, "acme", day(8))
    ledger.balances["C2"] = D("0.00")  # paid on account: the invoice is not matched yet
    run_day(db, registry, box, "acme", day(9))
    by_customer = {c.customer_number: c for c in cases(db)}
    assert (by_customer["C2"].state, by_customer["C2"].close_reason) == (
        "closed",
        "customer_balance_zero",
    )
    assert by_customer["C1"].state == "active"
    for number in ("4", "5"):
        del ledger.invoices[number]
        ledger.settled[number] = InvoiceState.PAID
    run_day(db, registry, box, "acme", day(10))
    assert {c.customer_number: c.state for c in cases(db)}["C3"] == "closed"  # paid (R1)


def test_C1_invoices_due_before_the_general_start_date_are_not_pursued(
    db, box, registry, ledger, operator
) -> None:  # type: ignore[no-untyped-def]
    ledger.invoices["6"] = invoice(
        "6", "C4", "99.00", invoice_date=dt.date(2026, 7, 1), due_date=dt.date(2026, 8, 1)
    )
    ledger.customers["C4"] = Customer("C4", "Gammel Gæld A/S")
    enable_customer_mode(db, registry, day(8))
    run_day(db, registry, box, "acme", day(8))
    assert "C4" not in {c.customer_number for c in cases(db)}


def test_C3_switching_back_starts_fresh_invoice_cases(db, box, registry, operator) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        dunning_rules.set_rules(session, clients.get_client(session, "acme"), {"auto_start": "1"})
    run_day(db, registry, box, "acme", day(1))
    assert [c.mode for c in cases(db)] == ["invoice"] * 5
    enable_customer_mode(db, registry, day(2))
    assert {(c.state, c.close_code, c.close_reason) for c in cases(db)} == {
        ("closed", "mode_changed", "to_customer_mode")
    }
    for n in range(2, 19):
        run_day(db, registry, box, "acme", day(n))
    customer_ids = {c.id for c in cases(db) if c.mode == "customer"}
    assert len(customer_ids) == 3

    started = set_mode(db, registry, "invoice", day(19))
    assert len(started) == 5
    after = cases(db)
    assert {c.close_reason for c in after if c.id in customer_ids} == {"to_invoice_mode"}
    fresh = [c for c in after if c.state == "active"]
    assert sorted(c.invoice_id for c in fresh) == sorted(c.invoice_id for c in after[:5])
    assert {(c.mode, c.stage, c.round, c.step_index) for c in fresh} == {
        ("invoice", "reminder", 1, 0)
    }
    run_day(db, registry, box, "acme", day(29))
    kinds = [m.kind for m in messages(db)]
    assert kinds.count("customer_reminder") == 3 and kinds.count("reminder_1") == 5


def test_C4_collection_runs_per_invoice(db, box, registry, ledger, operator) -> None:  # type: ignore[no-untyped-def]
    enable_customer_mode(db, registry, day(8))
    run_day(db, registry, box, "acme", day(8))
    c1 = next(c for c in cases(db) if c.customer_number == "C1")
    with db.session() as session:
        actions.send_to_collection(session, c1.id, day(9), actor="tester")
    run_day(db, registry, box, "acme", day(9))  # the warning goes out
    [warning] = [m for m in messages(db) if m.kind == "collection_warning"]
    assert all(f"Faktura {n} af" in warning.body for n in ("1", "2", "3"))
    with pytest.raises(InputError, match="collection warning"):
        set_mode(db, registry, "invoice", day(10))  # not while a customer case is warned
    ledger.invoices["8"] = invoice("8", "C1", "70.00", due_date=day(12))  # overdue after it
    run_day(db, registry, box, "acme", day(20))  # deadline day(19) passed
    after = {c.id: c for c in cases(db)}
    assert (after[c1.id].state, after[c1.id].close_code) == ("closed", "sent_to_collection")
    per_invoice = [c for c in after.values() if c.customer_number == "C1" and c.mode == "invoice"]
    assert len(per_invoice) == 3  # the warned invoices, not invoice 8
    assert {(c.stage, c.collection_deadline) for c in per_invoice} == {("collection", day(19))}
    amounts = sorted(c.collection_amount for c in per_invoice)
    assert amounts == [D("125.50"), D("250.00"), D("1000.00")]
    assert [m.kind for m in messages(db)].count("collection_notice") == 3
    run_day(db, registry, box, "acme", day(21))
    [fresh] = [c for c in cases(db) if c.mode == "customer" and c.state == "active"
               and c.customer_number == "C1"]  # fmt: skip
    with db.session() as session:
        assert [
            i.invoice_number
            for i, _ in coverage.case_covering(session, session.get(t.Case, fresh.id), day(21))
        ] == ["8"]


def test_C5_a_consolidated_fee_must_be_lawful_on_every_invoice(
    db, box, registry, ledger, operator
) -> None:  # type: ignore[no-untyped-def]
    # Every invoice has had its three fee-bearing reminders in invoice mode (renteloven § 9 b).
    with db.session() as session:
        dunning_rules.set_rules(session, clients.get_client(session, "acme"), {"auto_start": "1"})
    for n in range(-5, 46):
        run_day(db, registry, box, "acme", day(n))
    fees = [m.fee for m in messages(db) if m.kind.startswith("reminder_")]
    assert len(fees) == 15 and sum(fees) == D("1500.00")  # 3 per invoice, 5 invoices
    enable_customer_mode(db, registry, day(46))
    ledger.invoices["7"] = invoice("7", "C1", "60.00", due_date=day(50))  # a fresh claim
    for n in range(46, 75):
        run_day(db, registry, box, "acme", day(n))
    consolidated = [m for m in messages(db) if m.kind == "customer_reminder"]
    assert consolidated and all(m.fee == 0 for m in consolidated)  # no claim may get a 4th fee
    c1 = next(c for c in cases(db) if c.mode == "customer" and c.customer_number == "C1")
    assert any(
        e["kind"] == "fee_waived" and "renteloven § 9 b stk. 2" in e["reason"]
        for e in events(db, c1.id)
    )


def test_C2_customer_mode_keeps_its_requirements(db, registry, operator) -> None:  # type: ignore[no-untyped-def]
    enable_customer_mode(db, registry, day(1))
    with db.session() as session:
        client = clients.get_client(session, "acme")
        for change in ({"entry_sync": "false"}, {"start_date": ""}):
            with pytest.raises(InputError, match="customer mode"):
                dunning_rules.set_rules(session, client, change)
    with db.session() as session, pytest.raises(InputError, match="switch it back first"):
        as_actor(customer_mode.revoke, session, "customer_reminders")


def test_C1_a_customer_case_a_person_closed_is_not_started_again(
    db, box, registry, operator
) -> None:  # type: ignore[no-untyped-def]
    enable_customer_mode(db, registry, day(8))
    run_day(db, registry, box, "acme", day(8))
    c2 = next(c for c in cases(db) if c.customer_number == "C2")
    with db.session() as session:
        actions.close(
            session,
            c2.id,
            "dispute",
            "customer_disputes_claim",
            day(9),
            notify=False,
            actor="tester",
        )
    for n in range(10, 31):
        run_day(db, registry, box, "acme", day(n))
    assert [c.state for c in cases(db) if c.customer_number == "C2"] == ["closed"]
    assert "Blåbær I/S" not in {m.recipient_name for m in messages(db)}


def test_C1_invoices_a_person_closed_in_invoice_mode_are_not_chased(
    db, box, registry, operator
) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        dunning_rules.set_rules(session, clients.get_client(session, "acme"), {"auto_start": "1"})
    run_day(db, registry, box, "acme", day(1))
    four = next(c for c in cases(db) if c.customer_number == "C2")
    with db.session() as session:
        actions.close(
            session,
            four.id,
            "dispute",
            "customer_disputes_claim",
            day(2),
            notify=False,
            actor="tester",
        )
    enable_customer_mode(db, registry, day(3))
    for n in range(3, 20):
        run_day(db, registry, box, "acme", day(n))
    assert "C2" not in {c.customer_number for c in cases(db) if c.mode == "customer"}


def test_C1_an_invoice_in_another_currency_gets_a_case_of_its_own(
    db, box, registry, ledger, operator
) -> None:  # type: ignore[no-untyped-def]
    ledger.invoices["6"] = invoice("6", "C1", "300.00", due_date=DUE, currency="EUR")
    enable_customer_mode(db, registry, day(8))
    for n in range(8, 19):
        run_day(db, registry, box, "acme", day(n))
    c1 = [c for c in cases(db) if c.customer_number == "C1"]
    assert sorted(c.mode for c in c1) == ["customer", "invoice"]
    sent = [m for m in messages(db) if m.recipient_name == "Østergaard ApS"]
    assert sorted(m.kind for m in sent) == ["customer_reminder", "reminder_1"]
    consolidated = next(m for m in sent if m.kind == "customer_reminder")
    assert "Faktura 6" not in consolidated.body and "EUR" not in consolidated.body
    assert next(m for m in sent if m.kind == "reminder_1").fee == 0  # a DKK fee on EUR: no


def test_C1_invoices_overdue_after_the_last_reminder_start_a_new_round(
    db, box, registry, ledger, operator
) -> None:  # type: ignore[no-untyped-def]
    enable_customer_mode(db, registry, day(8))
    for n in range(8, 45):
        run_day(db, registry, box, "acme", day(n))
    c3 = [m for m in messages(db) if m.recipient_name == "Ærø Cykler"]
    assert len(c3) == 3  # the three Danish reminders on invoice 5
    ledger.invoices["9"] = invoice("9", "C3", "45.00", due_date=day(45))
    for n in range(45, 60):
        run_day(db, registry, box, "acme", day(n))
    c3 = [m for m in messages(db) if m.recipient_name == "Ærø Cykler"]
    assert len(c3) > 3 and all("Faktura 9 af" in m.body for m in c3[3:])
    assert {m.fee for m in c3[3:]} == {D("0.00")}  # invoice 5 has had its three fees (C5)


def test_C3_switching_back_keeps_registered_payments_and_pauses(
    db, box, registry, operator
) -> None:  # type: ignore[no-untyped-def]
    enable_customer_mode(db, registry, day(8))
    run_day(db, registry, box, "acme", day(8))
    by_customer = {c.customer_number: c.id for c in cases(db)}
    with db.session() as session:  # C1 owes 1000 + 250 + 125.50; 1100 paid, not yet booked
        actions.register_payment(
            session, by_customer["C1"], D("1100.00"), day(8), day(8), actor="tester"
        )
        actions.pause(
            session, by_customer["C2"], "customer called", None, day(30), day(8), actor="tester"
        )
    set_mode(db, registry, "invoice", day(9))
    with db.session() as session:
        fresh = session.scalars(
            sa.select(t.Case).where(t.Case.mode == "invoice").order_by(t.Case.id)
        ).all()
        pursued = {
            c.customer_number + "/" + str(c.invoice_id): (c.state, coverage.total(
                coverage.case_covering(session, c, day(9))))
            for c in fresh
        }  # fmt: skip
    c1 = {k: v for k, v in pursued.items() if k.startswith("C1/")}
    assert sorted(v for v in c1.values()) == [
        ("active", D("125.50")),  # 250 - 100 left of the payment ... and invoice 3 whole
        ("active", D("150.00")),
        ("closed", D("0.00")),  # invoice 1 paid in full by the registered payment
    ]
    assert [v[0] for k, v in pursued.items() if k.startswith("C2/")] == ["paused"]


def test_C3_an_invoice_not_yet_due_is_not_lost_by_switching_there_and_back(
    db, box, registry, ledger, operator
) -> None:  # type: ignore[no-untyped-def]
    ledger.invoices["6"] = invoice("6", "C1", "700.00", due_date=day(40))
    with db.session() as session:
        dunning_rules.set_rules(session, clients.get_client(session, "acme"), {"auto_start": "1"})
    run_day(db, registry, box, "acme", day(1))
    enable_customer_mode(db, registry, day(2))
    run_day(db, registry, box, "acme", day(3))
    set_mode(db, registry, "invoice", day(4))
    run_day(db, registry, box, "acme", day(5))
    with db.session() as session:
        six = session.scalar(sa.select(t.Invoice.id).where(t.Invoice.invoice_number == "6"))
    assert [c.state for c in cases(db) if c.invoice_id == six][-1] == "active"


def test_C4_an_invoice_paid_in_full_by_a_registered_payment_is_not_handed_over(
    db, box, registry, operator
) -> None:  # type: ignore[no-untyped-def]
    enable_customer_mode(db, registry, day(8))
    run_day(db, registry, box, "acme", day(8))
    c1 = next(c for c in cases(db) if c.customer_number == "C1")
    with db.session() as session:
        actions.register_payment(session, c1.id, D("1000.00"), day(8), day(8), actor="tester")
        actions.send_to_collection(session, c1.id, day(9), actor="tester")
    run_day(db, registry, box, "acme", day(9))
    for n in (20, 21, 22):
        run_day(db, registry, box, "acme", day(n))
    mine = [c for c in cases(db) if c.customer_number == "C1"]
    assert sorted((c.mode, c.state, c.stage, c.close_code) for c in mine) == [
        ("customer", "closed", "reminder", "sent_to_collection"),
        ("invoice", "active", "collection", None),
        ("invoice", "active", "collection", None),
        ("invoice", "closed", "reminder", "paid"),  # invoice 1: the registered payment kept
    ]
