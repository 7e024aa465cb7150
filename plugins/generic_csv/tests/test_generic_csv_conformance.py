"""``generic_csv`` against the plugin conformance kit (``hub.testing.conformance``)."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import pytest
from csv_backend import CsvBackend

from hub.testing.conformance import ConformanceBackend, PluginConformance

_LOCAL_FILES = "reads local export files and writes local files: "


class TestGenericCsvConformance(PluginConformance):
    plugin = "generic_csv"
    opt_out: ClassVar[dict[str, str]] = {
        "test_refused_credentials_raise_auth_error": _LOCAL_FILES
        + "there are no credentials to refuse",
        "test_throttling_raises_throttled_error": _LOCAL_FILES
        + "no server stands between the plugin and the files to throttle it",
        "test_server_errors_raise_remote_server_error": _LOCAL_FILES
        + "there is no server to answer 5xx; the nearest thing, a file that exists but fails"
        " with an I/O error, cannot be made portably in a test",
    }

    @pytest.fixture
    def backend(self, tmp_path: Path) -> ConformanceBackend:
        return CsvBackend(tmp_path)
