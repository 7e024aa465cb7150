"""The ``check_settings`` hook: `hub clients enable|set` refuse SMTP settings that would log in
in plain text, leaving what was stored as it was."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
import sqlalchemy as sa

from hub import clients, hookimpl
from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import SettingsError
from hub.model import ClientContext, OutgoingMessage, SettingSpec, SystemInfo
from hub.plugins import PluginRegistry, get_registry
from hub.secrets import SecretBox

PASSWORD = "s3cret-Pæssword!"
SMTP = {
    "host": "smtp.example.dk",
    "from_address": "rykker@acme.dk",
    "username": "acme",
    "password": PASSWORD,
}


@pytest.fixture
def registry(db: Database) -> PluginRegistry:
    with db.session() as session:
        clients.add_client(session, "acme", "DK")
    return get_registry()


def _stored(db: Database) -> dict[str, str]:
    with db.session() as session:
        rows = session.execute(
            sa.select(t.PluginSetting.key, t.PluginSetting.value, t.PluginSetting.secret)
        )
        return {key: "(secret)" if secret else value for key, value, secret in rows}


def test_enabling_smtp_with_a_plaintext_login_is_refused_and_stores_nothing(
    db: Database, box: SecretBox, registry: PluginRegistry
) -> None:
    with pytest.raises(SettingsError) as caught, db.session() as session:
        clients.enable_plugin(session, registry, box, "acme", "smtp", SMTP | {"tls": "none"})
    text = str(caught.value)
    assert text.startswith("setting username: logging in to SMTP server smtp.example.dk:25")
    assert "tls=starttls (the default)" in text and "allow_plaintext_login=true" in text
    assert PASSWORD not in text
    assert _stored(db) == {}
    with db.session() as session:
        assert session.scalars(sa.select(t.ClientPlugin)).all() == []


def test_setting_tls_none_under_a_login_is_refused_and_keeps_the_settings(
    db: Database, box: SecretBox, registry: PluginRegistry
) -> None:
    with db.session() as session:  # TLS by default: accepted
        clients.enable_plugin(session, registry, box, "acme", "smtp", SMTP)
    before = _stored(db)

    for plain in ({"tls": "none"}, {"starttls": "false"}):
        with (
            pytest.raises(SettingsError, match="would send the password unencrypted"),
            db.session() as session,
        ):
            clients.set_settings(session, registry, box, "acme", plain, plugin="smtp")
        assert _stored(db) == before

    with db.session() as session:  # said explicitly: accepted (a warning at every login)
        clients.set_settings(
            session,
            registry,
            box,
            "acme",
            {"tls": "none", "allow_plaintext_login": "true"},
            plugin="smtp",
        )
    assert _stored(db) == before | {"tls": "none", "allow_plaintext_login": "true"}


def test_a_username_without_its_password_is_refused_when_set(
    db: Database, box: SecretBox, registry: PluginRegistry
) -> None:
    settings = {k: v for k, v in SMTP.items() if k != "password"}
    with (
        pytest.raises(SettingsError, match="setting password is required when username is set"),
        db.session() as session,
    ):
        clients.enable_plugin(session, registry, box, "acme", "smtp", settings)
    assert _stored(db) == {}


class _Picky:
    """A delivery plugin whose ``check_settings`` records what it was given and refuses a
    ``mode`` of ``broken``."""

    def __init__(self) -> None:
        self.seen: list[dict[str, str]] = []

    @hookimpl
    def system_info(self) -> SystemInfo:
        return SystemInfo(
            name="picky",
            title="Picky",
            version="1.0",
            capabilities=frozenset({"deliver"}),
            settings=(
                SettingSpec("mode", default="fine"),
                SettingSpec("api_token", secret=True),
            ),
            kind="delivery",
        )

    @hookimpl
    def check_settings(self, settings: Mapping[str, str]) -> None:
        self.seen.append(dict(settings))
        if settings["mode"] == "broken":
            raise SettingsError("setting mode: broken cannot work with api_token")

    @hookimpl
    def deliver_message(self, ctx: ClientContext, message: OutgoingMessage) -> str:
        return "never called here"


def test_hook_check_settings(db: Database, box: SecretBox, registry: PluginRegistry) -> None:
    picky = _Picky()
    registry.register("picky", picky)

    with db.session() as session:
        clients.enable_plugin(session, registry, box, "acme", "picky", {"api_token": PASSWORD})
    # Defaults filled, the secret masked: the plugin never sees its value here.
    assert picky.seen == [{"mode": "fine", "api_token": "********"}]

    with (
        pytest.raises(SettingsError, match="setting mode: broken cannot work"),
        db.session() as session,
    ):
        clients.set_settings(session, registry, box, "acme", {"mode": "broken"}, plugin="picky")
    assert "mode" not in _stored(db)
