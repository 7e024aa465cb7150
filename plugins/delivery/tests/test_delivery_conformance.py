"""The delivery plugins against the plugin conformance kit (``hub.testing.conformance``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from delivery_backends import FileOutboxBackend, SmtpBackend

from hub.testing.conformance import ConformanceBackend, PluginConformance


class TestFileOutboxConformance(PluginConformance):
    plugin = "file_outbox"
    opt_out: ClassVar[dict[str, str]] = {
        "test_refused_credentials_raise_auth_error": "writes into a local directory: there are"
        " no credentials to refuse",
        "test_throttling_raises_throttled_error": "writes into a local directory: nothing"
        " between the plugin and the disk can throttle it",
        "test_malformed_answers_raise_invalid_data_error": "only writes files and reads no"
        " answer back, so there is no answer that could be malformed",
    }

    @pytest.fixture
    def backend(self, tmp_path: Path) -> ConformanceBackend:
        return FileOutboxBackend(tmp_path)


class TestSmtpConformance(PluginConformance):
    plugin = "smtp"
    backend_class = SmtpBackend
    opt_out: ClassVar[dict[str, str]] = {
        "test_throttling_raises_throttled_error": "SMTP has no throttling answer of its own"
        " (no 429): a server that limits a sender answers 4xx 'try later' like any other"
        " temporary failure, which the plugin maps to RemoteServerError (the core retries it"
        " later); that mapping is test_server_errors_raise_remote_server_error",
        "test_malformed_answers_raise_invalid_data_error": "the plugin reads no data from the"
        " server, only reply codes, each of which it maps to an error; there is no record or"
        " amount that could be malformed",
    }
