"""Logging: secrets never reach a log line, stdlib loggers share the pipeline."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import structlog

from hub import logging as hub_logging
from hub.model import PluginSettings


@contextmanager
def restored_logging() -> Iterator[None]:
    """``configure`` changes process-wide state: give back what was there before."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, old in quiet.items():
            logging.getLogger(name).setLevel(old)
        structlog.reset_defaults()


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    with restored_logging():
        yield


def test_json_logs_redact_secret_fields_and_carry_context(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub_logging.configure(json=True, level="INFO")
    settings = PluginSettings({"api_token": "hunter2"}, frozenset({"api_token"}))
    log = hub_logging.get_logger("hub.test", client="acme", plugin="alpha")
    log.info("calling", api_token="hunter2", settings=settings, agreement_grant_token="hunter2")
    logging.getLogger("sqlalchemy.engine").warning("stdlib says hi")
    err = capsys.readouterr().err
    assert "hunter2" not in err
    lines = [json.loads(line) for line in err.splitlines()]
    assert lines[0]["client"] == "acme" and lines[0]["plugin"] == "alpha"
    assert lines[0]["api_token"] == "********"
    assert lines[1]["event"] == "stdlib says hi"


def test_httpx_url_logging_is_kept_quiet() -> None:
    hub_logging.configure(json=True, level="DEBUG")
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


def test_configure_is_undone_after_each_test() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    httpx = logging.getLogger("httpx")
    httpx.setLevel(logging.NOTSET)
    with restored_logging():
        hub_logging.configure(json=True, level="DEBUG")
        assert root.handlers != handlers and structlog.is_configured()
        assert httpx.level == logging.WARNING
    assert root.handlers == handlers and root.level == level
    assert not structlog.is_configured()
    assert httpx.level == logging.NOTSET
