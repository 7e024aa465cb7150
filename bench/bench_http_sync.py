"""What the HTTP-plugin sync benchmarks share: the fake API in a process of its own, the
clients, the timed sync, and the report (``sync_economic.py``, ``sync_tripletex.py``)."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench_databases import sync
from cryptography.fernet import Fernet

from hub import clients
from hub import logging as hub_logging
from hub.db.engine import Database
from hub.plugins import load_plugins
from hub.secrets import SecretBox


def start_fake(module: str, args: list[str], stats: Path) -> tuple[subprocess.Popen[str], str]:
    """``python -m module args --stats-file stats``; its URL (the first line it prints)."""
    fake = subprocess.Popen(
        [sys.executable, "-m", module, *args, "--stats-file", str(stats)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert fake.stdout is not None
    url = fake.stdout.readline().strip()
    if not url.startswith("http://"):
        fake.kill()
        raise SystemExit(f"{module} did not start (it said {url!r})")
    return fake, url


def run_sync_bench(
    *,
    plugin: str,
    package: str,
    country: str,
    fake_module: str,
    fake_args: list[str],
    settings: Callable[[int, str], dict[str, str]],
    floor: Callable[[str, int], tuple[float, int]],
    n: int,
    m: int,
) -> None:
    """Sync ``n`` clients of ``m`` open invoices each through ``plugin`` from the fake, time it
    against ``floor`` (the bare requests a sync cannot do without), and print the figures; the
    last line is one JSON object."""
    hub_logging.configure()
    registry = load_plugins()
    if plugin not in registry.infos:
        raise SystemExit(f"the {plugin} plugin is not installed: pip install -e {package}")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        os.environ["HUB_DATA_DIR"] = str(work)
        fake, url = start_fake(fake_module, fake_args, work / "stats.json")
        try:
            box = SecretBox(Fernet.generate_key())
            db = Database(f"sqlite:///{work / 'hub.sqlite3'}")
            with db.session() as session:
                for i in range(1, n + 1):
                    clients.add_client(session, f"c{i}", country)
                    clients.enable_plugin(session, registry, box, f"c{i}", plugin, settings(i, url))
            floor_s, floor_requests = floor(url, n)
            started = time.perf_counter()
            synced = 0
            for i in range(1, n + 1):
                synced += sync(db, registry, box, f"c{i}").new
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
    print(f"{plugin}: {n:,} clients × {m:,} open invoices = {invoices:,} invoices")
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
                "plugin": plugin,
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
