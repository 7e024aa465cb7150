"""The context a plugin's own tests call its hooks with: :func:`plugin_context`.

The core builds a :class:`~hub.model.ClientContext` per (client, plugin) call from the client's
row and its stored settings (:func:`hub.clients.client_context`); a plugin's tests, and the
conformance kit, have no client row, only the plugin's :class:`~hub.model.SystemInfo` and the
settings to try. This builds the same context from those: secrets masked in its repr as the
plugin declares them, a Danish client unless told otherwise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import structlog

from hub.model import ClientContext, PluginSettings, SystemInfo


def schema_defaults(info: SystemInfo) -> dict[str, str]:
    """The defaults of the plugin's settings schema, as the core fills them in."""
    return {s.name: s.default for s in info.settings if s.default is not None}


def plugin_context(
    info: SystemInfo,
    settings: Mapping[str, str | None],
    *,
    today: dt.date,
    client_id: int = 1,
    client_name: str = "Acme ApS",
    country: str = "DK",
    currency: str = "DKK",
    timezone: str = "Europe/Copenhagen",
    log: Any = None,
) -> ClientContext:
    """A context for calling ``info``'s plugin with ``settings`` (a ``None`` value: the setting
    left out), secrets masked; ``log`` defaults to structlog's logger."""
    values = {k: v for k, v in settings.items() if v is not None}
    return ClientContext(
        client_id=client_id,
        client_name=client_name,
        plugin=info.name,
        country=country,
        currency=currency,
        timezone=timezone,
        today=today,
        settings=PluginSettings(values, info.secret_names),
        log=structlog.get_logger() if log is None else log,
    )
