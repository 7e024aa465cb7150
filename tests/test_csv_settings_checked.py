"""generic_csv settings are checked when they are set (`hub clients enable|set`), not at the
next sync: a value the plugin would refuse is refused at once, naming the allowed values, and
nothing is stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import clients, plugins
from hub.cli.main import main
from hub.db.engine import Database
from hub.errors import SettingsError
from hub.plugins import PluginRegistry, load_plugins
from hub.secrets import SecretBox


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> PluginRegistry:
    monkeypatch.setenv("HUB_LOAD_PLUGINS", "generic_csv")
    registry = load_plugins()
    monkeypatch.setattr(plugins, "_registry", registry)
    return registry


def _base(tmp_path: Path) -> dict[str, str]:
    return {
        "invoices_path": str(tmp_path / "invoices.csv"),
        "outbox_dir": str(tmp_path / "outbox"),
    }


def _stored(db: Database, name: str) -> dict[str, str]:
    with db.session() as session:
        client = clients.get_client(session, name)
        return {s.key: s.value for p in client.plugins for s in p.settings}


def test_enable_refuses_an_export_scope_that_is_not_allowed(
    db: Database,
    box: SecretBox,
    registry: PluginRegistry,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with db.session() as session:
        clients.add_client(session, "acme", "DK")
    args = ["--db", db.url, "clients", "enable", "acme", "generic_csv"]
    for key, value in _base(tmp_path).items():
        args += ["--set", f"{key}={value}"]
    assert main([*args, "--set", "export_scope=everything"]) != 0
    err = capsys.readouterr().err
    assert "export_scope" in err and "open, all" in err and "'everything'" in err
    with db.session() as session:  # nothing stored, the plugin not enabled
        assert clients.get_client(session, "acme").plugins == []
    assert main([*args, "--set", "export_scope=all"]) == 0
    assert _stored(db, "acme")["export_scope"] == "all"


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("export_scope", "everything", "must be one of open, all"),
        ("decimal_mark", "dot", "must be one of auto, comma, point"),
        ("default_currency", "kroner", "must be an ISO 4217 code"),
        ("columns", "amount=Beløb", "amount"),
        ("columns", "gross_amount", "field=Header"),
        ("require_final_newline", "sometimes", "true or false"),
        ("max_file_mb", "0", "1 or more"),
        ("max_file_mb", "999999", "at most"),
        ("invoices_path", "/dev/zero", "not a regular file"),
        ("outbox_dir", "/dev/null", "not a directory"),
    ],
)
def test_set_refuses_what_a_sync_would_refuse(
    db: Database,
    box: SecretBox,
    registry: PluginRegistry,
    tmp_path: Path,
    key: str,
    value: str,
    reason: str,
) -> None:
    with db.session() as session:
        clients.add_client(session, "acme", "DK")
        clients.enable_plugin(session, registry, box, "acme", "generic_csv", _base(tmp_path))
    before = _stored(db, "acme")
    with pytest.raises(SettingsError, match=key) as err, db.session() as session:
        clients.set_settings(session, registry, box, "acme", {key: value})
    assert reason in str(err.value)
    assert _stored(db, "acme") == before
