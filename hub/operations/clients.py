"""Clients: add, list, show and remove them; enable, disable and set their plugins; grant and
revoke their features (C2).

Customer mode (:mod:`hub.dunning.customer_mode`, and the dunning rules, flows and cases it
brings) and the users (:mod:`hub.operations.users`, and Argon2) are imported by the functions
that need them: ``hub clients list`` and ``show`` start without them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from hub import clients
from hub.db import tables as t
from hub.operations import access
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
#: The feature an operator grants before a client may switch to customer mode (C2): named
#: here as in :data:`hub.dunning.customer_mode.CUSTOMER_REMINDERS` (a test holds the two).
CUSTOMER_REMINDERS = "customer_reminders"


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


def _settings(ctx: Context, cp: t.ClientPlugin) -> dict[str, str]:
    """The plugin's settings as ``hub clients show`` shows them: a setting is secret, its value
    masked, if stored as one or if the installed plugin marks it secret now."""
    info = ctx.registry.infos.get(cp.plugin)
    secret_names = info.secret_names if info else frozenset()
    return {s.key: s.value for s in clients.shown_settings(cp, secret_names)}


def _plugin(ctx: Context, cp: t.ClientPlugin) -> PluginSettings:
    return PluginSettings(cp.plugin, cp.enabled, _settings(ctx, cp))


def _details(ctx: Context, client: t.Client) -> ClientDetails:
    return ClientDetails(_summary(client), [_plugin(ctx, cp) for cp in client.plugins])


def _plugins(ctx: Context, client: t.Client) -> dict[str, dict[str, Any]]:
    """Each of the client's plugins as the audit log keeps it (secrets masked)."""
    return {cp.plugin: _plugin(ctx, cp).as_dict() for cp in client.plugins}


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
    """Register a client company; currency and time zone default to its country's.

    A consultant may add a client too: it is assigned to them in the same transaction (they
    could not see it otherwise); a viewer adds none.
    """
    adder = ctx
    if ctx.actor.role == "consultant" and ctx.actor.clients is not None:
        adder = replace(ctx, actor=replace(ctx.actor, clients=ctx.actor.clients | {name}))
    with (
        ctx.db.session() as session,
        access.changing(
            session, adder, action="client.add", client=name, subject=f"client {name}"
        ) as change,
    ):
        row = clients.add_client(session, name, country, currency, timezone)
        if adder is not ctx:
            from hub.operations import users

            users.assign_new_client(session, ctx.actor.name, row)
        summary = _summary(row)
        change.after = summary.as_dict()
        return summary


def list_clients(ctx: Context) -> list[ClientSummary]:
    """The clients the acting user may see, by name."""
    with ctx.db.session() as session:
        return [_summary(c) for c in clients.list_clients(session) if ctx.actor.may_see(c.name)]


def show_client(ctx: Context, name: str) -> ClientDetails:
    """The client with its plugins and their settings, secrets masked: a setting is secret if
    stored as one or if the installed plugin marks it secret now."""
    with ctx.db.session() as session:
        return _details(ctx, access.client_row(ctx, session, name))


def remove_client(ctx: Context, name: str) -> None:
    """Remove a client and what is stored for it (refused while it has open cases)."""
    with ctx.db.session() as session:
        before = _details(ctx, access.client_row(ctx, session, name)).as_dict()
        with access.changing(
            session,
            ctx,
            action="client.remove",
            client=name,
            subject=f"client {name}",
            before=before,
        ):
            clients.remove_client(session, name)


def enable_plugin(ctx: Context, name: str, plugin: str, settings: Mapping[str, str]) -> None:
    """Enable a plugin for the client with ``settings`` (checked against its schema)."""
    with ctx.db.session() as session:
        before = _plugins(ctx, access.client_row(ctx, session, name)).get(plugin)
        with access.changing(
            session,
            ctx,
            action="client.enable",
            client=name,
            subject=f"plugin {plugin}",
            before=before,
        ) as change:
            cp = clients.enable_plugin(session, ctx.registry, ctx.box, name, plugin, settings)
            change.after = {**_plugin(ctx, cp).as_dict(), "given": sorted(settings)}


def disable_plugin(ctx: Context, name: str, plugin: str) -> None:
    """Disable the client's plugin; its settings are kept."""
    with ctx.db.session() as session:
        row = access.client_row(ctx, session, name)
        before = _plugins(ctx, row).get(plugin)
        with access.changing(
            session,
            ctx,
            action="client.disable",
            client=name,
            subject=f"plugin {plugin}",
            before=before,
        ) as change:
            clients.disable_plugin(session, name, plugin)
            change.after = _plugins(ctx, row).get(plugin)


def set_settings(
    ctx: Context, name: str, settings: Mapping[str, str], *, plugin: str | None = None
) -> str:
    """Change settings of one of the client's enabled plugins (default: its accounting
    plugin); returns that plugin's name."""
    with ctx.db.session() as session:
        before = _plugins(ctx, access.client_row(ctx, session, name))
        change = access.permit(
            ctx,
            action="client.settings",
            client=name,
            subject=f"plugin {plugin}" if plugin else "the accounting plugin",
        )
        cp = clients.set_settings(session, ctx.registry, ctx.box, name, settings, plugin)
        change.subject = f"plugin {cp.plugin}"
        change.before = before.get(cp.plugin)
        change.after = {**_plugin(ctx, cp).as_dict(), "given": sorted(settings)}
        change.record(session)
        return cp.plugin


def grant_feature(ctx: Context, name: str, feature: str) -> str:
    """The acting operator grants the client ``feature``; returns who granted it (the first
    operator who did, if it was granted before: then nothing changes, nothing is recorded)."""
    from hub.dunning import customer_mode

    with ctx.db.session() as session:
        row = access.client_row(ctx, session, name)
        change = access.permit(
            ctx, action="client.grant", client=name, subject=f"feature {feature}"
        )
        before = customer_mode.granted(session, row, feature)
        grant = customer_mode.grant(
            session, name, feature, by=ctx.actor.name, operator=ctx.actor.operator
        )
        if before is None:
            change.after = {"feature": feature, "granted_by": grant.granted_by}
            change.record(session)
        return grant.granted_by


def revoke_feature(ctx: Context, name: str, feature: str) -> None:
    """The acting operator takes ``feature`` back; refused while the client uses it."""
    from hub.dunning import customer_mode

    with ctx.db.session() as session:
        row = access.client_row(ctx, session, name)
        before = customer_mode.granted(session, row, feature)
        with access.changing(
            session,
            ctx,
            action="client.revoke",
            client=name,
            subject=f"feature {feature}",
            before=None
            if before is None
            else {"feature": feature, "granted_by": before.granted_by},
        ):
            customer_mode.revoke(
                session, name, feature, by=ctx.actor.name, operator=ctx.actor.operator
            )
