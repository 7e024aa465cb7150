"""Benchmark: one full sync of N Tripletex clients × M open invoices through the hub.

The fake Tripletex server (``python -m hub.testing.fakes.tripletex``) runs in a separate process
on loopback, seeded with N companies of M unpaid invoices each (over 20 customers). The hub
syncs every client once, in turn, through the installed ``norwegian_invoicing`` plugin, into a
fresh SQLite database. In the same run, the floor: each company's bare requests with httpx (a
session, every page of ``GET /invoice`` at count 1000 over the plugin's date range, its
customers and their open posts, one page each), parsed, with no mapping and no database.

Tripletex has no "unpaid" filter: a sync reads every invoice in the date range and keeps those
with an outstanding amount, so the figures are per invoice read.

Run: python bench/sync_tripletex.py [--clients N] [--invoices M] [--quick]
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import httpx
from bench_http_sync import run_sync_bench


def floor(url: str, n: int) -> tuple[float, int]:
    """The requests a sync cannot do without, bare (see the module's docstring)."""
    started = time.perf_counter()
    requests = 0
    to = (dt.date.today() + dt.timedelta(days=366)).isoformat()
    with httpx.Client(base_url=url, timeout=60) as http:
        for i in range(1, n + 1):
            expires = (dt.date.today() + dt.timedelta(days=2)).isoformat()
            session = http.post(
                "/token/session/:create",
                json={
                    "consumerToken": f"consumer-{i}",
                    "employeeToken": f"employee-{i}",
                    "expirationDate": expires,
                },
            ).json()["value"]["token"]
            auth = ("0", session)
            start, customers = 0, set()
            while True:
                body = http.get(
                    "/invoice",
                    params={"invoiceDateFrom": "2000-01-01", "invoiceDateTo": to,
                            "from": start, "count": 1000},
                    auth=auth,
                ).json()  # fmt: skip
                requests += 1
                customers.update(v["customer"]["id"] for v in body["values"])
                if len(body["values"]) < 1000:
                    break
                start += 1000
            ids = ",".join(str(c) for c in sorted(customers))
            http.get("/customer", params={"id": ids, "count": 1000}, auth=auth).json()
            http.get(
                "/ledger/posting/openPost",
                params={"date": to, "count": 1000},
                auth=auth,
            ).json()
            requests += 3  # the session, the customers, the open posts
    return time.perf_counter() - started, requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--invoices", type=int, default=400, help="open invoices per client")
    parser.add_argument("--quick", action="store_true", help="20 clients × 200 invoices")
    args = parser.parse_args()
    n, m = (20, 200) if args.quick else (args.clients, args.invoices)
    run_sync_bench(
        plugin="norwegian_invoicing",
        package="plugins/norwegian_invoicing",
        country="NO",
        fake_module="hub.testing.fakes.tripletex",
        fake_args=["--companies", str(n), "--invoices", str(m)],
        settings=lambda i, url: {
            "consumer_token": f"consumer-{i}",
            "employee_token": f"employee-{i}",
            "base_url": url,
        },
        floor=floor,
        n=n,
        m=m,
    )


if __name__ == "__main__":
    main()
