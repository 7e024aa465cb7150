"""Clients and their plugin settings: add, remove, enable a plugin, set and read settings.

Settings are validated against the plugin's settings schema (:class:`hub.model.SettingSpec`)
when they are set, so a typo or a wrong type is refused at once rather than at the next sync.
Secret settings are encrypted before they reach the database and masked whenever shown; an
error about a secret setting never repeats the value given.

A setting is treated as secret when it was stored as one *or* the plugin's schema says it is
one now. So a setting a newer plugin version marks secret is masked at once, although it was
stored in plain text before: it is passed to the plugin as stored (it cannot be decrypted, as
it was never encrypted) and is encrypted the next time it is set.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from hub import clock
from hub.db import tables as t
from hub.dunning.states import CaseState
from hub.errors import InputError, NotFoundError, SettingsError
from hub.logging import MASK, get_logger
from hub.model import _CURRENCY, ClientContext, PluginSettings, SystemInfo
from hub.plugins import PluginRegistry
from hub.records import made_from
from hub.secrets import SecretBox

COUNTRY_DEFAULTS: dict[str, tuple[str, str]] = {
    "DK": ("DKK", "Europe/Copenhagen"),
    "NO": ("NOK", "Europe/Oslo"),
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """``["key=value", ...]`` → dict; a pair without ``=`` or with an empty key is refused.

    The refusal never repeats the argument: it may be a secret typed without its key. It
    names the argument by its position (1 is the first key=value argument).
    """
    result: dict[str, str] = {}
    for position, pair in enumerate(pairs, start=1):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(
                f"argument {position} of the settings is not of the form key=value"
                + ("" if sep else " (it has no '=')")
            )
        result[key.strip()] = value
    return result


def add_client(
    session: Session,
    name: str,
    country: str,
    currency: str | None = None,
    timezone: str | None = None,
) -> t.Client:
    if not _NAME.match(name):
        raise InputError(
            f"client name {name!r}: use letters, digits, '.', '_' or '-' (at most 100),"
            " starting with a letter or digit"
        )
    country = country.upper()
    if country not in COUNTRY_DEFAULTS:
        raise InputError(f"country {country!r} is not supported: use one of DK, NO")
    default_currency, default_tz = COUNTRY_DEFAULTS[country]
    currency = (currency or default_currency).upper()
    if not _CURRENCY.match(currency):
        raise InputError(f"currency {currency!r} is not an ISO 4217 code like DKK")
    timezone = clock.check_timezone(timezone or default_tz)
    if session.scalar(select(t.Client.id).where(t.Client.name == name)) is not None:
        raise InputError(f"a client named {name!r} exists already")
    client = t.Client(name=name, country=country, currency=currency, timezone=timezone)
    session.add(client)
    session.flush()
    return client


def get_client(session: Session, name: str) -> t.Client:
    client = session.scalar(select(t.Client).where(t.Client.name == name))
    if client is None:
        raise NotFoundError(f"no client named {name!r} (see `hub clients list`)")
    return client


def list_clients(session: Session) -> list[t.Client]:
    """Every client, its plugins loaded with it (one query for all, not one per client)."""
    return list(
        session.scalars(
            select(t.Client).options(selectinload(t.Client.plugins)).order_by(t.Client.name)
        )
    )


def remove_client(session: Session, name: str) -> None:
    """Remove a client and everything stored for it; refused while it has open cases."""
    client = get_client(session, name)
    open_cases = session.scalar(
        select(func.count(t.Case.id)).where(
            t.Case.client_id == client.id, t.Case.state != CaseState.CLOSED
        )
    )
    if open_cases:
        raise InputError(
            f"client {name!r} has {open_cases} open case(s); close them before removing the client"
        )
    session.delete(client)


def enabled_plugin(client: t.Client, kind: str = "accounting") -> t.ClientPlugin | None:
    """The client's enabled plugin of ``kind`` (accounting or delivery), if any."""
    return next((p for p in client.plugins if p.enabled and p.kind == kind), None)


def validate_settings(info: SystemInfo, values: Mapping[str, str]) -> dict[str, str]:
    """``values`` checked against the plugin's settings schema and normalised; an unknown key
    or a value of the wrong type is a :class:`SettingsError` (a secret's value is never shown)."""
    checked: dict[str, str] = {}
    for key, raw in values.items():
        spec = info.setting(key)
        if spec is None:
            known = ", ".join(s.name for s in info.settings) or "none"
            raise SettingsError(f"plugin {info.name!r} has no setting {key!r} (settings: {known})")
        try:
            checked[key] = spec.parse(raw)
        except ValueError as exc:
            why = f"the value given is not a valid {spec.type}" if spec.secret else str(exc)
            raise SettingsError(f"setting {key!r} of plugin {info.name!r}: {why}") from None
    return checked


def _store(box: SecretBox, info: SystemInfo, cp: t.ClientPlugin, values: dict[str, str]) -> None:
    existing = {s.key: s for s in cp.settings}
    for key, value in values.items():
        secret = key in info.secret_names
        stored = box.encrypt(value) if secret else value
        if key in existing:
            existing[key].value = stored
            existing[key].secret = secret
        else:
            cp.settings.append(t.PluginSetting(key=key, value=stored, secret=secret))


def require_settings(info: SystemInfo, present: Collection[str], client: str, how: str) -> None:
    """Refuse unless every required setting of the plugin is in ``present``."""
    missing = [s.name for s in info.settings if s.required and s.name not in present]
    if missing:
        raise SettingsError(
            f"plugin {info.name!r} needs these settings for client {client!r}:"
            f" {', '.join(missing)} ({how})"
        )


def with_defaults(info: SystemInfo, values: Mapping[str, str]) -> dict[str, str]:
    """``values`` over the defaults of the plugin's settings schema."""
    return {s.name: s.default for s in info.settings if s.default is not None} | dict(values)


def _no_plugin_enabled(client: str, what: str) -> InputError:
    return InputError(
        f"client {client!r} has no {what} enabled; enable one first (`hub clients enable`)"
    )


def enable_plugin(
    session: Session,
    registry: PluginRegistry,
    box: SecretBox,
    name: str,
    plugin: str,
    values: Mapping[str, str],
) -> t.ClientPlugin:
    """Enable ``plugin`` for client ``name`` with ``values``; every required setting must be set.

    A client has one plugin of each kind (accounting, delivery) at a time: enabling a second
    one of a kind is refused until the first is disabled.
    """
    client = get_client(session, name)
    info = registry.info(plugin)
    current = enabled_plugin(client, info.kind)
    if current is not None and current.plugin != plugin:
        raise InputError(
            f"client {name!r} already uses {info.kind} plugin {current.plugin!r};"
            f" disable it first (`hub clients disable {name} {current.plugin}`)"
        )
    checked = validate_settings(info, values)
    cp = next((p for p in client.plugins if p.plugin == plugin), None)
    if cp is None:
        cp = t.ClientPlugin(plugin=plugin, kind=info.kind, enabled=True)
        client.plugins.append(cp)
    cp.enabled = True
    cp.kind = info.kind
    _store(box, info, cp, checked)
    require_settings(info, {s.key for s in cp.settings}, name, "give them with --set key=value")
    _plugin_check(registry, box, info, client, cp)
    session.flush()
    return cp


def _plugin_check(
    registry: PluginRegistry, box: SecretBox, info: SystemInfo, client: t.Client, cp: t.ClientPlugin
) -> None:
    """Let the plugin refuse the settings it would be called with (its ``check_settings``
    hook): defaults filled in, secrets decrypted, masked in any repr."""
    values = with_defaults(info, {})
    for s in cp.settings:
        values[s.key] = (
            box.decrypt(s.value, what=f"setting {s.key!r} of client {client.name!r}")
            if s.secret
            else s.value
        )
    secret_names = info.secret_names | {s.key for s in cp.settings if s.secret}
    registry.check_settings(info.name, PluginSettings(values, secret_names))


def disable_plugin(session: Session, name: str, plugin: str) -> None:
    """Disable the plugin for the client; its settings are kept for a later enable."""
    client = get_client(session, name)
    cp = next((p for p in client.plugins if p.plugin == plugin and p.enabled), None)
    if cp is None:
        raise NotFoundError(f"client {name!r} has no enabled plugin {plugin!r}")
    cp.enabled = False


def set_settings(
    session: Session,
    registry: PluginRegistry,
    box: SecretBox,
    name: str,
    values: Mapping[str, str],
    plugin: str | None = None,
) -> t.ClientPlugin:
    """Change settings of one of the client's enabled plugins (default: its accounting plugin)."""
    client = get_client(session, name)
    cp = next(
        (
            p
            for p in client.plugins
            if p.enabled and (p.plugin == plugin if plugin else p.kind == "accounting")
        ),
        None,
    )
    if cp is None:
        raise _no_plugin_enabled(name, f"plugin {plugin!r}" if plugin else "accounting plugin")
    info = registry.info(cp.plugin)
    _store(box, info, cp, validate_settings(info, values))
    _plugin_check(registry, box, info, client, cp)
    return cp


@dataclass(frozen=True)
class ShownSetting:
    key: str
    value: str  # masked when secret
    secret: bool


def shown_settings(
    cp: t.ClientPlugin, secret_names: Collection[str] = frozenset()
) -> list[ShownSetting]:
    """Settings for display: a secret's value is always the mask, never the ciphertext.

    A setting is secret if it was stored as one or is in ``secret_names`` (the plugin's
    :attr:`SystemInfo.secret_names` now, when the plugin is installed).
    """
    shown = []
    for s in cp.settings:
        secret = s.secret or s.key in secret_names
        shown.append(ShownSetting(s.key, MASK if secret else s.value, secret))
    return shown


def client_context(
    client: t.Client,
    registry: PluginRegistry,
    box: SecretBox,
    *,
    today: dt.date,
    job: str | None = None,
    kind: str = "accounting",
    fallback: tuple[str, Mapping[str, str]] | None = None,
) -> ClientContext:
    """The context for calling the client's enabled plugin of ``kind``, settings decrypted.

    ``today`` is the client's day the run acts for (the plugin's ``ctx.today``).
    Settings the client did not set are filled from the plugin's defaults. ``fallback``
    (plugin name, settings) is used when the client has no plugin of that kind enabled.
    """
    cp = enabled_plugin(client, kind)
    fallback_values: Mapping[str, str] = {}
    if cp is not None:
        plugin_name, stored = cp.plugin, list(cp.settings)
    elif fallback is not None:
        (plugin_name, fallback_values), stored = fallback, []
    else:
        raise _no_plugin_enabled(client.name, f"{kind} plugin")
    info = registry.info(plugin_name)
    values = with_defaults(info, fallback_values)
    # Only what was stored encrypted is decrypted; a setting the plugin marks secret only
    # since it was stored is plain text and passed as it is (see the module's docstring).
    for s in stored:
        values[s.key] = (
            box.decrypt(s.value, what=f"setting {s.key!r} of client {client.name!r}")
            if s.secret
            else s.value
        )
    require_settings(info, values, client.name, f"`hub clients set {client.name} key=value`")
    secret_names = info.secret_names | {s.key for s in stored if s.secret}
    context = {"client": client.name, "plugin": plugin_name}
    if job:
        context["job"] = job
    return made_from(
        ClientContext,
        client,
        client_id=client.id,
        client_name=client.name,
        plugin=plugin_name,
        today=today,
        settings=PluginSettings(values, secret_names),
        log=get_logger("hub.plugin", **context),
    )
