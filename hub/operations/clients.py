"""Clients: add, list, show and remove them; enable, disable and set their plugins; grant and
revoke their features (C2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub import clients
from hub.db import tables as t
from hub.dunning import customer_mode
from hub.operations.context import ClientDay, Context
from hub.records import Record, made_from

#: ``["key=value", ...]`` -> dict, for a front end reading settings as text.
parse_assignments = clients.parse_assignments
#: A setting's value read from a file (one trailing line break removed), for ``--secret-file``.
read_secret_file = clients.read_secret_file
#: Text read from a pipe without its trailing line break, for ``--secret-stdin``.
strip_line_break = clients.strip_line_break
#: Settings from several sources in one dict; a setting given twice is refused.
merge_settings = clients.merge_settings
#: The feature an operator grants before a client may switch to customer mode (C2).
CUSTOMER_REMINDERS = customer_mode.CUSTOMER_REMINDERS


@dataclass(frozen=True)
class ClientSummary(Record):
    """A client as ``hub clients list`` shows it; ``plugin`` is its accounting plugin."""

    name: str
    country: str
    currency: str
    timezone: str
    plugin: str | None


@dataclass(frozen=True)
class PluginSettings(Record):
    """One of a client's plugins with its settings (a secret's value masked)."""

    plugin: str
    enabled: bool
    settings: dict[str, str]


@dataclass(frozen=True)
class ClientDetails:
    """A client with its plugins, as ``hub clients show`` shows it."""

    summary: ClientSummary
    plugins: list[PluginSettings] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary.as_dict(), "plugins": [p.as_dict() for p in self.plugins]}


def _summary(client: t.Client) -> ClientSummary:
    cp = clients.enabled_plugin(client)
    return made_from(ClientSummary, client, plugin=cp.plugin if cp else None)


def client_day(ctx: Context, name: str) -> ClientDay:
    """The client ``name`` with its today fixed now, for a run that acts for it."""
    with ctx.db.session() as session:
        return ctx.client(session, name)


def add_client(
    ctx: Context,
    name: str,
    country: str,
    *,
    currency: str | None = None,
    timezone: str | None = None,
) -> ClientSummary:
    """Register a client company; currency and time zone default to its country's."""
    with ctx.db.session() as session:
        return _summary(clients.add_client(session, name, country, currency, timezone))


def list_clients(ctx: Context) -> list[ClientSummary]:
    with ctx.db.session() as session:
        return [_summary(c) for c in clients.list_clients(session)]


def show_client(ctx: Context, name: str) -> ClientDetails:
    """The client with its plugins and their settings, secrets masked: a setting is secret if
    stored as one or if the installed plugin marks it secret now."""
    with ctx.db.session() as session:
        client = clients.get_client(session, name)
        plugins = []
        for cp in client.plugins:
            info = ctx.registry.infos.get(cp.plugin)
            secret_names = info.secret_names if info else frozenset()
            shown = clients.shown_settings(cp, secret_names)
            plugins.append(PluginSettings(cp.plugin, cp.enabled, {s.key: s.value for s in shown}))
        return ClientDetails(_summary(client), plugins)


def remove_client(ctx: Context, name: str) -> None:
    """Remove a client and what is stored for it (refused while it has open cases)."""
    with ctx.db.session() as session:
        clients.remove_client(session, name)


def enable_plugin(ctx: Context, name: str, plugin: str, settings: Mapping[str, str]) -> None:
    """Enable a plugin for the client with ``settings`` (checked against its schema)."""
    with ctx.db.session() as session:
        clients.enable_plugin(session, ctx.registry, ctx.box, name, plugin, settings)


def disable_plugin(ctx: Context, name: str, plugin: str) -> None:
    """Disable the client's plugin; its settings are kept."""
    with ctx.db.session() as session:
        clients.disable_plugin(session, name, plugin)


def set_settings(
    ctx: Context, name: str, settings: Mapping[str, str], *, plugin: str | None = None
) -> str:
    """Change settings of one of the client's enabled plugins (default: its accounting
    plugin); returns that plugin's name."""
    with ctx.db.session() as session:
        return clients.set_settings(session, ctx.registry, ctx.box, name, settings, plugin).plugin


def grant_feature(ctx: Context, name: str, feature: str) -> str:
    """The acting operator grants the client ``feature``; returns who granted it (the first
    operator who did, if it was granted before)."""
    with ctx.db.session() as session:
        row = customer_mode.grant(
            session, name, feature, by=ctx.actor.name, operator=ctx.actor.operator
        )
        return row.granted_by


def revoke_feature(ctx: Context, name: str, feature: str) -> None:
    """The acting operator takes ``feature`` back; refused while the client uses it."""
    with ctx.db.session() as session:
        customer_mode.revoke(session, name, feature, by=ctx.actor.name, operator=ctx.actor.operator)
