"""``hub demo``: the whole product as the daemon runs it, on a throw-away database.

No configuration and no network: a temporary SQLite database, three clients, and one
simulated timeline of 91 days (:mod:`hub.demo.timeline`) driven by the daemon's own jobs
(:func:`hub.daemon.jobs.run_job`): a Danish client reading an accounting export through the CSV
plugin (:mod:`hub.demo.csv_client`), a Danish client on a fake e-conomic server in customer mode
(:mod:`hub.demo.economic_client`) and a Norwegian client with recurring invoices on a fake Tripletex
server (:mod:`hub.demo.tripletex_client`), both servers over real HTTP on loopback. Then a summary
read back from the database (:mod:`hub.demo.summary`) and where to look next.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet

from hub.clock import Clock
from hub.db.engine import Database
from hub.demo import summary as summaries
from hub.demo.csv_client import CsvScenario
from hub.demo.economic_client import EconomicScenario
from hub.demo.timeline import DAYS, START, Progress, TimelineReport, no_progress, run_timeline
from hub.demo.tripletex_client import TripletexScenario
from hub.errors import HubError, InputError
from hub.operations.context import Actor, Context, Services
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox

#: The plugins the demo uses, and the directory under plugins/ each is installed from.
PLUGINS = {
    "generic_csv": "generic_csv",
    "file_outbox": "delivery",
    "economic": "economic",
    "norwegian_invoicing": "norwegian_invoicing",
}


@dataclass
class DemoResult:
    workdir: Path
    database: str
    csv: CsvScenario
    economic: EconomicScenario
    tripletex: TripletexScenario
    timeline: TimelineReport
    summary: summaries.Summary
    #: The demo's secret box (its key made for it): the console (``hub demo --serve``) reads
    #: the demo's secret settings with it.
    box: SecretBox


def _require_plugins(registry: PluginRegistry) -> None:
    for plugin, package in PLUGINS.items():
        if plugin not in registry.infos:
            why = registry.errors.get(plugin, "it is not installed")
            raise HubError(
                f"hub demo needs the {plugin} plugin ({why});"
                f" install it: pip install -e plugins/{package}"
            )


def _workdir(workdir: Path | None) -> Path:
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="hub-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    if (base / "demo.sqlite3").exists():
        raise InputError(
            f"--workdir {base}: it holds an earlier demo (demo.sqlite3); give an empty directory"
        )
    return base


def _look_next(url: str, base: Path) -> list[str]:
    return [
        "Where to look next:",
        f"  hub --db {url} cases list --client demo-dk",
        f"  hub --db {url} messages list --client demo-economic",
        f"  hub --db {url} collection overview --client demo-economic",
        f"  hub --db {url} recurring list --client demo-no",
        f"  hub --db {url} runs list",
        f"  the letters: {base / 'letters'}",
        "  hub run --help   (the daemon that runs these jobs on a schedule)",
        "  what the rule codes (R1, C1, D1, G6, ...) mean: docs/rules.md",
    ]


def run_demo(
    registry: PluginRegistry,
    workdir: Path | None = None,
    say: Callable[[str], None] = print,
    progress: Progress = no_progress,
) -> DemoResult:
    """Run the demo (the module's docstring); ``say`` gets each line, ``progress`` shows
    the timeline's days go by."""
    _require_plugins(registry)
    base = _workdir(workdir)
    url = f"sqlite:///{base / 'demo.sqlite3'}"
    box = SecretBox(Fernet.generate_key())
    services = Services(Database(url), registry, box)
    # The demo plays the people who act, an operator among them (it grants customer
    # reminders); the clock is fixed on START for the setup, and on each simulated day in
    # turn by the timeline.
    ctx = Context(services, Actor(name="hub demo", operator=True), Clock(fixed=START))
    csv, economic, tripletex = CsvScenario(base), EconomicScenario(base), TripletexScenario(base)
    scenarios = (csv, economic, tripletex)
    try:
        with ExitStack() as servers:
            say(f"Demo workspace: {base}")
            say("Three clients, no configuration, no network:")
            for scenario in scenarios:
                for line in scenario.start(ctx, servers):
                    say(f"  {scenario.client}: {line}")
            say(
                f"{DAYS} simulated days from {START}, each run as the daemon (hub run) runs"
                " it: every day a sync (fetch, dunning cycle, delivery) for each client, the"
                f" recurring job for {tripletex.client} and the postings job for"
                f" {economic.client}"
            )
            timeline = run_timeline(ctx, scenarios, say, progress, start=START)
            for scenario in scenarios:
                scenario.finish()
        say(f"{DAYS} days to {timeline.last}: {timeline.runs} runs in {timeline.seconds:.1f} s.")
        summary = summaries.collect(ctx)
        for line in summaries.render(summary):
            say(line)
        say(
            f"All over real HTTP: {economic.story.requests} requests to e-conomic,"
            f" {tripletex.story.requests} to Tripletex"
        )
        for line in _look_next(url, base):
            say(line)
        return DemoResult(base, url, csv, economic, tripletex, timeline, summary, box)
    finally:
        ctx.db.dispose()
