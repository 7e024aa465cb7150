"""Logging: structlog, JSON lines in the daemon, readable console output in the CLI.

Standard-library loggers (httpx, SQLAlchemy, APScheduler) go through the same pipeline. A
redaction processor masks any field whose name says it is a secret, as a last line of defence:
secrets should never reach a log call in the first place.

structlog itself is imported when it is first used, not by :func:`configure`: importing it
brings its console renderer's tracebacks (rich's, with pygments), a tenth of a ``hub`` command's
start that most commands never log with. :func:`configure` sets up the standard library at once
and structlog as soon as it is imported, by whichever module imports it
(:class:`_SetUpOnImport`), so a logger made with ``structlog.get_logger`` directly follows the
configuration as before.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import re
import sys
from collections.abc import MutableMapping, Sequence
from types import ModuleType
from typing import Any

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


#: Whether :func:`configure` was called since structlog was last set up.
_pending = False


def configure(*, json: bool = False, level: str = "WARNING") -> None:
    """Set up structlog and route the standard library through it (structlog once it is
    imported: see the module's docstring)."""
    global _pending
    handler = _StderrHandler()
    handler.setFormatter(_Formatter(json))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs whole URLs (query strings included) at INFO; our own client logs requests
    # with secrets redacted, so theirs stays quiet.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _pending = True
    if "structlog" in sys.modules:
        _set_up_structlog()
    elif not any(isinstance(finder, _SetUpOnImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _SetUpOnImport())


def _shared() -> list[Any]:
    """The processors of every event, structlog's and the standard library's."""
    import structlog

    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
    ]


def _set_up_structlog() -> None:
    """structlog configured as :func:`configure` last asked, if it has not been yet."""
    global _pending
    if not _pending:
        return
    _pending = False
    import structlog

    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


class _Formatter(logging.Formatter):
    """structlog's ``ProcessorFormatter`` for the handler :func:`configure` installs, made
    when the first record is written (which imports structlog)."""

    def __init__(self, json: bool) -> None:
        super().__init__()
        self._json = json
        self._made: logging.Formatter | None = None

    def format(self, record: logging.LogRecord) -> str:
        if self._made is None:
            import structlog

            renderer: Any = (
                structlog.processors.JSONRenderer()
                if self._json
                else structlog.dev.ConsoleRenderer(colors=False)
            )
            self._made = structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=_shared(),
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *([structlog.processors.format_exc_info] if self._json else []),
                    renderer,
                ],
            )
        return self._made.format(record)


class _SetUpOnImport(importlib.abc.MetaPathFinder):
    """Finds structlog as the finders after it would, and sets it up (:func:`configure`'s
    wish) the moment its package has been run, before the import statement returns."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != "structlog":
            return None
        sys.meta_path.remove(self)  # once; and so that the search below finds the real one
        spec = importlib.util.find_spec(fullname)
        if spec is not None and spec.loader is not None:
            spec.loader = _ThenSetUp(spec.loader)
        return spec


class _ThenSetUp(importlib.abc.Loader):
    """``loader``, then :func:`_set_up_structlog` once the module has run."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader  # the module as if found without this
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        _set_up_structlog()


def get_logger(name: str = "hub", **context: Any) -> Any:
    """A logger with ``context`` bound. Without context it stays structlog's lazy proxy, so a
    module-level logger follows :func:`configure` even when it was made before (binding
    would fix the configuration of the moment, before the daemon asks for JSON lines)."""
    import structlog

    logger = structlog.get_logger(name)
    return logger.bind(**context) if context else logger
