"""The plugin's pure parts, without a server: settings, the key marker, reading Tripletex's
records, the rate-limit header, session dates, exact JSON."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hub_norwegian_invoicing import keys, mapping, session
from hub_norwegian_invoicing.client import RATE_LIMIT_RESET
from hub_norwegian_invoicing.mapping import Where
from hub_norwegian_invoicing.settings import load_config

from hub.errors import InvalidDataError, SettingsError
from hub.model import InvoiceState
from hub.toolkit import wire
from hub.toolkit.http import RetryPolicy, throttle_wait

TOKENS = {"consumer_token": "consumer-abc123", "employee_token": "employee-def456"}
WHERE = Where("https://tripletex.no/v2/invoice", 3, "invoice")


def _invoice(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": 501,
        "invoiceNumber": 10001,
        "invoiceDate": "2026-01-05",
        "invoiceDueDate": "2026-01-19",
        "customer": {"id": 77, "customerNumber": 10, "name": "Fjordline AS"},
        "currency": {"code": "NOK"},
        "amountCurrency": Decimal("1250.00"),
        "amountExcludingVatCurrency": Decimal("1000.00"),
        "amountRoundoffCurrency": Decimal("0.00"),
        "amountCurrencyOutstanding": Decimal("1250.00"),
        "isCreditNote": False,
        "isCredited": False,
    }
    record.update(changes)
    return record


# -- settings ------------------------------------------------------------------------------------


def test_settings_defaults_are_a_norwegian_company_on_the_standard_chart() -> None:
    config = load_config(TOKENS)
    assert config.base_url == "https://tripletex.no/v2"
    assert config.company_id == 0
    assert config.receivable_account == 1500
    assert config.default_vat_code == "3"
    assert config.invoices_since == dt.date(2000, 1, 1)
    assert config.send_to_customer is True
    assert "consumer-abc123" not in repr(config) and "employee-def456" not in repr(config)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("invoices_since", "1.1.2020", "YYYY-MM-DD"),
        ("receivable_account", "0", "1 or more"),
        ("company_id", "-1", "0 or more"),
        ("base_url", "ftp://x", "http(s) URL"),
        ("default_vat_code", "3 %", "VAT code"),
        ("send_to_customer", "maybe", "true or false"),
    ],
)
def test_a_setting_that_cannot_be_read_is_named(name: str, value: str, says: str) -> None:
    with pytest.raises(SettingsError, match=name) as caught:
        load_config({**TOKENS, name: value})
    assert says in str(caught.value)


def test_a_missing_token_is_named_not_shown() -> None:
    with pytest.raises(SettingsError, match="employee_token"):
        load_config({"consumer_token": "consumer-abc123"})


# -- the key marker ------------------------------------------------------------------------------


def test_a_short_key_is_written_as_it_is() -> None:
    assert keys.marker("writeoff:12") == "receivables-hub writeoff:12"


def test_a_long_key_becomes_a_stable_digest_within_seventy_characters() -> None:
    long_key = "recurring:" + "x" * 80
    other = "recurring:" + "x" * 79 + "y"
    assert len(keys.marker(long_key)) == 70
    assert keys.marker(long_key) == keys.marker(long_key)
    assert keys.marker(long_key) != keys.marker(other)
    assert keys.marker(long_key).startswith("receivables-hub sha256:")


# -- records -------------------------------------------------------------------------------------


def test_an_invoice_is_read_in_its_own_currency_to_the_øre() -> None:
    invoice = mapping.invoice(
        _invoice(
            currency={"code": "EUR"},
            amountCurrency=Decimal("100.10"),
            amountExcludingVatCurrency=Decimal("80.08"),
            amountCurrencyOutstanding=Decimal("50.05"),
            amount=Decimal("1151.15"),  # NOK: not the hub's amount
        ),
        WHERE,
    )
    assert (invoice.currency, invoice.net_amount, invoice.vat_amount) == (
        "EUR",
        Decimal("80.08"),
        Decimal("20.02"),
    )
    assert invoice.gross_amount == Decimal("100.10")
    assert invoice.outstanding_amount == Decimal("50.05")
    assert (invoice.customer_number, invoice.customer_name) == ("10", "Fjordline AS")
    assert invoice.due_date == dt.date(2026, 1, 19)


def test_rounding_to_whole_kroner_is_counted_in_the_net_amount() -> None:
    invoice = mapping.invoice(
        _invoice(
            amountCurrency=Decimal("1250.00"),
            amountExcludingVatCurrency=Decimal("999.80"),
            amountRoundoffCurrency=Decimal("0.25"),
        ),
        WHERE,
    )
    assert (invoice.net_amount, invoice.vat_amount) == (Decimal("1000.05"), Decimal("249.95"))


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("amountCurrencyOutstanding", "1250.00", "amountCurrencyOutstanding must be a number"),
        ("invoiceDueDate", "19.01.2026", "invoiceDueDate must be a date"),
        ("currency", {"code": "kroner"}, "currency.code must be an ISO 4217"),
        ("customer", {"id": 77}, "customer.customerNumber"),
        ("invoiceNumber", 0, "invoiceNumber must be a whole number"),
    ],
)
def test_an_unreadable_invoice_names_where_and_what(field: str, value: Any, says: str) -> None:
    with pytest.raises(InvalidDataError) as caught:
        mapping.invoice(_invoice(**{field: value}), WHERE)
    assert caught.value.where == "https://tripletex.no/v2/invoice"
    assert says in str(caught.value) and "values[3]" in str(caught.value)


def test_a_due_date_before_the_invoice_date_is_placed_too() -> None:
    with pytest.raises(InvalidDataError, match=r"values\[3\] \(invoice 10001\).*before"):
        mapping.invoice(_invoice(invoiceDueDate="2026-01-01"), WHERE)


@pytest.mark.parametrize(
    ("outstanding", "credited", "state"),
    [
        (Decimal("10.00"), False, InvoiceState.OPEN),
        (Decimal("10.00"), True, InvoiceState.OPEN),
        (Decimal("0.00"), True, InvoiceState.CREDITED),
        (Decimal("0.00"), False, InvoiceState.PAID),
        (Decimal("-5.00"), False, InvoiceState.PAID),
    ],
)
def test_an_invoice_state_comes_from_what_is_outstanding_and_whether_it_is_credited(
    outstanding: Decimal, credited: bool, state: InvoiceState
) -> None:
    status = mapping.invoice_status(
        _invoice(amountCurrencyOutstanding=outstanding, isCredited=credited), WHERE
    )
    assert (status.state, status.outstanding_amount, status.currency) == (
        state,
        outstanding,
        "NOK",
    )


def test_a_customer_gets_letters_at_its_overdue_or_invoice_address_in_its_language() -> None:
    record = {
        "id": 77,
        "customerNumber": 10,
        "name": "Fjordline AS",
        "email": "post@fjordline.example",
        "invoiceEmail": "faktura@fjordline.example",
        "language": "NO",
        "postalAddress": {
            "addressLine1": "Storgata 5",
            "addressLine2": "Postboks 12",
            "postalCode": "6002",
            "city": "Ålesund",
            "country": {"name": "Norge"},
        },
    }
    customer = mapping.customer(record, WHERE)
    assert customer.email == "faktura@fjordline.example"
    assert customer.language == "nb"
    assert customer.address == "Storgata 5, Postboks 12"
    assert (customer.postal_code, customer.city, customer.country) == ("6002", "Ålesund", "Norge")
    plain = mapping.customer({**record, "invoiceEmail": "", "language": "EN"}, WHERE)
    assert (plain.email, plain.language) == ("post@fjordline.example", "en")
    overdue = {**record, "overdueNoticeEmail": "purring@fjordline.example"}
    assert mapping.customer(overdue, WHERE).email == "purring@fjordline.example"


def test_a_customer_e_mail_that_is_none_is_invalid_data() -> None:
    with pytest.raises(InvalidDataError, match="invoiceEmail 'faktura' is not an e-mail"):
        mapping.customer({"customerNumber": 10, "name": "X", "invoiceEmail": "faktura"}, WHERE)


# -- the rate-limit header -----------------------------------------------------------------------

POLICY = dataclasses.replace(RetryPolicy(), throttle_reset_headers=(RATE_LIMIT_RESET,))


def _answer(status: int, headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(status, headers=headers)


def test_x_rate_limit_reset_is_the_wait_on_a_429() -> None:
    response = _answer(429, {"X-Rate-Limit-Reset": "7", "X-Rate-Limit-Remaining": "0"})
    assert throttle_wait(response, POLICY) == 7.0
    assert throttle_wait(response, RetryPolicy()) is None, "only where the policy names it"


def test_a_retry_after_the_server_gives_comes_first() -> None:
    assert throttle_wait(_answer(429, {"Retry-After": "2", "X-Rate-Limit-Reset": "9"}), POLICY) == 2
    assert throttle_wait(_answer(429, {"X-Rate-Limit-Reset": "soon"}), POLICY) is None
    assert throttle_wait(_answer(200, {"X-Rate-Limit-Reset": "9"}), POLICY) is None


def test_the_rate_window_on_a_server_error_is_no_wait() -> None:
    """Tripletex sends X-Rate-Limit-Reset on every answer; on a 503 it is not about the outage."""
    assert throttle_wait(_answer(503, {"X-Rate-Limit-Reset": "60"}), POLICY) is None


# -- sessions and JSON ---------------------------------------------------------------------------


def test_a_session_is_renewed_once_less_than_a_day_is_left() -> None:
    made = session.Session(token="t", expires=dt.date(2026, 3, 3))
    assert not made.renew_due(dt.date(2026, 3, 1))
    assert made.renew_due(dt.date(2026, 3, 2))
    assert "secret-session" not in repr(
        session.Session(token="secret-session", expires=dt.date(2026, 3, 3))
    )


def test_a_session_lasts_from_the_later_of_the_real_and_the_simulated_today() -> None:
    real = dt.datetime.now(dt.UTC).date()
    ahead = real + dt.timedelta(days=400)
    assert session.reckoned_today(dt.date(2020, 1, 1)) == real
    assert session.reckoned_today(ahead) == ahead
    assert session.expiration_date(ahead) == ahead + dt.timedelta(days=2)


def test_amounts_go_out_exact_and_floats_never() -> None:
    assert wire.dumps({"amountGross": Decimal("-1250.50"), "row": 1}) == (
        b'{"amountGross":-1250.50,"row":1}'
    )
    with pytest.raises(TypeError, match="float"):
        wire.dumps({"amountGross": 1250.5})
    assert wire.loads(b'{"a": 0.1}') == {"a": Decimal("0.1")}
