"""The values crossing the plugin boundary refuse what would corrupt a case."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hub.errors import InvalidDataError
from hub.model import (
    CreditNoteRequest,
    CustomerBalance,
    InvoiceDraft,
    InvoiceState,
    InvoiceStatus,
    JournalEntry,
    JournalLine,
    PluginSettings,
    SettingSpec,
    SystemInfo,
)
from tests.sample_plugins import invoice

D = Decimal
DAY = dt.date(2026, 11, 23)


def test_float_amount_is_refused_naming_the_field() -> None:
    with pytest.raises(
        InvalidDataError, match=r"Invoice.gross_amount: must be a Decimal, not float"
    ):
        invoice("1", gross_amount=125.0, net_amount=D("100"), vat_amount=D("25"))


def test_gross_must_be_net_plus_vat() -> None:
    with pytest.raises(InvalidDataError, match="is not net 100.00 \\+ VAT 20.00"):
        invoice("1", net_amount=D("100.00"), vat_amount=D("20.00"), gross_amount=D("125.00"))


def test_currency_must_be_iso_4217() -> None:
    with pytest.raises(InvalidDataError, match="ISO 4217"):
        invoice("1", currency="kr")


def test_dates_must_be_dates_not_strings_or_timestamps() -> None:
    with pytest.raises(InvalidDataError, match="due_date: must be a datetime.date, not str"):
        invoice("1", due_date="2026-10-15")
    with pytest.raises(InvalidDataError, match="not datetime"):
        invoice("1", invoice_date=dt.datetime(2026, 10, 1, 12, 0))


def test_due_date_before_invoice_date_is_refused() -> None:
    with pytest.raises(InvalidDataError, match="before the invoice date"):
        invoice("1", due_date=dt.date(2026, 9, 1))


def test_nan_is_not_an_amount() -> None:
    with pytest.raises(InvalidDataError, match="finite"):
        CustomerBalance("1", D("NaN"), "DKK")


def test_unknown_status_needs_no_amount_but_others_do() -> None:
    assert InvoiceStatus("9", InvoiceState.UNKNOWN, None, None).outstanding_amount is None
    with pytest.raises(InvalidDataError, match="outstanding_amount"):
        InvoiceStatus("9", InvoiceState.PAID, None, "DKK")


def test_voucher_must_balance() -> None:
    lines = (
        JournalLine(D("-125.00"), "x", customer_number="1"),
        JournalLine(D("100"), "y", account="3720"),
    )
    with pytest.raises(InvalidDataError, match="sum to -25.00, not 0"):
        JournalEntry("writeoff:1", DAY, "DKK", "t", lines)


def test_journal_line_goes_to_an_account_or_a_customer_not_both() -> None:
    with pytest.raises(InvalidDataError, match="exactly one of account and customer_number"):
        JournalLine(D("1"), "x", account="1", customer_number="2")


def test_credit_note_amount_is_positive() -> None:
    with pytest.raises(InvalidDataError, match="must be positive"):
        CreditNoteRequest("k", "1", "1", DAY, "DKK", D("-5"), "r")


def test_draft_kind_and_lines() -> None:
    with pytest.raises(InvalidDataError, match="'invoice' or 'order'"):
        InvoiceDraft("k", "bill", "1", DAY, DAY, "DKK", ())
    with pytest.raises(InvalidDataError, match="at least one line"):
        InvoiceDraft("k", "invoice", "1", DAY, DAY, "DKK", ())


def test_system_info_refuses_unknown_capabilities_and_repeated_settings() -> None:
    with pytest.raises(InvalidDataError, match="unknown \\['teleport'\\]"):
        SystemInfo("x", "X", "1", frozenset({"teleport"}))
    with pytest.raises(InvalidDataError, match="repeat"):
        SystemInfo("x", "X", "1", settings=(SettingSpec("a"), SettingSpec("a")))


@pytest.mark.parametrize(
    ("type_", "raw", "parsed"),
    [
        ("integer", " 42 ", "42"),
        ("boolean", "Yes", "true"),
        ("boolean", "off", "false"),
        ("decimal", "12.50", "12.50"),
        ("url", "https://x.test/", "https://x.test"),
        ("path", "/tmp/x", "/tmp/x"),
    ],
)
def test_setting_values_are_parsed_by_type(type_: str, raw: str, parsed: str) -> None:
    assert SettingSpec("s", type=type_).parse(raw) == parsed


@pytest.mark.parametrize(
    ("type_", "raw", "why"),
    [
        ("integer", "4.5", "whole number"),
        ("boolean", "maybe", "true or false"),
        ("decimal", "1,5", "decimal number"),
        ("decimal", "1e3", r"exponent notation"),
        ("decimal", "NaN", "not a finite number"),
        ("decimal", "-Infinity", "not a finite number"),
        ("url", "ftp://x", "http"),
        ("string", "  ", "empty"),
    ],
)
def test_wrong_setting_values_say_why(type_: str, raw: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        SettingSpec("s", type=type_).parse(raw)


def test_plugin_settings_repr_masks_secrets() -> None:
    settings = PluginSettings({"token": "hunter2", "url": "https://x"}, frozenset({"token"}))
    assert settings["token"] == "hunter2"
    assert "hunter2" not in repr(settings) and "hunter2" not in str(settings)
    assert "https://x" in repr(settings)
