"""Benchmark: the daily dunning cycle for one client with N followed invoices.

Prints, on SQLite and PostgreSQL:
- baseline: loading every case with its invoice in one query (the least a cycle must read);
- start day: auto-starting N cases (no step due yet);
- first reminders: the day every case sends reminder 1 (N letters rendered and stored);
- quiet day: nothing due (the cost of looking);
- delivery of the N letters to the file outbox;
with cases per second and the ratio of each to the baseline.

Run: python bench/dunning_cycle.py [--invoices N] [--quick] [--no-postgres]
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from bench_databases import bench_main, csv_client, day_of, timed, write_due_export

from hub import clients
from hub.db import tables as t
from hub.dunning import rules as dunning_rules
from hub.dunning.states import MessageStatus
from hub.operations import sync as sync_ops

DUE = dt.date(2026, 1, 15)


def run(label: str, url: str, n: int, work: Path) -> None:
    export = work / f"open-{label}.csv"
    write_due_export(export, n)
    db, registry, box = csv_client(url, export, work / "books")
    with db.session() as session:
        clients.enable_plugin(
            session,
            registry,
            box,
            "bench",
            "file_outbox",
            {"directory": str(work / f"letters-{label}")},
        )
        dunning_rules.set_rules(
            session, clients.get_client(session, "bench"), {"auto_start": "true"}
        )
    first = day_of(db, registry, box, "bench", DUE + dt.timedelta(days=1))
    sync_ops.fetch_invoices(*first)

    def baseline() -> None:
        with db.session() as session:
            session.execute(
                sa.select(t.Case, t.Invoice).join(t.Invoice, t.Invoice.id == t.Case.invoice_id)
            ).all()

    t_start = timed(lambda: sync_ops.dunning_cycle(*first))
    t_base = min(timed(baseline) for _ in range(3))
    tenth = day_of(db, registry, box, "bench", DUE + dt.timedelta(days=10))
    t_remind = timed(lambda: sync_ops.dunning_cycle(*tenth))
    t_quiet = timed(lambda: sync_ops.dunning_cycle(*tenth))
    t_deliver = timed(lambda: sync_ops.deliver_messages(*tenth))
    with db.session() as session:
        sent = session.scalar(
            sa.select(sa.func.count()).where(t.Message.status == MessageStatus.SENT)
        )
    db.dispose()
    assert sent == n, sent

    def line(name: str, seconds: float) -> str:
        return (
            f"  {name:<30} {seconds * 1000:9.1f} ms  {n / seconds:9,.0f} cases/s"
            f"  {seconds / t_base:6.1f}x baseline"
        )

    print(f"{label}: {n:,} followed invoices")
    print(line("baseline (load cases+invoices)", t_base))
    print(line("start day (auto-start N)", t_start))
    print(line("first reminders (N letters)", t_remind))
    print(line("quiet day (nothing due)", t_quiet))
    print(line("deliver N letters (file)", t_deliver))


def main() -> None:
    bench_main(__doc__ or "", run, default=5000, quick=500)


if __name__ == "__main__":
    main()
