"""Reading one setting from ``ctx.settings``: default applied, type checked, secrets unshown.

The core checks types against each plugin's :class:`hub.model.SettingSpec` and fills defaults,
but a plugin must not rely on it: every hook reads its settings afresh through :func:`value`.
"""

from __future__ import annotations

from collections.abc import Mapping

from hub.errors import SettingsError
from hub.model import SettingSpec


def value(settings: Mapping[str, str], spec: SettingSpec) -> str | None:
    """The setting ``spec`` from ``settings``: parsed, or its default, or None when unset.

    A secret is returned as given (only checked to be non-empty) and never appears in an error.

    :raises SettingsError: a required setting is missing, or a value has the wrong type; names
        the setting.
    """
    raw = settings.get(spec.name)
    if raw is None or not raw.strip():
        raw = spec.default
    if raw is None or not raw.strip():
        if spec.required:
            raise SettingsError(f"setting {spec.name} is required: {spec.description}")
        return None
    if spec.secret:
        return raw
    try:
        return spec.parse(raw)
    except ValueError as exc:
        raise SettingsError(f"setting {spec.name} {exc}") from None


def required(settings: Mapping[str, str], spec: SettingSpec) -> str:
    """:func:`value` for a setting that is required or has a default (never None)."""
    result = value(settings, spec)
    if result is None:  # only if the spec is neither required nor defaulted: a plugin bug
        raise SettingsError(f"setting {spec.name} is required: {spec.description}")
    return result


def integer(
    settings: Mapping[str, str], spec: SettingSpec, *, minimum: int, maximum: int | None = None
) -> int:
    """An ``integer`` setting between ``minimum`` and ``maximum``."""
    number = int(required(settings, spec))
    if number < minimum or (maximum is not None and number > maximum):
        upper = f" and {maximum}" if maximum is not None else " or more"
        between = f"between {minimum}{upper}" if maximum is not None else f"{minimum}{upper}"
        raise SettingsError(f"setting {spec.name} must be {between}, not {number}")
    return number


def boolean(settings: Mapping[str, str], spec: SettingSpec) -> bool:
    """A ``boolean`` setting."""
    return required(settings, spec) == "true"
