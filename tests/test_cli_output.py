"""What a person reads: every command's human output on the demo's database, at 80 and 120
columns, against its snapshot (``tests/cli_snapshots.py``), and never a Python repr."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.demo import run_demo
from hub.plugins import load_plugins
from tests.cli_snapshots import SNAPSHOTS, WIDTHS, check, run

#: One worker builds the demo's database once for every test here.
pytestmark = pytest.mark.xdist_group("cli_output")


@pytest.fixture(scope="module")
def demo() -> Iterator[Path]:
    """The demo's work directory after its 91 days (its database: ``demo.sqlite3``).

    Its path is as long on every machine and in every worker (``/tmp/hub-snapshots-`` and
    mkdtemp's 8 characters): a table's columns are as wide as the paths in them, so a path of
    another length would draw the table otherwise, even with the path shown as ``<workdir>``."""
    workdir = Path(tempfile.mkdtemp(prefix="hub-snapshots-", dir="/tmp"))
    try:
        run_demo(load_plugins(), workdir, say=lambda _line: None)
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _db(workdir: Path) -> list[str]:
    return ["--db", f"sqlite:///{workdir / 'demo.sqlite3'}"]


#: Each command a person runs on the demo's data, named for its snapshot.
COMMANDS: dict[str, list[str]] = {
    # --- section: out (cases, invoices, messages, collection, runs, clients) ---
    "cases-list": ["cases", "list", "--client", "demo-dk"],
    "collection-overview": ["collection", "overview", "--client", "demo-economic"],
    "messages-list": ["messages", "list", "--client", "demo-economic"],
    "cases-list-all": ["cases", "list"],
    "cases-show": ["cases", "show", "1"],
    "cases-show-closed": ["cases", "show", "2"],
    "messages-show": ["messages", "show", "12"],
    "invoices-list": ["invoices", "list", "--client", "demo-dk"],
    "clients-list": ["clients", "list"],
    "clients-show": ["clients", "show", "demo-dk"],
    # --- section: help (plugins, flows, rules, recurring, dispatch, users, tokens, audit, db) ---
    # (no audit list: its entries carry the time the demo ran)
    "plugins-list": ["plugins", "list"],
    "flows-show-dk": ["flows", "show", "--client", "demo-dk"],
    "flows-show-no": ["flows", "show", "--client", "demo-no"],
    "rules-show-economic": ["rules", "show", "demo-economic"],
    "recurring-list": ["recurring", "list"],
    "recurring-list-client": ["recurring", "list", "--client", "demo-no"],
    "recurring-show": ["recurring", "show", "1"],
    "recurring-preview": [
        *("recurring", "preview", "--every", "1", "--unit", "month"),
        *("--next-invoice-date", "2026-02-01", "--line", "Lisens;1;3100.00;month", "--count", "3"),
    ],
    "dispatch-list": ["dispatch", "list", "--client", "demo-economic"],
    "users-list": ["users", "list"],
    "tokens-list": ["tokens", "list"],
    "db-current": ["db", "current"],
    # --- section: errors ---
    # --- section: input ---
}


@pytest.mark.parametrize("columns", WIDTHS)
def test_no_cell_is_cut_off(demo: Path, capsys: pytest.CaptureFixture[str], columns: int) -> None:
    """No table cuts a cell short with an ellipsis: ids, names, dates, amounts and states are
    whole, free text wraps. Read in every snapshot, and in ``hub runs list``, which has none
    (its times are the run's)."""
    runs = run(capsys, [*_db(demo), "runs", "list"], columns=columns)
    assert runs.code == 0, runs.err
    assert "…" not in runs.out, runs.out
    for snapshot in sorted(SNAPSHOTS.glob(f"*.{columns}.txt")):
        assert "…" not in snapshot.read_text(encoding="utf-8"), snapshot.name


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("name", list(COMMANDS))
def test_human_output_matches_its_snapshot(
    demo: Path, capsys: pytest.CaptureFixture[str], name: str, columns: int
) -> None:
    result = run(capsys, [*_db(demo), *COMMANDS[name]], columns=columns)
    assert result.code == 0, result.err
    assert "Decimal(" not in result.out and "{'" not in result.out  # no Python repr
    check(f"{name}.{columns}", result.out, workdir=demo, columns=columns)
