"""Benchmark: what the plugin conformance kit costs an integrator, per builtin plugin.

The kit runs on every commit of a plugin, so it must stay quick. For each builtin plugin's
conformance class this prints the wall time of ``pytest`` on it (a process of its own, as an
integrator runs it), how many tests ran and were skipped, and the ratio to the baseline,
measured in the same run: starting a Python process that imports the hub and loads a plugin,
which is the fixed cost of each fresh-process repeat of a write (five per plugin at most).

Run: python bench/conformance_kit.py [--quick]   (--quick: generic_csv only)
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLASSES = {
    "generic_csv": "plugins/generic_csv/tests/test_generic_csv_conformance.py",
    "economic": "plugins/economic/tests/test_economic_conformance.py",
    "norwegian_invoicing": (
        "plugins/norwegian_invoicing/tests/test_norwegian_invoicing_conformance.py"
    ),
    "file_outbox, smtp": "plugins/delivery/tests/test_delivery_conformance.py",
}
_COUNT = re.compile(r"(\d+) (passed|skipped|failed|error)")


def fresh_process_seconds(repeats: int = 5) -> float:
    """Median time to start Python, import the hub and load a plugin from its entry point."""
    code = "from hub.plugins import load_plugins; load_plugins()"
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_kit(path: str) -> tuple[float, dict[str, int]]:
    start = time.perf_counter()
    done = subprocess.run(
        # one process, as an integrator runs it (the hub's own suite runs on two workers)
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "0", path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"the kit failed on {path}:\n{done.stdout[-3000:]}{done.stderr[-2000:]}")
    counts = {kind: int(n) for n, kind in _COUNT.findall(done.stdout.splitlines()[-1])}
    return seconds, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="generic_csv only")
    args = parser.parse_args()
    base = fresh_process_seconds()
    print(f"baseline: a fresh process importing the hub and loading plugins: {base:.2f} s")
    print(f"{'plugin(s)':<20} {'seconds':>8} {'passed':>7} {'skipped':>8} {'x baseline':>11}")
    for name, path in CLASSES.items():
        if args.quick and name != "generic_csv":
            continue
        seconds, counts = run_kit(path)
        print(
            f"{name:<20} {seconds:8.2f} {counts.get('passed', 0):7d}"
            f" {counts.get('skipped', 0):8d} {seconds / base:11.1f}"
        )


if __name__ == "__main__":
    main()
