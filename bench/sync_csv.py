"""Benchmark: syncing a client's CSV export of N open invoices, on SQLite and PostgreSQL.

Prints, for each database:
- baseline: the least any importer must do – read the file with the csv module and turn the
  amounts into Decimals (measured in the same run, on the same file);
- parse: the generic_csv plugin's fetch_open_invoices (sniffing, decoding, validation, model),
  cold (its cache of parsed files emptied; a sync parses the export once for all its hooks);
- first sync (all new), repeat sync (all unchanged), and a sync after 10 % were paid and 10 %
  part-paid (one batched status call, bulk updates);
with invoices per second and the ratio of each to the baseline.

Run: python bench/sync_csv.py [--invoices N] [--quick] [--no-postgres]
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import generic_csv.cache
from bench_databases import bench_main, csv_client, sync

from hub import clients
from hub.amounts import CENT
from hub.clock import Clock


def danish(amount: Decimal) -> str:
    whole, _, cents = f"{amount:.2f}".partition(".")
    return f"{int(whole):,}".replace(",", ".") + "," + cents


def write_export(path: Path, n: int, *, paid_every: int = 0, part_every: int = 0) -> None:
    base = dt.date(2026, 1, 1)
    with path.open("w", encoding="cp1252", newline="") as f:
        f.write(
            "Fakturanr;Kundenr;Kundenavn;Fakturadato;Forfaldsdato;Valuta;"
            "Netto;Moms;Brutto;Restbeløb\r\n"
        )
        for i in range(n):
            if paid_every and i % paid_every == 0:
                continue
            net = Decimal(1000 + (i * 37) % 90000) + Decimal(i % 100) / 100
            vat = (net / 4).quantize(CENT)
            gross = net + vat
            rest = gross - Decimal("100.00") if part_every and i % part_every == 1 else gross
            day = base + dt.timedelta(days=i % 300)
            f.write(
                f"{100000 + i};{1000 + i % (n // 10 or 1)};Kunde {i % 997} ÆØÅ ApS;"
                f"{day:%d.%m.%Y};{day + dt.timedelta(days=14):%d.%m.%Y};DKK;"
                f"{danish(net)};{danish(vat)};{danish(gross)};{danish(rest)}\r\n"
            )


def baseline(path: Path) -> int:
    rows = 0
    with path.open(encoding="cp1252", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        next(reader)
        for row in reader:
            for cell in row[6:10]:
                Decimal(cell.replace(".", "").replace(",", "."))
            dt.datetime.strptime(row[3], "%d.%m.%Y")
            dt.datetime.strptime(row[4], "%d.%m.%Y")
            rows += 1
    return rows


def timed(fn: Callable[[], object], repeat: int = 1) -> float:
    """Best of ``repeat`` runs, each cold: the plugin's parsed-file cache is emptied first, as
    it is in the daemon, where a sync every two hours meets a changed export."""
    best = float("inf")
    for _ in range(repeat):
        generic_csv.cache.clear()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run(label: str, url: str, n: int, work: Path) -> None:
    export = work / f"export-{label}.csv"
    write_export(export, n)
    db, registry, box = csv_client(url, export, work / "out")
    with db.session() as session:
        client = clients.get_client(session, "bench")
        ctx = clients.client_context(client, registry, box, today=Clock().today(client.timezone))
    plugin = registry.for_client(ctx)

    t_base = timed(lambda: baseline(export), repeat=3)
    t_parse = timed(plugin.fetch_open_invoices, repeat=3)
    t_first = timed(lambda: sync(db, registry, box, "bench"))
    t_repeat = timed(lambda: sync(db, registry, box, "bench"))
    write_export(export, n, paid_every=10, part_every=10)
    report = None

    def changed() -> None:
        nonlocal report
        report = sync(db, registry, box, "bench")

    t_changed = timed(changed)
    db.dispose()
    assert report is not None

    def line(name: str, seconds: float) -> str:
        return (
            f"  {name:<34} {seconds * 1000:9.1f} ms  {n / seconds:10,.0f} inv/s"
            f"  {seconds / t_base:6.1f}x baseline"
        )

    print(f"{label}: {n:,} invoices ({export.stat().st_size / 1e6:.1f} MB CSV)")
    print(line("baseline (csv + Decimal + dates)", t_base))
    print(line("plugin parse (fetch_open_invoices)", t_parse))
    print(line("first sync (all new)", t_first))
    print(line("repeat sync (all unchanged)", t_repeat))
    print(line("sync after 10% paid, 10% part-paid", t_changed))
    print(
        f"  last sync: settled={report.settled} updated={report.updated}"
        f" unchanged={report.unchanged}"
    )


def main() -> None:
    bench_main(__doc__ or "", run, default=20000, quick=2000)


if __name__ == "__main__":
    main()
