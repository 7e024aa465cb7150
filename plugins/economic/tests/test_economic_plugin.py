"""The plugin as the hub loads it: entry point, system_info, settings, and its HTTP clients."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from economic_support import APP, GRANT, MakeCtx, Sleeps, add_invoices
from hub_economic import __version__, client, plugin
from hub_economic.settings import load_config

from hub.errors import SettingsError
from hub.plugins import load_plugins
from hub.testing.fakes.economic import Agreement, FakeEconomic
from hub.toolkit import wire


def test_loaded_through_the_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_LOAD_PLUGINS", "economic")
    registry = load_plugins()
    assert registry.errors == {}
    info = registry.info("economic")
    assert info == plugin.system_info()
    assert info.version == __version__ and info.kind == "accounting"
    assert info.capabilities == {
        "customer_balance",
        "credit_note",
        "journal",
        "create_invoice",
        "create_order",
        "entries_sync",
    }
    specs = {s.name: s for s in info.settings}
    assert set(specs) == {
        "app_secret_token",
        "agreement_grant_token",
        "base_url",
        "journal_number",
        "product_number",
        "layout_number",
        "payment_terms_number",
        "due_date_payment_terms_number",
        "vat_zone_number",
    }
    assert info.secret_names == {"app_secret_token", "agreement_grant_token"}
    assert specs["app_secret_token"].required and specs["agreement_grant_token"].required
    assert specs["base_url"].type == "url"
    assert specs["base_url"].default == "https://restapi.e-conomic.com"
    for name in (
        "journal_number",
        "layout_number",
        "payment_terms_number",
        "due_date_payment_terms_number",
        "vat_zone_number",
    ):
        assert specs[name].type == "integer" and not specs[name].required


def test_settings_are_checked_and_never_shown() -> None:
    config = load_config({"app_secret_token": APP, "agreement_grant_token": GRANT})
    assert config.base_url == "https://restapi.e-conomic.com"
    assert config.journal_number is None and config.product_number is None
    assert APP not in repr(config) and GRANT not in repr(config)
    with pytest.raises(SettingsError, match="agreement_grant_token"):
        load_config({"app_secret_token": APP})
    with pytest.raises(SettingsError, match="journal_number"):
        load_config(
            {"app_secret_token": APP, "agreement_grant_token": GRANT, "journal_number": "0"}
        )
    with pytest.raises(SettingsError, match="base_url"):
        load_config(
            {"app_secret_token": APP, "agreement_grant_token": GRANT, "base_url": "ftp://x"}
        )
    with pytest.raises(SettingsError, match="journal_number") as caught:
        config.need_journal()
    assert APP not in str(caught.value)


def test_a_write_without_its_setting_says_which_and_sends_nothing(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    from hub.model import CreditNoteRequest, JournalEntry, JournalLine

    add_invoices(agreement, 5001, 1, [101])
    ctx = make_ctx(journal_number=None, product_number=None)
    request = CreditNoteRequest(
        "creditnote:1", "5001", "101", dt.date(2026, 2, 1), "DKK", Decimal("1250.00"), "r"
    )
    entry = JournalEntry(
        "writeoff:1",
        dt.date(2026, 2, 1),
        "DKK",
        "t",
        (
            JournalLine(Decimal("-1.00"), "t", customer_number="101"),
            JournalLine(Decimal("1.00"), "t", account="3720"),
        ),
    )
    with pytest.raises(SettingsError, match="product_number"):
        plugin.create_credit_note(ctx, request)
    with pytest.raises(SettingsError, match="journal_number"):
        plugin.post_journal_lines(ctx, entry)
    assert fake.requests == []
    assert agreement.drafts == {} and agreement.vouchers == []


def test_one_long_lived_client_per_hub_client_and_tokens(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, sleeps: Sleeps
) -> None:
    """The same client and settings reuse one HTTP client (one connection); another client,
    or new tokens, get their own. The replaced one still serves a call in flight (a sync
    while the token is changed): it is closed with the rest, not at once."""
    first = client.client_for(1, load_config(make_ctx().settings))
    assert client.client_for(1, load_config(make_ctx().settings)) is first
    other = client.client_for(2, load_config(make_ctx(client_id=2).settings))
    assert other is not first
    fake.add_agreement("app-2", "grant-2", "Other ApS")
    renewed = client.client_for(
        1, load_config(make_ctx(app_secret_token="app-2", agreement_grant_token="grant-2").settings)
    )
    assert renewed is not first and not first.closed and not other.closed
    status, _ = first.request("GET", "/self", doing="a call begun before the token changed")
    assert status == 200
    client.close_clients()
    assert renewed.closed and other.closed and first.closed


def test_keep_alive_one_connection_for_a_sync(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    add_invoices(agreement, 5001, 3, [101, 102])
    ctx = make_ctx()
    plugin.fetch_open_invoices(ctx)
    plugin.fetch_customers(ctx, ["101", "102"])
    plugin.fetch_invoice_status(ctx, ["5001"])
    assert {r.headers["connection"] for r in fake.requests} == {"keep-alive"}
    assert {r.headers["x-appsecrettoken"] for r in fake.requests} == {APP}
    assert {r.headers["x-agreementgranttoken"] for r in fake.requests} == {GRANT}
    assert {r.headers["accept"] for r in fake.requests} == {"application/json"}


def test_wire_keeps_every_digit_and_refuses_floats() -> None:
    body = {"amount": Decimal("-1250.50"), "big": Decimal("12345678901234567.89"), "n": 3}
    text = wire.dumps(body)
    assert text == b'{"amount":-1250.50,"big":12345678901234567.89,"n":3}'
    assert wire.loads(text) == body
    assert wire.dumps({"a": Decimal("1E+2")}) == b'{"a":100}'
    assert wire.dumps({"text": 'Østergaard "A"'}) == '{"text":"Østergaard \\"A\\""}'.encode()
    with pytest.raises(TypeError, match="float"):
        wire.dumps({"amount": 0.1})
    with pytest.raises(ValueError):
        wire.loads(b'{"remainder": NaN}')
    assert isinstance(wire.loads(b'{"a": 0.1}')["a"], Decimal)
