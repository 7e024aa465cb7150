"""Benchmark: customer-mode reminders, the start of collection and the collection overview.

For one client with N overdue invoices over N/5 customers, on SQLite and PostgreSQL:
- baseline: the invoice-mode day on which all N cases send reminder 1 (N letters);
- customer mode: the day the N/5 customer cases start, and the day they send their
  consolidated reminders (N/5 letters covering N invoices);
- collection: the N/5 customer cases warned by hand and the N/5 warnings delivered (as
  `hub cases collect` does), then the day after
  the deadline, on which each hands its invoices over (N collection cases, N notices);
- the collection overview of those N invoices.
Each with the ratio to the baseline.

The CSV plugin does not synchronise entries, so the benchmark switches the stored mode itself
instead of through `hub rules set` (which would rightly refuse, C2); the cycle is the same.

Run: python bench/collection_cycle.py [--invoices N] [--quick] [--no-postgres]
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from bench_databases import bench_main, csv_client, day_of, timed, write_due_export

from hub import clients
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import actions
from hub.dunning import rules as dunning_rules
from hub.dunning.overview import collection_overview
from hub.dunning.states import CaseMode, CaseState, CloseCode
from hub.operations import sync as sync_ops
from hub.operations.context import ClientDay, Context
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox

DUE = dt.date(2026, 1, 15)


Step = Callable[[Context, ClientDay], object]


def on(db: Database, registry: PluginRegistry, box: SecretBox, day: int, fn: Step) -> float:
    """Seconds ``fn`` took for client bench on the simulated day ``day`` after the due date
    (the client resolved before the clock starts)."""
    ctx, client = day_of(db, registry, box, "bench", DUE + dt.timedelta(days=day))
    return timed(lambda: fn(ctx, client))


def run(label: str, url: str, n: int, work: Path) -> None:
    export = work / f"open-{label}.csv"
    write_due_export(export, n, customers=max(n // 5, 1))
    db, registry, box = csv_client(url, export, work / "books")
    with db.session() as session:
        client = clients.get_client(session, "bench")
        dunning_rules.set_rules(session, client, {"auto_start": "true", "start_date": "2026-01-01"})
        clients.enable_plugin(
            session,
            registry,
            box,
            "bench",
            "file_outbox",
            {"directory": str(work / f"out-{label}")},
        )
    on(db, registry, box, 1, sync_ops.fetch_invoices)
    on(db, registry, box, 1, sync_ops.dunning_cycle)
    t_base = on(db, registry, box, 10, sync_ops.dunning_cycle)  # invoice mode: N reminders

    with db.session() as session:  # a fresh start in customer mode (see the docstring)
        session.execute(
            sa.update(t.Case).values(
                state=CaseState.CLOSED.value, close_code=CloseCode.MODE_CHANGED.value
            )
        )
        session.execute(sa.update(t.ClientDunning).values(reminder_mode=CaseMode.CUSTOMER.value))
    t_start = on(db, registry, box, 11, sync_ops.dunning_cycle)
    t_remind = on(db, registry, box, 21, sync_ops.dunning_cycle)
    on(db, registry, box, 21, sync_ops.deliver_messages)  # the reminders, untimed
    with db.session() as session:
        consolidated = session.scalar(
            sa.select(sa.func.count()).where(t.Message.kind == "customer_reminder")
        )
        customer_cases = list(
            session.scalars(sa.select(t.Case.id).where(t.Case.mode == CaseMode.CUSTOMER))
        )

    def warn_all(ctx: Context, client: ClientDay) -> None:
        # as `hub cases collect`: the warning, then the outbox delivered
        with db.session() as session:
            for case_id in customer_cases:
                actions.send_to_collection(session, case_id, client.today, actor=ctx.actor.name)
        sync_ops.deliver_messages(ctx, client)

    t_warn = on(db, registry, box, 22, warn_all)
    t_collect = on(db, registry, box, 33, sync_ops.dunning_cycle)

    def overview(ctx: Context, client: ClientDay) -> None:
        with db.session() as session:
            rows = collection_overview(session, clients.get_client(session, "bench"), client.today)
        assert sum(len(r["invoices"]) for r in rows) == n

    t_overview = on(db, registry, box, 34, overview)
    with db.session() as session:
        in_collection = session.scalar(
            sa.select(sa.func.count()).where(t.Case.stage == "collection")
        )
    db.dispose()
    assert consolidated == len(customer_cases) == max(n // 5, 1), consolidated
    assert in_collection == n, in_collection

    def line(name: str, seconds: float, what: int, unit: str) -> str:
        return (
            f"  {name:<40} {seconds * 1000:9.1f} ms  {what / seconds:9,.0f} {unit}/s"
            f"  {seconds / t_base:6.2f}x baseline"
        )

    k = len(customer_cases)
    print(f"{label}: {n:,} overdue invoices over {k:,} customers")
    print(line("baseline: invoice-mode reminders (N)", t_base, n, "letters"))
    print(line("customer mode: start N/5 cases", t_start, k, "cases"))
    print(line("customer mode: N/5 consolidated letters", t_remind, k, "letters"))
    print(line("collection warnings by hand (N/5)", t_warn, k, "letters"))
    print(line("collection starts: N cases, N notices", t_collect, n, "cases"))
    print(line("collection overview (N invoices)", t_overview, n, "invoices"))


def main() -> None:
    bench_main(__doc__ or "", run, default=2000, quick=250)


if __name__ == "__main__":
    main()
