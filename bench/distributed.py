"""Benchmark: N e-conomic clients synced by 1, 2 and 4 ``hub run --distributed`` nodes.

The world: N clients × M open invoices on the fake e-conomic, served over real HTTP from a
thread of this process (a ``ThreadingHTTPServer``: a thread per connection, so each answer's
latency, 50 ms by default, is slept without holding up any other request). All clients belong
to one app (one ``X-AppSecretToken``, an agreement each), as an operator's clients do, and the
fake enforces the app's rate limit (``--limit`` requests per ``--window`` seconds, one bucket
for the whole app, ``rate_limit_per="app"``: e-conomic's budget is per app, shared by every
client of that app), answering 429 beyond it. For each node count, a fresh PostgreSQL database
(``hub_bench_distributed_<pid>_<nodes>``, dropped after) is upgraded and filled with the N
clients through hub.clients, and that many ``hub run --distributed`` child processes start on
it with one schedule file: a daily sync (so each client is synced once), ``[distributed.queues]
economic = --concurrency`` and ``[limits.economic]`` set to the fake's limit (or ``--budget``).
Measured until every client's sync is recorded:

- until all: from starting the nodes to the last sync's end (``job_runs.finished_at``);
- span: from the first sync's start to the last one's end, and clients synced per minute in it;
- requests: answered by the fake in all, the most in any ``--window`` seconds (sliding) against
  the limit, and how many were 429s;
- the floors: the limit-bound floor (requests ÷ allowed rate) and the latency-bound floor
  (requests × latency ÷ (nodes × concurrency): each sync's requests go one after another), the
  larger of which binds; the span's ratio to the limit-bound floor and to the binding one;
- the nodes' CPU seconds (all node processes together) and that ÷ the machine's CPUs, a third
  floor (the fake and PostgreSQL share those CPUs too), and how the syncs spread over the nodes
  (``job_runs.runner``); the machine's load average as the run ended.

Prints a table, then one JSON object per node count.

Run: python bench/distributed.py [--clients N] [--invoices M] [--nodes 1,2,4] [--latency S]
     [--limit R --window S] [--concurrency C] [--quick]   (--quick: 40 × 50, 1 and 2 nodes)
"""

from __future__ import annotations

import argparse
import bisect
import dataclasses
import datetime as dt
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy import select

from hub import clients
from hub import logging as hub_logging
from hub.clock import as_utc
from hub.db import tables as t
from hub.db.engine import Database, upgrade
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from hub.testing.fakes import economic
from hub.testing.fakes.app import RateBuckets
from hub.testing.fakes.economic import EconomicServer, FakeEconomic, Fault

PG = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
APP = "app-bench"  # the one app every client's agreement granted access to
FINISHED = ("ok", "partial", "failed")


@dataclass(frozen=True)
class Setup:
    clients: int
    invoices: int
    latency: float  # seconds the fake takes to answer each request
    limit: int  # requests the app may make per window
    window: int  # seconds
    concurrency: int  # economic tasks at once on each node
    tick: int  # [distributed] tick_seconds
    timeout: float  # seconds to wait for every client's sync
    budget: int  # [limits.economic] requests (per window): the hub's own budget
    logs: Path | None  # where to keep the nodes' logs


def reset(fake: FakeEconomic, latency: float) -> None:
    """Forget the requests and rate buckets of a run; every answer ``latency`` seconds late
    (slept in the request's own server thread, outside the fake's lock)."""
    with fake.lock:
        fake.requests.clear()
        fake.request_times.clear()
        fake._buckets = RateBuckets()  # a fresh window for the next run
        fake.clear_faults()
        if latency > 0:
            fake.fail_next(Fault(count=10**12, delay=latency))


#: :func:`economic.seed` with every agreement granted to the one app ``APP``.
seed = dataclasses.replace(
    economic.seed,
    add_tenant=lambda fake, i: fake.add_agreement(APP, f"grant-{i}", f"Firma {i} ApS"),
)


@contextmanager
def database(label: object) -> Iterator[str]:
    """A fresh PostgreSQL database at the newest revision, dropped afterwards; its URL."""
    name = f"hub_bench_distributed_{os.getpid()}_{label}"
    admin = sa.create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG).set(database=name).render_as_string(hide_password=False)
    try:
        engine = sa.create_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def add_clients(db: Database, box: SecretBox, n: int, fake_url: str) -> None:
    """Clients c0001..cN on the economic plugin, agreement ``grant-i`` of the app ``APP``."""
    registry = load_plugins()
    if "economic" not in registry.infos:
        raise SystemExit("the economic plugin is not installed: pip install -e plugins/economic")
    with db.session() as session:
        for i in range(1, n + 1):
            name = f"c{i:04d}"
            clients.add_client(session, name, "DK")
            settings = {
                "app_secret_token": APP,
                "agreement_grant_token": f"grant-{i}",
                "base_url": fake_url,
            }
            clients.enable_plugin(session, registry, box, name, "economic", settings)


def schedule_text(setup: Setup, *, distributed: bool = True) -> str:
    """Every client synced once (a daily interval), on queue economic, under the app's limit
    (``[limits.economic]``); ``distributed``: the nodes' tables."""
    text = f"""\
[daemon]
max_workers = {setup.concurrency}
refresh_seconds = 3600

[jobs.sync]
trigger = "interval"
days = 1
"""
    if distributed:
        text += f"""
[distributed]
tick_seconds = {setup.tick}
heartbeat_seconds = 5
stalled_seconds = 60

[distributed.queues]
economic = {setup.concurrency}
"""
    text += f"""
[limits.economic]
requests = {setup.budget}
seconds = {setup.window}
"""
    return text


def hub_command() -> str:
    found = shutil.which("hub") or str(Path(sys.executable).with_name("hub"))
    if not Path(found).exists():
        raise SystemExit("the hub command is not installed: pip install -e .")
    return found


def tail(path: Path, lines: int = 15) -> str:
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@dataclass
class Nodes:
    """``hub run --distributed`` child processes, their output in ``work/node-J.log``."""

    processes: list[subprocess.Popen[bytes]]
    logs: list[Path]

    @classmethod
    def start(
        cls, k: int, url: str, schedules: Path, work: Path, key: str, *, plain: bool = False
    ) -> Nodes:
        """``k`` nodes; ``plain``: one plain ``hub run`` (the single-process daemon) instead."""
        env = {
            **os.environ,
            "HUB_DATABASE_URL": url,
            "HUB_SECRET_KEY": key,
            "HUB_DATA_DIR": str(work),
        }
        command = [hub_command(), "run", *([] if plain else ["--distributed"])]
        command += ["--schedules", str(schedules)]
        command += ["--log-format", "json", "--stop-timeout", "3"]  # idle: a node waits it out
        processes, logs = [], []
        for j in range(k):
            log = work / f"node-{j + 1}.log"
            with log.open("wb") as out:
                processes.append(
                    subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
                )
            logs.append(log)
        return cls(processes, logs)

    def check_alive(self) -> None:
        for process, log in zip(self.processes, self.logs, strict=True):
            if process.poll() is not None:
                self.stop()
                raise SystemExit(
                    f"node {log.stem} exited with {process.returncode} before every client was"
                    f" synced; its last lines:\n{tail(log)}"
                )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def finished_syncs(db: Database) -> int:
    with db.session() as session:
        return (
            session.scalar(
                select(sa.func.count())
                .select_from(t.JobRun)
                .where(t.JobRun.job == "sync", t.JobRun.outcome.in_(FINISHED))
            )
            or 0
        )


def sync_runs(db: Database) -> list[tuple[dt.datetime, dt.datetime, str, str]]:
    """(started, finished, outcome, runner) of every finished sync."""
    with db.session() as session:
        rows = session.execute(
            select(
                t.JobRun.started_at, t.JobRun.finished_at, t.JobRun.outcome, t.JobRun.runner
            ).where(t.JobRun.job == "sync", t.JobRun.outcome.in_(FINISHED))
        ).all()
    return [(as_utc(s), as_utc(f), o, r or "") for s, f, o, r in rows if f is not None]


def most_in_window(times: list[float], window: float) -> int:
    """The most of ``times`` (sorted) in any ``window`` seconds."""
    return max(
        (bisect.bisect_left(times, start + window) - i for i, start in enumerate(times)),
        default=0,
    )


def node_cpu_seconds() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def run(
    setup: Setup, nodes: int, fake: FakeEconomic, fake_url: str, *, plain: bool = False
) -> dict[str, object]:
    """Sync every client once with ``nodes`` nodes on a fresh database; the figures.
    ``plain``: one plain ``hub run`` instead (``nodes`` is 1), for comparison."""
    key = Fernet.generate_key().decode()
    begun = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, database("plain" if plain else nodes) as url:
        work = Path(tmp)
        db = Database(url)
        add_clients(db, SecretBox(key.encode()), setup.clients, fake_url)
        schedules = work / "schedules.toml"
        schedules.write_text(schedule_text(setup, distributed=not plain), encoding="utf-8")
        reset(fake, setup.latency)
        cpu_before = node_cpu_seconds()
        launched = dt.datetime.now(dt.UTC)
        started = time.monotonic()
        group = Nodes.start(nodes, url, schedules, work, key, plain=plain)
        try:
            while finished_syncs(db) < setup.clients:
                group.check_alive()
                if time.monotonic() - started > setup.timeout:
                    raise SystemExit(
                        f"{nodes} node(s): {finished_syncs(db)} of {setup.clients} clients synced"
                        f" after {setup.timeout:g} s; node 1's last lines:\n"
                        f"{tail(group.logs[0])}"
                    )
                time.sleep(0.25)
        finally:
            stopping = time.monotonic()
            group.stop()
        stop_s = time.monotonic() - stopping
        cpu = node_cpu_seconds() - cpu_before
        load = os.getloadavg()[0]  # others' work on this machine distorts the figures
        if setup.logs is not None:
            setup.logs.mkdir(parents=True, exist_ok=True)
            for log in group.logs:
                label = "plain" if plain else f"{nodes}-nodes"
                shutil.copy(log, setup.logs / f"{label}-{log.name}")
        runs = sync_runs(db)
        db.dispose()
    with fake.lock:
        arrivals = sorted((r.at, r.status) for r in fake.requests)
    times = [at for at, _ in arrivals]
    requests = len(times)
    first = min(s for s, _, _, _ in runs)
    last = max(f for _, f, _, _ in runs)
    span = (last - first).total_seconds()
    throttled = sum(1 for _, status in arrivals if status == 429)
    needed = requests - throttled  # the requests the syncs needed; a 429 is a retry's cost
    allowed = min(setup.limit, setup.budget)  # requests per window: the vendor's or less
    limit_floor = needed * setup.window / allowed
    latency_floor = needed * setup.latency / (nodes * setup.concurrency)
    binding = max(limit_floor, latency_floor)
    per_node = Counter(" ".join(r.split(" ")[1:3]) for _, _, _, r in runs)
    outcomes = Counter(o for _, _, o, _ in runs)
    return {
        "nodes": "plain" if plain else nodes,
        "clients": setup.clients,
        "invoices_per_client": setup.invoices,
        "synced_ok": outcomes["ok"],
        "outcomes": dict(outcomes),
        "until_all_s": round((last - launched).total_seconds(), 2),
        "start_to_first_sync_s": round((first - launched).total_seconds(), 2),
        "span_s": round(span, 2),
        "clients_per_minute": round(setup.clients / span * 60, 1) if span else None,
        "requests": requests,
        "requests_429": throttled,
        "max_per_window": most_in_window(times, setup.window),
        "limit": setup.limit,
        "window_s": setup.window,
        "limit_floor_s": round(limit_floor, 2),
        "latency_floor_s": round(latency_floor, 2),
        "binds": "limit" if limit_floor >= latency_floor else "latency",
        "ratio_to_limit_floor": round(span / limit_floor, 2) if limit_floor else None,
        "ratio_to_binding_floor": round(span / binding, 2) if binding else None,
        "node_cpu_s": round(cpu, 1),
        "cpu_floor_s": round(cpu / (os.cpu_count() or 1), 1),
        "syncs_per_node": sorted(per_node.values(), reverse=True),
        "load_average_1min": round(load, 1),
        "world_s": round(started - begun, 1),  # database, migrations, clients
        "stop_s": round(stop_s, 1),  # SIGTERM to every node gone
    }


def report(setup: Setup, results: list[dict[str, object]]) -> None:
    print(
        f"e-conomic, {setup.clients:,} clients × {setup.invoices:,} open invoices; answers"
        f" {setup.latency * 1000:g} ms late; limit {setup.limit:,} requests per"
        f" {setup.window} s for the app (the hub's budget: {setup.budget:,});"
        f" {setup.concurrency} economic tasks per node;"
        f" {os.cpu_count()} CPUs"
    )
    header = (
        "nodes",
        "synced",
        "until all s",
        "span s",
        "clients/min",
        "requests",
        "max/window",
        "429s",
        "limit floor s",
        "latency floor s",
        "binds",
        "×limit floor",
        "×binding",
        "node CPU s",
        "CPU floor s",
        "load",
        "syncs per node",
    )
    rows = [
        (
            str(r["nodes"]),
            f"{r['synced_ok']}/{r['clients']}",
            f"{r['until_all_s']:.1f}",
            f"{r['span_s']:.1f}",
            f"{r['clients_per_minute']:,.0f}",
            f"{r['requests']:,}",
            f"{r['max_per_window']:,}/{r['limit']:,}",
            f"{r['requests_429']:,}",
            f"{r['limit_floor_s']:.1f}",
            f"{r['latency_floor_s']:.1f}",
            str(r["binds"]),
            f"{r['ratio_to_limit_floor']:.2f}",
            f"{r['ratio_to_binding_floor']:.2f}",
            f"{r['node_cpu_s']:.1f}",
            f"{r['cpu_floor_s']:.1f}",
            f"{r['load_average_1min']:.1f}",
            " ".join(str(n) for n in r["syncs_per_node"]),  # type: ignore[attr-defined]
        )
        for r in results
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
    print(
        "limit floor: requests (less 429s) ÷ (the limit, or the hub's budget if lower, ÷"
        " window); latency floor: the same requests × latency ÷ (nodes × concurrency);"
        " span: first sync's start to last sync's end;"
        " max/window: requests the fake received (429s too) in any window's seconds; CPU floor:"
        " the nodes' CPU seconds ÷ this machine's CPUs (the fake and PostgreSQL not counted);"
        " load: the machine's 1-minute load average as the syncs ended (above the CPUs: others"
        " were running too, and every time is longer for it)."
    )
    for r in results:
        print(json.dumps(r))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--invoices", type=int, default=200, help="open invoices per client")
    parser.add_argument("--nodes", default="1,2,4", help="node counts to run, e.g. 1,2,4")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument("--limit", type=int, default=1000, help="requests per window (the app)")
    parser.add_argument("--window", type=int, default=10, help="the limit's window, seconds")
    parser.add_argument(
        "--budget",
        type=int,
        help="the hub's [limits.economic] requests per window (default: the fake's --limit)",
    )
    parser.add_argument("--logs", type=Path, help="keep the nodes' logs in this directory")
    parser.add_argument("--concurrency", type=int, default=4, help="economic tasks per node")
    parser.add_argument("--tick", type=int, default=1, help="[distributed] tick_seconds")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per node count")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="first one plain `hub run` (the single-process daemon), for comparison",
    )
    parser.add_argument(
        "--quick", action="store_true", help="40 clients × 50 invoices, 1 and 2 nodes (CI)"
    )
    args = parser.parse_args()
    if args.quick:
        args.clients, args.invoices = 40, 50
        args.nodes = "1,2" if args.nodes == "1,2,4" else args.nodes
        args.limit, args.window, args.timeout = 20, 1, 120
    setup = Setup(
        args.clients,
        args.invoices,
        args.latency,
        args.limit,
        args.window,
        args.concurrency,
        args.tick,
        args.timeout,
        args.budget or args.limit,
        args.logs,
    )
    counts = [int(k) for k in args.nodes.split(",") if k.strip()]
    hub_logging.configure(level="WARNING")
    fake = FakeEconomic(rate_limit=setup.limit, rate_window=setup.window, rate_limit_per="app")
    seed(fake, setup.clients, setup.invoices)
    with EconomicServer(fake) as server:
        results = [run(setup, 1, fake, server.url, plain=True)] if args.plain else []
        results += [run(setup, k, fake, server.url) for k in counts]
    report(setup, results)


if __name__ == "__main__":
    threading.excepthook = lambda args: print(f"thread failed: {args.exc_value!r}")
    main()
