"""The installed plugins: their versions, capabilities and settings, and those that failed to
load (``hub plugins list``); a client's settings form for each (:func:`settings_forms`); and a
test of the connection to the client's accounting system (``hub clients check``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hub import clients
from hub.errors import InputError, NotFoundError, PluginError, SecretKeyError, SettingsError
from hub.operations.context import Context
from hub.plugins import PluginRegistry
from hub.records import Record, json_name


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


@dataclass(frozen=True)
class SettingField(Record):
    """One setting of a plugin's schema with what the client has stored for it. A secret's
    value is never given, only whether one is stored (``set``)."""

    name: str
    type: str
    required: bool
    secret: bool
    default: str | None
    description: str
    value: str | None  # the stored value; None if none is stored, or if it is a secret
    is_set: bool = field(metadata=json_name("set"))


@dataclass(frozen=True)
class SettingsForm:
    """An installed plugin as a client may enable it: its settings schema, each setting with
    the client's stored value (secrets: only whether one is stored)."""

    plugin: str
    title: str
    kind: str  # accounting or delivery
    enabled: bool  # enabled for the client now
    stored: bool  # the client has settings stored for it (enabled now or before)
    fields: tuple[SettingField, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "plugin": self.plugin,
            "title": self.title,
            "kind": self.kind,
            "enabled": self.enabled,
            "stored": self.stored,
            "settings": [f.as_dict() for f in self.fields],
        }


def settings_forms(ctx: Context, client: str) -> list[SettingsForm]:
    """Every installed plugin's settings form for ``client``, by plugin name: what a front end
    shows to enable a plugin or change its settings. A setting is secret if the plugin marks
    it so or it was stored as one; its value is never read, let alone returned."""
    with ctx.db.session() as session:
        ctx.client(session, client)  # a client the user may not see is not found
        row = clients.get_client(session, client)
        mine = {cp.plugin: cp for cp in row.plugins}
        forms = []
        for name in ctx.registry.names():
            info = ctx.registry.infos[name]
            cp = mine.get(name)
            stored = {s.key: s for s in cp.settings} if cp is not None else {}
            fields = []
            for spec in info.settings:
                setting = stored.get(spec.name)
                secret = spec.secret or (setting is not None and setting.secret)
                fields.append(
                    SettingField(
                        name=spec.name,
                        type=spec.type,
                        required=spec.required,
                        secret=secret,
                        default=spec.default,
                        description=spec.description,
                        value=None if setting is None or secret else setting.value,
                        is_set=setting is not None,
                    )
                )
            forms.append(
                SettingsForm(
                    plugin=name,
                    title=info.title,
                    kind=info.kind,
                    enabled=cp is not None and cp.enabled,
                    stored=bool(stored),
                    fields=tuple(fields),
                )
            )
        return forms


def settings_form(ctx: Context, client: str, plugin: str) -> SettingsForm:
    """:func:`settings_forms`' form of the installed plugin ``plugin``.

    :raises NotFoundError: no such client (or one the user may not see), or no such plugin
        installed.
    :raises PluginError: the plugin is installed but failed to load.
    """
    found = next((f for f in settings_forms(ctx, client) if f.plugin == plugin), None)
    if found is None:
        ctx.registry.info(plugin)  # not installed, or failed to load: said so
        raise NotFoundError(f"no plugin named {plugin!r} is installed")  # pragma: no cover
    return found


@dataclass(frozen=True)
class ConnectionCheck(Record):
    """``hub clients check``: whether the client's accounting plugin reached its system with
    the stored settings; ``open_invoices`` it reported, or the ``error`` it failed with."""

    client: str
    plugin: str
    ok: bool
    open_invoices: int | None
    error: str | None


def check_connection(ctx: Context, client: str, plugin: str | None = None) -> ConnectionCheck:
    """Call the client's enabled accounting plugin (``plugin``: it must be that one) once,
    read-only, with its stored settings: fetch the open invoices, store nothing. A failure
    of the plugin (credentials refused, system unreachable, a setting it cannot use, a
    secret the configured keys cannot read) is the result, not an error: ``ok`` False with
    the plugin's message (which never holds a secret's value).

    :raises NotFoundError: no such client (or one the user may not see), or ``plugin`` is
        not enabled for it.
    :raises InputError: the client has no accounting plugin enabled, or ``plugin`` is a
        delivery plugin (testing one would send a message).
    """
    with ctx.db.session() as session:
        day = ctx.client(session, client)
        row = clients.get_client(session, client)
        if plugin is not None:
            named = next((p for p in row.plugins if p.plugin == plugin and p.enabled), None)
            if named is None:
                raise NotFoundError(
                    f"client {client!r} has no enabled plugin {plugin!r}"
                    f" (see `hub clients show {client}`)"
                )
            if named.kind != "accounting":
                raise InputError(
                    f"plugin {plugin!r} is a {named.kind} plugin: only an accounting plugin's"
                    " connection is tested (a delivery plugin's test would send a message)"
                )
        enabled = clients.enabled_plugin(row)
        if enabled is None:
            raise InputError(
                f"client {client!r} has no accounting plugin enabled; enable one first"
                " (`hub clients enable`)"
            )
        name = enabled.plugin
        try:
            plugin_ctx = clients.client_context(
                row, ctx.registry, ctx.box, today=day.today, job="check"
            )
        except (PluginError, InputError, SecretKeyError) as exc:
            # a setting missing or refused, the plugin not installed now, a secret unreadable
            return ConnectionCheck(client, name, False, None, str(exc))
    try:  # outside the transaction: the plugin may take its time
        invoices = ctx.registry.for_client(plugin_ctx).fetch_open_invoices()
    except (PluginError, SettingsError) as exc:
        return ConnectionCheck(client, name, False, None, str(exc))
    return ConnectionCheck(client, name, True, len(invoices), None)
