"""Benchmark: one full sync of N e-conomic clients × M open invoices through the hub.

The fake e-conomic server (``python -m hub.testing.fakes.economic``) runs in a separate process
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
import time

import httpx
from bench_http_sync import run_sync_bench


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
    run_sync_bench(
        plugin="economic",
        package="plugins/economic",
        country="DK",
        fake_module="hub.testing.fakes.economic",
        fake_args=["--agreements", str(n), "--invoices", str(m)],
        settings=lambda i, url: {
            "app_secret_token": f"app-{i}",
            "agreement_grant_token": f"grant-{i}",
            "base_url": url,
        },
        floor=floor,
        n=n,
        m=m,
    )


if __name__ == "__main__":
    main()
