"""Clients and secrets: no secret in an error message, masking by the plugin's schema, one
query for the client list, and a secret key file that is never read half-written."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from hub import clients, hookimpl, plugins
from hub import secrets as hub_secrets
from hub.cli.main import main
from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import InputError, SettingsError
from hub.model import SettingSpec, SystemInfo
from hub.secrets import SecretBox
from tests.helpers import add_client_with_plugin, context_for, registry_with
from tests.sample_plugins import RecordingPlugin

SECRET = "4711-very-secret"


class PinPlugin(RecordingPlugin):
    """Has a secret setting of a type a value can fail: an integer PIN."""

    @hookimpl
    def system_info(self) -> SystemInfo:
        return SystemInfo(
            name=self.name,
            title="PIN",
            version="1",
            capabilities=self.capabilities,
            settings=(
                SettingSpec("pin", type="integer", secret=True),
                SettingSpec("page_size", type="integer"),
            ),
        )


# --- no secret in an error message ------------------------------------------------------------


def test_a_bad_secret_value_is_not_repeated_in_the_error(db: Database, box: SecretBox) -> None:
    registry = registry_with(PinPlugin("pins"))
    with db.session() as session:
        clients.add_client(session, "acme", "DK")
    with pytest.raises(SettingsError) as err, db.session() as session:
        clients.enable_plugin(session, registry, box, "acme", "pins", {"pin": SECRET})
    assert SECRET not in str(err.value)
    assert "setting 'pin' of plugin 'pins': the value given is not a valid integer" in str(
        err.value
    )
    # a setting that is not secret still says what was wrong with the value
    with pytest.raises(SettingsError, match="whole number, not 'many'"), db.session() as session:
        clients.enable_plugin(session, registry, box, "acme", "pins", {"page_size": "many"})


def test_a_malformed_assignment_is_named_by_position_not_repeated() -> None:
    with pytest.raises(InputError) as err:
        clients.parse_assignments(["page_size=5", SECRET])
    assert SECRET not in str(err.value)
    assert "argument 2 of the settings is not of the form key=value" in str(err.value)
    with pytest.raises(InputError) as err:
        clients.parse_assignments([f"={SECRET}"])
    assert SECRET not in str(err.value) and "argument 1" in str(err.value)
    assert clients.parse_assignments([" key =a=b"]) == {"key": "a=b"}


# --- a setting the plugin marks secret later ---------------------------------------------------


def _plain_stored_token(db: Database, box: SecretBox) -> Any:
    """A client whose api_token was stored before the plugin marked it secret: plain text."""
    registry = registry_with(RecordingPlugin("alpha"))
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "x"})
    with db.session() as session:
        setting = session.scalars(
            sa.select(t.PluginSetting).where(t.PluginSetting.key == "api_token")
        ).one()
        setting.value, setting.secret = SECRET, False
    return registry


def test_a_setting_the_plugin_marks_secret_is_masked_though_stored_plain(
    db: Database, box: SecretBox
) -> None:
    registry = _plain_stored_token(db, box)
    with db.session() as session:
        cp = clients.get_client(session, "acme").plugins[0]
        shown = clients.shown_settings(cp, registry.info("alpha").secret_names)
    token = next(s for s in shown if s.key == "api_token")
    assert (token.value, token.secret) == ("********", True)
    # and it reaches the plugin as stored (it was never encrypted), masked in the repr
    ctx = context_for(db, registry, box, "acme")
    assert ctx.settings["api_token"] == SECRET
    assert SECRET not in repr(ctx)


def test_clients_show_masks_by_the_installed_plugins_schema(
    db: Database,
    box: SecretBox,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    registry = _plain_stored_token(db, box)
    monkeypatch.setattr(plugins, "_registry", registry)
    assert main(["--db", db.url, "clients", "show", "acme", "--json"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out
    assert json.loads(out)["plugins"][0]["settings"]["api_token"] == "********"


# --- the client list in one go -----------------------------------------------------------------


def test_listing_clients_does_not_query_once_per_client(db: Database, box: SecretBox) -> None:
    registry = registry_with(RecordingPlugin("alpha"))
    for n in range(6):
        add_client_with_plugin(db, registry, box, f"client-{n}", "alpha", {"api_token": "t"})
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        with db.session() as session:
            plugged = [clients.enabled_plugin(c) for c in clients.list_clients(session)]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert [p.plugin if p else None for p in plugged] == ["alpha"] * 6
    assert len(statements) == 2, statements  # the clients, then all their plugins


# --- the secret key file -----------------------------------------------------------------------


def test_the_key_file_appears_whole_and_a_racing_process_wins_cleanly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "data" / "secret.key"
    theirs = Fernet.generate_key()
    real_link = os.link

    def link_after_another_process(src: str, dst: str) -> None:
        # Another process linked its complete key into place a moment before us.
        assert not Path(dst).exists()
        assert len(Path(src).read_bytes()) == 44  # ours is complete before it is linked
        Path(dst).write_bytes(theirs)
        real_link(src, dst)  # raises FileExistsError

    monkeypatch.setattr(hub_secrets.os, "link", link_after_another_process)
    assert hub_secrets._load_or_create_key_file(path) == theirs
    assert sorted(p.name for p in path.parent.iterdir()) == ["secret.key"]  # no temp file left


def test_concurrent_first_uses_all_get_the_same_complete_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    start = threading.Barrier(16)
    keys: list[bytes] = []

    def first_use() -> None:
        start.wait()
        keys.append(hub_secrets._load_or_create_key_file(path))

    threads = [threading.Thread(target=first_use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 44
    assert path.read_bytes() == keys[0]
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]
    SecretBox(keys[0])  # a usable Fernet key
