"""The installed plugins: their versions, capabilities and settings, and those that failed to
load (``hub plugins list``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.plugins import PluginRegistry


@dataclass(frozen=True)
class InstalledPlugins:
    plugins: list[dict[str, Any]]
    errors: list[dict[str, str]]

    def as_dict(self) -> dict[str, Any]:
        return {"plugins": self.plugins, "errors": self.errors}


def list_plugins(registry: PluginRegistry) -> InstalledPlugins:
    """What is installed, by name, and what could not be loaded, with why.

    Takes the registry, not a whole context: listing plugins needs no database.
    """
    plugins: list[dict[str, Any]] = [
        {
            "name": info.name,
            "title": info.title,
            "version": info.version,
            "capabilities": sorted(info.capabilities),
            "settings": [s.as_dict() for s in info.settings],
        }
        for info in (registry.infos[n] for n in registry.names())
    ]
    errors = [{"name": n, "error": e} for n, e in sorted(registry.errors.items())]
    return InstalledPlugins(plugins, errors)
