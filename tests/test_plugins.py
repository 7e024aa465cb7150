"""Plugin discovery and per-client selection (hub.plugins)."""

from __future__ import annotations

import pytest

from hub.db.engine import Database
from hub.errors import CapabilityMissing, InvalidDataError, NotFoundError
from hub.model import CreditNoteRequest
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from tests.helpers import add_client_with_plugin, context_for, entry_point, registry_with
from tests.sample_plugins import RecordingPlugin, invoice


def _sample_entry_points():  # type: ignore[no-untyped-def]
    return [
        entry_point("alpha", "tests.sample_plugins:alpha"),
        entry_point("beta", "tests.sample_plugins:beta"),
        entry_point("misspelled", "tests.sample_plugins:misspelled"),
        entry_point("wrongargs", "tests.sample_plugins:wrongargs"),
        entry_point("failing_info", "tests.sample_plugins:failing_info"),
        entry_point("broken_import", "tests.sample_plugin_import_error"),
        entry_point("renamed", "tests.sample_plugins:renamed"),
    ]


def test_entry_points_load_and_broken_plugins_are_reported_not_fatal() -> None:
    registry = load_plugins(_sample_entry_points())
    assert registry.names() == ["alpha", "beta"]
    assert "fetch_open_invoice" in registry.errors["misspelled"]
    assert "refused by the plugin contract" in registry.errors["wrongargs"]
    assert "since" in registry.errors["wrongargs"]
    assert "system_info() failed: RuntimeError: boom" in registry.errors["failing_info"]
    assert "not installed" in registry.errors["broken_import"]
    assert "registered as 'renamed'" in registry.errors["renamed"]
    # the broken ones are not left registered where a hook call could reach them
    assert registry.pm.get_plugin("misspelled") is None
    assert registry.pm.get_plugin("wrongargs") is None


def test_hub_load_plugins_narrows_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_LOAD_PLUGINS", "beta, misspelled")
    registry = load_plugins(_sample_entry_points())
    assert registry.names() == ["beta"]
    assert set(registry.errors) == {"misspelled"}


def test_hub_load_plugins_empty_loads_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_LOAD_PLUGINS", "")
    assert load_plugins(_sample_entry_points()).names() == []


def test_hub_block_plugins_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_BLOCK_PLUGINS", "alpha")
    registry = load_plugins(_sample_entry_points())
    assert "alpha" not in registry.names()
    assert registry.pm.is_blocked("alpha")


def test_unknown_and_broken_plugin_names_give_clear_errors() -> None:
    registry = load_plugins(_sample_entry_points())
    with pytest.raises(NotFoundError, match="no plugin named 'nope' is installed"):
        registry.info("nope")
    with pytest.raises(Exception, match="failed to load"):
        registry.info("misspelled")


def test_installed_builtin_plugin_is_found_through_its_entry_point() -> None:
    registry = load_plugins()
    assert "generic_csv" in registry.names()
    assert "create_invoice" in registry.info("generic_csv").capabilities


def test_client_calls_reach_only_that_clients_plugin_and_settings(
    db: Database, box: SecretBox
) -> None:
    alpha, beta = RecordingPlugin("alpha"), RecordingPlugin("beta")
    alpha.invoices["A-1"] = invoice("A-1")
    beta.invoices["B-1"] = invoice("B-1")
    registry = registry_with(alpha, beta)
    add_client_with_plugin(db, registry, box, "client-a", "alpha", {"api_token": "secret-A"})
    add_client_with_plugin(db, registry, box, "client-b", "beta", {"api_token": "secret-B"})

    ctx_a = context_for(db, registry, box, "client-a")
    got = registry.for_client(ctx_a).fetch_open_invoices()

    assert [i.invoice_number for i in got] == ["A-1"]
    assert [c[0] for c in alpha.calls] == ["fetch_open_invoices"]
    assert beta.calls == []  # B's plugin never heard of A's call
    assert alpha.calls[0][1].settings["api_token"] == "secret-A"
    assert alpha.calls[0][1].client_name == "client-a"

    ctx_b = context_for(db, registry, box, "client-b")
    registry.for_client(ctx_b).fetch_open_invoices()
    assert len(alpha.calls) == 1  # and A's plugin never hears of B's
    assert beta.calls[0][1].settings["api_token"] == "secret-B"


def test_same_plugin_two_clients_each_get_their_own_settings(db: Database, box: SecretBox) -> None:
    alpha = RecordingPlugin("alpha")
    registry = registry_with(alpha)
    add_client_with_plugin(db, registry, box, "one", "alpha", {"api_token": "tok-1"})
    add_client_with_plugin(db, registry, box, "two", "alpha", {"api_token": "tok-2"})
    for name in ("one", "two"):
        registry.for_client(context_for(db, registry, box, name)).fetch_open_invoices()
    seen = [(c[1].client_name, c[1].settings["api_token"]) for c in alpha.calls]
    assert seen == [("one", "tok-1"), ("two", "tok-2")]


def test_missing_capability_is_refused_with_the_reason(db: Database, box: SecretBox) -> None:
    beta = RecordingPlugin("beta", capabilities=frozenset())
    registry = registry_with(beta)
    add_client_with_plugin(db, registry, box, "b", "beta", {"api_token": "x"})
    plugin = registry.for_client(context_for(db, registry, box, "b"))
    request = CreditNoteRequest(
        "creditnote:1", "1", "C1", invoice("1").invoice_date, "DKK", invoice("1").gross_amount, "x"
    )
    with pytest.raises(CapabilityMissing, match="does not declare the capability 'credit_note'"):
        plugin.create_credit_note(request)
    assert beta.calls == []


def test_answers_of_the_wrong_type_are_refused(db: Database, box: SecretBox) -> None:
    registry = load_plugins([entry_point("floats", "tests.sample_plugins:floats")])
    from hub import clients

    with db.session() as session:
        clients.add_client(session, "f", "DK")
        clients.enable_plugin(session, registry, box, "f", "floats", {})
    ctx = context_for(db, registry, box, "f")
    with pytest.raises(InvalidDataError, match="must return Invoice values, got dict"):
        registry.for_client(ctx).fetch_open_invoices()
