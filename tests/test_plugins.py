"""Plugin discovery and per-client selection (hub.plugins)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from hub import hookimpl
from hub.db.engine import Database
from hub.errors import (
    AuthError,
    CapabilityMissing,
    InvalidDataError,
    NotFoundError,
    PluginError,
    SettingsError,
)
from hub.model import (
    ClientContext,
    CreditNoteRequest,
    Customer,
    CustomerBalance,
    Invoice,
    InvoiceStatus,
    OutgoingMessage,
    SystemInfo,
)
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
    with pytest.raises(PluginError, match="failed to load") as err:
        registry.info("misspelled")
    assert err.value.plugin == "misspelled"


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


# --- what a plugin must implement (registration) ------------------------------------------


class OnlyInvoices:
    """An accounting plugin with fetch_open_invoices only: the sync could not work with it."""

    @hookimpl
    def system_info(self) -> SystemInfo:
        return SystemInfo(name="only_invoices", title="Half", version="0")

    @hookimpl
    def fetch_open_invoices(self, ctx: ClientContext) -> list[Invoice]:
        return []


class PromisesCreditNotes(RecordingPlugin):
    """Declares credit_note and create_order but implements neither hook behind them."""

    def __init__(self) -> None:
        super().__init__("promises", frozenset({"credit_note", "create_order", "journal"}))


# RecordingPlugin implements create_credit_note and create_invoice; hide them from pluggy.
PromisesCreditNotes.create_credit_note = None  # type: ignore[assignment, method-assign]
PromisesCreditNotes.create_invoice = None  # type: ignore[assignment, method-assign]


class SilentDelivery:
    @hookimpl
    def system_info(self) -> SystemInfo:
        return SystemInfo(
            name="silent", title="Silent", version="0", kind="delivery", capabilities=frozenset()
        )


class Delivery:
    @hookimpl
    def system_info(self) -> SystemInfo:
        return SystemInfo(
            name="delivery", title="D", version="0", kind="delivery", capabilities={"deliver"}
        )

    @hookimpl
    def deliver_message(self, ctx: ClientContext, message: OutgoingMessage) -> str:
        return "sent"


def test_an_accounting_plugin_must_implement_the_hooks_the_sync_needs() -> None:
    registry = load_plugins(entry_points=[])
    registry.register("only_invoices", OnlyInvoices())
    assert "only_invoices" not in registry.infos
    error = registry.errors["only_invoices"]
    assert "fetch_invoice_status()" in error and "fetch_customers()" in error
    assert "fetch_open_invoices" not in error
    assert registry.pm.get_plugin("only_invoices") is None  # unregistered, unreachable


def test_a_declared_capability_needs_its_hook() -> None:
    registry = load_plugins(entry_points=[])
    registry.register("promises", PromisesCreditNotes())
    assert "promises" not in registry.infos
    error = registry.errors["promises"]
    assert "create_credit_note() (it declares the capability 'credit_note')" in error
    assert "create_invoice() (it declares the capability 'create_order')" in error
    assert "post_journal_lines" not in error  # journal is implemented
    assert registry.pm.get_plugin("promises") is None


def test_a_delivery_plugin_must_implement_deliver_message() -> None:
    registry = load_plugins(entry_points=[])
    registry.register("silent", SilentDelivery())
    registry.register("delivery", Delivery())
    assert "deliver_message()" in registry.errors["silent"]
    assert registry.names() == ["delivery"]  # and it needs no accounting hooks


def test_the_sample_and_installed_plugins_still_load() -> None:
    registry = load_plugins([entry_point("floats", "tests.sample_plugins:floats")])
    assert registry.names() == ["floats"]
    assert "generic_csv" in load_plugins().names()


# --- what a plugin raises and answers (ClientPlugin) --------------------------------------


class Buggy(RecordingPlugin):
    """Has a bug: a KeyError escapes from fetch_open_invoices."""

    @hookimpl
    def fetch_open_invoices(self, ctx: ClientContext) -> list[Invoice]:
        return [self.invoices["no such invoice"]]


class Settings(RecordingPlugin):
    @hookimpl
    def fetch_open_invoices(self, ctx: ClientContext) -> list[Invoice]:
        raise SettingsError("setting invoices_path: no such file")


class Refusing(RecordingPlugin):
    @hookimpl
    def fetch_open_invoices(self, ctx: ClientContext) -> list[Invoice]:
        raise AuthError("token refused")


def _plugin_for(db: Database, box: SecretBox, plugin: RecordingPlugin):  # type: ignore[no-untyped-def]
    registry = registry_with(plugin)
    add_client_with_plugin(db, registry, box, "acme", plugin.name, {"api_token": "t"})
    return registry.for_client(context_for(db, registry, box, "acme"))


def test_a_plugin_bug_is_reported_as_a_plugin_error(db: Database, box: SecretBox) -> None:
    plugin = _plugin_for(db, box, Buggy("alpha"))
    with pytest.raises(PluginError, match=r"plugin 'alpha' failed: KeyError: 'no such") as err:
        plugin.fetch_open_invoices()
    assert type(err.value) is PluginError and err.value.plugin == "alpha"
    assert isinstance(err.value.__cause__, KeyError)


def test_contract_errors_keep_their_kind_and_are_tagged(db: Database, box: SecretBox) -> None:
    plugin = _plugin_for(db, box, Refusing("alpha"))
    with pytest.raises(AuthError, match="token refused") as err:
        plugin.fetch_open_invoices()
    assert err.value.plugin == "alpha"


def test_a_settings_error_from_a_plugin_stays_one(db: Database, box: SecretBox) -> None:
    plugin = _plugin_for(db, box, Settings("alpha"))
    with pytest.raises(SettingsError, match="invoices_path") as err:
        plugin.fetch_open_invoices()
    assert err.value.exit_code == 2  # the user's setting to fix, not a plugin bug


class Overeager(RecordingPlugin):
    """Answers for numbers nobody asked about, and answers some twice."""

    @hookimpl
    def fetch_invoice_status(
        self, ctx: ClientContext, invoice_numbers: Sequence[str]
    ) -> list[InvoiceStatus]:
        answer = super().fetch_invoice_status(ctx, [*invoice_numbers, "X9"])
        return answer

    @hookimpl
    def fetch_customer_balance(
        self, ctx: ClientContext, customer_numbers: Sequence[str]
    ) -> list[CustomerBalance]:
        return [CustomerBalance(n, invoice("1").gross_amount, "DKK") for n in customer_numbers] * 2

    @hookimpl
    def fetch_customers(
        self, ctx: ClientContext, customer_numbers: Sequence[str]
    ) -> list[Customer]:
        return [Customer(n, f"Customer {n}") for n in [*customer_numbers, "C7", "C8"]]


def test_answers_for_numbers_not_asked_for_are_refused(db: Database, box: SecretBox) -> None:
    plugin = _plugin_for(db, box, Overeager("alpha"))
    with pytest.raises(InvalidDataError, match=r"plugin 'alpha': fetch_invoice_status\(\)") as e:
        plugin.fetch_invoice_status(["1"])
    assert "1 invoice(s) that were not asked for: X9" in str(e.value)
    with pytest.raises(InvalidDataError, match="2 customer.s. that were not asked for: C7, C8"):
        plugin.fetch_customers(["C1"])


def test_answers_given_twice_are_refused(db: Database, box: SecretBox) -> None:
    plugin = _plugin_for(db, box, Overeager("alpha"))
    with pytest.raises(
        InvalidDataError,
        match=r"fetch_customer_balance\(\) answered for 2 customer.s. more than once: C1, C2",
    ):
        plugin.fetch_customer_balance(["C1", "C2"])
