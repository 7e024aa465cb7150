"""Logging: structlog, JSON lines in the daemon, readable console output in the CLI.

Standard-library loggers (httpx, SQLAlchemy, APScheduler) go through the same pipeline. A
redaction processor masks any field whose name says it is a secret, as a last line of defence:
secrets should never reach a log call in the first place.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_NAME = re.compile(r"token|secret|password|passwd|authorization|api_?key|credential", re.I)
MASK = "********"


def redact_secrets(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    for key in list(event):
        if _SECRET_NAME.search(key):
            event[key] = MASK
    return event


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record is written, not when logging was set
    up: a progress bar (``hub demo``) or a test's capture puts its own in place meanwhile."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure(*, json: bool = False, level: str = "WARNING") -> None:
    """Set up structlog and route the standard library through it."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *([structlog.processors.format_exc_info] if json else []),
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs whole URLs (query strings included) at INFO; our own client logs requests
    # with secrets redacted, so theirs stays quiet.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str = "hub", **context: Any) -> Any:
    """A logger with ``context`` bound. Without context it stays structlog's lazy proxy, so a
    module-level logger follows :func:`configure` even when it was made before (binding
    would fix the configuration of the moment, before the daemon asks for JSON lines)."""
    logger = structlog.get_logger(name)
    return logger.bind(**context) if context else logger
