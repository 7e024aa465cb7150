"""Benchmark: peak memory of the generic_csv plugin reading a large invoices export.

Writes a Danish Windows-1252 export of about ``--mb`` megabytes (the same rows as
``bench/sync_csv.py``), then, in a fresh child process per measurement so one does not inherit
the other's heap, calls ``fetch_open_invoices`` once and prints:

- tracemalloc peak: the most memory Python objects held at once during the call;
- max RSS growth: the process's maximum resident set size after the call less before it
  (``resource.getrusage``; what the operating system saw, allocator slack included);
- both as a ratio to the file's size, and the time taken.

Run: python bench/csv_memory.py [--mb 50] [--no-tracemalloc]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync_csv import write_export

#: Bytes per row of ``write_export`` (measured): how many rows make ``--mb`` megabytes.
_ROW_BYTES = 97


def _max_rss_bytes() -> int:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


def measure(path: Path, use_tracemalloc: bool) -> dict[str, float]:
    """One call of fetch_open_invoices on ``path``, in this process."""
    import tracemalloc

    from generic_csv import plugin

    from hub.testing.contexts import plugin_context

    ctx = plugin_context(
        plugin.system_info(),
        {
            "invoices_path": str(path),
            "outbox_dir": str(path.parent / "out"),
            "max_file_mb": "1000",
        },
        today=dt.date(2026, 6, 1),
    )
    rss_before = _max_rss_bytes()
    if use_tracemalloc:
        tracemalloc.start()
    start = time.perf_counter()
    invoices = plugin.fetch_open_invoices(ctx)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] if use_tracemalloc else 0
    if use_tracemalloc:
        tracemalloc.stop()
    return {
        "invoices": len(invoices),
        "seconds": seconds,
        "tracemalloc_peak": peak,
        "rss_growth": _max_rss_bytes() - rss_before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--mb", type=float, default=50.0, help="size of the export (default 50)")
    parser.add_argument("--no-tracemalloc", action="store_true", help="RSS only (faster)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(Path(args.child), not args.no_tracemalloc)))
        return
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "invoices.csv"
        write_export(path, int(args.mb * 1e6 / _ROW_BYTES))
        size = path.stat().st_size
        command = [sys.executable, __file__, "--child", str(path)]
        if args.no_tracemalloc:
            command.append("--no-tracemalloc")
        out = subprocess.run(command, check=True, capture_output=True, text=True, env=os.environ)
        result = json.loads(out.stdout.strip().splitlines()[-1])
    mb = 1024 * 1024
    print(f"export: {size / mb:.1f} MiB, {result['invoices']:,} open invoices read")
    print(f"  time                 {result['seconds']:8.1f} s")
    if not args.no_tracemalloc:
        peak = result["tracemalloc_peak"]
        print(f"  tracemalloc peak     {peak / mb:8.1f} MiB  {peak / size:5.1f}x the file")
    growth = result["rss_growth"]
    print(f"  max RSS growth       {growth / mb:8.1f} MiB  {growth / size:5.1f}x the file")


if __name__ == "__main__":
    main()
