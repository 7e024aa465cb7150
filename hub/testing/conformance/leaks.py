"""Looking for secrets where they must never be: logs, output, errors, the kit's own messages.

A secret is looked for in the forms it takes on its way out: as it is, escaped (``repr``,
JSON), URL-encoded, and base64-encoded alone and as HTTP Basic (``user:secret``) or SMTP
``AUTH PLAIN`` (``\\0user\\0secret``) credentials with each other setting as the user.
"""

from __future__ import annotations

import base64
import contextvars
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import ExitStack, contextmanager
from typing import Any
from urllib.parse import quote, quote_plus

import structlog.testing

#: Values shorter than this are not looked for: "2026" would be found in every date.
MIN_SECRET_CHARS = 4

#: The secrets of the test running now, so that every message the kit shows is masked.
current_secrets: contextvars.ContextVar[Mapping[str, str] | None] = contextvars.ContextVar(
    "current_secrets", default=None
)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def forms(value: str, others: Iterable[str] = ()) -> set[str]:
    """The forms ``value`` may take in a log line or an error message."""
    found = {
        value,
        repr(value)[1:-1],
        json.dumps(value)[1:-1],
        quote(value, safe=""),
        quote_plus(value),
        _b64(value),
        repr(value.encode("utf-8"))[2:-1],
    }
    for user in others:
        found.add(_b64(f"{user}:{value}"))
        found.add(_b64(f"\0{user}\0{value}"))
    return {form for form in found if len(form) >= MIN_SECRET_CHARS}


def secret_values(secret_names: frozenset[str], settings: Mapping[str, str]) -> dict[str, str]:
    """The values of the secret settings long enough to look for."""
    return {
        name: value
        for name, value in settings.items()
        if name in secret_names and len(value) >= MIN_SECRET_CHARS
    }


def mask(text: str, secrets: Mapping[str, str] | None = None) -> str:
    """``text`` with every secret (of the running test, by default) replaced by its name."""
    for name, value in ((current_secrets.get() or {}) if secrets is None else secrets).items():
        text = text.replace(value, f"<secret {name}>")
    return text


class _Records(logging.Handler):
    """Every standard-library log record, formatted, with its attributes."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:
            text = f"{record.msg!r} {record.args!r}"
        self.lines.append(f"{record.name}: {text} {record.__dict__!r}")


class LeakWatch:
    """What a test made visible: log events and records at every level, and texts added by
    the kit (errors, a child process's stderr, captured output).

    Use :meth:`watching` around the code under watch, then :meth:`leaks`.
    """

    def __init__(self, secrets: Mapping[str, str], others: list[str]) -> None:
        self.secrets = dict(secrets)
        self._forms = {name: forms(value, others) for name, value in secrets.items()}
        self.texts: list[tuple[str, str]] = []
        self.events: list[MutableMapping[str, Any]] = []
        self.reported = False  # a leak already failed the test
        self._records = _Records()

    def add(self, where: str, text: str) -> None:
        self.texts.append((where, text))

    @contextmanager
    def watching(self) -> Iterator[None]:
        """Log at DEBUG everywhere: structlog events captured, every standard-library logger
        (non-propagating ones too) reporting to the watch; all restored afterwards."""
        loggers = [
            logger
            for logger in logging.root.manager.loggerDict.values()
            if isinstance(logger, logging.Logger)
        ]
        levels = {logger: logger.level for logger in loggers}
        root = logging.getLogger()
        root_level = root.level
        token = current_secrets.set(self.secrets)
        with ExitStack() as stack:
            self.events = stack.enter_context(structlog.testing.capture_logs())
            root.addHandler(self._records)
            root.setLevel(logging.DEBUG)
            for logger in loggers:
                logger.setLevel(logging.NOTSET)
                if not logger.propagate:
                    logger.addHandler(self._records)
            try:
                yield
            finally:
                root.removeHandler(self._records)
                root.setLevel(root_level)
                for logger, level in levels.items():
                    logger.setLevel(level)
                    if self._records in logger.handlers:
                        logger.removeHandler(self._records)
                current_secrets.reset(token)

    def leaks(self) -> list[str]:
        """Where a secret showed, by setting name and place (never the value)."""
        places = [*self.texts]
        places += [(f"log event {e.get('event')!r}", repr(e)) for e in self.events]
        places += [("a standard-library log record", line) for line in self._records.lines]
        return sorted(
            {
                f"the value of {name!r} in {where}"
                for where, text in places
                for name, variants in self._forms.items()
                if any(form in text for form in variants)
            }
        )
