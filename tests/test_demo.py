"""``hub demo``: the README's first command ends in this."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from hub import clock
from hub.cli.main import main
from hub.demo import run_demo
from hub.errors import HubError
from hub.plugins import load_plugins


def test_demo_syncs_a_danish_export_then_sees_two_payments(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_demo(load_plugins(), tmp_path, lines.append)
    assert (result.first.new, result.first.customers) == (10, 5)
    assert (result.second.settled, result.second.unchanged, result.second.new) == (2, 8, 0)
    assert result.open_invoices == 8
    # Due 14 days after issue, so the six open invoices issued 15+ days ago are overdue
    # whatever today is: 10001, 10003, 10004, 10006, 10007, 10008 (gross = net + 25 % VAT).
    assert result.overdue_invoices == 6
    assert result.overdue_amount == Decimal("192152.61")
    assert str(result.overdue_amount) == "192152.61"
    expected = sum(
        (Decimal(gross) for gross in ("10000.00", "29999.00", "515.62", "1249.99", "388.00")),
        Decimal("150000.00"),
    )
    assert result.overdue_amount == expected
    assert any("2 settled" in line for line in lines)


def test_demo_cli_runs_in_a_fresh_workdir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--workdir", str(tmp_path / "d")]) == 0
    out = capsys.readouterr().out
    assert "First sync: 10 new invoices" in out and "cases list --client demo-dk" in out
    assert "renteloven § 9 b" in out


def test_demo_without_the_csv_plugin_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_LOAD_PLUGINS", "")
    with pytest.raises(HubError, match="pip install -e plugins/generic_csv"):
        run_demo(load_plugins(), tmp_path)


def test_demo_dunning_timeline_follows_the_danish_law(tmp_path: Path) -> None:
    result = run_demo(load_plugins(), tmp_path)
    dunning = result.dunning
    assert dunning.started == 8  # the eight invoices still open
    # Invoices issued 3 and 9 days ago get a friendly reminder before their due date; every
    # open invoice gets reminders 1-3 (each next one 11 days later, after the previous one's
    # 10-day pay-by date), except 10003, overdue already, paid on day 12 after reminder 1.
    assert dunning.letters == {
        "friendly_reminder": 2,
        "reminder_1": 8,
        "reminder_2": 7,
        "reminder_3": 7,
    }
    assert dunning.fees == Decimal("2200.00")  # 22 reminders at 100 DKK
    assert dunning.auto_closed == 1
    assert dunning.delivered == 24
    assert len(list((tmp_path / "letters").glob("*.eml"))) == 24


def test_simulated_days_restore_the_clock() -> None:
    clock.set_today(dt.date(2026, 1, 1))
    try:
        with clock.simulated(dt.date(2026, 2, 2)):
            assert clock.today("Europe/Oslo") == dt.date(2026, 2, 2)
        assert clock.today("Europe/Oslo") == dt.date(2026, 1, 1)
    finally:
        clock.set_today(None)


def test_demo_follows_an_e_conomic_client_in_customer_mode(tmp_path: Path) -> None:
    economic = run_demo(load_plugins(), tmp_path).economic
    # Three customers, one consolidated reminder each per step; the café's newer invoice is
    # paid on day 12, the builder goes to collection on day 14 (its two invoices, C4) and the
    # one written off on day 30 is settled in e-conomic by the voucher (customerInvoice).
    assert economic.consolidated == 7
    assert economic.in_collection == 2
    assert economic.write_off_voucher == "customer 101 -3000.00, 3720 2400.00, 6902 600.00"
    assert economic.unpaid_after == [20001, 20003, 20005]
    assert economic.requests > 41  # every day's sync went over HTTP to the fake e-conomic


def test_demo_norwegian_client_makes_recurring_invoices_in_tripletex(tmp_path: Path) -> None:
    from cryptography.fernet import Fernet

    from hub.db.engine import Database
    from hub.demo_tripletex import run_tripletex_demo
    from hub.secrets import SecretBox

    db = Database(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    lines: list[str] = []
    try:
        result = run_tripletex_demo(
            db, load_plugins(), SecretBox(Fernet.generate_key()), str(tmp_path / "l"), lines.append
        )
    finally:
        db.dispose()
    # 15 Oct, 15 Nov, 15 Dec, each made 5 days early: the first with 5–14 October (10/31 of
    # 3 100 = 1 000) beside the fixed 2 500 and the month's 3 100.
    assert [(d, net) for d, _, net in result.invoices_made] == [
        ("2026-10-15", Decimal("6600.00")),
        ("2026-11-15", Decimal("5600.00")),
        ("2026-12-15", Decimal("5600.00")),
    ]
    assert len({ref for _, ref, _ in result.invoices_made}) == 3
    assert result.first_invoice_lines[1] == (
        "Lisens regnskapsprogram, 05.10.2026–14.10.2026 1.00 x 1000.00"
    )
    assert result.orders_made == 2  # 1 Nov and 1 Dec
    assert result.reminders >= 3
    assert result.fees == Decimal("35.00") * result.reminders  # the Norwegian fee, no more
    assert result.auto_closed >= 1
    assert any("Tripletex" in line for line in lines)
