"""``hub sync``'s human output: a few lines of summary, each case's events only with
``--verbose`` and as a table (never a Python repr), at 80 and 120 columns (snapshots)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_snapshots import WIDTHS, check, run, widest_line

EXPORT = (
    "Fakturanr;Kundenr;Kundenavn;Fakturadato;Forfaldsdato;Valuta;Netto;Moms;Brutto;Restbeløb\r\n"
    "1001;501;Østergaard & Søn ApS;01.10.2026;15.10.2026;DKK;1.000,00;250,00;1.250,00;1.250,00\r\n"
    "1002;502;Blåbær Café;03.10.2026;17.10.2026;DKK;800,00;200,00;1.000,00;1.000,00\r\n"
    "1003;503;Ærø Færgeservice A/S;05.10.2026;19.10.2026;DKK;"
    "1.234.567,89;308.641,97;1.543.209,86;43.209,86\r\n"
)


@pytest.fixture
def synced_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> list[str]:
    """A CSV client whose cases start on one sync and get their first reminder on the next:
    the ``--db`` arguments for ``hub``."""
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("LC_ALL", "C.UTF-8")
    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT.encode("cp1252"))
    db = ["--db", f"sqlite:///{tmp_path / 'hub.sqlite3'}"]
    for argv in (
        ["db", "upgrade"],
        ["clients", "add", "acme", "--country", "DK"],
        [
            "clients",
            "enable",
            "acme",
            "generic_csv",
            "--set",
            f"invoices_path={export}",
            "--set",
            f"outbox_dir={tmp_path / 'out'}",
        ],
        ["rules", "set", "acme", "auto_start=true"],
    ):
        done = run(capsys, [*db, *argv])
        assert done.code == 0, done.err
    monkeypatch.setenv("HUB_TODAY", "2026-10-20")
    assert run(capsys, [*db, "sync", "acme"]).code == 0
    monkeypatch.setenv("HUB_TODAY", "2026-11-05")
    return db


@pytest.mark.parametrize("columns", WIDTHS)
@pytest.mark.parametrize("verbose", [False, True])
def test_sync_says_in_a_few_lines_what_it_did(
    synced_twice: list[str], capsys: pytest.CaptureFixture[str], columns: int, verbose: bool
) -> None:
    argv = [*synced_twice, "sync", "acme", *(["--verbose"] if verbose else [])]
    result = run(capsys, argv, columns=columns)
    assert result.code == 0, result.err
    assert "Decimal(" not in result.out and "{'" not in result.out  # no Python repr
    assert widest_line(result.out) <= columns
    assert "letters made" in result.out
    assert ("reminder" in result.out) is verbose  # each case's events only with --verbose
    check(f"sync{'-verbose' if verbose else ''}.{columns}", result.out)


def test_amounts_are_written_as_the_locale_writes_numbers(
    synced_twice: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = {}
    for locale in ("da_DK.UTF-8", "nb_NO.UTF-8", "C.UTF-8"):
        monkeypatch.setenv("LC_ALL", locale)
        shown[locale] = run(capsys, [*synced_twice, "invoices", "list", "--client", "acme"]).out
    assert "1.543.209,86" in shown["da_DK.UTF-8"]
    assert "1\u00a0543\u00a0209,86" in shown["nb_NO.UTF-8"]
    assert "1,543,209.86" in shown["C.UTF-8"]
    assert "amounts in DKK" in shown["C.UTF-8"]


@pytest.mark.parametrize("columns", WIDTHS)
def test_runs_list_fits_the_terminal(
    synced_twice: list[str], capsys: pytest.CaptureFixture[str], columns: int
) -> None:
    """No snapshot: the runs' start times are the wall clock's."""
    shown = run(capsys, [*synced_twice, "runs", "list", "--client", "acme"], columns=columns)
    assert shown.code == 0, shown.err
    assert widest_line(shown.out) <= columns
    assert shown.out.startswith("Runs of acme") and "{'" not in shown.out
    assert "new 3" in shown.out  # the first sync's counts, in words
