"""The dispatch plan, approval and the sending window, on SQLite and PostgreSQL.

The plan is the cycle's own decisions and changes nothing (no row, no request to the books or
the mail server); with ``approval=required`` nothing goes until a person approves it, a letter
held back stays until approved, and what the law counts from a letter (the next step, the fee
spacing, the collection warning's deadline) counts from the day it really went out; outside
the sending window letters wait for it to open.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from hub import clients
from hub.clock import Clock, parse_moment
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import rules as dunning_rules
from hub.dunning.window import parse_window
from hub.errors import ForbiddenError, InputError, NotFoundError
from hub.model import Customer
from hub.operations import cases as case_ops
from hub.operations import flows as flow_ops
from hub.operations.audit import AuditFilter, list_audit
from hub.operations.clients import client_day
from hub.operations.context import Actor, Context, Services
from hub.operations.dispatch import (
    ApproveRequest,
    HoldRequest,
    approve_letters,
    hold_letter,
    list_waiting,
    plan_dispatch,
)
from hub.operations.sync import SyncRequest, fetch_invoices, sync
from hub.plugins import PluginRegistry, load_plugins
from hub.secrets import SecretBox
from hub.testing.fakes.economic import EconomicServer, FakeEconomic
from tests.dunning_support import cases, events, messages, registry_with_outbox, run_day
from tests.helpers import add_client_with_plugin, context, sync_client
from tests.sample_plugins import RecordingPlugin, invoice

D = Decimal
DUE = dt.date(2026, 10, 15)
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def day(n: int) -> dt.date:
    """Day n after the due date."""
    return DUE + dt.timedelta(days=n)


def snapshot(db: Database) -> dict[str, list[str]]:
    """Every row of every table, to compare before and after."""
    with db.engine.connect() as conn:
        return {
            table.name: sorted(repr(tuple(row)) for row in conn.execute(sa.select(table)))
            for table in t.Base.metadata.sorted_tables
        }


def outbox_files(hub_env: Path) -> list[Path]:
    folder = hub_env / "outbox" / "acme"
    return sorted(folder.iterdir()) if folder.exists() else []


# -- a client on the in-memory books, letters through the file outbox ------------------------


@pytest.fixture
def ledger() -> RecordingPlugin:
    plugin = RecordingPlugin("alpha")
    plugin.invoices["1"] = invoice("1", "C1", "1234.55", due_date=DUE)
    plugin.invoices["2"] = invoice("2", "C2", "500.00", due_date=DUE)
    plugin.customers["C1"] = Customer("C1", "Østergaard ApS", email="a@example.dk")
    plugin.customers["C2"] = Customer("C2", "Blåbær I/S", email="b@example.dk")
    return plugin


@pytest.fixture
def registry(db: Database, box: SecretBox, ledger: RecordingPlugin) -> PluginRegistry:
    registry = registry_with_outbox(ledger)
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "t"})
    with db.session() as session:
        dunning_rules.set_rules(
            session,
            clients.get_client(session, "acme"),
            {"auto_start": "true", "approval": "required"},
        )
    return registry


def letter_of(db: Database, customer: str, kind: str) -> t.Message:
    with db.session() as session:
        return session.scalars(
            sa.select(t.Message)
            .join(t.Case, t.Case.id == t.Message.case_id)
            .where(t.Case.customer_number == customer, t.Message.kind == kind)
        ).one()


def case_of(db: Database, customer: str) -> t.Case:
    [case] = [c for c in cases(db) if c.customer_number == customer and c.state != "closed"]
    return case


def test_approval_required_holds_everything_until_approved_then_only_approved_letters_go(
    db: Database, box: SecretBox, registry: PluginRegistry, hub_env: Path
) -> None:
    sync_client(db, registry, box, "acme", day(10))  # the plan works on what was synced
    plan = plan_dispatch(context(db, registry, box, day(10)), "acme")
    assert [(p.kind, p.status, p.fee) for p in plan.letters] == [
        ("reminder_1", "pending_approval", D("100.00"))
    ] * 2

    report = run_day(db, registry, box, "acme", day(10))
    assert report.awaiting_approval == 2
    assert [m.status for m in messages(db)] == ["pending_approval"] * 2
    run_day(db, registry, box, "acme", day(11))  # nothing goes, nothing more is made
    assert [m.status for m in messages(db)] == ["pending_approval"] * 2
    assert outbox_files(hub_env) == []

    waiting = list_waiting(context(db, registry, box, day(11)), "acme")
    assert [(w.customer_number, w.kind, w.amount, w.currency, w.status) for w in waiting] == [
        ("C1", "reminder_1", D("1234.55"), "DKK", "pending_approval"),
        ("C2", "reminder_1", D("500.00"), "DKK", "pending_approval"),
    ]
    c2_letter = waiting[1].id
    held = hold_letter(
        context(db, registry, box, day(11), user="karen"),
        HoldRequest(c2_letter, "the customer called: pays on Friday"),
    )
    assert (held.status, held.held_by, held.hold_reason) == (
        "held",
        "karen",
        "the customer called: pays on Friday",
    )

    approved = approve_letters(
        context(db, registry, box, day(11)), ApproveRequest("acme", every=True)
    )
    assert [(a.customer_number, a.status, a.approved_by) for a in approved.letters] == [
        ("C1", "sent", "tester")
    ]
    assert (approved.delivery.sent, approved.delivery.failed) == (1, 0)
    [written] = outbox_files(hub_env)
    mail = BytesParser(policy=policy.default).parsebytes(written.read_bytes())
    assert mail["To"].addresses[0].addr_spec == "a@example.dk"
    # made on day 10, sent on day 11: dated the day it went out, its pay-by date 10 days on
    body = mail.get_content().replace("\r\n", "\n")
    assert f"{day(11):%d.%m.%Y}" in body and f"{day(21):%d.%m.%Y}" in body
    assert f"{day(20):%d.%m.%Y}" not in body
    c1 = letter_of(db, "C1", "reminder_1")
    assert (c1.status, c1.created_on, c1.sent_on, c1.body) == ("sent", day(10), day(11), body)
    assert letter_of(db, "C2", "reminder_1").status == "held"

    # The fee is charged for the letter sent, not for the one held back.
    ctx = context(db, registry, box, day(11))
    assert case_ops.show_case(ctx, case_of(db, "C1").id).detail["fees_amount"] == D("100.00")
    assert case_ops.show_case(ctx, case_of(db, "C2").id).detail["fees_amount"] == D("0.00")
    c2_events = events(db, case_of(db, "C2").id)
    assert [(e["kind"], e["by"], e["reason"]) for e in c2_events if e["kind"] == "letter_held"] == [
        ("letter_held", "karen", "the customer called: pays on Friday")
    ]
    assert "letter_approved" in [e["kind"] for e in events(db, case_of(db, "C1").id)]

    # C1's next reminder counts from the day its first went out (day 11), not day 10.
    run_day(db, registry, box, "acme", day(21))
    assert [m.kind for m in messages(db)] == ["reminder_1", "reminder_1"]
    run_day(db, registry, box, "acme", day(22))
    assert letter_of(db, "C1", "reminder_2").status == "pending_approval"
    # The held letter's case waited; released, it goes.
    assert [m.status for m in messages(db) if m.case_id == case_of(db, "C2").id] == ["held"]
    released = approve_letters(
        context(db, registry, box, day(22)), ApproveRequest("acme", letters=(c2_letter,))
    )
    assert [(a.id, a.status) for a in released.letters] == [(c2_letter, "sent")]
    assert letter_of(db, "C1", "reminder_2").status == "pending_approval"  # not named
    assert len(outbox_files(hub_env)) == 2


def test_hold_and_approve_refuse_what_they_cannot_do_and_change_nothing(
    db: Database, box: SecretBox, registry: PluginRegistry
) -> None:
    run_day(db, registry, box, "acme", day(10))
    first, second = (m.id for m in messages(db))
    ctx = context(db, registry, box, day(10))
    before = snapshot(db)
    with pytest.raises(InputError, match="needs a reason"):
        hold_letter(ctx, HoldRequest(first, "   "))
    with pytest.raises(NotFoundError, match="no letter 999"):
        hold_letter(ctx, HoldRequest(999, "why not"))
    with pytest.raises(InputError, match="either all .* or some"):
        approve_letters(ctx, ApproveRequest("acme"))
    with pytest.raises(InputError, match="either all .* or some"):
        approve_letters(ctx, ApproveRequest("acme", letters=(first,), every=True))
    with pytest.raises(NotFoundError, match="has no letter 999"):
        approve_letters(ctx, ApproveRequest("acme", letters=(first, 999)))
    assert snapshot(db) == before

    approve_letters(ctx, ApproveRequest("acme", letters=(first,)))
    with pytest.raises(InputError, match=f"letter {first} went out on {day(10)}"):
        hold_letter(ctx, HoldRequest(first, "too late"))
    with pytest.raises(InputError, match=f"letter {first} went out"):
        approve_letters(ctx, ApproveRequest("acme", letters=(first, second)))
    assert messages(db)[1].status == "pending_approval"  # all or nothing
    hold_letter(ctx, HoldRequest(second, "check the address"))
    with pytest.raises(InputError, match="held already .*check the address"):
        hold_letter(ctx, HoldRequest(second, "again"))
    # --all approves what waits for approval; a held letter stays held
    assert approve_letters(ctx, ApproveRequest("acme", every=True)).letters == []
    assert messages(db)[1].status == "held"


def test_who_may_approve_and_hold(db: Database, box: SecretBox, registry: PluginRegistry) -> None:
    run_day(db, registry, box, "acme", day(10))
    letter = messages(db)[0].id

    def as_user(actor: Actor) -> Context:
        return Context(Services(db, registry, box), actor, Clock(fixed=day(10)))

    viewer = as_user(Actor("vera", role="viewer"))
    assert len(list_waiting(viewer, "acme")) == 2  # a viewer sees the plan
    with pytest.raises(ForbiddenError, match="'vera' is a viewer.*dispatch.approve.*'acme'"):
        approve_letters(viewer, ApproveRequest("acme", every=True))
    with pytest.raises(ForbiddenError, match=f"dispatch.hold of letter {letter}"):
        hold_letter(viewer, HoldRequest(letter, "no"))
    other = as_user(Actor("otto", role="consultant", clients=frozenset({"another"})))
    with pytest.raises(NotFoundError):
        list_waiting(other, "acme")
    with pytest.raises(NotFoundError):
        approve_letters(other, ApproveRequest("acme", every=True))
    with pytest.raises(NotFoundError, match=f"no letter {letter}"):
        hold_letter(other, HoldRequest(letter, "no"))
    assert [m.status for m in messages(db)] == ["pending_approval"] * 2
    assert list_audit(as_user(Actor("root")), AuditFilter(action="dispatch")).entries == []
    admin = as_user(Actor("anna"))
    hold_letter(admin, HoldRequest(letter, "check the address"))
    mine = as_user(Actor("carl", role="consultant", clients=frozenset({"acme"})))
    approved = approve_letters(mine, ApproveRequest("acme", every=True))
    assert len(approved.letters) == 1  # not the one held back
    entries = list_audit(admin, AuditFilter(action="dispatch")).entries
    assert [(e.action, e.actor, e.subject) for e in reversed(entries)] == [
        ("dispatch.hold", "anna", f"letter {letter}"),
        ("dispatch.approve", "carl", "every letter waiting"),
    ]


def test_the_collection_warnings_deadline_counts_from_the_day_it_really_went_out(
    db: Database, box: SecretBox, registry: PluginRegistry, ledger: RecordingPlugin
) -> None:
    """Reminder 1, then reminder 2 with collection warning (D2); the warning is approved four
    days after the cycle made it: the letter is dated that day and gives its 10 days from it,
    and collection starts the day after those."""
    del ledger.invoices["2"]
    ctx = context(db, registry, box, day(0))
    flow_ops.set_flow(
        ctx,
        "acme",
        flow_ops.Stage.REMINDER,
        ["10;due_date;reminder;100", "11;previous;collection_warning;100"],
    )
    run_day(db, registry, box, "acme", day(10))
    approve_letters(context(db, registry, box, day(10)), ApproveRequest("acme", every=True))
    run_day(db, registry, box, "acme", day(21))
    warning = letter_of(db, "C1", "collection_warning")
    assert (warning.status, warning.created_on) == ("pending_approval", day(21))
    assert f"{day(31):%d.%m.%Y}" in warning.body  # as made: 10 days from day 21
    for n in (22, 23, 24):
        run_day(db, registry, box, "acme", day(n))
    approve_letters(context(db, registry, box, day(25)), ApproveRequest("acme", every=True))

    warning = letter_of(db, "C1", "collection_warning")
    assert (warning.status, warning.sent_on) == ("sent", day(25))
    assert f"{day(35):%d.%m.%Y}" in warning.body and f"{day(31):%d.%m.%Y}" not in warning.body
    assert "inkassoloven § 10" in warning.body
    [case] = cases(db)
    assert (case.collection_warned_on, case.collection_deadline) == (day(25), day(35))
    [moved] = [e for e in events(db, case.id) if e["kind"] == "collection_deadline_moved"]
    assert moved["on"] == day(25) and "inkassoloven § 10" in moved["reason"]

    for n in range(26, 36):  # up to and including the deadline: no collection yet
        run_day(db, registry, box, "acme", day(n))
    assert cases(db)[0].stage == "reminder"
    run_day(db, registry, box, "acme", day(36))
    assert cases(db)[0].stage == "collection"
    assert letter_of(db, "C1", "collection_notice").status == "pending_approval"


def test_an_unsent_friendly_reminder_is_withdrawn_when_the_invoice_falls_overdue(
    db: Database, box: SecretBox, registry: PluginRegistry, ledger: RecordingPlugin
) -> None:
    del ledger.invoices["2"]
    run_day(db, registry, box, "acme", day(-3))
    [friendly] = messages(db)
    assert (friendly.kind, friendly.status) == ("friendly_reminder", "pending_approval")
    run_day(db, registry, box, "acme", day(1))
    [friendly] = messages(db)
    assert friendly.status == "cancelled" and "became overdue" in (friendly.last_error or "")
    [case] = cases(db)
    assert case.stage == "reminder"
    assert "letter_withdrawn" in [e["kind"] for e in events(db, case.id)]
    run_day(db, registry, box, "acme", day(10))
    assert [m.kind for m in messages(db)] == ["friendly_reminder", "reminder_1"]
    assert list_waiting(context(db, registry, box, day(10)), "acme")[0].kind == "reminder_1"


# -- the sending window ---------------------------------------------------------------------


def at(moment: str) -> Clock:
    return Clock(fixed_now=parse_moment(moment, what="test"))


def test_the_sending_window_holds_letters_until_it_opens(
    db: Database, box: SecretBox, registry: PluginRegistry, ledger: RecordingPlugin, hub_env: Path
) -> None:
    """Reminder 1 falls due on Saturday 24 October 2026; the window is weekdays 08:00-18:00
    (Copenhagen, where summer time ends that Sunday): it goes on Monday at 08:00, dated
    Monday."""
    del ledger.invoices["2"]
    ledger.invoices["1"] = invoice("1", "C1", "1234.55", due_date=dt.date(2026, 10, 14))

    def ctx(clock: Clock) -> Context:
        return Context(Services(db, registry, box), Actor("tester"), clock)

    flow_ops.set_rules(
        ctx(Clock()), "acme", ["approval=none", "sending_window=Mon-Fri 08:00-18:00"]
    )
    assert flow_ops.show_rules(ctx(Clock()), "acme").values["sending_window"] == (
        "mon-fri 08:00-18:00"
    )
    saturday = sync(ctx(at("2026-10-24T10:00+02:00")), SyncRequest("acme"))
    assert saturday.cycle is not None and saturday.cycle.messages == 1
    assert saturday.delivery is not None
    assert (saturday.delivery.sent, saturday.delivery.waiting) == (0, 1)
    assert saturday.delivery.window_opens == dt.datetime(2026, 10, 26, 8, 0, tzinfo=COPENHAGEN)
    assert saturday.as_dict()["delivery"]["waiting"] == 1
    sunday = sync(ctx(at("2026-10-25T12:00+01:00")), SyncRequest("acme"))
    assert sunday.delivery is not None and sunday.delivery.waiting == 1
    early = sync(ctx(at("2026-10-26T07:59+01:00")), SyncRequest("acme"))
    assert early.delivery is not None and early.delivery.waiting == 1
    assert outbox_files(hub_env) == [] and [m.status for m in messages(db)] == ["queued"]

    opened = sync(ctx(at("2026-10-26T07:00Z")), SyncRequest("acme"))  # 08:00 in Copenhagen
    assert opened.delivery is not None and (opened.delivery.sent, opened.delivery.waiting) == (
        1,
        0,
    )
    [sent] = messages(db)
    assert (sent.created_on, sent.sent_on) == (dt.date(2026, 10, 24), dt.date(2026, 10, 26))
    assert "26.10.2026" in sent.body and "05.11.2026" in sent.body  # its 10 days from Monday
    assert len(outbox_files(hub_env)) == 1


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("mon-fri", "is not a window"),
        ("mon-fri 8:00-18:00", "'8:00' is not a time HH:MM"),
        ("mon-fri 08:00-25:00", "not a time of day"),
        ("mon-fri 18:00-08:00", "closes \\(08:00\\) before it opens \\(18:00\\)"),
        ("fri-mon 08:00-18:00", "runs past Sunday; write it as two: 'mon,fri-sun'"),
        ("mon-xyz 08:00-18:00", "'xyz' is not a day"),
        ("mon,,tue 08:00-18:00", "empty day"),
        ("mon,mon-tue 08:00-18:00", "names a day twice"),
        ("weekdays 08:00-18:00", "'weekdays' is not a day"),
        ("mon-fri 08:00", "not a span of hours"),
    ],
)
def test_a_bad_sending_window_is_refused_naming_what_is_wrong(
    db: Database, box: SecretBox, registry: PluginRegistry, raw: str, why: str
) -> None:
    ctx = context(db, registry, box, day(0))
    before = snapshot(db)
    with pytest.raises(InputError, match=f"rule sending_window: .*{why}"):
        flow_ops.set_rules(ctx, "acme", ["auto_start=false", f"sending_window={raw}"])
    assert snapshot(db) == before


def test_the_rules_read_back_as_written_and_a_bad_approval_is_refused(
    db: Database, box: SecretBox, registry: PluginRegistry
) -> None:
    ctx = context(db, registry, box, day(0))
    with pytest.raises(InputError, match="rule approval: 'maybe' is not none or required"):
        flow_ops.set_rules(ctx, "acme", ["approval=maybe"])
    assert flow_ops.show_rules(ctx, "acme").values["approval"] == "required"
    flow_ops.set_rules(ctx, "acme", ["sending_window=tue,mon,wed,fri 09:00-24:00"])
    assert flow_ops.show_rules(ctx, "acme").values["sending_window"] == "mon-wed,fri 09:00-24:00"
    flow_ops.set_rules(ctx, "acme", ["sending_window=", "approval=None"])
    values = flow_ops.show_rules(ctx, "acme").values
    assert (values["sending_window"], values["approval"]) == (None, "none")
    window = parse_window("sat,sun 10:00-12:00")
    assert window.text == "sat,sun 10:00-12:00"
    friday = dt.datetime(2026, 10, 30, 11, 0, tzinfo=COPENHAGEN)
    assert window.next_opening(friday) == dt.datetime(2026, 10, 31, 10, 0, tzinfo=COPENHAGEN)


def test_the_clock_gives_now_in_the_clients_time_zone_and_hub_now_fixes_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = at("2026-10-25T23:30Z")
    assert clock.now("Europe/Copenhagen") == dt.datetime(2026, 10, 26, 0, 30, tzinfo=COPENHAGEN)
    assert clock.today("Europe/Copenhagen") == dt.date(2026, 10, 26)  # its day there
    assert clock.today("UTC") == dt.date(2026, 10, 25)
    assert Clock(fixed=dt.date(2026, 1, 2)).now("UTC").date() == dt.date(2026, 1, 2)
    assert Clock(fixed=dt.date(2026, 1, 2), fixed_now=clock.fixed_now).today("UTC") == dt.date(
        2026, 1, 2
    )  # --today still says which day
    monkeypatch.setenv("HUB_NOW", "2026-10-26T08:00+01:00")
    assert Clock.from_environment().now("Europe/Copenhagen").hour == 8
    monkeypatch.setenv("HUB_NOW", "2026-10-26T08:00")
    with pytest.raises(InputError, match="HUB_NOW: .*has no UTC offset"):
        Clock.from_environment()
    with pytest.raises(InputError, match="--now: 'soon' is not a moment"):
        parse_moment("soon", what="--now")


# -- the plan against the fake e-conomic and an SMTP server -----------------------------------


class _Smtp:
    def __init__(self) -> None:
        self.received: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content or b"")
        self.received.append(str(parsed["Subject"]))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp() -> Iterator[tuple[_Smtp, int]]:
    handler = _Smtp()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def test_the_plan_is_what_the_cycle_then_sends_and_the_plan_changes_nothing(
    db: Database, box: SecretBox, smtp: tuple[_Smtp, int]
) -> None:
    handler, port = smtp
    today = dt.date(2026, 3, 2)
    fake = FakeEconomic(today=today)
    agreement = fake.add_agreement("plan-app", "plan-grant", "Plan ApS")
    for number, (customer, due, net) in {
        9001: (101, today - dt.timedelta(days=10), D("800.00")),  # reminder 1 today
        9002: (102, today + dt.timedelta(days=3), D("400.00")),  # friendly reminder today
        9003: (103, today - dt.timedelta(days=40), D("160.00")),  # long overdue
    }.items():
        agreement.add_customer(customer, f"Kunde {customer} ApS", email=f"k{customer}@example.dk")
        agreement.add_invoice(
            booked_invoice_number=number,
            customer_number=customer,
            date=due - dt.timedelta(days=30),
            due_date=due,
            net_amount=net,
            vat_amount=net / 4,
            currency="DKK",
        )
    registry = load_plugins()
    with EconomicServer(fake) as server:
        with db.session() as session:
            clients.add_client(session, "dk", "DK")
            clients.enable_plugin(
                session,
                registry,
                box,
                "dk",
                "economic",
                {
                    "app_secret_token": "plan-app",
                    "agreement_grant_token": "plan-grant",
                    "base_url": server.url,
                    "journal_number": "1",
                },
            )
            clients.enable_plugin(
                session,
                registry,
                box,
                "dk",
                "smtp",
                {
                    "host": "127.0.0.1",
                    "port": str(port),
                    "from_address": "faktura@plan.dk",
                    "starttls": "false",
                },
            )
        ctx = context(db, registry, box, today)
        flow_ops.set_rules(ctx, "dk", ["auto_start=true"])
        fetch_invoices(ctx, client_day(ctx, "dk"))

        def planned_then_sent(on: dt.date) -> None:
            ctx = context(db, registry, box, on)
            fake.today = on
            before, requests = snapshot(db), len(fake.requests)
            plan = plan_dispatch(ctx, "dk")
            assert snapshot(db) == before, "the plan changed the database"
            assert len(fake.requests) == requests, "the plan asked the books"
            assert handler.received == sent_before
            assert plan.letters and all(p.channel == "smtp" for p in plan.letters)
            known = {m.id for m in messages(db)}
            result = sync(ctx, SyncRequest("dk"))
            assert result.delivery is not None and result.delivery.failed == 0
            made = [m for m in messages(db) if m.id not in known]
            with db.session() as session:
                numbers = {
                    m.id: tuple(
                        session.scalars(
                            sa.select(t.Invoice.invoice_number)
                            .join(t.MessageInvoice, t.MessageInvoice.invoice_id == t.Invoice.id)
                            .where(t.MessageInvoice.message_id == m.id)
                        )
                    )
                    for m in made
                }
                customer = {
                    m.id: session.get(t.Case, m.case_id).customer_number  # type: ignore[union-attr]
                    for m in made
                }
            assert sorted(
                (p.customer_number, p.kind, p.invoice_numbers, p.fee, p.amount, p.currency)
                for p in plan.letters
            ) == sorted(
                (customer[m.id], m.kind, numbers[m.id], m.fee, m.amount, m.currency) for m in made
            )
            assert [m.status for m in made] == ["sent"] * len(made)
            assert [m.channel for m in made] == ["smtp"] * len(made)
            sent_before.extend(m.subject for m in made)
            assert handler.received == sent_before

        sent_before: list[str] = []
        planned_then_sent(today)
        first = plan_dispatch(context(db, registry, box, today + dt.timedelta(days=11)), "dk")
        assert all(p.case_id is not None for p in first.letters)  # the cases exist now
        assert {(p.kind, p.fee, p.amount) for p in first.letters} == {
            ("reminder_2", D("100.00"), D("1000.00")),
            ("reminder_2", D("100.00"), D("200.00")),
        }
        planned_then_sent(today + dt.timedelta(days=11))
    with pytest.raises(InputError, match="before dk's today"):
        plan_dispatch(context(db, registry, box, today + dt.timedelta(days=11)), "dk", on=today)


# -- the command line -------------------------------------------------------------------------

EXPORT = (
    "Fakturanr;Kundenr;Kundenavn;E-mail;Fakturadato;Forfaldsdato;Valuta;Brutto\n"
    "1;10;Østergaard ApS;a@example.dk;01.01.2026;15.01.2026;DKK;1.250,00\n"
    "2;11;Blåbær I/S;b@example.dk;01.01.2026;15.01.2026;DKK;500,00\n"
)


def test_the_dispatch_commands(tmp_path: Path, hub_env: Path, db_url: str) -> None:
    def hub(*args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "HUB_DATA_DIR": str(hub_env),
            "HUB_DATABASE_URL": db_url,
            "HUB_USER": "karen",
            "HUB_TODAY": "2026-01-25",
            "COLUMNS": "200",
        }
        return subprocess.run(
            [sys.executable, "-m", "hub.cli.main", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    def ok(*args: str) -> str:
        out = hub(*args)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def refused(why: str, *args: str) -> None:
        out = hub(*args)
        assert out.returncode == 2, (out.stdout, out.stderr)
        assert why in out.stderr and "Traceback" not in out.stderr

    export = tmp_path / "open.csv"
    export.write_text(EXPORT, encoding="utf-8")
    ok("clients", "add", "dk", "--country", "DK")
    ok("clients", "enable", "dk", "generic_csv", "--set", f"invoices_path={export}",
       "--set", f"outbox_dir={tmp_path / 'books'}")  # fmt: skip
    ok("rules", "set", "dk", "auto_start=true", "approval=required")
    refused("rule sending_window: 'mon-fri' is not a window", "rules", "set", "dk",
            "sending_window=mon-fri")  # fmt: skip

    ok("--today", "2026-01-20", "sync", "dk")  # overdue; the first reminder is due on the 25th
    plan = json.loads(ok("dispatch", "plan", "--client", "dk", "--json"))
    assert plan["approval"] == "required" and plan["date"] == "2026-01-25"
    assert [(p["kind"], p["fee"], p["amount"], p["currency"], p["channel"]) for p in
            plan["letters"]] == [
        ("reminder_1", "100.00", "1250.00", "DKK", "file_outbox"),
        ("reminder_1", "100.00", "500.00", "DKK", "file_outbox"),
    ]  # fmt: skip
    assert "reminder_1" in ok("dispatch", "plan", "--client", "dk")
    refused("is not a date", "dispatch", "plan", "--client", "dk", "--date", "tomorrow")

    ok("sync", "dk")
    waiting = json.loads(ok("dispatch", "list", "--client", "dk", "--json"))
    assert [(w["customer_number"], w["status"]) for w in waiting] == [
        ("10", "pending_approval"),
        ("11", "pending_approval"),
    ]
    second = waiting[1]["id"]
    refused("needs a reason", "dispatch", "hold", "--letter", str(second), "--reason", "")
    held = json.loads(
        ok("dispatch", "hold", "--letter", str(second), "--reason", "disputed", "--json")
    )
    assert (held["status"], held["held_by"], held["hold_reason"]) == ("held", "karen", "disputed")
    assert "karen: disputed" in ok("dispatch", "list", "--client", "dk")
    refused("either all", "dispatch", "approve", "--client", "dk")
    approved = json.loads(ok("dispatch", "approve", "--client", "dk", "--all", "--json"))
    assert [a["status"] for a in approved["approved"]] == ["sent"]
    assert approved["delivery"]["sent"] == 1
    assert "approved 1 letter" in ok("dispatch", "approve", "--client", "dk", "--letter",
                                     str(second))  # fmt: skip
    assert "no letter of dk is waiting" in ok("dispatch", "list", "--client", "dk")
    statuses = json.loads(ok("messages", "list", "--client", "dk", "--json"))
    assert [m["status"] for m in statuses] == ["sent", "sent"]
