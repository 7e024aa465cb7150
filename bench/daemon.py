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
  database.

Run: python bench/daemon.py [--clients N] [--quick] [--no-postgres]
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import httpx
from bench_databases import each_database, write_due_export
from cryptography.fernet import Fernet
from sqlalchemy import func, select

from hub import clients, clock
from hub import logging as hub_logging
from hub.daemon import Daemon
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import rules as dunning_rules
from hub.health import HealthServer
from hub.jobs import Runtime, run_job
from hub.plugins import load_plugins
from hub.schedules import parse
from hub.secrets import SecretBox

INVOICES = 20
TODAY = clock.parse_date("2026-02-10", what="today")
SCHEDULE = """
[daemon]
max_workers = 4
refresh_seconds = 3600

[jobs.sync]
trigger = "interval"
days = 1
"""


def _clients(rt: Runtime, n: int, work: Path) -> list[str]:
    names = []
    with rt.db.session() as session:
        for i in range(n):
            name = f"bench-{i:04d}"
            export = work / f"{name}.csv"
            write_due_export(export, INVOICES, customers=5)
            clients.add_client(session, name, "DK")
            clients.enable_plugin(
                session,
                rt.registry,
                rt.box,
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
                .where(t.JobRun.outcome == "ok", t.JobRun.id > after)
            )
            or 0
        )


def _last_run(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.max(t.JobRun.id))) or 0


def run(label: str, url: str, n: int, work: Path) -> None:
    db = Database(url)
    rt = Runtime(db, load_plugins(), SecretBox(Fernet.generate_key()))
    names = _clients(rt, n, work)
    schedule = parse(SCHEDULE, "bench.toml")
    with clock.simulated(TODAY):
        started = time.perf_counter()
        for name in names:  # cases start, letters go out: the day's work is done
            assert run_job(rt, "sync", name).outcome == "ok"
        first = time.perf_counter() - started
        started = time.perf_counter()
        for name in names:  # the same again: what every later sync of the day does
            assert run_job(rt, "sync", name).outcome == "ok"
        baseline = time.perf_counter() - started

        daemon = Daemon(rt, schedule)
        before = _last_run(db)
        started = time.perf_counter()
        daemon.start()
        while _ok_syncs(db, before) < n:
            time.sleep(0.01)
        scheduled = time.perf_counter() - started
        daemon.request_stop()
        daemon.stop()

        started = time.perf_counter()
        again = Daemon(rt, schedule)
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


if __name__ == "__main__":
    threading.excepthook = lambda args: print(f"thread failed: {args.exc_value!r}")
    main()
