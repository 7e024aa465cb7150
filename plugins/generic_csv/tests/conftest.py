"""Fixtures for the generic_csv tests: real files in tmp_path and a real ClientContext."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from generic_csv import plugin

from hub.model import ClientContext
from hub.testing.contexts import plugin_context

MakeCtx = Callable[..., ClientContext]
WriteFile = Callable[..., Path]


@pytest.fixture
def write_file(tmp_path: Path) -> WriteFile:
    """write_file(name, text, encoding="utf-8", bom=False) -> path in tmp_path."""

    def write(name: str, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
        path = tmp_path / name
        data = text.encode(encoding)
        path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
        return path

    return write


@pytest.fixture
def make_ctx(tmp_path: Path) -> MakeCtx:
    """make_ctx(**settings): a ClientContext whose invoices_path/outbox_dir default to tmp_path."""

    def make(**settings: str) -> ClientContext:
        values = {
            "invoices_path": str(tmp_path / "invoices.csv"),
            "outbox_dir": str(tmp_path / "outbox"),
            **settings,
        }
        return plugin_context(plugin.system_info(), values, today=dt.date(2024, 6, 1))

    return make
