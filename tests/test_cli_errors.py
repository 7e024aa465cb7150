"""Errors that say how to go on: a global option put after the command, a database URL the hub
does not open, an empty database, a thing that is not there. Run in-process as a user types
them; each is one message on stderr, no traceback, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.cli.main import main
from hub.db.engine import Database

PASSWORD = "s3cret-pw"


def _error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """The error ``hub ARGV`` prints (exit 2), on one line: typer's box drawn away."""
    assert main(list(argv)) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return " ".join(captured.err.replace("│", " ").split())


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (
            ["cases", "list", "--db", "sqlite:///x.db"],
            "--db is a global option: put it before the command: hub --db URL cases list",
        ),
        (
            ["db", "current", "--today=2026-01-31"],
            "--today is a global option: put it before the command:"
            " hub --today YYYY-MM-DD db current",
        ),
        (
            ["clients", "list", "-v"],
            "-v is a global option: put it before the command: hub --verbose clients list",
        ),
        (
            ["clients", "list", "--version"],
            "--version is a global option: put it before the command: hub --version clients list",
        ),
    ],
)
def test_a_global_option_after_the_command_says_where_it_goes(
    hub_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    hint: str,
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    assert hint in _error(capsys, *argv)


def test_an_unknown_option_is_still_unknown(
    hub_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    err = _error(capsys, "cases", "list", "--bogus")
    assert "No such option: --bogus" in err and "global option" not in err


def test_a_postgres_url_says_to_write_postgresql_psycopg(
    hub_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _error(capsys, "--db", f"postgres://hub:{PASSWORD}@db.example/hub", "db", "current")
    assert "write postgresql+psycopg://hub:PASSWORD@db.example/hub" in err, err
    assert PASSWORD not in err


def test_hub_database_url_is_checked_alike(
    hub_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HUB_DATABASE_URL", f"postgres://hub:{PASSWORD}@db.example/hub")
    err = _error(capsys, "clients", "list")
    assert "postgresql+psycopg://" in err and PASSWORD not in err


@pytest.mark.parametrize(
    ("url", "said"),
    [
        (f"mysql://hub:{PASSWORD}@db.example/hub", "the hub opens SQLite and PostgreSQL"),
        ("sqlte:///hub.db", "not sqlte: use sqlite:///PATH"),
        (f"postgresql+asyncpg://hub:{PASSWORD}@h/hub", "through psycopg 3, not asyncpg"),
        (f"pg:/hub:{PASSWORD}@h/hub", "is not a database URL: use sqlite:///PATH"),
    ],
)
def test_a_url_of_another_database_names_what_the_hub_opens(
    hub_env: Path, capsys: pytest.CaptureFixture[str], url: str, said: str
) -> None:
    err = _error(capsys, "--db", url, "db", "current")
    assert said in err and "postgresql+psycopg://" in err, err
    assert PASSWORD not in err


def test_db_current_of_an_empty_database_says_no_schema_and_what_to_run(
    tmp_path: Path, hub_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "new.sqlite3"
    path.touch()
    url = f"sqlite:///{path}"
    assert main(["--db", url, "db", "current"]) == 0
    out = capsys.readouterr().out
    assert "no schema yet (an empty database)" in out and "run `hub db upgrade`" in out
    assert main(["--db", url, "db", "upgrade"]) == 0
    assert "upgraded from no schema (an empty database) to" in capsys.readouterr().out
    assert main(["--db", url, "db", "current"]) == 0
    assert "db upgrade" not in capsys.readouterr().out  # at the revision this hub needs


def test_a_sync_of_a_missing_file_says_how_to_change_the_setting(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere" / "open-invoices.csv"
    assert main(["--db", db.url, "clients", "add", "acme", "--country", "DK"]) == 0
    enable = ["--db", db.url, "clients", "enable", "acme", "generic_csv"]
    settings = [f"invoices_path={missing}", f"outbox_dir={tmp_path / 'outbox'}"]
    assert main([*enable, *(a for s in settings for a in ("--set", s))]) == 0
    capsys.readouterr()
    err = _error(capsys, "--db", db.url, "sync", "acme")
    assert f"'{missing}' does not exist" in err
    assert "`hub clients set acme KEY=VALUE` changes one" in err
    err = _error(capsys, "--db", db.url, "clients", "add", "acme", "--country", "DK")
    assert "exists already (see `hub clients show acme`)" in err


def test_a_client_that_is_not_there_is_said_alike(
    db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["cases", "list", "--client", "ghost"], ["sync", "ghost"]):
        err = _error(capsys, "--db", db.url, *argv)
        assert "no client named 'ghost' (see `hub clients list`)" in err, argv
