"""Benchmark: the daemon following many clients, on SQLite and PostgreSQL.

N clients, each a CSV export of 20 open invoices read through generic_csv. Prints, for each
database:
- first syncs: every client's first sync of the day, one after another (cases start, letters
  go out), for scale;
- baseline: every client's sync job again, one after another in this thread, without a
  scheduler (the same job function the daemon runs, the same work as the daemon's run);
- daemon: a started daemon (4 workers) running every client's sync job once, from start until
  the last run is recorded: the scheduler's, the job store's and the run history's cost, and
  what the thread pool wins or loses against the baseline (SQLite takes one writer at a time);
- daemon start: loading the jobs of N clients from the job store into a fresh daemon and
  comparing them with the schedule (a restart);
- /metrics and /healthz: one scrape each with N clients' cases, messages and runs in the
  database;
then N/5 e-conomic clients over real HTTP to the fake e-conomic, each answer 50 ms late as a
remote API's is: syncs in a row against the daemon, where its pool pays off.

Run: python bench/daemon.py [--clients N] [--quick] [--no-postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

import httpx
from bench_databases import each_database, write_due_export
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from hub import clients
from hub import logging as hub_logging
from hub.clock import Clock, parse_date
from hub.daemon.health import HealthServer
from hub.daemon.jobs import run_job
from hub.daemon.scheduler import Daemon
from hub.daemon.schedules import parse
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import rules as dunning_rules
from hub.operations.context import Actor, Context, Services
from hub.operations.runs import JobKind, Outcome
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from hub.testing.fakes.economic import EconomicServer, FakeEconomic, Fault

INVOICES = 20
TODAY = parse_date("2026-02-10", what="today")
SCHEDULE = """
[daemon]
max_workers = 4
refresh_seconds = 3600

[jobs.sync]
trigger = "interval"
days = 1
"""


def _clients(ctx: Context, n: int, work: Path) -> list[str]:
    names = []
    with ctx.db.session() as session:
        for i in range(n):
            name = f"bench-{i:04d}"
            export = work / f"{name}.csv"
            write_due_export(export, INVOICES, customers=5)
            clients.add_client(session, name, "DK")
            clients.enable_plugin(
                session,
                ctx.registry,
                ctx.box,
                name,
                "generic_csv",
                {"invoices_path": str(export), "outbox_dir": str(work / "books")},
            )
            dunning_rules.set_rules(
                session, clients.get_client(session, name), {"auto_start": "true"}
            )
            names.append(name)
    return names


def _ok_syncs(db: Database, after: int) -> int:
    """Syncs recorded ok with an id above ``after``."""
    with db.session() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(t.JobRun)
                .where(t.JobRun.outcome == Outcome.OK, t.JobRun.id > after)
            )
            or 0
        )


def _last_run(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.max(t.JobRun.id))) or 0


def run(label: str, url: str, n: int, work: Path) -> None:
    db = Database(url)
    ctx = Context(
        Services(db, load_plugins(), SecretBox(Fernet.generate_key())),
        Actor("bench"),
        Clock(fixed=TODAY),
    )
    names = _clients(ctx, n, work)
    schedule = parse(SCHEDULE, "bench.toml")
    started = time.perf_counter()
    for name in names:  # cases start, letters go out: the day's work is done
        assert run_job(ctx, JobKind.SYNC, name).outcome == Outcome.OK
    first = time.perf_counter() - started
    started = time.perf_counter()
    for name in names:  # the same again: what every later sync of the day does
        assert run_job(ctx, JobKind.SYNC, name).outcome == Outcome.OK
    baseline = time.perf_counter() - started

    daemon = Daemon(ctx, schedule)
    before = _last_run(db)
    started = time.perf_counter()
    daemon.start()
    while _ok_syncs(db, before) < n:
        time.sleep(0.1)  # rarely: polling must not slow the daemon it measures
    scheduled = time.perf_counter() - started
    daemon.request_stop()
    daemon.stop()

    started = time.perf_counter()
    again = Daemon(ctx, schedule)
    again.start()
    restart = time.perf_counter() - started
    again.request_stop()
    again.stop()

    with HealthServer(db, lambda: True) as health:
        scrape = {}
        for path in ("metrics", "healthz"):
            httpx.get(f"{health.url}/{path}")  # warm
            t0 = time.perf_counter()
            response = httpx.get(f"{health.url}/{path}")
            scrape[path] = time.perf_counter() - t0
            assert response.status_code == 200, response.text
    db.dispose()

    def rate(seconds: float) -> str:
        return f"{seconds:7.2f} s  {n / seconds:8.1f} clients/s"

    print(f"{label}: {n} clients, {INVOICES} open invoices each")
    print(f"  first syncs, in a row     {rate(first)}  (cases started, letters sent)")
    print(f"  baseline: syncs in a row  {rate(baseline)}")
    print(f"  daemon (4 workers)        {rate(scheduled)}  ×{scheduled / baseline:.2f} of baseline")
    print(f"  daemon restart            {restart:7.2f} s  ({n} stored jobs checked)")
    print(f"  /metrics scrape           {scrape['metrics'] * 1000:7.1f} ms")
    print(f"  /healthz                  {scrape['healthz'] * 1000:7.1f} ms")


def remote(n: int, work: Path) -> None:
    """The same on e-conomic clients over HTTP, each answer 50 ms late, as a remote API is:
    where the daemon's pool pays off."""
    db = Database(f"sqlite:///{work / 'remote.sqlite3'}")
    ctx = Context(
        Services(db, load_plugins(), SecretBox(Fernet.generate_key())),
        Actor("bench"),
        Clock(fixed=TODAY),
    )
    fake = FakeEconomic(today=TODAY)
    with EconomicServer(fake) as server:
        with db.session() as session:
            for i in range(n):
                agreement = fake.add_agreement(f"app-{i}", f"grant-{i}", f"Firma {i} ApS")
                agreement.add_customer(1, "Kunde ApS", email="k@example.dk")
                for number in range(1, 11):
                    agreement.add_invoice(
                        booked_invoice_number=number,
                        customer_number=1,
                        date=TODAY - dt.timedelta(days=40),
                        due_date=TODAY - dt.timedelta(days=25),
                        net_amount=Decimal("800.00"),
                        vat_amount=Decimal("200.00"),
                        currency="DKK",
                    )
                name = f"remote-{i:04d}"
                clients.add_client(session, name, "DK")
                clients.enable_plugin(
                    session,
                    ctx.registry,
                    ctx.box,
                    name,
                    "economic",
                    {
                        "app_secret_token": f"app-{i}",
                        "agreement_grant_token": f"grant-{i}",
                        "base_url": server.url,
                    },
                )
        names = [f"remote-{i:04d}" for i in range(n)]
        fake.fail_next(Fault(count=10**9, delay=0.05))
        for name in names:
            assert run_job(ctx, JobKind.SYNC, name).outcome == Outcome.OK
        started = time.perf_counter()
        for name in names:
            assert run_job(ctx, JobKind.SYNC, name).outcome == Outcome.OK
        baseline = time.perf_counter() - started
        daemon = Daemon(ctx, parse(SCHEDULE, "bench.toml"))
        before = _last_run(db)
        started = time.perf_counter()
        daemon.start()
        while _ok_syncs(db, before) < n:
            time.sleep(0.1)
        scheduled = time.perf_counter() - started
        daemon.request_stop()
        daemon.stop()
    db.dispose()
    print(f"e-conomic over HTTP, 50 ms per answer (SQLite): {n} clients, 10 open invoices each")
    print(f"  baseline: syncs in a row  {baseline:7.2f} s  {n / baseline:8.1f} clients/s")
    print(
        f"  daemon (4 workers)        {scheduled:7.2f} s  {n / scheduled:8.1f} clients/s"
        f"  ×{scheduled / baseline:.2f} of baseline"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="40 clients, for CI")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    hub_logging.configure(level="WARNING")
    n = 40 if args.quick else args.clients
    with tempfile.TemporaryDirectory() as tmp:
        each_database(
            lambda label, url, work: run(label, url, n, work),
            Path(tmp),
            postgres=not args.no_postgres,
        )
        remote(n // 5, Path(tmp))


if __name__ == "__main__":
    threading.excepthook = lambda args: print(f"thread failed: {args.exc_value!r}")
    main()
