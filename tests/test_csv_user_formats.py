"""A CSV client's sync in the user's formats (issue 20): no currency column means the
client's own currency, the decimal mark the user declares, and an export's total row skipped
and named in the sync's report, never silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub import clients, plugins
from hub.cli.main import main
from hub.db import tables as t
from hub.db.engine import Database
from hub.plugins import PluginRegistry, load_plugins

HEADER = "Fakturanr;Kundenr;Kundenavn;Fakturadato;Forfaldsdato;Brutto\n"


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> PluginRegistry:
    monkeypatch.setenv("HUB_LOAD_PLUGINS", "generic_csv")
    registry = load_plugins()
    monkeypatch.setattr(plugins, "_registry", registry)
    return registry


def _client(db: Database, tmp_path: Path, export: str, *settings: str) -> None:
    (tmp_path / "invoices.csv").write_text(export, encoding="utf-8")
    with db.session() as session:
        clients.add_client(session, "acme", "DK")
    args = ["--db", db.url, "clients", "enable", "acme", "generic_csv"]
    args += ["--set", f"invoices_path={tmp_path / 'invoices.csv'}"]
    args += ["--set", f"outbox_dir={tmp_path / 'outbox'}"]
    for setting in settings:
        args += ["--set", setting]
    assert main(args) == 0


def _sync(db: Database, capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["--db", db.url, "--today", "2026-01-20", "sync", "acme", *flags])
    out = capsys.readouterr()
    return code, out.out + out.err


def _stored(db: Database) -> dict[str, tuple[str, str]]:
    with db.session() as session:
        rows = session.scalars(sa.select(t.Invoice)).all()
        return {r.invoice_number: (r.currency, str(r.gross_amount)) for r in rows}


def test_a_total_row_at_the_end_is_skipped_and_named_in_the_sync_report(
    db: Database, registry: PluginRegistry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A DKK client's export without a currency column, ending in an "I alt" row."""
    _client(
        db,
        tmp_path,
        HEADER
        + "1;10;Østergaard ApS;02.01.2026;16.01.2026;1.250,00\n"
        + "2;11;Blåbær I/S;02.01.2026;16.01.2026;500,00\n"
        + "I alt;;;;;1.750,00\n",
    )
    code, out = _sync(db, capsys, "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["notes"] == [
        "invoices.csv:4: skipped the total row 'I alt' (a sum, not an invoice)"
    ]
    assert report["new"] == 2
    assert _stored(db) == {"1": ("DKK", "1250.00"), "2": ("DKK", "500.00")}
    code, out = _sync(db, capsys)
    assert code == 0, out
    assert "note: invoices.csv:4: skipped the total row 'I alt' (a sum, not an invoice)" in out


def test_a_total_row_before_more_invoices_fails_the_file(
    db: Database, registry: PluginRegistry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _client(
        db,
        tmp_path,
        HEADER
        + "1;10;Østergaard ApS;02.01.2026;16.01.2026;1.250,00\n"
        + "Total;;;;;1.250,00\n"
        + "2;11;Blåbær I/S;02.01.2026;16.01.2026;500,00\n",
    )
    code, out = _sync(db, capsys)
    assert code != 0
    assert "invoices.csv:3: 'Total' looks like a total row, but invoices follow it" in out
    assert _stored(db) == {}


def test_the_declared_decimal_comma_reads_1_500_as_fifteen_hundred(
    db: Database, registry: PluginRegistry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = HEADER + "1;10;Østergaard ApS;02.01.2026;16.01.2026;1.500\n"
    _client(db, tmp_path, export)
    code, out = _sync(db, capsys)
    assert code != 0 and "ambiguous" in out  # auto: the file alone cannot tell
    assert main(["--db", db.url, "clients", "set", "acme", "decimal_mark=comma"]) == 0
    code, out = _sync(db, capsys)
    assert code == 0, out
    assert _stored(db) == {"1": ("DKK", "1500.00")}
