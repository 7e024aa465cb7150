"""Benchmark: how long the ``hub`` command takes to start and answer.

A person types these, and the suite runs ``hub`` as a process hundreds of times. Each command
runs N times in a fresh process against a throw-away SQLite database (made and upgraded first,
with one client), and the floor in the same run: ``python -c pass``. Prints the median and the
fastest wall time of each, its ratio to the floor's, and the median CPU time (user and system,
the process's own: steadier than wall time on a loaded machine); the last line is one JSON
object of the median wall times (seconds).

Run: python bench/cli_startup.py [--repeats N] [--quick]   (--quick: 3 repeats)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def hub_command() -> list[str]:
    """The installed ``hub`` script beside this Python, else ``python -m hub.cli.main``."""
    script = Path(sys.executable).parent / "hub"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hub.cli.main"]


def children_cpu() -> float:
    """CPU seconds (user and system) of the children waited for so far."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(command: list[str], repeats: int, env: dict[str, str]) -> tuple[float, float, float]:
    """The median and the fastest wall time of ``command`` over ``repeats`` runs, and the
    median CPU time."""
    times, cpu = [], []
    for _ in range(repeats):
        started, cpu_before = time.perf_counter(), children_cpu()
        subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
        cpu.append(children_cpu() - cpu_before)
    return statistics.median(times), min(times), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="3 repeats")
    args = parser.parse_args()
    repeats = 3 if args.quick else args.repeats
    hub = hub_command()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'hub.sqlite3'}"
        env = {**os.environ, "HUB_DATA_DIR": tmp}
        for setup in (["db", "upgrade"], ["clients", "add", "acme", "--country", "DK"]):
            subprocess.run([*hub, "--db", url, *setup], check=True, env=env, capture_output=True)
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "hub --help": [*hub, "--help"],
            "hub clients list": [*hub, "--db", url, "clients", "list"],
            "hub cases list --client acme": [*hub, "--db", url, "cases", "list", "--client=acme"],
        }
        figures: dict[str, float] = {}
        print(f"{repeats} runs each ({shutil.which(hub[0]) or hub[0]})")
        floor = None
        for label, command in commands.items():
            median, fastest, cpu = timed(command, repeats, env)
            floor = floor or median  # the first command is the floor
            figures[label] = round(median, 3)
            print(
                f"  {label:30} median {median:6.3f} s   fastest {fastest:6.3f} s"
                f"   {median / floor:5.1f}x the floor   CPU {cpu:6.3f} s"
            )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
