"""Clients and their plugin settings: add, remove, enable a plugin, set and read settings.

Settings are validated against the plugin's settings schema (:class:`hub.model.SettingSpec`)
when they are set, so a typo or a wrong type is refused at once rather than at the next sync.
Secret settings are encrypted before they reach the database and masked whenever shown; an
error about a secret setting never repeats the value given.

A setting is treated as secret when it was stored as one *or* the plugin's schema says it is
one now. So a setting a newer plugin version marks secret is masked at once, although it was
stored in plain text before: it is passed to the plugin as stored (it cannot be decrypted, as
it was never encrypted) and is encrypted the next time it is set.

Every stored secret is readable with the configured keys, or nothing is written: setting or
enabling is refused while the keys cannot read the client's secrets, and storing a secret is
refused while they cannot read every secret in the database (a new key would otherwise leave
secrets under two keys, neither able to read all). :func:`rotate_secrets` re-encrypts them
all under the current key (``hub secrets rotate``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import false, func, select, update
from sqlalchemy.orm import Session, selectinload

from hub import clock
from hub.db import tables as t
from hub.dunning.states import CaseState
from hub.errors import InputError, NotFoundError, SecretKeyError, SettingsError
from hub.logging import MASK, get_logger
from hub.model import _CURRENCY, ClientContext, PluginSettings, SystemInfo
from hub.plugins import PluginRegistry
from hub.records import made_from
from hub.secrets import SecretBox

COUNTRY_DEFAULTS: dict[str, tuple[str, str]] = {
    "DK": ("DKK", "Europe/Copenhagen"),
    "NO": ("NOK", "Europe/Oslo"),
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


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


def read_secret_file(key: str, path: str) -> str:
    """The value of setting ``key`` read from the file ``path`` (UTF-8), one trailing line
    break removed (as ``echo`` or an editor leaves it); the value itself is never shown.

    :raises InputError: the file cannot be read or is empty.
    """
    try:
        text = Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise InputError(f"setting {key!r}: cannot read {path!r}: {why}") from None
    value = strip_line_break(text)
    if not value:
        raise InputError(f"setting {key!r}: {path!r} is empty")
    return value


def strip_line_break(text: str) -> str:
    """``text`` without one trailing ``\\n`` or ``\\r\\n`` (a secret read from a file or a pipe)."""
    if text.endswith("\r\n"):
        return text[:-2]
    return text[:-1] if text.endswith("\n") else text


def merge_settings(*sources: Mapping[str, str]) -> dict[str, str]:
    """The settings of several sources (``--set``, ``--secret-file``, ...) in one dict; a
    setting given in two of them is refused (which one was meant is not for us to guess)."""
    merged: dict[str, str] = {}
    for source in sources:
        for key, value in source.items():
            if key in merged:
                raise InputError(f"setting {key!r} is given twice; give it once")
            merged[key] = value
    return merged


def add_client(
    session: Session,
    name: str,
    country: str,
    currency: str | None = None,
    timezone: str | None = None,
) -> t.Client:
    if not _NAME.fullmatch(name):
        raise InputError(
            f"client name {name!r}: use letters, digits, '.', '_' or '-' (at most 100),"
            " starting with a letter or digit"
        )
    country = country.upper()
    if country not in COUNTRY_DEFAULTS:
        raise InputError(f"country {country!r} is not supported: use one of DK, NO")
    default_currency, default_tz = COUNTRY_DEFAULTS[country]
    currency = (currency or default_currency).upper()
    if not _CURRENCY.fullmatch(currency):
        raise InputError(f"currency {currency!r} is not an ISO 4217 code like DKK")
    timezone = clock.check_timezone(timezone or default_tz)
    if session.scalar(select(t.Client.id).where(t.Client.name == name)) is not None:
        raise InputError(f"a client named {name!r} exists already (see `hub clients show {name}`)")
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


def _check_together(registry: PluginRegistry, info: SystemInfo, cp: t.ClientPlugin) -> None:
    """The plugin's own check of its settings as stored now (defaults filled, secrets masked):
    a combination that cannot work is refused when it is set, not at the next call."""
    stored = {
        s.key: MASK if s.secret or s.key in info.secret_names else s.value for s in cp.settings
    }
    registry.check_settings(info.name, with_defaults(info, stored))


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
    refuse_unreadable_secrets(
        session, box, client, writes_secret=bool(info.secret_names & set(checked))
    )
    cp = next((p for p in client.plugins if p.plugin == plugin), None)
    if cp is None:
        cp = t.ClientPlugin(plugin=plugin, kind=info.kind, enabled=True)
        client.plugins.append(cp)
    cp.enabled = True
    cp.kind = info.kind
    _store(box, info, cp, checked)
    require_settings(
        info,
        {s.key for s in cp.settings},
        name,
        "give them with --set key=value; a secret with --secret-file, --secret-stdin or"
        " --secret-prompt",
    )
    _check_together(registry, info, cp)
    session.flush()
    return cp


def disable_plugin(session: Session, name: str, plugin: str) -> None:
    """Disable the plugin for the client; its settings are kept for a later enable."""
    client = get_client(session, name)
    cp = next((p for p in client.plugins if p.plugin == plugin and p.enabled), None)
    if cp is None:
        raise NotFoundError(
            f"client {name!r} has no enabled plugin {plugin!r} (see `hub clients show {name}`)"
        )
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
    checked = validate_settings(info, values)
    refuse_unreadable_secrets(
        session, box, client, writes_secret=bool(info.secret_names & set(checked))
    )
    _store(box, info, cp, checked)
    _check_together(registry, info, cp)
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


# --- the secrets stored, read with the configured keys -------------------------------------------


@dataclass(frozen=True)
class StoredSecret:
    """A secret setting as stored; ``key_index`` is which configured key reads it (0 the
    current key, 1.. an old one, None none of them). Never its value."""

    client: str
    plugin: str
    setting: str
    key_index: int | None


def count_secrets(session: Session) -> int:
    """How many secret settings the database holds (encrypted with some key)."""
    return session.scalar(select(func.count(t.PluginSetting.id)).where(t.PluginSetting.secret)) or 0


def _secret_rows(
    session: Session, client_id: int | None = None
) -> list[tuple[t.PluginSetting, str, str]]:
    query = (
        select(t.PluginSetting, t.Client.name, t.ClientPlugin.plugin)
        .join(t.ClientPlugin, t.PluginSetting.client_plugin_id == t.ClientPlugin.id)
        .join(t.Client, t.ClientPlugin.client_id == t.Client.id)
        .where(t.PluginSetting.secret)
        .order_by(t.Client.name, t.ClientPlugin.plugin, t.PluginSetting.key)
    )
    if client_id is not None:
        query = query.where(t.Client.id == client_id)
    return [(row, name, plugin) for row, name, plugin in session.execute(query)]


def stored_secrets(session: Session, box: SecretBox) -> list[StoredSecret]:
    """Every secret setting, with which configured key reads it."""
    return [
        StoredSecret(name, plugin, row.key, box.key_of(row.value))
        for row, name, plugin in _secret_rows(session)
    ]


def _unreadable_said(unreadable: list[StoredSecret]) -> str:
    by_client: dict[str, list[str]] = {}
    for s in unreadable:
        by_client.setdefault(s.client, []).append(f"{s.plugin}.{s.setting}")
    shown = [f"client {c!r} ({', '.join(keys)})" for c, keys in list(by_client.items())[:5]]
    more = f" and {len(by_client) - 5} more client(s)" if len(by_client) > 5 else ""
    return "; ".join(shown) + more


def _no_key_reads(box: SecretBox, unreadable: list[StoredSecret]) -> str:
    return (
        f"{len(unreadable)} stored secret(s) cannot be read with {box.key_said}"
        f" or the old keys configured: {_unreadable_said(unreadable)}"
    )


_RESTORE = (
    "they were encrypted with another key: put that key in HUB_SECRET_KEY_OLD (or in the key"
    " file after the current key) and run `hub secrets rotate`"
)


#: The PostgreSQL advisory lock a transaction that re-encrypts or adds secrets holds.
_SECRETS_LOCK = 0x5EC2E75


def lock_secrets(session: Session) -> None:
    """Hold the stored secrets until this transaction ends: a rotation (which may put a new
    key in the key file) and a setting that stores a secret wait for each other, so none
    works from a key file the other is changing. PostgreSQL: a transaction-level advisory
    lock; SQLite: the database's write lock, taken by a write that changes no row."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_SECRETS_LOCK)))
    else:
        session.execute(update(t.PluginSetting).where(false()).values(value=t.PluginSetting.value))


def refuse_unreadable_secrets(
    session: Session, box: SecretBox, client: t.Client, *, writes_secret: bool
) -> None:
    """Refuse to change the client's settings while the configured keys cannot read its
    secrets, and to store a secret while they cannot read every secret in the database: either
    would leave secrets under keys that cannot all be read together.

    :raises SecretKeyError: naming the clients and settings affected (never a value).
    """
    if writes_secret:
        lock_secrets(session)
    rows = _secret_rows(session, None if writes_secret else client.id)
    if not rows and not writes_secret:
        return
    unreadable = [
        StoredSecret(name, plugin, row.key, None)
        for row, name, plugin in rows
        if box.key_of(row.value) is None
    ]
    if unreadable:
        raise SecretKeyError(
            f"settings of client {client.name!r} not changed: {_no_key_reads(box, unreadable)};"
            f" {_RESTORE}"
        )


def refuse_unreadable_everywhere(session: Session, box: SecretBox, *, nothing: str) -> None:
    """Refuse (:class:`SecretKeyError`, starting with ``nothing``) unless the configured keys
    read every stored secret; holds :func:`lock_secrets`."""
    lock_secrets(session)
    unreadable = [s for s in stored_secrets(session, box) if s.key_index is None]
    if unreadable:
        raise SecretKeyError(f"{nothing}: {_no_key_reads(box, unreadable)}; {_RESTORE}")


def rotate_secrets(session: Session, box: SecretBox) -> tuple[int, int]:
    """Re-encrypt every stored secret under the current key, in the caller's transaction;
    return (how many secrets, how many of them were under an old key).

    All or nothing: if any secret cannot be read with the configured keys, none is changed.
    Holds :func:`lock_secrets`, so a ``clients set`` storing a secret at the same moment waits
    rather than being overwritten.

    :raises SecretKeyError: naming the clients and settings no configured key reads.
    """
    lock_secrets(session)
    rows = _secret_rows(session)
    found = [
        (row, StoredSecret(name, plugin, row.key, box.key_of(row.value)))
        for row, name, plugin in rows
    ]
    unreadable = [s for _, s in found if s.key_index is None]
    if unreadable:
        raise SecretKeyError(f"nothing re-encrypted: {_no_key_reads(box, unreadable)}; {_RESTORE}")
    for row, _ in found:
        row.value = box.reencrypt(row.value)
    session.flush()
    return len(found), sum(1 for _, s in found if s.key_index)
