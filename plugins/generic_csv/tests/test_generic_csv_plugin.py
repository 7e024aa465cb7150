"""The plugin as the hub loads it: entry point, system_info, settings schema and defaults."""

from __future__ import annotations

from decimal import Decimal

import pytest
from generic_csv import __version__, plugin
from generic_csv.columns import CUSTOMER_COLUMNS, INVOICE_COLUMNS, normalize_header
from generic_csv.settings import load_config

from hub.errors import SettingsError
from hub.plugins import load_plugins


def test_loaded_through_the_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_LOAD_PLUGINS", "generic_csv")
    registry = load_plugins()
    assert registry.errors == {}
    info = registry.info("generic_csv")
    assert info.title == "CSV files (any accounting program)"
    assert info.version == __version__
    assert info.capabilities == {
        "customer_balance",
        "credit_note",
        "journal",
        "create_invoice",
        "create_order",
    }
    specs = {s.name: s for s in info.settings}
    assert set(specs) == {
        "invoices_path",
        "customers_path",
        "outbox_dir",
        "columns",
        "export_scope",
        "default_currency",
        "decimal_mark",
        "require_final_newline",
        "max_file_mb",
    }
    assert specs["invoices_path"].required and specs["invoices_path"].type == "path"
    assert specs["outbox_dir"].required and specs["export_scope"].default == "open"
    assert plugin.system_info() == info


def test_defaults_and_setting_errors() -> None:
    config = load_config({"invoices_path": "i.csv", "outbox_dir": "out"})
    assert config.export_scope == "open" and config.customers_path is None
    assert config.columns == {} and config.default_currency is None
    with pytest.raises(SettingsError, match="outbox_dir"):
        load_config({"invoices_path": "i.csv"})
    with pytest.raises(SettingsError, match="default_currency"):
        load_config({"invoices_path": "i.csv", "outbox_dir": "o", "default_currency": "kr"})
    with pytest.raises(SettingsError, match="mapped twice"):
        load_config({"invoices_path": "i", "outbox_dir": "o", "columns": "currency=A;currency=B"})


@pytest.mark.parametrize("table", [INVOICE_COLUMNS, CUSTOMER_COLUMNS])
def test_aliases_never_point_at_two_fields(table: dict[str, tuple[str, ...]]) -> None:
    owner: dict[str, str] = {}
    for field, aliases in table.items():
        for alias in aliases:
            key = normalize_header(alias)
            assert owner.setdefault(key, field) == field, (alias, field, owner[key])


def test_a_file_rewritten_in_place_is_read_afresh(write_file, make_ctx) -> None:  # type: ignore[no-untyped-def]
    """One sync parses the export once for all hooks, but a changed file is never stale, even
    rewritten within the same millisecond with the same size."""
    header = "invoice_number;customer_number;invoice_date;due_date;currency;gross_amount\n"
    write_file("invoices.csv", header + "1;C1;2024-05-01;2024-05-15;DKK;100,00\n")
    ctx = make_ctx()
    assert [i.gross_amount for i in plugin.fetch_open_invoices(ctx)] == [Decimal("100.00")]
    write_file("invoices.csv", header + "1;C1;2024-05-01;2024-05-15;DKK;900,00\n")
    assert [i.gross_amount for i in plugin.fetch_open_invoices(ctx)] == [Decimal("900.00")]
    status = plugin.fetch_invoice_status(ctx, ["1"])
    assert status[0].outstanding_amount == Decimal("900.00")
