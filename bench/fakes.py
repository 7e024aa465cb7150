"""Benchmark: the fake accounting servers themselves, at the sync benchmarks' sizes.

The sync benchmarks and the demo seed a fake before they time anything, and every test of a
plugin reads pages from one; a slow fake makes all of them slow. This times, in this process:

- e-conomic: seeding N agreements × M unpaid invoices (``seed``), then one page of one
  agreement's ``/invoices/unpaid`` at pagesize 1000 through the in-process transport;
- Tripletex: seeding N companies × M invoices, then one company of 1,000 invoices: the first
  ``GET /invoice`` of all of them (which builds what is built when needed) and the second
  (a status read).

Prints each figure; the last line is one JSON object with them (seconds).

Run: python bench/fakes.py [--quick]   (--quick: a tenth of the tenants)
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import time
from collections.abc import Callable
from datetime import date

import httpx

from hub.testing.fakes import economic, tripletex

TODAY = date(2026, 2, 1)


def seconds(work: Callable[[], object], repeats: int = 1) -> float:
    """The median wall time of ``work`` over ``repeats`` runs."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def economic_figures(agreements: int, invoices: int) -> dict[str, float]:
    fake = economic.FakeEconomic()
    seed_s = seconds(lambda: economic.seed(fake, agreements, invoices))
    client = httpx.Client(
        transport=fake.transport(),
        base_url="https://x",
        headers={"X-AppSecretToken": "app-1", "X-AgreementGrantToken": "grant-1"},
    )

    def page() -> None:
        answer = client.get("/invoices/unpaid", params={"pagesize": "1000"})
        assert len(answer.json()["collection"]) == invoices

    return {"economic_seed_s": seed_s, "economic_page_s": seconds(page, repeats=5)}


def tripletex_figures(companies: int, invoices: int) -> dict[str, float]:
    fake = tripletex.FakeTripletex(today=TODAY)
    seed_s = seconds(lambda: tripletex.seed(fake, companies, invoices))
    big = tripletex.FakeTripletex(today=TODAY)
    [one] = tripletex.seed(big, 1, 1000)
    token = base64.b64encode(f"0:{big.session_for(one)}".encode()).decode()
    target = "/v2/invoice?invoiceDateFrom=2025-01-01&invoiceDateTo=2027-01-01"

    def read() -> None:
        answer = big.handle("GET", target, {"Authorization": f"Basic {token}"}, b"", "http://x")
        assert json.loads(answer.body)["count"] == 1000

    first_s = seconds(read)
    return {
        "tripletex_seed_s": seed_s,
        "tripletex_first_read_1000_s": first_s,
        "tripletex_status_read_1000_s": seconds(read, repeats=5),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the tenants")
    args = parser.parse_args()
    tenth = 10 if args.quick else 1
    economic_size, tripletex_size = (500 // tenth, 400), (1000 // tenth, 100)
    figures = {
        **economic_figures(*economic_size),
        **tripletex_figures(*tripletex_size),
    }
    print(f"e-conomic: {economic_size[0]:,} agreements × {economic_size[1]:,} invoices")
    print(f"  seed                              {figures['economic_seed_s']:8.3f} s")
    print(f"  one page of 400 (in-process)      {figures['economic_page_s']:8.3f} s")
    print(f"Tripletex: {tripletex_size[0]:,} companies × {tripletex_size[1]:,} invoices")
    print(f"  seed                              {figures['tripletex_seed_s']:8.3f} s")
    print(f"  GET /invoice of 1,000, first      {figures['tripletex_first_read_1000_s']:8.3f} s")
    print(f"  GET /invoice of 1,000, again      {figures['tripletex_status_read_1000_s']:8.3f} s")
    print(json.dumps({k: round(v, 4) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
