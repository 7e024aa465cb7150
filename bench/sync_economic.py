"""Benchmark: one full sync of N e-conomic clients × M open invoices through the hub.

The fake e-conomic server (``python -m hub.testing.economic_fake``) runs in a separate process
on loopback, seeded with N agreements of M unpaid invoices each (over 20 customers). The hub
syncs every client once, in turn, through the installed ``economic`` plugin, into a fresh
SQLite database (database writes included). In the same run, the floor: the same clients'
bare page fetches with httpx (every page of ``/invoices/unpaid`` at pagesize 1000, no
processing, no database) and of the filtered page of its customers.

Prints wall time, invoices/s, HTTP requests per 1,000 open invoices (counted by the server),
the hub's peak RSS, the floor and the ratio; the last line is one JSON object with
``invoices``, ``wall_s``, ``floor_s``, ``ratio_vs_floor``, ``requests_per_1000_invoices``,
``peak_rss_mb``, ``requests``, ``clients``.

Run: python bench/sync_economic.py [--clients N] [--invoices M] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from hub import clients
from hub import logging as hub_logging
from hub.db.engine import Database
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from hub.sync import sync_client


def start_fake(n: int, m: int, stats: Path) -> tuple[subprocess.Popen[str], str]:
    fake = subprocess.Popen(
        [
            sys.executable, "-m", "hub.testing.economic_fake", "--agreements", str(n),
            "--invoices", str(m), "--stats-file", str(stats),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert fake.stdout is not None
    url = fake.stdout.readline().strip()
    if not url.startswith("http://"):
        fake.kill()
        raise SystemExit(f"the fake e-conomic server did not start (it said {url!r})")
    return fake, url


def floor(url: str, n: int) -> tuple[float, int]:
    """The requests a sync cannot do without, bare: every page of every client's unpaid
    invoices, and its invoices' customers in one filtered page, fetched and parsed with
    httpx; no mapping, no checks, no database. Returns the time and the number of requests."""
    started = time.perf_counter()
    requests = 0
    with httpx.Client(base_url=url, timeout=60) as http:
        for i in range(1, n + 1):
            headers = {"X-AppSecretToken": f"app-{i}", "X-AgreementGrantToken": f"grant-{i}"}
            page: str | None = "/invoices/unpaid?pagesize=1000"
            customers: set[int] = set()
            while page:
                body = http.get(page, headers=headers).json()
                requests += 1
                customers.update(item["customer"]["customerNumber"] for item in body["collection"])
                page = body["pagination"].get("nextPage")
            numbers = ",".join(str(c) for c in sorted(customers))
            http.get(
                "/customers",
                params={"pagesize": 1000, "filter": f"customerNumber$in:[{numbers}]"},
                headers=headers,
            ).json()
            requests += 1
    return time.perf_counter() - started, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--invoices", type=int, default=400, help="open invoices per client")
    parser.add_argument("--quick", action="store_true", help="20 clients × 200 invoices")
    args = parser.parse_args()
    n, m = (20, 200) if args.quick else (args.clients, args.invoices)
    hub_logging.configure()
    registry = load_plugins()
    if "economic" not in registry.infos:
        raise SystemExit("the economic plugin is not installed: pip install -e plugins/economic")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["HUB_DATA_DIR"] = str(work)
        fake, url = start_fake(n, m, work / "stats.json")
        try:
            box = SecretBox(Fernet.generate_key())
            db = Database(f"sqlite:///{work / 'hub.sqlite3'}")
            with db.session() as session:
                for i in range(1, n + 1):
                    clients.add_client(session, f"c{i}", "DK")
                    clients.enable_plugin(
                        session, registry, box, f"c{i}", "economic",
                        {"app_secret_token": f"app-{i}", "agreement_grant_token": f"grant-{i}",
                         "base_url": url},
                    )  # fmt: skip
            floor_s, floor_requests = floor(url, n)
            started = time.perf_counter()
            synced = 0
            for i in range(1, n + 1):
                report = sync_client(db, registry, box, f"c{i}")
                synced += report.new
            wall_s = time.perf_counter() - started
            db.dispose()
        finally:
            fake.terminate()
            fake.wait(timeout=30)
        stats = json.loads((work / "stats.json").read_text(encoding="utf-8"))
    requests = stats["requests"] - floor_requests  # the server also answered the floor's
    invoices = n * m
    assert synced == invoices, f"synced {synced} of {invoices} invoices"
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    per_1000 = requests * 1000 / invoices
    print(f"{n:,} clients × {m:,} open invoices = {invoices:,} invoices")
    print(f"  hub sync (all clients)   {wall_s:8.2f} s  {invoices / wall_s:10,.0f} invoices/s")
    print(f"  floor (bare page GETs)   {floor_s:8.2f} s  {invoices / floor_s:10,.0f} invoices/s")
    print(f"  ratio to the floor       {wall_s / floor_s:8.2f}x")
    print(f"  HTTP requests            {requests:8,d}  ({per_1000:.2f} per 1,000 open invoices)")
    for path, count in sorted(stats["by_path"].items()):
        print(f"    {count:8,d}  {path} (the floor's included)")
    print(f"  peak RSS (hub process)   {peak_rss_mb:8.1f} MB")
    print(
        json.dumps(
            {
                "clients": n,
                "invoices": invoices,
                "wall_s": round(wall_s, 3),
                "floor_s": round(floor_s, 3),
                "ratio_vs_floor": round(wall_s / floor_s, 2),
                "requests": requests,
                "requests_per_1000_invoices": round(per_1000, 2),
                "peak_rss_mb": round(peak_rss_mb, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
