"""The CLI end to end, as a user runs it: ``hub`` in a subprocess against a real database.

A third-party plugin is "installed" the way pip would do it: a ``*.dist-info`` folder with an
``entry_points.txt`` on the subprocess's path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
SECRET = "Xy7-very-secret-token"

Hub = Callable[..., subprocess.CompletedProcess[str]]


def _install_fake_dist(site: Path, name: str, entry_points: dict[str, str]) -> None:
    dist = site / f"{name}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (dist / "entry_points.txt").write_text(f"[receivables_hub]\n{lines}")


@pytest.fixture
def hub(tmp_path: Path, hub_env: Path, db_url: str) -> Hub:
    site = tmp_path / "site"
    _install_fake_dist(
        site,
        "hub_test_plugins",
        {
            "alpha": "tests.sample_plugins:alpha",
            "misspelled": "tests.sample_plugins:misspelled",
        },
    )

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {
            **os.environ,
            "HUB_DATA_DIR": str(hub_env),
            "HUB_DATABASE_URL": db_url,
            "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
            "COLUMNS": "200",
            **(env or {}),
        }
        return subprocess.run(
            [sys.executable, "-m", "hub.cli.main", *args],
            capture_output=True,
            text=True,
            env=full_env,
            timeout=60,
            check=False,
        )

    return run


DANISH_EXPORT = (
    "Fakturanr;Kundenr;Kundenavn;Fakturadato;Forfaldsdato;Valuta;Netto;Moms;Brutto;Restbeløb\r\n"
    "1001;501;Østergaard & Søn ApS;01.10.2026;15.10.2026;DKK;1.000,00;250,00;1.250,00;1.250,00\r\n"
    "1002;502;Blåbær Café;03.10.2026;17.10.2026;DKK;0,08;0,02;0,10;0,10\r\n"
    "1003;503;Ærø Færgeservice A/S;05.10.2026;19.10.2026;DKK;"
    "1.234.567,89;308.641,97;1.543.209,86;43.209,86\r\n"
)


def _csv_client(hub: Hub, tmp_path: Path, content: str) -> Path:
    export = tmp_path / "export.csv"
    export.write_bytes(content.encode("cp1252"))
    assert hub("clients", "add", "acme", "--country", "DK").returncode == 0
    enabled = hub(
        "clients",
        "enable",
        "acme",
        "generic_csv",
        "--set",
        f"invoices_path={export}",
        "--set",
        f"outbox_dir={tmp_path / 'out'}",
    )
    assert enabled.returncode == 0, enabled.stderr
    return export


def test_danish_csv_export_syncs_and_lists_exact_amounts(hub: Hub, tmp_path: Path) -> None:
    _csv_client(hub, tmp_path, DANISH_EXPORT)
    synced = hub("sync", "acme", "--json")
    assert synced.returncode == 0, synced.stderr
    report = json.loads(synced.stdout)
    assert (report["outcome"], report["new"], report["failed"]) == ("ok", 3, 0)

    listed = hub("invoices", "list", "--client", "acme", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["invoice_number"]: r for r in json.loads(listed.stdout)}
    assert rows["1001"]["gross_amount"] == "1250.00"
    assert rows["1002"]["net_amount"] == "0.08"
    assert rows["1002"]["gross_amount"] == "0.10"
    assert rows["1003"]["gross_amount"] == "1543209.86"
    assert rows["1003"]["outstanding_amount"] == "43209.86"
    assert rows["1003"]["customer_name"] == "Ærø Færgeservice A/S"
    assert rows["1001"]["due_date"] == "2026-10-15"
    assert rows["1001"]["currency"] == "DKK"

    table = hub("invoices", "list", "--client", "acme", env={"LC_ALL": "da_DK.UTF-8"})
    assert "Østergaard & Søn ApS" in table.stdout and "1.543.209,86" in table.stdout


def test_sync_on_screen_tells_what_the_cycle_did_in_words(hub: Hub, tmp_path: Path) -> None:
    """The day's story names each action by its word (``started``), never by a Python repr."""
    _csv_client(hub, tmp_path, DANISH_EXPORT)
    assert hub("rules", "set", "acme", "auto_start=true").returncode == 0
    shown = hub("sync", "acme", "--verbose", env={"HUB_TODAY": "2026-10-20"})
    assert shown.returncode == 0, shown.stderr
    assert " started " in shown.stdout
    assert "EventKind" not in shown.stdout and "'action'" not in shown.stdout


def test_a_bad_amount_fails_with_its_line_and_stores_nothing(hub: Hub, tmp_path: Path) -> None:
    export = _csv_client(hub, tmp_path, DANISH_EXPORT)
    assert hub("sync", "acme").returncode == 0
    before = hub("invoices", "list", "--client", "acme", "--json", "--state", "all").stdout

    bad = DANISH_EXPORT.replace("0,10;0,10", "0,1O;0,10").replace(
        "1.250,00;1.250,00", "1.250,00;0,00"
    )
    export.write_bytes(bad.encode("cp1252"))
    failed = hub("sync", "acme")

    assert failed.returncode == 1
    assert "export.csv:3" in failed.stderr
    assert "gross_amount" in failed.stderr
    after = hub("invoices", "list", "--client", "acme", "--json", "--state", "all").stdout
    assert after == before  # invoice 1001 was paid in the file, but nothing from it was stored


def test_plugins_list_shows_installed_plugins_and_load_errors(hub: Hub) -> None:
    listed = hub("plugins", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    data = json.loads(listed.stdout)
    names = [p["name"] for p in data["plugins"]]
    assert "generic_csv" in names and "alpha" in names
    errors = {e["name"]: e["error"] for e in data["errors"]}
    assert "fetch_open_invoice" in errors["misspelled"]

    narrowed = json.loads(
        hub("plugins", "list", "--json", env={"HUB_LOAD_PLUGINS": "alpha"}).stdout
    )
    assert [p["name"] for p in narrowed["plugins"]] == ["alpha"]


def test_secrets_are_never_printed_or_logged(hub: Hub, tmp_path: Path) -> None:
    assert hub("clients", "add", "acme", "--country", "NO").returncode == 0
    enabled = hub("clients", "enable", "acme", "alpha", "--set", f"api_token={SECRET}")
    assert enabled.returncode == 0, enabled.stderr
    outputs = [
        hub("clients", "show", "acme"),
        hub("clients", "show", "acme", "--json"),
        hub("clients", "list", "--json"),
        hub("-v", "sync", "acme", "--json"),
    ]
    for out in outputs:
        assert out.returncode == 0, out.stderr
        assert SECRET not in out.stdout + out.stderr
    shown = json.loads(outputs[1].stdout)
    assert shown["plugins"][0]["settings"]["api_token"] == "********"
    assert shown["currency"] == "NOK" and shown["timezone"] == "Europe/Oslo"


def test_settings_are_checked_against_the_plugin_schema(hub: Hub) -> None:
    hub("clients", "add", "acme", "--country", "DK")
    missing = hub("clients", "enable", "acme", "alpha")
    assert missing.returncode == 2 and "needs these settings" in missing.stderr
    assert "api_token" in missing.stderr
    assert hub("clients", "enable", "acme", "alpha", "--set", "api_token=t").returncode == 0

    wrong_type = hub("clients", "set", "acme", "page_size=many")
    assert wrong_type.returncode == 2 and "'page_size'" in wrong_type.stderr
    assert "whole number" in wrong_type.stderr
    unknown = hub("clients", "set", "acme", "pagesize=5")
    assert unknown.returncode == 2 and "no setting 'pagesize'" in unknown.stderr
    not_pair = hub("clients", "set", "acme", "page_size")
    assert not_pair.returncode == 2 and "key=value" in not_pair.stderr

    second = hub("clients", "enable", "acme", "generic_csv", "--set", "invoices_path=x")
    assert second.returncode == 2 and "already uses accounting plugin 'alpha'" in second.stderr
    assert hub("clients", "set", "acme", "page_size=250").returncode == 0
    settings = json.loads(hub("clients", "show", "acme", "--json").stdout)["plugins"][0]["settings"]
    assert settings["page_size"] == "250"


def test_bad_input_exits_2_and_changes_nothing(hub: Hub) -> None:
    assert hub("clients", "add", "acme", "--country", "DK").returncode == 0
    for args, expected in [
        (("clients", "add", "acme", "--country", "DK"), "exists already"),
        (("clients", "add", "bad name", "--country", "DK"), "client name"),
        (("clients", "add", "x", "--country", "SE"), "not supported"),
        (("clients", "add", "x", "--country", "DK", "--timezone", "Mars/Base"), "time zone"),
        (("--today", "2026-02-30", "clients", "list"), "not a date"),
        (("clients", "show", "ghost"), "no client named 'ghost'"),
        (("clients", "enable", "acme", "nope"), "no plugin named 'nope'"),
        (("sync", "ghost"), "no client named"),
    ]:
        out = hub(*args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert expected in out.stderr, (args, out.stderr)
        assert "Traceback" not in out.stderr
    usage = hub("clients", "frobnicate")
    assert usage.returncode == 2
    assert [c["name"] for c in json.loads(hub("clients", "list", "--json").stdout)] == ["acme"]


def _count(db_url: str, table: str) -> int:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
    finally:
        engine.dispose()


def test_remove_client(hub: Hub, tmp_path: Path, db_url: str) -> None:
    _csv_client(hub, tmp_path, DANISH_EXPORT)
    assert hub("sync", "acme").returncode == 0
    assert len(json.loads(hub("invoices", "list", "--client", "acme", "--json").stdout)) == 3
    assert _count(db_url, "invoices") == 3 and _count(db_url, "customers") == 3

    removed = hub("clients", "remove", "acme")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(hub("clients", "list", "--json").stdout) == []
    gone = hub("invoices", "list", "--client", "acme", "--json")
    assert gone.returncode == 2 and "no client named 'acme'" in gone.stderr
    for table in ("invoices", "customers", "client_plugins", "plugin_settings"):
        assert _count(db_url, table) == 0, table


def test_db_upgrade_and_current(hub: Hub) -> None:
    upgraded = hub("db", "upgrade")
    assert upgraded.returncode == 0 and "already at" in upgraded.stdout
    assert "this hub needs" in hub("db", "current").stdout


def test_an_unreachable_database_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    out = subprocess.run(
        [sys.executable, "-m", "hub.cli.main", "--db", url, "db", "upgrade"],
        capture_output=True,
        text=True,
        env={**os.environ, "HUB_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert "cannot open database postgresql+psycopg://nobody@127.0.0.1:1/none" in out.stderr
    assert "Traceback" not in out.stderr


FOUR_INVOICES = DANISH_EXPORT + (
    "1004;504;Fanø Fisk ApS;06.10.2026;20.10.2026;DKK;800,00;200,00;1.000,00;1.000,00\r\n"
)


def test_an_export_that_lost_its_rows_stops_the_sync_until_a_person_confirms(
    hub: Hub, tmp_path: Path
) -> None:
    """Issue 16: an export that lost 3 of 4 rows (export_scope=open: missing means paid) must
    not close 3 cases with exit 0; `--confirm-settle` lets it through once, and when the
    right file is back the cases the hub closed reopen, saying why."""
    export = _csv_client(hub, tmp_path, FOUR_INVOICES)
    assert hub("rules", "set", "acme", "auto_start=true").returncode == 0
    today = {"HUB_TODAY": "2026-10-25"}
    assert hub("sync", "acme", env=today).returncode == 0
    before = hub("cases", "list", "--client", "acme", "--json").stdout
    assert [c["state"] for c in json.loads(before)] == ["active"] * 4
    export.write_bytes("".join(FOUR_INVOICES.splitlines(keepends=True)[:2]).encode("cp1252"))

    refused = hub("sync", "acme", env=today)

    assert refused.returncode == 2
    assert "3 of the 4 open invoices of 'acme'" in refused.stderr
    assert "hub sync acme --confirm-settle" in refused.stderr
    assert hub("cases", "list", "--client", "acme", "--json").stdout == before
    as_json = hub("sync", "acme", "--json", env=today)
    assert as_json.returncode == 2
    report = json.loads(as_json.stdout)
    assert (report["outcome"], report["settled"]) == ("failed", 0)
    assert "--confirm-settle" in report["errors"][0]

    confirmed = hub("sync", "acme", "--confirm-settle", "--json", env=today)
    assert confirmed.returncode == 0, confirmed.stderr
    assert json.loads(confirmed.stdout)["dunning"]["closed"] == 3

    export.write_bytes(FOUR_INVOICES.encode("cp1252"))  # the right file is back
    back = hub("sync", "acme", "--json", env={"HUB_TODAY": "2026-10-26"})
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["dunning"]["reopened"] == 3
    listed = json.loads(hub("cases", "list", "--client", "acme", "--json").stdout)
    assert [c["state"] for c in listed] == ["active"] * 4
    shown = hub("cases", "show", str(listed[-1]["id"]))
    assert "reopened" in shown.stdout and "open again in the accounting system" in shown.stdout


def test_rules_show_says_why_R2_is_off_for_a_csv_client(hub: Hub, tmp_path: Path) -> None:
    _csv_client(hub, tmp_path, DANISH_EXPORT)
    shown = hub("rules", "show", "acme", "--json")
    assert shown.returncode == 0, shown.stderr
    rules = json.loads(shown.stdout)
    assert rules["auto_close_balance"] is False
    assert (
        "plugin 'generic_csv' does not report the ledger's own"
        in rules["why"]["auto_close_balance"]
    )
    assert (rules["settle_guard_percent"], rules["settle_guard_min"]) == ("50.00", 3)
    text = hub("rules", "show", "acme").stdout
    why = _rule_value(text, "auto_close_balance")
    assert why.startswith("false (off by default: plugin 'generic_csv'")  # the value, and why
    assert hub("rules", "set", "acme", "auto_close_balance=true").returncode == 0
    shown_again = hub("rules", "show", "acme").stdout
    assert _rule_value(shown_again, "auto_close_balance") == "true (on: set for this client)"


def _rule_value(table: str, rule: str) -> str:
    """The value ``hub rules show`` gives ``rule``: its cell's lines joined (it may wrap)."""
    lines = table.splitlines()
    header = next(line for line in lines if line.startswith("rule "))
    start, end = header.index("value"), header.index("meaning")
    at = next(n for n, line in enumerate(lines) if line.startswith(f"{rule} "))
    cell = [lines[at][start:end].strip()]
    for line in lines[at + 1 :]:
        if line[:start].strip():  # the next rule's row
            break
        cell.append(line[start:end].strip())
    return " ".join(part for part in cell if part)


def _freeze_cases(db_url: str) -> None:
    """The database refuses every new case (a trigger): the dunning step fails."""
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "sqlite":
                conn.execute(
                    sa.text(
                        "CREATE TRIGGER no_cases BEFORE INSERT ON cases"
                        " BEGIN SELECT RAISE(ABORT, 'cases are frozen'); END"
                    )
                )
            else:
                conn.execute(
                    sa.text(
                        "CREATE FUNCTION no_cases() RETURNS trigger AS $$ BEGIN"
                        " RAISE EXCEPTION 'cases are frozen'; END $$ LANGUAGE plpgsql"
                    )
                )
                conn.execute(
                    sa.text(
                        "CREATE TRIGGER no_cases BEFORE INSERT ON cases"
                        " FOR EACH ROW EXECUTE FUNCTION no_cases()"
                    )
                )
    finally:
        engine.dispose()


def _last_sync_run(hub: Hub) -> dict[str, object]:
    listed = hub("runs", "list", "--client", "acme", "--job", "sync", "--json")
    assert listed.returncode == 0, listed.stderr
    return dict(json.loads(listed.stdout)[0])


def test_sync_json_when_the_dunning_step_fails_still_prints_its_json_and_exits_1(
    hub: Hub, tmp_path: Path, db_url: str
) -> None:
    _csv_client(hub, tmp_path, DANISH_EXPORT)
    assert hub("rules", "set", "acme", "auto_start=true").returncode == 0
    _freeze_cases(db_url)
    synced = hub("sync", "acme", "--json", env={"HUB_TODAY": "2026-10-20"})
    assert synced.returncode == 1, synced.stderr
    report = json.loads(synced.stdout)
    assert report["outcome"] == "failed" and report["new"] == 3  # the invoices were synced
    assert report["failed_step"] == "dunning" and "cases are frozen" in report["error"]
    assert report["dunning"] is None and report["delivery"] is None  # no letter went out
    assert "dunning step failed" in synced.stderr and "Traceback" not in synced.stderr
    run = _last_sync_run(hub)
    assert run["outcome"] == "failed" and "cases are frozen" in str(run["error"])


def test_sync_whose_letters_failed_is_recorded_partial(
    hub: Hub, tmp_path: Path, hub_env: Path
) -> None:
    _csv_client(hub, tmp_path, DANISH_EXPORT)
    assert hub("rules", "set", "acme", "auto_start=true").returncode == 0
    hub_env.mkdir(parents=True, exist_ok=True)  # the letters go to its outbox/acme by default
    (hub_env / "outbox").write_text("a file where the outbox directory should be")
    synced = hub("sync", "acme", "--json", env={"HUB_TODAY": "2026-11-20"})
    assert synced.returncode == 0, synced.stderr
    report = json.loads(synced.stdout)
    assert report["delivery"]["failed"] > 0 and report["delivery"]["sent"] == 0
    assert report["outcome"] == "partial"
    run = _last_sync_run(hub)
    assert run["outcome"] == "partial", run
    assert "delivery" in str(run["error"])
