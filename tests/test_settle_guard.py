"""Issue 16, one bad export: the settle guard of the sync, the reopening of a case the hub
closed when its invoice comes back open, and R2 on by default only where the customer balance
is the ledger's own (seed 000). Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from hub import clients
from hub.daemon.jobs import run_job
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import actions
from hub.dunning import rules as dunning_rules
from hub.dunning.cases import claim_fees
from hub.errors import InputError
from hub.model import Customer, InvoiceState
from hub.operations import flows as flow_ops
from hub.operations import runs
from hub.operations import sync as sync_ops
from hub.plugins import PluginRegistry, load_plugins
from hub.secrets import SecretBox
from hub.sync import SyncFailed
from tests.dunning_support import cases, events, messages, registry_with_outbox, run_day
from tests.helpers import add_client_with_plugin, context, sync_client
from tests.sample_plugins import RecordingPlugin, invoice

D = Decimal
DUE = dt.date(2026, 10, 15)
NUMBERS = [str(n) for n in range(1, 6)]


def day(n: int) -> dt.date:
    """Day n after the due date."""
    return DUE + dt.timedelta(days=n)


@pytest.fixture
def ledger() -> RecordingPlugin:
    plugin = RecordingPlugin("alpha")
    for number in NUMBERS:
        plugin.invoices[number] = invoice(number, "C1", "1250.00", due_date=DUE)
    plugin.customers["C1"] = Customer("C1", "Østergaard ApS", email="a@example.dk", language="da")
    return plugin


@pytest.fixture
def registry(db: Database, box: SecretBox, ledger: RecordingPlugin) -> PluginRegistry:
    registry = registry_with_outbox(ledger)
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "t"})
    set_rules(db, auto_start="true")
    return registry


def set_rules(db: Database, **values: str) -> None:
    with db.session() as session:
        dunning_rules.set_rules(session, clients.get_client(session, "acme"), values)


def lose_rows(ledger: RecordingPlugin, numbers: list[str]) -> None:
    """The export lost these invoices: the plugin reports them paid (export_scope=open)."""
    for number in numbers:
        del ledger.invoices[number]
        ledger.settled[number] = InvoiceState.PAID


def bring_back(ledger: RecordingPlugin, numbers: list[str]) -> None:
    for number in numbers:
        ledger.settled.pop(number, None)
        ledger.invoices[number] = invoice(number, "C1", "1250.00", due_date=DUE)


def snapshot(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row the sync and the cycle write, to compare before and after."""
    tables = (t.Invoice, t.Customer, t.Case, t.CaseEvent, t.Message)
    with db.engine.connect() as conn:
        return {
            model.__tablename__: [
                dict(r)
                for r in conn.execute(
                    sa.select(model.__table__).order_by(model.__table__.c.id)
                ).mappings()
            ]
            for model in tables
        }


def sync_chain(
    db: Database, registry: PluginRegistry, box: SecretBox, today: dt.date, **kw: Any
) -> sync_ops.SyncResult:
    ctx = context(db, registry, box, today)
    return sync_ops.sync(ctx, sync_ops.SyncRequest("acme", **kw))


# The settle guard


def test_a_sync_that_would_settle_every_open_invoice_stops_and_stores_nothing(
    db: Database, box: SecretBox, registry: PluginRegistry, ledger: RecordingPlugin
) -> None:
    run_day(db, registry, box, "acme", day(-5))
    assert [c.state for c in cases(db)] == ["active"] * 5
    before = snapshot(db)
    lose_rows(ledger, NUMBERS)  # an export with only its header

    with pytest.raises(SyncFailed) as failed:
        sync_chain(db, registry, box, day(-4))

    message = str(failed.value)
    assert "5 of the 5 open invoices of 'acme'" in message
    assert "5 paid or credited, 0 unknown" in message
    assert "settle_guard_percent=50.00, settle_guard_min=3" in message
    assert "hub sync acme --confirm-settle" in message
    assert failed.value.exit_code == 2
    assert snapshot(db) == before  # nothing stored, no case closed
    with db.session() as session:
        last = session.scalars(sa.select(t.JobRun).order_by(t.JobRun.id.desc())).first()
        assert last is not None
        assert (last.outcome, last.counts["settled"]) == (runs.Outcome.FAILED, 0)
        assert "--confirm-settle" in (last.error or "")


def test_confirm_settle_lets_that_one_sync_through(
    db: Database, box: SecretBox, registry: PluginRegistry, ledger: RecordingPlugin
) -> None:
    run_day(db, registry, box, "acme", day(-5))
    lose_rows(ledger, NUMBERS)

    done = sync_chain(db, registry, box, day(-4), confirm_settle=True)

    assert (done.sync.settled, done.cycle.closed) == (5, 5)
    assert [c.state for c in cases(db)] == ["closed"] * 5
    # The next sync has nothing more to settle: no confirmation needed, and none carried over.
    assert sync_chain(db, registry, box, day(-3)).sync.settled == 0


def test_the_guard_spares_a_small_client_and_a_partial_settlement(
    db: Database, box: SecretBox, registry: PluginRegistry, ledger: RecordingPlugin
) -> None:
    run_day(db, registry, box, "acme", day(-5))
    lose_rows(ledger, ["1", "2"])  # 2 of 5: fewer than half, fewer than 3
    assert sync_client(db, registry, box, "acme", day(-4)).settled == 2
    lose_rows(ledger, ["3", "4"])  # 2 of the 3 left: more than half, but fewer than 3
    assert sync_client(db, registry, box, "acme", day(-3)).settled == 2
    lose_rows(ledger, ["5"])  # the last one: 1 of 1
    assert sync_client(db, registry, box, "acme", day(-2)).settled == 1


def test_the_guard_counts_invoices_unknown_to_the_books_too(
    db: Database, box: SecretBox, registry: PluginRegistry, ledger: RecordingPlugin
) -> None:
    """An export of all invoices (export_scope=all) that lost its rows reports them unknown:
    the hub would stop chasing every one of them."""
    sync_client(db, registry, box, "acme", day(-5))
    for number in NUMBERS[:4]:
        del ledger.invoices[number]  # gone without trace: unknown
    with pytest.raises(SyncFailed, match=r"4 of the 5 .*\(0 paid or credited, 4 unknown"):
        sync_client(db, registry, box, "acme", day(-4))


def test_the_guard_is_a_rule_of_the_client(
    db: Database, box: SecretBox, registry: PluginRegistry, ledger: RecordingPlugin
) -> None:
    run_day(db, registry, box, "acme", day(-5))
    for wrong, why in [
        ({"settle_guard_percent": "half"}, "not a valid amount|not an amount|amount"),
        ({"settle_guard_percent": "101"}, "not a percentage from 0 to 100"),
        ({"settle_guard_min": "0"}, "less than 1"),
        ({"settle_guard_min": "two"}, "not a whole number"),
    ]:
        with pytest.raises(InputError, match=why):
            set_rules(db, **wrong)
    set_rules(db, settle_guard_percent="20", settle_guard_min="2")
    lose_rows(ledger, ["1", "2"])  # 2 of 5 = 40 % > 20 %, and 2 >= 2
    with pytest.raises(SyncFailed, match="settle_guard_percent=20.00, settle_guard_min=2"):
        sync_client(db, registry, box, "acme", day(-4))
    set_rules(db, settle_guard_percent="100")  # never
    assert sync_client(db, registry, box, "acme", day(-4)).settled == 2
    set_rules(db, settle_guard_percent="", settle_guard_min="")  # the defaults again
    shown = flow_ops.show_rules(context(db, registry, box), "acme").as_dict()
    assert (shown["settle_guard_percent"], shown["settle_guard_min"]) == (D("50.00"), 3)


def test_the_daemon_records_the_tripped_guard_as_a_failed_run_and_never_confirms(
    db: Database, box: SecretBox, registry: PluginRegistry, ledger: RecordingPlugin
) -> None:
    run_day(db, registry, box, "acme", day(-5))
    before = snapshot(db)
    lose_rows(ledger, NUMBERS)

    result = run_job(context(db, registry, box, day(-4)), "sync", "acme")

    assert result.outcome == runs.Outcome.FAILED
    assert "5 of the 5 open invoices" in result.errors[0]
    assert "--confirm-settle" in result.errors[0]
    assert snapshot(db) == before
    with db.session() as session:
        run = session.get(t.JobRun, result.run_id)
        assert run is not None and run.outcome == runs.Outcome.FAILED
        assert "5 of the 5 open invoices" in (run.error or "")
    again = run_job(context(db, registry, box, day(-3)), "sync", "acme")
    assert again.outcome == runs.Outcome.FAILED  # still waiting for a person
    assert [c.state for c in cases(db)] == ["active"] * 5


# Reopening


def test_a_case_closed_by_a_lost_export_reopens_where_it_was_when_the_invoice_is_back(
    db: Database, box: SecretBox, registry: PluginRegistry, ledger: RecordingPlugin
) -> None:
    run_day(db, registry, box, "acme", day(-5))  # friendly reminders
    run_day(db, registry, box, "acme", day(10))  # reminder 1, with a fee
    sent_before = len(messages(db))
    assert [m.kind for m in messages(db) if m.fee > 0] == ["reminder_1"] * 5
    progress = {c.id: (c.stage, c.round, c.step_index, c.last_step_on) for c in cases(db)}
    lose_rows(ledger, NUMBERS)
    sync_chain(db, registry, box, day(11), confirm_settle=True)
    assert {c.state for c in cases(db)} == {"closed"}

    bring_back(ledger, NUMBERS)  # the right file is back
    done = sync_chain(db, registry, box, day(12))

    assert done.cycle.reopened == 5 and done.cycle.started == 0
    for case in cases(db):
        assert (case.state, case.closed_by, case.close_code) == ("active", None, None)
        assert (case.stage, case.round, case.step_index, case.last_step_on) == progress[case.id]
        reopened = events(db, case.id)[-1]
        assert (reopened["kind"], reopened["by"]) == ("reopened", "auto")
        assert "is open again in the accounting system" in reopened["reason"]
        assert f"closed automatically on {day(11).isoformat()}" in reopened["reason"]
    assert len(messages(db)) == sent_before  # nothing sent again the day it reopened
    # It goes on: reminder 2 when the law allows, and the fee charged before still counts.
    run_day(db, registry, box, "acme", day(21))
    assert [m.kind for m in messages(db)][sent_before:] == ["reminder_2"] * 5
    with db.session() as session:
        acme = clients.get_client(session, "acme")
        claims = claim_fees(session, client_id=acme.id)
    assert sorted(c.count for c in claims.values()) == [2] * 5


def test_a_case_a_person_closed_stays_closed_and_a_paused_one_reopens_paused(
    db: Database, box: SecretBox, registry: PluginRegistry, ledger: RecordingPlugin
) -> None:
    run_day(db, registry, box, "acme", day(-5))
    first, second = cases(db)[:2]
    with db.session() as session:
        actions.close(
            session, first.id, "dispute", "customer_disputes_claim", day(-4), notify=False,
            actor="tester",
        )  # fmt: skip
        actions.pause(
            session, second.id, "talking to the customer", None, day(40), day(-4), actor="tester"
        )
    lose_rows(ledger, NUMBERS)
    sync_chain(db, registry, box, day(-3), confirm_settle=True)
    bring_back(ledger, NUMBERS)
    sync_chain(db, registry, box, day(-2))

    by_id = {c.id: c for c in cases(db)}
    assert (by_id[first.id].state, by_id[first.id].close_code) == ("closed", "dispute")
    assert (by_id[second.id].state, by_id[second.id].resume_on) == ("paused", day(40))
    assert [c.state for c in cases(db)][2:] == ["active"] * 3


def test_a_case_closed_by_R2_is_not_reopened_by_its_invoice(
    db: Database, box: SecretBox, registry: PluginRegistry, ledger: RecordingPlugin
) -> None:
    """Its invoice never left the open list: only a case whose invoice came back reopens."""
    set_rules(db, auto_close_balance="true")
    run_day(db, registry, box, "acme", day(-5))
    ledger.balances["C1"] = D("0.00")
    run_day(db, registry, box, "acme", day(-4))
    assert {c.close_reason for c in cases(db)} == {"customer_balance_zero"}
    del ledger.balances["C1"]
    assert run_day(db, registry, box, "acme", day(-3)).reopened == 0


# R2 follows the plugin (seed 000)


def _balance_client(
    db: Database, box: SecretBox, capabilities: frozenset[str]
) -> tuple[PluginRegistry, RecordingPlugin]:
    plugin = RecordingPlugin("beta", capabilities)
    plugin.invoices["1"] = invoice("1", "C1", "1250.00", due_date=DUE)
    plugin.customers["C1"] = Customer("C1", "Østergaard ApS", email="a@example.dk")
    registry = registry_with_outbox(plugin)
    add_client_with_plugin(db, registry, box, "acme", "beta", {"api_token": "t"})
    set_rules(db, auto_start="true")
    return registry, plugin


WITHOUT_LEDGER = frozenset({"customer_balance", "credit_note", "journal"})


def test_R2_is_off_by_default_where_the_balance_is_not_the_ledgers(
    db: Database, box: SecretBox
) -> None:
    """A CSV file's or Tripletex's balance (no entries_sync): a balance of 0 closes nothing,
    and `hub rules show` says why; switched on by hand, it closes."""
    registry, plugin = _balance_client(db, box, WITHOUT_LEDGER)
    run_day(db, registry, box, "acme", day(-5))
    plugin.balances["C1"] = D("0.00")
    run_day(db, registry, box, "acme", day(-4))
    assert cases(db)[0].state == "active"
    shown = flow_ops.show_rules(context(db, registry, box), "acme")
    assert shown.as_dict()["auto_close_balance"] is False
    assert shown.why["auto_close_balance"].startswith(
        "off by default: plugin 'beta' does not report the ledger's own customer balance"
    )

    set_rules(db, auto_close_balance="true")
    run_day(db, registry, box, "acme", day(-3))
    assert cases(db)[0].close_reason == "customer_balance_zero"
    shown = flow_ops.show_rules(context(db, registry, box), "acme")
    assert (shown.as_dict()["auto_close_balance"], shown.why["auto_close_balance"]) == (
        True,
        "on: set for this client",
    )


def test_R2_is_on_by_default_where_the_balance_is_the_ledgers_own(
    db: Database, box: SecretBox
) -> None:
    """e-conomic's kind (entries_sync): on by default, off when a person says so."""
    registry, plugin = _balance_client(db, box, WITHOUT_LEDGER | {"entries_sync"})
    shown = flow_ops.show_rules(context(db, registry, box), "acme").as_dict()
    assert shown["auto_close_balance"] is True
    assert shown["why"]["auto_close_balance"].startswith(
        "on by default: plugin 'beta' reports the ledger's own customer balance"
    )
    set_rules(db, auto_close_balance="false")
    run_day(db, registry, box, "acme", day(-5))
    plugin.balances["C1"] = D("0.00")
    run_day(db, registry, box, "acme", day(-4))
    assert cases(db)[0].state == "active"
    set_rules(db, auto_close_balance="")  # back to the plugin's default
    run_day(db, registry, box, "acme", day(-3))
    assert cases(db)[0].close_reason == "customer_balance_zero"


def test_the_installed_plugins_declare_whose_balance_is_the_ledgers() -> None:
    registry = load_plugins(honour_environment=False)
    infos = {name: registry.info(name).capabilities for name in registry.names()}
    assert "entries_sync" in infos["economic"]
    assert "entries_sync" not in infos["generic_csv"]
    assert "entries_sync" not in infos["norwegian_invoicing"]


def test_the_migration_lets_the_old_default_of_R2_follow_the_plugin(db_url: str) -> None:
    """Before 0007 every client had auto_close_balance true by default: that becomes unset
    (the plugin's default); false, a person's choice, is kept."""
    from alembic import command

    from hub.db.engine import alembic_config, create_engine

    engine = create_engine(db_url)
    try:
        command.downgrade(alembic_config(engine), "0005")
        with engine.begin() as conn:
            for n, on in ((1, True), (2, False)):
                conn.execute(
                    sa.text(
                        "INSERT INTO clients (id, name, country, currency, timezone, created_at)"
                        " VALUES (:n, :name, 'DK', 'DKK', 'Europe/Copenhagen', CURRENT_TIMESTAMP)"
                    ),
                    {"n": n, "name": f"c{n}"},
                )
                conn.execute(
                    sa.text(
                        "INSERT INTO client_dunning (client_id, auto_close_paid,"
                        " auto_close_balance, auto_start, excluded_customers)"
                        " VALUES (:n, :t, :on, :f, '[]')"
                    ),
                    {"n": n, "on": on, "t": True, "f": False},
                )
        command.upgrade(alembic_config(engine), "head")
        with engine.connect() as conn:
            stored = dict(
                conn.execute(
                    sa.text("SELECT client_id, auto_close_balance FROM client_dunning")
                ).all()
            )
        assert stored == {1: None, 2: False}
    finally:
        engine.dispose()
