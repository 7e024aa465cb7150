"""What every plugin package says about itself: its version and its ``system_info`` hook.

::

    __version__ = version_of("receivables-hub-acme")            # in the package's __init__
    system_info = info_hook(NAME, "Acme", __version__, CAPABILITIES, SETTINGS)  # plugin.py
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Callable, Iterable

from hub import hookimpl
from hub.model import SettingSpec, SystemInfo

__all__ = ["info_hook", "version_of"]


def version_of(distribution: str) -> str:
    """The installed version of ``distribution``; ``0.0.0`` when run from a source tree."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:  # running from a source tree, not installed
        return "0.0.0"


def info_hook(
    name: str,
    title: str,
    version: str,
    capabilities: Iterable[str],
    settings: tuple[SettingSpec, ...],
    *,
    kind: str = "accounting",
) -> Callable[[], SystemInfo]:
    """The ``system_info`` hook of a plugin: assign it to ``system_info`` in the module that
    pluggy loads (pluggy finds hooks by attribute name)."""
    info = SystemInfo(
        name=name,
        title=title,
        version=version,
        capabilities=frozenset(capabilities),
        settings=settings,
        kind=kind,
    )

    @hookimpl
    def system_info() -> SystemInfo:
        return info

    return system_info
