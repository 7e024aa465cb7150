"""Clients and their plugin settings: add, remove, enable a plugin, set and read settings.

Settings are validated against the plugin's settings schema (:class:`hub.model.SettingSpec`)
when they are set, so a typo or a wrong type is refused at once rather than at the next sync.
Secret settings are encrypted before they reach the database and masked whenever shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub import clock
from hub.db import tables as t
from hub.errors import InputError, NotFoundError, SettingsError
from hub.logging import MASK, get_logger
from hub.model import ClientContext, PluginSettings, SystemInfo
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox

COUNTRY_DEFAULTS: dict[str, tuple[str, str]] = {
    "DK": ("DKK", "Europe/Copenhagen"),
    "NO": ("NOK", "Europe/Oslo"),
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def parse_assignments(pairs: Iterable[str]) -> dict[str, str]:
    """``["key=value", ...]`` → dict; a pair without ``=`` or with an empty key is refused."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"setting {pair!r} is not of the form key=value")
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
    return list(session.scalars(select(t.Client).order_by(t.Client.name)))


def remove_client(session: Session, name: str) -> None:
    """Remove a client and everything stored for it; refused while it has open cases."""
    client = get_client(session, name)
    open_cases = session.scalar(
        select(func.count(t.Case.id)).where(t.Case.client_id == client.id, t.Case.state != "closed")
    )
    if open_cases:
        raise InputError(
            f"client {name!r} has {open_cases} open case(s); close them before removing the client"
        )
    session.delete(client)


def enabled_plugin(client: t.Client) -> t.ClientPlugin | None:
    return next((p for p in client.plugins if p.enabled), None)


def _validate(info: SystemInfo, values: Mapping[str, str]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for key, raw in values.items():
        spec = info.setting(key)
        if spec is None:
            known = ", ".join(s.name for s in info.settings) or "none"
            raise SettingsError(f"plugin {info.name!r} has no setting {key!r} (settings: {known})")
        try:
            checked[key] = spec.parse(raw)
        except ValueError as exc:
            raise SettingsError(f"setting {key!r} of plugin {info.name!r} {exc}") from None
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


def _missing_required(info: SystemInfo, cp: t.ClientPlugin) -> list[str]:
    present = {s.key for s in cp.settings}
    return [s.name for s in info.settings if s.required and s.name not in present]


def enable_plugin(
    session: Session,
    registry: PluginRegistry,
    box: SecretBox,
    name: str,
    plugin: str,
    values: Mapping[str, str],
) -> t.ClientPlugin:
    """Enable ``plugin`` for client ``name`` with ``values``; every required setting must be set.

    A client has one accounting plugin at a time: enabling a second one is refused until the
    first is disabled.
    """
    client = get_client(session, name)
    info = registry.info(plugin)
    current = enabled_plugin(client)
    if current is not None and current.plugin != plugin:
        raise InputError(
            f"client {name!r} already uses accounting plugin {current.plugin!r};"
            f" disable it first (`hub clients disable {name} {current.plugin}`)"
        )
    checked = _validate(info, values)
    cp = next((p for p in client.plugins if p.plugin == plugin), None)
    if cp is None:
        cp = t.ClientPlugin(plugin=plugin, enabled=True)
        client.plugins.append(cp)
    cp.enabled = True
    _store(box, info, cp, checked)
    missing = _missing_required(info, cp)
    if missing:
        raise SettingsError(
            f"plugin {plugin!r} needs these settings for client {name!r}: {', '.join(missing)}"
            f" (give them with --set key=value)"
        )
    session.flush()
    return cp


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
) -> t.ClientPlugin:
    """Change settings of the client's enabled accounting plugin."""
    client = get_client(session, name)
    cp = enabled_plugin(client)
    if cp is None:
        raise InputError(
            f"client {name!r} has no plugin enabled; enable one first (`hub clients enable`)"
        )
    info = registry.info(cp.plugin)
    _store(box, info, cp, _validate(info, values))
    return cp


@dataclass(frozen=True)
class ShownSetting:
    key: str
    value: str  # masked when secret
    secret: bool


def shown_settings(cp: t.ClientPlugin) -> list[ShownSetting]:
    """Settings for display: a secret's value is always the mask, never the ciphertext."""
    return [ShownSetting(s.key, MASK if s.secret else s.value, s.secret) for s in cp.settings]


def client_context(
    client: t.Client, registry: PluginRegistry, box: SecretBox, *, job: str | None = None
) -> ClientContext:
    """The context for calling the client's enabled plugin, with its settings decrypted.

    Settings the client did not set are filled from the plugin's defaults.
    """
    cp = enabled_plugin(client)
    if cp is None:
        raise InputError(
            f"client {client.name!r} has no plugin enabled; enable one first (`hub clients enable`)"
        )
    info = registry.info(cp.plugin)
    values = {s.name: s.default for s in info.settings if s.default is not None}
    for s in cp.settings:
        values[s.key] = (
            box.decrypt(s.value, what=f"setting {s.key!r} of client {client.name!r}")
            if s.secret
            else s.value
        )
    missing = [s.name for s in info.settings if s.required and s.name not in values]
    if missing:
        raise SettingsError(
            f"plugin {cp.plugin!r} needs these settings for client {client.name!r}:"
            f" {', '.join(missing)} (`hub clients set {client.name} key=value`)"
        )
    context = {"client": client.name, "plugin": cp.plugin}
    if job:
        context["job"] = job
    return ClientContext(
        client_id=client.id,
        client_name=client.name,
        plugin=cp.plugin,
        country=client.country,
        currency=client.currency,
        timezone=client.timezone,
        today=clock.today(client.timezone),
        settings=PluginSettings(values, info.secret_names),
        log=get_logger("hub.plugin", **context),
    )
