"""Logging: secrets never reach a log line, stdlib loggers share the pipeline."""

from __future__ import annotations

import json
import logging

import pytest
import structlog

from hub import logging as hub_logging
from hub.model import PluginSettings


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
    structlog.reset_defaults()


def test_httpx_url_logging_is_kept_quiet() -> None:
    hub_logging.configure(json=True, level="DEBUG")
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING
    structlog.reset_defaults()
