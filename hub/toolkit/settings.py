"""Typed access to one client's plugin settings, checked against the plugin's schema.

The core checks types against a plugin's :class:`~hub.model.SettingSpec` list when settings are
set, and fills in defaults when it builds a :class:`~hub.model.ClientContext`; a plugin checks
again all the same (a context may be built by hand) and turns the strings into the values its
hooks use. :class:`SettingsReader` does that, naming the setting in every refusal::

    read = SettingsReader(SETTINGS, ctx.settings)
    base_url = read.url("base_url")
    journal = read.optional_integer("journal_number", minimum=1)

A value that is absent or blank takes the spec's default. No message ever shows a secret's
value: a secret is only ever checked to be there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from hub.errors import SettingsError
from hub.model import SettingSpec

__all__ = ["SettingsReader", "secret"]

_INTEGER = re.compile(r"-?\d+")
_URL = re.compile(r"https?://[^\s/]+(?:/\S*)?")
_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})


def secret(name: str, description: str) -> SettingSpec:
    """The spec of a required secret setting (a token, a password): never shown, never
    logged."""
    return SettingSpec(name=name, required=True, secret=True, description=description)


class SettingsReader:
    """One client's ``settings`` read through the plugin's ``specs``."""

    def __init__(self, specs: Iterable[SettingSpec], settings: Mapping[str, str]) -> None:
        self.specs = {spec.name: spec for spec in specs}
        self.settings = settings

    def optional(self, name: str) -> str | None:
        """The value (stripped) or the default; None when neither and not required.

        :raises SettingsError: a required setting has no value.
        """
        spec = self.specs[name]
        raw = self.settings.get(name)
        value = raw.strip() if raw is not None and raw.strip() else spec.default
        if value is None and spec.required:
            raise SettingsError(f"setting {name} is required: {spec.description}")
        return value

    def text(self, name: str) -> str:
        """The value of a setting that is required or has a default."""
        value = self.optional(name)
        if value is None:  # only for a spec neither required nor defaulted: a plugin bug
            raise SettingsError(f"setting {name} is required: {self.specs[name].description}")
        return value

    def integer(self, name: str, *, minimum: int) -> int:
        """A whole number of ``minimum`` or more."""
        return _integer(name, self.text(name), minimum)

    def optional_integer(self, name: str, *, minimum: int) -> int | None:
        value = self.optional(name)
        return None if value is None else _integer(name, value, minimum)

    def boolean(self, name: str) -> bool:
        """true/yes/1/on or false/no/0/off, in any case."""
        value = self.text(name).lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise SettingsError(f"setting {name} must be true or false, not {value!r}")

    def date(self, name: str) -> dt.date:
        value = self.text(name)
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            message = f"setting {name} must be a date YYYY-MM-DD, not {value!r}"
            raise SettingsError(message) from None

    def url(self, name: str) -> str:
        """An http(s) URL, without a trailing slash."""
        value = self.text(name).rstrip("/")
        if not _URL.fullmatch(value):
            raise SettingsError(f"setting {name} must be an http(s) URL, not {value!r}")
        return value

    def check(self, name: str, ok: bool, reason: str) -> None:
        """Refuse setting ``name`` unless ``ok``, for a plugin's own rule:
        ``read.check("code", value.isdigit(), f"must be digits, not {value!r}")``.

        :raises SettingsError: ``setting <name> <reason>``.
        """
        if not ok:
            raise SettingsError(f"setting {name} {reason}")

    def optional_path(self, name: str) -> Path | None:
        value = self.optional(name)
        return None if value is None else Path(value).expanduser()

    def path(self, name: str) -> Path:
        return Path(self.text(name)).expanduser()


def _integer(name: str, value: str, minimum: int) -> int:
    if not _INTEGER.fullmatch(value) or int(value) < minimum:
        raise SettingsError(
            f"setting {name} must be a whole number of {minimum} or more, not {value!r}"
        )
    return int(value)
