"""``hub demo``: the README's first command ends in this."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

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
    assert "First sync: 10 new invoices" in out and "invoices list --client demo-dk" in out


def test_demo_without_the_csv_plugin_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HUB_LOAD_PLUGINS", "")
    with pytest.raises(HubError, match="pip install -e plugins/generic_csv"):
        run_demo(load_plugins(), tmp_path)
