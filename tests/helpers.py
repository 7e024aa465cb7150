"""Small helpers shared by tests."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from importlib.metadata import EntryPoint
from typing import Any

from hub import clients
from hub.clock import Clock
from hub.db.engine import Database
from hub.dunning import cycle as dunning_cycle
from hub.dunning import messages as dunning_messages
from hub.model import ClientContext
from hub.operations import runs
from hub.operations import sync as sync_ops
from hub.operations.clients import client_day
from hub.operations.context import Actor, Context, Services
from hub.plugins import ENTRY_POINT_GROUP, PluginRegistry, load_plugins
from hub.secrets import SecretBox
from hub.sync import SyncReport
from tests.sample_plugins import RecordingPlugin


def entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def registry_with(*plugins: RecordingPlugin) -> PluginRegistry:
    """A registry holding fresh recording plugins (and nothing installed)."""
    registry = load_plugins(entry_points=[])
    for plugin in plugins:
        registry.register(plugin.name, plugin)
    return registry


def add_client_with_plugin(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    name: str,
    plugin: str,
    settings: dict[str, str],
    country: str = "DK",
) -> None:
    with db.session() as session:
        clients.add_client(session, name, country)
        clients.enable_plugin(session, registry, box, name, plugin, settings)


def context_for(
    db: Database, registry: PluginRegistry, box: SecretBox, name: str, today: dt.date | None = None
) -> ClientContext:
    with db.session() as session:
        client = clients.get_client(session, name)
        return clients.client_context(
            client, registry, box, today=Clock(today).today(client.timezone)
        )


def context(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    today: dt.date | None = None,
    *,
    user: str = "tester",
    operator: bool = False,
) -> Context:
    """A run's context as a front end builds it; ``today`` fixes the clock (``--today``)."""
    return Context(Services(db, registry, box), Actor(user, operator), Clock(fixed=today))


def sync_client(
    db: Database, registry: PluginRegistry, box: SecretBox, name: str, today: dt.date | None = None
) -> SyncReport:
    """The sync step of ``hub sync`` (no cycle, no delivery), its run recorded."""
    ctx = context(db, registry, box, today)
    return sync_ops.fetch_invoices(ctx, client_day(ctx, name))


def _client(db: Database, name: str, today: dt.date | None) -> tuple[int, dt.date]:
    with db.session() as session:
        client = clients.get_client(session, name)
        return client.id, Clock(today).today(client.timezone)


def _now(db: Database, name: str, today: dt.date | None) -> dt.datetime:
    with db.session() as session:
        return Clock(today).now(clients.get_client(session, name).timezone)


def run_cycle(
    db: Database,
    name: str,
    today: dt.date | None = None,
    registry: PluginRegistry | None = None,
) -> dunning_cycle.CycleReport:
    """The dunning cycle for client ``name`` on ``today`` (default: its real today); with
    ``registry``, R2's default follows the client's plugin, as in ``hub sync``."""
    return dunning_cycle.run_cycle(db, *_client(db, name, today), registry=registry)


def deliver_pending(
    db: Database, registry: PluginRegistry, box: SecretBox, name: str, today: dt.date | None = None
) -> dunning_messages.DeliveryReport:
    """Deliver client ``name``'s pending messages on ``today`` (default: its real today)."""
    return dunning_messages.deliver_pending(
        db, registry, box, *_client(db, name, today), _now(db, name, today)
    )


def run_history(db: Database) -> list[dict[str, Any]]:
    """Every recorded run, newest first, as ``hub runs list --json`` gives them."""
    with db.session() as session:
        return runs.run_rows(session, limit=100_000)


def wait_for(
    condition: Callable[[], Any], what: str, timeout: float = 90, every: float = 0.05
) -> Any:
    """Poll ``condition`` until it is true (returning its value), failing after ``timeout``
    seconds naming ``what`` was waited for."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)
