"""Benchmark: the recurring-invoice generator (G1–G6) for one client with N agreements.

On SQLite and PostgreSQL, with the CSV plugin's outbox as the accounting system:
- baseline: the plugin's create_invoice called directly for N drafts (what writing N invoices
  costs with no generator at all);
- the first day: N invoices recorded, sent and confirmed, exactly once each;
- the same day again: N agreements checked, nothing due, nothing sent;
- a late run three months on: 3N invoices made in order (the catch-up);
- the schedule arithmetic alone: 12 planned invoices for each of the N agreements.
Each with the ratio to the baseline.

Run: python bench/recurring.py [--invoices N] [--quick] [--no-postgres]
(``--invoices`` is the number of agreements.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from bench_databases import CLIENT, bench_main, csv_client, timed

from hub import clients
from hub.clock import Clock
from hub.db import tables as t
from hub.model import DraftLine, InvoiceDraft, PluginSettings
from hub.recurring.agreements import add_agreement
from hub.recurring.generator import run_recurring
from hub.recurring.schedule import AgreementLine, Terms, plan

FIRST = dt.date(2026, 1, 1)
TERMS = Terms(
    every=1,
    unit="month",
    first_invoice_date=FIRST,
    agreement_date=dt.date(2025, 12, 20),
    currency="DKK",
    lines=(
        AgreementLine("Abonnement", Decimal("1.00"), Decimal("3100.00"), "month"),
        AgreementLine("Support", Decimal("2.00"), Decimal("250.00"), "fixed"),
    ),
)


def run(label: str, url: str, n: int, work: Path) -> None:
    export = work / f"open-{label}.csv"
    export.write_text("invoice_number;customer_number;invoice_date;due_date;gross_amount\n")
    db, registry, box = csv_client(url, export, work / f"books-{label}")
    with db.session() as session:
        for i in range(n):
            add_agreement(session, CLIENT, str(1000 + i), TERMS, "bench")
        client = clients.get_client(session, CLIENT)
        ctx = clients.client_context(client, registry, box, today=Clock().today(client.timezone))

    # Baseline: the same writes straight to the plugin, in an outbox of their own.
    settings = {**dict(ctx.settings), "outbox_dir": str(work / f"base-{label}")}
    baseline_ctx = dataclasses.replace(ctx, settings=PluginSettings(settings))
    baseline_plugin = registry.for_client(baseline_ctx)
    drafts = [
        InvoiceDraft(
            idempotency_key=f"baseline:{i}",
            kind="invoice",
            customer_number=str(1000 + i),
            invoice_date=FIRST,
            due_date=FIRST + dt.timedelta(days=14),
            currency="DKK",
            lines=(DraftLine("Abonnement", Decimal("1.00"), Decimal("3100.00")),),
        )
        for i in range(n)
    ]
    t_base = timed(lambda: [baseline_plugin.create_invoice(d) for d in drafts])

    def day(on: dt.date) -> int:
        report = run_recurring(db, registry, box, CLIENT, on)
        assert not report.failed, report.failed[:3]
        return len(report.generated)

    made: list[int] = []
    t_first = timed(lambda: made.append(day(FIRST)))
    t_again = timed(lambda: made.append(day(FIRST)))
    t_late = timed(lambda: made.append(day(dt.date(2026, 4, 1))))
    assert made == [n, 0, 3 * n], made
    with db.session() as session:
        rows = session.scalar(sa.select(sa.func.count()).select_from(t.RecurringInvoice))
        created = session.scalar(
            sa.select(sa.func.count()).where(t.RecurringInvoice.state == "created")
        )
    assert rows == created == 4 * n, (rows, created)
    outbox = len(list((work / f"books-{label}").glob("invoice-*.csv")))
    assert outbox == 4 * n, outbox
    db.dispose()
    t_plan = timed(lambda: [list(itertools.islice(plan(TERMS), 12)) for _ in range(n)])

    def line(name: str, seconds: float, what: int, unit: str) -> str:
        return (
            f"  {name:<44} {seconds * 1000:9.1f} ms  {what / seconds:9,.0f} {unit}/s"
            f"  {seconds / t_base:6.2f}x baseline"
        )

    print(f"{label}: {n:,} monthly agreements of one client, the CSV outbox as the system")
    print(line("baseline: plugin.create_invoice x N", t_base, n, "invoices"))
    print(line("first day: N recorded, sent, confirmed", t_first, n, "invoices"))
    print(line("same day again: N checked, none due", t_again, n, "agreements"))
    print(line("three months late: 3N made in order", t_late, 3 * n, "invoices"))
    print(line("schedule arithmetic: 12 planned x N", t_plan, 12 * n, "invoices"))


def main() -> None:
    bench_main(__doc__ or "", run, default=2000, quick=200)


if __name__ == "__main__":
    main()
