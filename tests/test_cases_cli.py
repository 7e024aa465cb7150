"""The dunning commands end to end: `hub` as a subprocess on a CSV client, day by day."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXPORT = (
    "Fakturanr;Kundenr;Kundenavn;E-mail;Fakturadato;Forfaldsdato;Valuta;Brutto\n"
    "1;10;Østergaard ApS;a@example.dk;01.01.2026;15.01.2026;DKK;1.250,00\n"
    "2;11;Blåbær I/S;b@example.dk;01.01.2026;15.01.2026;DKK;500,00\n"
)


@pytest.fixture
def hub(tmp_path: Path, hub_env: Path, db_url: str):  # type: ignore[no-untyped-def]
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        env = {
            **os.environ,
            "HUB_DATA_DIR": str(hub_env),
            "HUB_DATABASE_URL": db_url,
            "HUB_USER": "karen",
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

    export = tmp_path / "open.csv"
    export.write_text(EXPORT, encoding="utf-8")
    assert run("clients", "add", "dk", "--country", "DK").returncode == 0
    assert (
        run(
            "clients",
            "enable",
            "dk",
            "generic_csv",
            "--set",
            f"invoices_path={export}",
            "--set",
            f"outbox_dir={tmp_path / 'books'}",
        ).returncode
        == 0
    )
    return run


def ok(out: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert out.returncode == 0, out.stderr
    return out


def refused(out: subprocess.CompletedProcess[str], why: str) -> None:
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert why in out.stderr and "Traceback" not in out.stderr


def start(hub, invoice: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    """Start a case for the invoice on 10 Jan 2026; its JSON."""
    out = ok(
        hub(
            "--today",
            "2026-01-10",
            "cases",
            "start",
            "--client",
            "dk",
            "--invoice",
            invoice,
            "--json",
        )
    )
    return json.loads(out.stdout)  # type: ignore[no-any-return]


def test_cases_start_list_show_and_act(hub, hub_env: Path) -> None:  # type: ignore[no-untyped-def]
    ok(hub("--today", "2026-01-10", "sync", "dk"))
    started = start(hub, "1")
    case_id = started["id"]
    assert started["stage"] == "invoice" and started["outstanding_amount"] == "1250.00"
    refused(hub("cases", "start", "--client", "dk", "--invoice", "1"), "already followed")
    refused(hub("cases", "start", "--client", "dk", "--invoice", "99"), "no invoice '99'")

    report = json.loads(ok(hub("--today", "2026-01-25", "sync", "dk", "--json")).stdout)
    assert report["dunning"]["messages"] == 1 and report["dunning"]["stage_moves"] == 1
    assert report["delivery"]["sent"] == 1
    [row] = json.loads(ok(hub("--today", "2026-01-25", "cases", "list", "--json")).stdout)
    assert set(row) >= {
        "id",
        "client",
        "invoice_numbers",
        "customer_number",
        "stage",
        "state",
        "closed_by",
        "outstanding_amount",
        "fees_amount",
        "next_step_on",
    }
    assert (row["stage"], row["fees_amount"], row["next_step_on"]) == (
        "reminder",
        "100.00",
        "2026-02-05",
    )
    assert list((hub_env / "outbox" / "dk").glob("*.eml"))

    refused(
        hub(
            "--today",
            "2026-01-26",
            "cases",
            "payment",
            str(case_id),
            "--amount",
            "2000",
            "--date",
            "2026-01-26",
        ),
        "overpayment",
    )
    pay = ("--today", "2026-01-26", "cases", "payment", str(case_id))
    refused(
        hub(*pay, "--amount", "1.250", "--date", "2026-01-26"),
        "--amount: '1.250' is not an amount like 100.00 (ambiguous: 1250 if '.' groups"
        " thousands, 1.25 if it is the decimal mark; write 1250 (or 1.250,00) or 1.25)",
    )
    ok(
        hub(
            "--today",
            "2026-01-26",
            "cases",
            "payment",
            str(case_id),
            "--amount",
            "250,00",  # a Danish user writes a decimal comma (issue 20)
            "--date",
            "2026-01-26",
        )
    )
    ok(
        hub(
            "--today",
            "2026-01-26",
            "cases",
            "pause",
            str(case_id),
            "--reason",
            "called us",
            "--resume-on",
            "2026-02-10",
        )
    )
    refused(hub("cases", "pause", str(case_id), "--reason", "again"), "is paused")
    ok(hub("--today", "2026-01-27", "cases", "resume", str(case_id)))
    ok(hub("--today", "2026-01-27", "cases", "restart-flow", str(case_id)))
    # to collection: through the collection warning (D1), one way
    ok(hub("--today", "2026-01-27", "cases", "change-flow", str(case_id), "--to", "collection"))
    refused(hub("cases", "change-flow", str(case_id), "--to", "reminder"), "flow cannot change")
    refused(hub("cases", "restart-flow", str(case_id)), "flow cannot change")
    refused(
        hub("cases", "close", str(case_id), "--code", "paid", "--reason", "nope"),
        "does not go with code",
    )
    ok(
        hub(
            "--today",
            "2026-01-28",
            "cases",
            "close",
            str(case_id),
            "--code",
            "paid",
            "--reason",
            "paid_to_us",
            "--notify",
        )
    )

    shown = json.loads(ok(hub("cases", "show", str(case_id), "--json")).stdout)
    assert shown["state"] == "closed" and shown["closed_by"] == "user"
    assert shown["outstanding_amount"] == "1000.00"
    kinds = [e["kind"] for e in shown["events"]]
    assert kinds == [
        "started",
        "stage_changed",
        "step_sent",
        "payment",
        "paused",
        "resumed",
        "flow_restarted",
        "collection_warning_sent",
        "closed",
    ]
    assert {e["by"] for e in shown["events"] if e["kind"] in ("payment", "closed")} == {"karen"}
    assert [m["kind"] for m in shown["messages"]] == [
        "reminder_1",
        "collection_warning",
        "closing_confirmation",
    ]
    assert shown["collection_deadline"] == "2026-02-06"  # inkassoloven § 10: 10 days
    messages = json.loads(ok(hub("messages", "list", "--client", "dk", "--json")).stdout)
    # delivered at the next sync; the warning is cancelled, as its case closed before
    assert [m["status"] for m in messages] == ["sent", "queued", "queued"]


def test_credit_note_from_the_cli_posts_once(hub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok(hub("--today", "2026-01-10", "sync", "dk"))
    case_id = start(hub, "2")["id"]
    ok(hub("--today", "2026-01-11", "cases", "credit-note", str(case_id)))
    refused(hub("cases", "credit-note", str(case_id)), "is closed")
    assert len(list((tmp_path / "books").glob("creditnote-*.csv"))) == 1


def set_reminder_flow(hub, *steps: str) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
    return hub(
        "flows",
        "set",
        "--client",
        "dk",
        "--stage",
        "reminder",
        *(arg for step in steps for arg in ("--step", step)),
    )


def test_flows_and_rules_are_checked_against_the_law(hub) -> None:  # type: ignore[no-untyped-def]
    refused(
        set_reminder_flow(hub, "10;due_date;reminder;150"),
        "renteloven § 9 b",
    )
    refused(
        set_reminder_flow(hub, "10;due_date;reminder;100", "5;previous;reminder;100"),
        "10 days apart",
    )
    ok(set_reminder_flow(hub, "7;due_date;reminder;0", "7;previous;reminder;100"))
    flows = json.loads(ok(hub("flows", "show", "--client", "dk", "--json")).stdout)
    assert flows["flows"]["reminder"]["default"] is False
    assert [s["fee"] for s in flows["flows"]["reminder"]["steps"]] == ["0.00", "100.00"]
    assert flows["law"]["max_reminder_fee"] == "100.00"
    ok(hub("flows", "reset", "--client", "dk", "--stage", "reminder"))
    assert (
        json.loads(ok(hub("flows", "show", "--client", "dk", "--json")).stdout)["flows"][
            "reminder"
        ]["default"]
        is True
    )

    refused(hub("rules", "set", "dk", "auto_close_paid=perhaps"), "not true or false")
    refused(hub("rules", "set", "dk", "colour=blue"), "no rule 'colour'")
    ok(
        hub(
            "rules",
            "set",
            "dk",
            "auto_close_paid=false",
            "start_date=2026-01-01",
            "excluded_customers=11, 12",
        )
    )
    rules = json.loads(ok(hub("rules", "show", "dk", "--json")).stdout)
    assert rules["auto_close_paid"] is False and rules["excluded_customers"] == ["11", "12"]
    assert rules["start_date"] == "2026-01-01"


def test_collection_overview_and_write_off_from_the_cli(hub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ok(hub("--today", "2026-01-10", "sync", "dk"))
    case_id = start(hub, "1")["id"]
    refused(hub("--today", "2026-01-10", "cases", "collect", str(case_id)), "not overdue")
    out = ok(hub("--today", "2026-01-20", "cases", "collect", str(case_id)))
    assert "collection starts after 2026-01-30" in out.stdout  # inkassoloven § 10: 10 days
    shown = json.loads(
        ok(hub("--today", "2026-01-20", "cases", "show", str(case_id), "--json")).stdout
    )
    assert (shown["collection_deadline"], shown["next_step"], shown["next_step_on"]) == (
        "2026-01-30",
        "collection",
        "2026-01-31",
    )
    report = json.loads(ok(hub("--today", "2026-01-31", "sync", "dk", "--json")).stdout)
    assert report["dunning"]["collections_started"] == 1

    [row] = json.loads(ok(hub("collection", "overview", "--client", "dk", "--json")).stdout)
    assert (row["customer_number"], row["customer_name"]) == ("10", "Østergaard ApS")
    assert row["outstanding"] == {"DKK": "1250.00"}
    [entry] = row["invoices"]
    assert (entry["invoice_number"], entry["case"], entry["in_collection"]) == ("1", case_id, True)
    assert "Østergaard ApS" in ok(hub("collection", "overview", "--client", "dk")).stdout

    out = ok(hub("--today", "2026-02-01", "cases", "write-off", str(case_id)))
    assert "written off" in out.stdout and "3720 1250.00" in out.stdout
    again = ok(hub("--today", "2026-02-02", "cases", "write-off", str(case_id)))
    assert "nothing posted again" in again.stdout
    assert len(list((tmp_path / "books").glob("voucher-*.csv"))) == 1
    shown = json.loads(ok(hub("cases", "show", str(case_id), "--json")).stdout)
    assert (shown["state"], shown["close_code"]) == ("closed", "written_off")
    refused(hub("cases", "write-off", str(case_id), "--reason", "bored"), "reason 'bored'")


def test_customer_mode_from_the_cli_lists_what_is_missing(hub, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    out = hub("rules", "set", "dk", "reminder_mode=customer")
    refused(out, "customer reminders cannot be enabled")
    for missing in ("does not synchronise entries", "no operator has granted", "no general start"):
        assert missing in out.stderr
    refused(hub("clients", "grant", "dk", "customer_reminders"), "'karen' is not an operator")
    monkeypatch.setenv("HUB_OPERATORS", "karen")
    assert (
        "granted to dk by karen" in ok(hub("clients", "grant", "dk", "customer_reminders")).stdout
    )
    out = hub("rules", "set", "dk", "start_date=2026-01-01", "reminder_mode=customer")
    refused(out, "does not synchronise entries")  # the CSV plugin has no ledger entries
    assert "no operator" not in out.stderr and "start date" not in out.stderr
    rules = json.loads(ok(hub("rules", "show", "dk", "--json")).stdout)
    assert (rules["reminder_mode"], rules["start_date"]) == ("invoice", None)  # nothing changed
    refused(hub("rules", "set", "dk", "reminder_mode=sometimes"), "not one of invoice, customer")


def test_an_unfinished_write_off_is_abandoned_from_the_cli(hub, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The outbox cannot be written (the hub cannot tell whether the voucher got there): the
    write-off stays asked for and blocks the case until a person abandons it."""
    ok(hub("--today", "2026-01-10", "sync", "dk"))
    case_id = str(start(hub, "1")["id"])
    (tmp_path / "books").write_text("not a directory", encoding="utf-8")
    failed = hub("--today", "2026-02-01", "cases", "write-off", case_id)
    assert failed.returncode == 1, failed.stderr
    close = ("cases", "close", case_id, "--code", "dispute", "--reason", "customer_disputes_claim")
    refused(hub("--today", "2026-02-01", *close), "abandon-posting")
    refused(hub("cases", "abandon-posting", case_id, "--reason", " "), "needs a reason")
    out = ok(hub("--today", "2026-02-01", "cases", "abandon-posting", case_id, "--reason", "gone"))
    assert "abandoned" in out.stdout
    refused(hub("cases", "abandon-posting", case_id, "--reason", "again"), "nothing to abandon")
    shown = json.loads(ok(hub("cases", "show", case_id, "--json")).stdout)
    [event] = [e for e in shown["events"] if e["kind"] == "posting_abandoned"]
    assert (event["by"], event["reason"]) == ("karen", "gone")
    assert event["data"] == {"posting": "write_off", "key": f"writeoff:{case_id}"}
    ok(hub("--today", "2026-02-01", *close))
