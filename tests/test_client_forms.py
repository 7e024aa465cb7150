"""The operations behind the console's client pages: a plugin's settings form for a client
(secrets never read back), the connection test (``hub clients check``), the rules as a form
shows them, a client's run history a page at a time and its health. On both databases."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest

from hub import hookimpl
from hub.clock import Clock
from hub.db.engine import Database
from hub.errors import AuthError, InputError, NotFoundError
from hub.model import ClientContext, Invoice
from hub.operations import client_health, clients, forms, plugins, runs, sync
from hub.operations.context import Actor, Context, Services
from hub.secrets import SecretBox
from tests.helpers import registry_with
from tests.sample_plugins import RecordingPlugin, invoice

TOKEN = "right-token-0123456789"
TODAY = dt.date(2026, 10, 20)


class StrictLedger(RecordingPlugin):
    """A ledger that refuses every token but :data:`TOKEN`, as a real system answers 401."""

    @hookimpl
    def fetch_open_invoices(self, ctx: ClientContext) -> list[Invoice]:
        if ctx.settings["api_token"] != TOKEN:
            raise AuthError("the ledger refused the API token (HTTP 401)")
        return super().fetch_open_invoices(ctx)


@pytest.fixture
def ledger() -> StrictLedger:
    plugin = StrictLedger("ledger")
    plugin.invoices = {"1": invoice("1"), "2": invoice("2")}
    return plugin


@pytest.fixture
def ctx(db_url: str, box: SecretBox, ledger: StrictLedger) -> Iterator[Context]:
    db = Database(db_url)
    admin = Context(Services(db, registry_with(ledger), box), Actor("root"), Clock(fixed=TODAY))
    clients.add_client(admin, "acme", "DK")
    clients.add_client(admin, "nordic", "NO")
    yield admin
    db.dispose()


def test_a_settings_form_has_the_schema_and_the_stored_values_but_never_a_secret(
    ctx: Context,
) -> None:
    clients.enable_plugin(ctx, "acme", "ledger", {"api_token": TOKEN, "page_size": "20"})
    (form,) = plugins.settings_forms(ctx, "acme")
    assert (form.plugin, form.kind, form.enabled, form.stored) == (
        "ledger",
        "accounting",
        True,
        True,
    )
    fields = {f.name: f for f in form.fields}
    assert fields["api_token"].secret and fields["api_token"].required
    assert fields["api_token"].is_set and fields["api_token"].value is None
    assert (fields["page_size"].type, fields["page_size"].value) == ("integer", "20")
    assert (fields["base_url"].default, fields["base_url"].is_set) == (
        "https://example.invalid",
        False,
    )
    assert TOKEN not in json.dumps(form.as_dict())
    assert form.as_dict()["settings"][0]["set"] is True

    (fresh,) = plugins.settings_forms(ctx, "nordic")
    assert not fresh.enabled and not fresh.stored
    assert not any(f.is_set for f in fresh.fields)


def test_a_settings_form_of_a_plugin_not_installed_or_a_client_not_seen_is_not_found(
    ctx: Context,
) -> None:
    with pytest.raises(NotFoundError, match="no plugin named 'ghost' is installed"):
        plugins.settings_form(ctx, "acme", "ghost")
    bo = Context(ctx.services, Actor("bo", role="consultant", clients=frozenset({"acme"})))
    with pytest.raises(NotFoundError, match="no client named 'nordic'"):
        plugins.settings_forms(bo, "nordic")
    with pytest.raises(NotFoundError, match="no client named 'nordic'"):
        plugins.check_connection(bo, "nordic")


def test_the_connection_test_reports_the_open_invoices_or_the_plugins_refusal(
    ctx: Context, ledger: StrictLedger
) -> None:
    clients.enable_plugin(ctx, "acme", "ledger", {"api_token": "wrong-token"})
    refused = plugins.check_connection(ctx, "acme")
    assert not refused.ok and refused.open_invoices is None
    assert refused.error is not None and "refused the API token" in refused.error
    assert "wrong-token" not in json.dumps(refused.as_dict())

    clients.set_settings(ctx, "acme", {"api_token": TOKEN})
    fine = plugins.check_connection(ctx, "acme", "ledger")
    assert fine.as_dict() == {
        "client": "acme",
        "plugin": "ledger",
        "ok": True,
        "open_invoices": 2,
        "error": None,
    }
    # read-only: the open invoices were fetched (the refused call recorded none), nothing synced
    assert [call for call, _, _ in ledger.calls] == ["fetch_open_invoices"]
    assert runs.list_runs(ctx, client="acme") == []


def test_the_connection_test_needs_an_enabled_accounting_plugin(ctx: Context) -> None:
    with pytest.raises(InputError, match="no accounting plugin enabled"):
        plugins.check_connection(ctx, "nordic")
    with pytest.raises(NotFoundError, match="no enabled plugin 'ledger'"):
        plugins.check_connection(ctx, "nordic", "ledger")


def test_the_rules_form_shows_each_rule_as_typed_with_its_kind(ctx: Context) -> None:
    fields = {f.name: f for f in forms.rule_fields(ctx, "acme")}
    assert set(fields) == set(forms.RULE_KINDS)
    assert (fields["auto_close_paid"].kind, fields["auto_close_paid"].value) == ("boolean", "true")
    assert fields["auto_close_balance"].value == ""  # the default, which depends on the plugin
    assert fields["auto_close_balance"].why is not None
    assert (fields["reminder_mode"].kind, fields["reminder_mode"].value) == ("mode", "invoice")
    assert fields["success_fee_percent"].value == "10.00"
    from hub.operations import flows

    flows.set_rules(
        ctx,
        "acme",
        ["start_date=2026-01-01", "excluded_customers=9, 7", "payment_details=Bank\nReg 1234"],
    )
    fields = {f.name: f for f in forms.rule_fields(ctx, "acme")}
    assert fields["start_date"].value == "2026-01-01"
    assert fields["excluded_customers"].value == "7, 9"
    assert fields["payment_details"].value == "Bank\nReg 1234"
    assert forms.stage_templates()["reminder"] == ("reminder", "collection_warning")
    assert forms.stage_templates()["collection"] == ()


def test_a_clients_run_history_comes_a_page_at_a_time_with_its_health(ctx: Context) -> None:
    clients.enable_plugin(ctx, "acme", "ledger", {"api_token": TOKEN})
    health = client_health.client_health(ctx, "acme")
    assert health.last_successful_sync is None and not health.running
    assert health.latest == {"sync": None, "recurring": None, "postings": None}

    for _ in range(3):
        sync.sync(ctx, sync.SyncRequest("acme"))
    everything = runs.list_runs(ctx, client="acme")
    first = client_health.run_history(ctx, "acme", limit=2)
    second = client_health.run_history(ctx, "acme", limit=2, offset=2)
    beyond = client_health.run_history(ctx, "acme", limit=2, offset=9)
    assert (first.total, second.total, beyond.total) == (3, 3, 3)
    assert first.items + second.items == everything and beyond.items == []
    assert client_health.run_history(ctx, "acme", job="recurring").total == 0
    with pytest.raises(InputError, match="not a job kind"):
        client_health.run_history(ctx, "acme", job="nope")

    health = client_health.client_health(ctx, "acme")
    assert health.latest["sync"] == everything[0]
    assert health.last_successful_sync is not None
    assert health.as_dict()["last_successful_sync"] == health.last_successful_sync
    assert client_health.client_health(ctx, "nordic").last_successful_sync is None
