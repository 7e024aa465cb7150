"""Recurring agreements end to end: the generator on a real plugin (the CSV plugin's outbox),
on SQLite and PostgreSQL, and `hub recurring` as a subprocess."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import InputError, StorageError
from hub.plugins import PluginRegistry, load_plugins
from hub.recurring import agreements
from hub.recurring.generator import LEASE, run_recurring
from hub.recurring.schedule import AgreementLine, Terms
from hub.secrets import SecretBox
from tests.helpers import add_client_with_plugin

D = Decimal
NOW = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def registry() -> PluginRegistry:
    return load_plugins(honour_environment=False)


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "books"


@pytest.fixture
def client(
    db: Database, registry: PluginRegistry, box: SecretBox, tmp_path: Path, outbox: Path
) -> str:
    export = tmp_path / "open.csv"
    export.write_text("Fakturanr;Kundenr;Fakturadato;Forfaldsdato;Valuta;Brutto\n", "utf-8")
    settings = {"invoices_path": str(export), "outbox_dir": str(outbox)}
    add_client_with_plugin(db, registry, box, "nora", "generic_csv", settings, country="NO")
    return "nora"


def monthly(**kw: Any) -> Terms:
    base: dict[str, Any] = {
        "every": 1,
        "unit": "month",
        "first_invoice_date": dt.date(2026, 1, 1),
        "agreement_date": dt.date(2025, 12, 20),
        "end_date": dt.date(2026, 12, 15),
        "lines": (
            AgreementLine("Lisens", D("1.00"), D("3100.00"), "month", "3"),
            AgreementLine("Support", D("2.00"), D("250.00"), "fixed", "3"),
        ),
        "currency": "NOK",
    }
    base.update(kw)
    return Terms(**base)


def add(db: Database, client: str, terms: Terms, customer: str = "10") -> int:
    with db.session() as session:
        return agreements.add_agreement(session, client, customer, terms, "karen").id


def made(db: Database) -> list[t.RecurringInvoice]:
    with db.session() as session:
        return list(
            session.scalars(
                select(t.RecurringInvoice).order_by(
                    t.RecurringInvoice.agreement_id, t.RecurringInvoice.sequence
                )
            )
        )


def documents(outbox: Path, kind: str = "invoice") -> list[Path]:
    return sorted(outbox.glob(f"{kind}-*.csv")) if outbox.exists() else []


def run_days(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    client: str,
    first: dt.date,
    last: dt.date,
) -> list[dict[str, Any]]:
    generated: list[dict[str, Any]] = []
    day = first
    while day <= last:
        report = run_recurring(db, registry, box, client, day, now=NOW)
        assert not report.failed, report.failed
        generated += report.generated
        day += dt.timedelta(days=1)
    return generated


def test_a_year_of_monthly_invoices_with_prorated_first_and_last(
    db: Database, registry: PluginRegistry, box: SecretBox, client: str, outbox: Path
) -> None:
    agreement_id = add(db, client, monthly())
    generated = run_days(db, registry, box, client, dt.date(2025, 12, 1), dt.date(2027, 1, 31))
    rows = made(db)
    # 1 Dec is before the end date (15 Dec): made, billing 1–15 Dec.
    assert [r.invoice_date for r in rows] == [dt.date(2026, m, 1) for m in range(1, 13)]
    assert all(r.state == "created" and r.reference for r in rows)
    assert [g["invoice_date"] for g in generated] == [r.invoice_date.isoformat() for r in rows], (
        "each invoice made on its own day, once"
    )
    first, last = rows[0], rows[-1]
    # 21–31 Dec (11/31 of 3100 = 1100) + January 3100 + support 2 × 250.
    assert first.total == D("4700.00")
    assert (first.period_start, first.period_end) == (dt.date(2025, 12, 21), dt.date(2026, 1, 31))
    # 1–15 Dec (15/31 of 3100 = 1500) + support.
    assert last.total == D("2000.00")
    assert (last.period_start, last.period_end) == (dt.date(2026, 12, 1), dt.date(2026, 12, 15))
    assert {r.total for r in rows[1:-1]} == {D("3600.00")}
    assert len(documents(outbox)) == 12
    with db.session() as session:
        agreement = agreements.get_agreement(session, agreement_id)
        assert agreement.status == "inactive"
        assert agreement.status_reason == "end date 2026-12-15 reached"


def test_G3_a_fixed_price_agreement_bills_until_its_end_date_and_ends_on_it(
    db: Database, registry: PluginRegistry, box: SecretBox, client: str, outbox: Path
) -> None:
    """Issue 16, seed 004 ("when the end date is reached, it is set inactive"): the invoice
    dated before the end date is made, and the agreement is active until that day."""
    support = AgreementLine("Support", D("1.00"), D("1000.00"), "fixed", "3")
    terms = monthly(agreement_date=None, end_date=dt.date(2026, 3, 15), lines=(support,))
    agreement_id = add(db, client, terms)

    run_days(db, registry, box, client, dt.date(2026, 1, 1), dt.date(2026, 3, 14))

    rows = made(db)
    assert [(r.invoice_date, r.total) for r in rows] == [
        (dt.date(2026, 1, 1), D("1000.00")),
        (dt.date(2026, 2, 1), D("1000.00")),
        (dt.date(2026, 3, 1), D("1000.00")),
    ]
    assert len(documents(outbox)) == 3
    with db.session() as session:  # the day before the end date: not over yet
        agreement = agreements.get_agreement(session, agreement_id)
        assert (agreement.status, agreement.status_reason) == ("active", None)
        assert agreements.summarize(session, agreement).next_invoice_date is None

    report = run_recurring(db, registry, box, client, dt.date(2026, 3, 15), now=NOW)

    assert report.generated == [] and report.finished == [agreement_id]
    with db.session() as session:
        agreement = agreements.get_agreement(session, agreement_id)
        assert agreement.status == "inactive"
        assert agreement.status_reason == "end date 2026-03-15 reached"


def test_an_agreement_billed_through_its_end_date_by_the_older_rule_bills_no_day_twice(
    db: Database, registry: PluginRegistry, box: SecretBox, client: str, outbox: Path
) -> None:
    """Before issue 16's fix, the invoice before the last billed the days up to the end date
    (and the last was not made). An agreement recorded so is not billed those days again."""
    lisens = AgreementLine("Lisens", D("1.00"), D("3100.00"), "month", "3")
    terms = monthly(agreement_date=None, end_date=dt.date(2026, 3, 15), lines=(lisens,))
    agreement_id = add(db, client, terms)
    run_days(db, registry, box, client, dt.date(2026, 1, 1), dt.date(2026, 2, 1))
    with db.session() as session:  # February's invoice as the older rule recorded it
        row = session.scalars(
            select(t.RecurringInvoice).where(t.RecurringInvoice.sequence == 1)
        ).one()
        row.period_end = dt.date(2026, 3, 15)

    generated = run_days(db, registry, box, client, dt.date(2026, 2, 2), dt.date(2026, 3, 14))

    assert generated == [] and len(made(db)) == 2
    with db.session() as session:
        assert agreements.get_agreement(session, agreement_id).status == "active"
    report = run_recurring(db, registry, box, client, dt.date(2026, 3, 15), now=NOW)
    assert report.generated == [] and report.finished == [agreement_id]
    with db.session() as session:
        agreement = agreements.get_agreement(session, agreement_id)
        assert agreement.status_reason == "end date 2026-03-15 reached (billed through 2026-03-15)"


def test_G1_made_preparation_days_early_and_due_on_the_invoice_date(
    db: Database, registry: PluginRegistry, box: SecretBox, client: str, outbox: Path
) -> None:
    add(
        db,
        client,
        monthly(
            first_invoice_date=dt.date(2026, 11, 30),
            prep_days=10,
            no_credit_days=True,
            agreement_date=None,
            end_date=None,
        ),
    )
    assert not run_recurring(db, registry, box, client, dt.date(2026, 11, 19), now=NOW).generated
    report = run_recurring(db, registry, box, client, dt.date(2026, 11, 20), now=NOW)
    assert [(g["invoice_date"], g["sequence"]) for g in report.generated] == [("2026-11-30", 0)]
    row = made(db)[0]
    assert (row.generate_on, row.due_date) == (dt.date(2026, 11, 20), dt.date(2026, 11, 30))
    content = documents(outbox)[0].read_text("utf-8")
    assert "2026-11-30" in content


def test_a_late_run_catches_up_in_order_and_a_repeat_makes_nothing(
    db: Database, registry: PluginRegistry, box: SecretBox, client: str, outbox: Path
) -> None:
    add(db, client, monthly())
    report = run_recurring(db, registry, box, client, dt.date(2026, 4, 15), now=NOW)
    assert [g["sequence"] for g in report.generated] == [0, 1, 2, 3]
    again = run_recurring(db, registry, box, client, dt.date(2026, 4, 15), now=NOW)
    assert again.generated == [] and again.reconciled == 0
    assert len(documents(outbox)) == 4


def test_G3_maximum_count_then_inactive(
    db: Database, registry: PluginRegistry, box: SecretBox, client: str
) -> None:
    agreement_id = add(db, client, monthly(max_count=2, end_date=None))
    report = run_recurring(db, registry, box, client, dt.date(2027, 1, 1), now=NOW)
    assert len(report.generated) == 2
    assert report.finished == [agreement_id]
    with db.session() as session:
        assert agreements.get_agreement(session, agreement_id).status_reason == (
            "maximum count 2 reached"
        )


def test_orders_where_the_agreement_produces_orders(
    db: Database, registry: PluginRegistry, box: SecretBox, client: str, outbox: Path
) -> None:
    add(db, client, monthly(produce="order", max_count=3))
    run_recurring(db, registry, box, client, dt.date(2026, 3, 1), now=NOW)
    assert len(documents(outbox, "order")) == 3 and documents(outbox, "invoice") == []
    assert {r.kind for r in made(db)} == {"order"}


def test_G6_a_send_that_failed_is_retried_with_the_recorded_request(
    db: Database, registry: PluginRegistry, box: SecretBox, client: str, outbox: Path
) -> None:
    """The outbox is unwritable at first: the invoice stays recorded, pending, and the next
    run (a day later) sends the very request recorded, dated as first planned."""
    add(db, client, monthly())
    outbox.parent.mkdir(parents=True, exist_ok=True)
    outbox.write_text("not a directory", "utf-8")
    report = run_recurring(db, registry, box, client, dt.date(2026, 1, 1), now=NOW)
    assert report.generated == [] and len(report.failed) == 1
    assert report.failed[0]["sequence"] == 0
    (row,) = made(db)
    assert row.state == "pending" and row.attempts == 1 and row.last_error
    assert row.claimed_until is None, "a failed send lets its lease go"
    outbox.unlink()
    later = run_recurring(db, registry, box, client, dt.date(2026, 1, 2), now=NOW)
    assert [g["sequence"] for g in later.generated] == [0] and later.reconciled == 1
    (row,) = made(db)
    assert row.state == "created" and row.invoice_date == dt.date(2026, 1, 1)
    assert "2026-01-01" in documents(outbox)[0].read_text("utf-8")


def test_G6_a_lost_confirmation_is_reconciled_not_made_again(
    db: Database, registry: PluginRegistry, box: SecretBox, client: str, outbox: Path
) -> None:
    """The plugin made the invoice but the hub never stored its answer (a crash): the next
    run asks again under the same key and gets the same document."""
    add(db, client, monthly())
    run_recurring(db, registry, box, client, dt.date(2026, 1, 1), now=NOW)
    (row,) = made(db)
    reference = row.reference
    with db.session() as session:  # the state a crash after the plugin's write leaves
        stored = session.get(t.RecurringInvoice, row.id)
        assert stored is not None
        stored.state, stored.reference = "pending", None
        stored.claimed_until = NOW + LEASE
    busy = run_recurring(db, registry, box, client, dt.date(2026, 1, 1), now=NOW)
    assert busy.generated == [] and busy.busy == [row.agreement_id], "the lease is respected"
    after = NOW + LEASE + dt.timedelta(seconds=1)
    report = run_recurring(db, registry, box, client, dt.date(2026, 1, 1), now=after)
    assert report.reconciled == 1
    assert [g["reference"] for g in report.generated] == [reference]
    assert len(documents(outbox)) == 1


def test_G6_two_generators_cannot_record_the_same_invoice(db: Database, client: str) -> None:
    agreement_id = add(db, client, monthly())
    with db.session() as session:
        session.add(_row(agreement_id, 0, "k-0"))
    with pytest.raises(StorageError, match="refused the change"), db.session() as session:
        session.add(_row(agreement_id, 0, "k-other"))


def _row(agreement_id: int, sequence: int, key: str) -> t.RecurringInvoice:
    day = dt.date(2026, 1, 1)
    return t.RecurringInvoice(
        agreement_id=agreement_id,
        sequence=sequence,
        idempotency_key=key,
        kind="invoice",
        generate_on=day,
        invoice_date=day,
        due_date=day,
        period_start=day,
        period_end=day,
        currency="NOK",
        total=D("1.00"),
        request={},
        state="pending",
    )


def test_deactivated_agreements_make_nothing_more_but_pending_ones_are_reconciled(
    db: Database, registry: PluginRegistry, box: SecretBox, client: str, outbox: Path
) -> None:
    agreement_id = add(db, client, monthly())
    outbox.parent.mkdir(parents=True, exist_ok=True)
    outbox.write_text("not a directory", "utf-8")
    run_recurring(db, registry, box, client, dt.date(2026, 1, 1), now=NOW)
    with db.session() as session:
        agreements.deactivate(session, agreement_id, client, "customer left")
    outbox.unlink()
    report = run_recurring(db, registry, box, client, dt.date(2026, 6, 1), now=NOW)
    assert [g["sequence"] for g in report.generated] == [0], "only the recorded one"
    assert len(made(db)) == 1


def test_an_agreement_in_another_currency_than_the_clients_is_refused(
    db: Database, client: str
) -> None:
    with pytest.raises(InputError, match="the agreement is in DKK, but client 'nora' bills in NOK"):
        add(db, client, monthly(currency="DKK"))


# -- the CLI -------------------------------------------------------------------------------------


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

    return run


def ok(out: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert out.returncode == 0, (out.stdout, out.stderr)
    return out


def refused(out: subprocess.CompletedProcess[str], why: str) -> None:
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert why in out.stderr and "Traceback" not in out.stderr


@pytest.fixture
def preview(capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    """`hub recurring preview` in this process (it touches no database): exit code, output."""
    from hub.cli.main import main

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        code = main(["recurring", "preview", *args])
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run


def test_preview_reproduces_the_seeds_first_example(preview: Any) -> None:
    out = ok(
        preview(
            "--every",
            "1",
            "--unit",
            "month",
            "--next-invoice-date",
            "2022-11-30",
            "--prep-days",
            "10",
            "--no-credit-days",
            "--line",
            "Regnskapsbistand;1;2500.00;fixed",
            "--count",
            "1",
            "--json",
        )
    )
    (invoice,) = json.loads(out.stdout)
    assert {k: invoice[k] for k in ("generate_on", "invoice_date", "due_date")} == {
        "generate_on": "2022-11-20",
        "invoice_date": "2022-11-30",
        "due_date": "2022-11-30",
    }
    assert invoice["total"] == "2500.00"


def test_preview_reproduces_the_seeds_second_example(preview: Any) -> None:
    out = ok(
        preview(
            "--every",
            "1",
            "--unit",
            "month",
            "--next-invoice-date",
            "2022-11-01",
            "--agreement-date",
            "2022-10-20",
            "--line",
            "Lisens;1;3100.00;month",
            "--count",
            "2",
            "--json",
        )
    )
    first, second = json.loads(out.stdout)
    assert [(x["description"], x["amount"]) for x in first["lines"]] == [
        ("Lisens, 21.10.2022–31.10.2022", "1100.00"),
        ("Lisens, 01.11.2022–30.11.2022", "3100.00"),
    ]
    assert (first["period_start"], first["period_end"], first["total"]) == (
        "2022-10-21",
        "2022-11-30",
        "4200.00",
    )
    assert [(x["description"], x["amount"]) for x in second["lines"]] == [
        ("Lisens, 01.12.2022–31.12.2022", "3100.00")
    ]


def test_a_line_may_be_written_with_decimal_commas_and_thousands() -> None:
    line = agreements.parse_line("Konsulent;1,5;1.250,00;fixed")
    assert (line.quantity, line.unit_price) == (Decimal("1.50"), Decimal("1250.00"))


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (["--unit", "fortnight"], "unit 'fortnight' is not one of day, week, month, year"),
        (
            ["--line", "Lisens;1;3.100;month"],
            "unit price: '3.100' is not an amount like 100.00 (ambiguous",
        ),
        # Issue 16: Decimal reads these; a person typing them meant something else.
        (
            ["--line", "Lisens;1e3;31.00;month"],
            "quantity: '1e3' is not an amount like 100.00 (exponent notation",
        ),
        (["--line", "Lisens;1;NaN;month"], "unit price: 'NaN' is not an amount like 100.00"),
        (["--line", "Lisens;Infinity;1.00;month"], "'Infinity' is not an amount like 100.00"),
        (["--line", "Lisens;1;3.1E+3;month"], "unit price: '3.1E+3' is not an amount"),
        (["--line", "Lisens;1;3100.00"], "give 'description;quantity;unit price;price factor'"),
        (["--line", "Lisens;1;3100.00;weekly"], "price factor 'weekly' is not one of"),
        (["--next-invoice-date", "30.11.2022"], "--next-invoice-date: '30.11.2022' is not a date"),
        (["--end-date", "2022-01-01"], "end date 2022-01-01 is before the next invoice date"),
        (["--count", "0"], "--count 0 must be 1 or more"),
    ],
)
def test_preview_refuses_bad_terms_with_the_reason(preview: Any, args: list[str], why: str) -> None:
    base = {
        "--every": "1",
        "--unit": "month",
        "--next-invoice-date": "2022-11-30",
        "--line": "Lisens;1;3100.00;month",
    }
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = [x for k, v in {**base, **given}.items() for x in (k, v)]
    refused(preview(*argv), why)


def test_add_list_show_run_and_deactivate(hub: Any, tmp_path: Path) -> None:
    export = tmp_path / "open.csv"
    export.write_text("Fakturanr;Kundenr;Fakturadato;Forfaldsdato;Valuta;Brutto\n", "utf-8")
    ok(hub("clients", "add", "nora", "--country", "NO"))
    ok(
        hub(
            "clients",
            "enable",
            "nora",
            "generic_csv",
            "--set",
            f"invoices_path={export}",
            "--set",
            f"outbox_dir={tmp_path / 'books'}",
        )
    )
    refused(
        hub(
            "--today",
            "2025-12-15",
            "recurring",
            "add",
            "--client",
            "nora",
            "--customer",
            "10",
            "--every",
            "1",
            "--unit",
            "month",
            "--next-invoice-date",
            "2026-01-01",
            "--line",
            "Lisens;1;3100.00;month",
            "--max-count",
            "0",
        ),
        "maximum count 0",
    )
    assert json.loads(ok(hub("recurring", "list", "--json")).stdout) == [], "nothing stored"
    added = json.loads(
        ok(
            hub(
                "--today",
                "2025-12-15",
                "recurring",
                "add",
                "--client",
                "nora",
                "--customer",
                "10",
                "--every",
                "1",
                "--unit",
                "month",
                "--produce",
                "order",
                "--next-invoice-date",
                "2026-01-01",
                "--agreement-date",
                "2025-12-20",
                "--line",
                "Lisens;1;3100.00;month;3",
                "--max-count",
                "12",
                "--json",
            )
        ).stdout
    )
    assert added["first_invoice"]["total"] == "4200.00"
    assert added["next_invoice_date"] == "2026-01-01"
    ran = json.loads(
        ok(hub("--today", "2026-02-01", "recurring", "run", "--client", "nora", "--json")).stdout
    )
    assert [(g["sequence"], g["kind"]) for g in ran["generated"]] == [(0, "order"), (1, "order")]
    (listed,) = json.loads(ok(hub("recurring", "list", "--client", "nora", "--json")).stdout)
    assert (listed["generated"], listed["next_invoice_date"]) == (2, "2026-03-01")
    shown = json.loads(ok(hub("recurring", "show", str(added["id"]), "--json")).stdout)
    assert [h["state"] for h in shown["history"]] == ["created", "created"]
    assert shown["lines"][0]["vat_code"] == "3"
    assert shown["upcoming"][0]["invoice_date"] == "2026-03-01"
    ok(
        hub(
            "recurring",
            "deactivate",
            str(added["id"]),
            "--client",
            "nora",
            "--reason",
            "customer left",
        )
    )
    refused(
        hub("recurring", "deactivate", str(added["id"]), "--client", "nora"),
        "already inactive (customer left (karen))",
    )
    again = json.loads(
        ok(hub("--today", "2026-06-01", "recurring", "run", "--client", "nora", "--json")).stdout
    )
    assert again["generated"] == []
    human = ok(hub("recurring", "list")).stdout
    assert "inactive (customer left (karen))" in human


def test_add_refuses_a_client_whose_plugin_cannot_make_it(hub: Any) -> None:
    ok(hub("clients", "add", "bare", "--country", "NO"))
    refused(
        hub(
            "--today",
            "2025-12-15",
            "recurring",
            "add",
            "--client",
            "bare",
            "--customer",
            "10",
            "--every",
            "1",
            "--unit",
            "month",
            "--next-invoice-date",
            "2026-01-01",
            "--line",
            "Lisens;1;3100.00;month",
        ),
        "client 'bare' has no accounting plugin enabled",
    )
    refused(hub("recurring", "show", "99"), "no recurring agreement 99")


def test_add_refuses_a_quantity_in_exponent_notation_and_stores_nothing(
    hub: Any, tmp_path: Path
) -> None:
    export = tmp_path / "open.csv"
    export.write_text("Fakturanr;Kundenr;Fakturadato;Forfaldsdato;Valuta;Brutto\n", "utf-8")
    ok(hub("clients", "add", "nora", "--country", "NO"))
    ok(hub("clients", "enable", "nora", "generic_csv", "--set", f"invoices_path={export}",
           "--set", f"outbox_dir={tmp_path / 'books'}"))  # fmt: skip
    args = ["--today", "2026-01-15", "recurring", "add", "--client", "nora", "--customer", "10",
            "--every", "1", "--unit", "month", "--next-invoice-date", "2026-01-31"]  # fmt: skip
    refused(
        hub(*args, "--line", "Hosting;1e3;499.00;fixed"),
        "--line 'Hosting;1e3;499.00;fixed': quantity: '1e3' is not an amount like 100.00"
        " (exponent notation: write the number out)",
    )
    assert json.loads(ok(hub("recurring", "list", "--json")).stdout) == []
    ok(hub(*args, "--line", "Hosting;1000;499.00;fixed"))


def test_add_refuses_a_first_invoice_before_today_unless_backdating(
    hub: Any, tmp_path: Path
) -> None:
    export = tmp_path / "open.csv"
    export.write_text("Fakturanr;Kundenr;Fakturadato;Forfaldsdato;Valuta;Brutto\n", "utf-8")
    ok(hub("clients", "add", "nora", "--country", "NO"))
    ok(hub("clients", "enable", "nora", "generic_csv", "--set", f"invoices_path={export}",
           "--set", f"outbox_dir={tmp_path / 'books'}"))  # fmt: skip
    args = ["recurring", "add", "--client", "nora", "--customer", "10", "--every", "1",
            "--unit", "month", "--next-invoice-date", "2026-01-31",
            "--line", "Lisens;1;100.00;month"]  # fmt: skip
    refused(
        hub("--today", "2026-04-15", *args),
        "the first invoice would be made on 2026-01-31, before today (2026-04-15), and the next"
        " run would make 3 back-dated at once; pass --backdate",
    )
    assert json.loads(ok(hub("recurring", "list", "--json")).stdout) == []
    ok(hub("--today", "2026-04-15", *args, "--backdate"))


def test_abandoning_an_invoice_the_system_refuses_lets_the_agreement_go_on(
    db: Database, registry: PluginRegistry, box: SecretBox, client: str, outbox: Path
) -> None:
    agreement_id = add(db, client, monthly())
    outbox.parent.mkdir(parents=True, exist_ok=True)
    outbox.write_text("not a directory", "utf-8")
    assert run_recurring(db, registry, box, client, dt.date(2026, 1, 1), now=NOW).failed
    later = NOW + dt.timedelta(hours=1)
    with db.session() as session:
        with pytest.raises(InputError, match="recorded no invoice 2"):
            agreements.abandon(session, agreement_id, client, 1, "typo", later)
        agreements.abandon(session, agreement_id, client, 0, "VAT code wrong (karen)", later)
    outbox.unlink()
    report = run_recurring(db, registry, box, client, dt.date(2026, 2, 1), now=later)
    assert [g["sequence"] for g in report.generated] == [1], "the next one, not the abandoned"
    first, second = made(db)
    assert first.state == "abandoned" and first.last_error is not None
    assert first.last_error.startswith("abandoned: VAT code wrong (karen) (last error:")
    assert second.state == "created"
    assert len(documents(outbox)) == 1
    with db.session() as session, pytest.raises(InputError, match="only a pending invoice"):
        agreements.abandon(session, agreement_id, client, 1, "no", later)


def test_an_invoice_being_sent_cannot_be_abandoned(db: Database, client: str) -> None:
    agreement_id = add(db, client, monthly())
    with db.session() as session:
        row = _row(agreement_id, 0, "k-0")
        row.claimed_until = NOW + LEASE
        session.add(row)
    with db.session() as session, pytest.raises(InputError, match="being sent right now"):
        agreements.abandon(session, agreement_id, client, 0, "stop", NOW)


def test_an_agreement_that_plans_an_amount_too_large_fails_alone(
    db: Database, registry: PluginRegistry, box: SecretBox, client: str, outbox: Path
) -> None:
    """An agreement stored before amounts were checked, or edited in the database, cannot stop
    the client's other agreements."""
    broken = add(db, client, monthly())
    add(db, client, monthly(), customer="11")
    with db.session() as session:
        for line in agreements.get_agreement(session, broken).lines:
            line.quantity = D("9999999999999.00")
    report = run_recurring(db, registry, box, client, dt.date(2026, 1, 1), now=NOW)
    assert [(f["agreement"], f["sequence"]) for f in report.failed] == [(broken, 0)]
    assert "the amount is too large" in report.failed[0]["error"]
    assert [g["agreement"] for g in report.generated] == [broken + 1]


@pytest.mark.parametrize("raw", ["ten", "0", "-5", "1.5"])
def test_a_lease_that_is_not_whole_seconds_is_refused_with_its_name(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    client: str,
    monkeypatch: pytest.MonkeyPatch,
    raw: str,
) -> None:
    monkeypatch.setenv("HUB_RECURRING_LEASE", raw)
    with pytest.raises(InputError, match=f"HUB_RECURRING_LEASE: '{raw}' is not a whole number"):
        run_recurring(db, registry, box, client, dt.date(2026, 1, 1), now=NOW)
