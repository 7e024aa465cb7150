"""Small helpers shared by tests."""

from __future__ import annotations

from importlib.metadata import EntryPoint

from hub import clients
from hub.db.engine import Database
from hub.model import ClientContext
from hub.plugins import ENTRY_POINT_GROUP, PluginRegistry, load_plugins
from hub.secrets import SecretBox
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


def context_for(db: Database, registry: PluginRegistry, box: SecretBox, name: str) -> ClientContext:
    with db.session() as session:
        return clients.client_context(clients.get_client(session, name), registry, box)
