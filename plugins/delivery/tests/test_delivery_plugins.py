"""Both delivery plugins load through their entry points and work through the registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hub_delivery import __version__, file_outbox, smtp

from hub.model import ClientContext, OutgoingMessage
from hub.plugins import load_plugins

MakeMessage = Callable[..., OutgoingMessage]
MakeCtx = Callable[..., ClientContext]


def test_both_load_through_their_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_LOAD_PLUGINS", "file_outbox,smtp")
    registry = load_plugins()
    assert registry.errors == {}
    assert registry.names() == ["file_outbox", "smtp"]
    for name in ("file_outbox", "smtp"):
        info = registry.info(name)
        assert info.kind == "delivery"
        assert info.capabilities == {"deliver"}
        assert info.version == __version__
    outbox = {s.name: s for s in registry.info("file_outbox").settings}
    assert set(outbox) == {"directory"}
    assert outbox["directory"].required and outbox["directory"].type == "path"
    specs = {s.name: s for s in registry.info("smtp").settings}
    assert set(specs) == {
        "host",
        "port",
        "username",
        "password",
        "from_address",
        "tls",
        "starttls",
        "allow_plaintext_login",
        "timeout",
    }
    assert registry.info("smtp").secret_names == {"password"}
    assert specs["host"].required and specs["from_address"].required
    assert (specs["port"].type, specs["port"].default) == ("integer", None)  # 465 or 25
    assert (specs["tls"].type, specs["tls"].default) == ("string", None)  # starttls
    assert (specs["starttls"].type, specs["starttls"].default) == ("boolean", None)
    assert specs["allow_plaintext_login"].default == "false"
    assert (specs["timeout"].type, specs["timeout"].default) == ("integer", "30")
    for spec in specs.values():  # the defaults pass the core's own check
        if spec.default is not None:
            assert spec.parse(spec.default) == spec.default


def test_the_core_path_reaches_the_file_outbox(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, make_ctx: MakeCtx, make_message: MakeMessage
) -> None:
    monkeypatch.setenv("HUB_LOAD_PLUGINS", "file_outbox,smtp")
    registry = load_plugins()
    ctx = make_ctx(file_outbox, directory=str(tmp_path))
    reference = registry.for_client(ctx).deliver_message(make_message())
    assert reference == "message%3A42.eml"
    assert (tmp_path / reference).is_file()
    assert smtp.NAME == "smtp"
