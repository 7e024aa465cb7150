"""Customer balances and contact data, from the customers file or the invoices file."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from generic_csv import plugin

from hub.errors import InvalidDataError
from hub.model import ClientContext, Customer, CustomerBalance

D = Decimal

# Fixture types (see conftest.py; not imported from it: the hub's tests have one too).
MakeCtx = Callable[..., ClientContext]
WriteFile = Callable[..., Path]

INVOICES = (
    "Fakturanr;Kundenr;Kundenavn;E-mail;Fakturadato;Forfaldsdato;Valuta;Brutto;Restbeløb\n"
    "1;K1;Æble ApS;;01.01.2024;31.01.2024;DKK;1.000,00;600,00\n"
    "2;K1;Æble ApS;bogholderi@aeble.dk;01.02.2024;28.02.2024;DKK;500,00;500,00\n"
    "3;K1;Æble ApS;;01.03.2024;31.03.2024;DKK;-100,00;-100,00\n"
    "4;K2;Ørn A/S;orn@example.dk;01.01.2024;31.01.2024;DKK;200,00;200,00\n"
)

CUSTOMERS = (
    "Kundenr;Navn;E-mail;Adresse;Postnr;By;Land;Sprog;Saldo\n"
    "K1;Æble ApS;info@aeble.dk;Østergade 1;8000;Århus C;DK;dansk;1.000,00\n"
    "K3;Fjord AS;post@fjord.no;Bryggen 2;5003;Bergen;NO;no;-25,50\n"
)


def test_balance_from_invoices_file(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file("invoices.csv", INVOICES, encoding="cp1252")
    balances = plugin.fetch_customer_balance(make_ctx(), ["K2", "K1", "K9"])
    assert balances == [
        CustomerBalance("K2", D("200.00"), "DKK"),
        CustomerBalance("K1", D("1000.00"), "DKK"),  # 600 + 500 - 100; K9 unknown: left out
    ]


def test_balance_from_customers_file(
    make_ctx: MakeCtx, write_file: WriteFile, tmp_path: Path
) -> None:
    write_file("invoices.csv", INVOICES, encoding="cp1252")
    customers = write_file("customers.csv", CUSTOMERS, encoding="cp1252")
    ctx = make_ctx(customers_path=str(customers), default_currency="DKK")
    balances = plugin.fetch_customer_balance(ctx, ["K1", "K2", "K3", "K9"])
    assert balances == [
        CustomerBalance("K1", D("1000.00"), "DKK"),  # from the balance column
        CustomerBalance("K2", D("200.00"), "DKK"),  # not in the customers file: invoices sum
        CustomerBalance("K3", D("-25.50"), "DKK"),
    ]


def test_a_balance_without_a_currency_is_in_the_clients_currency(
    make_ctx: MakeCtx, write_file: WriteFile
) -> None:
    customers = write_file("customers.csv", CUSTOMERS)
    ctx = make_ctx(customers_path=str(customers))
    assert plugin.fetch_customer_balance(ctx, ["K1"]) == [
        CustomerBalance("K1", Decimal("1000.00"), ctx.currency)
    ]


def test_customer_in_two_currencies_has_no_single_balance(
    make_ctx: MakeCtx, write_file: WriteFile
) -> None:
    write_file("invoices.csv", INVOICES + "5;K2;Ørn A/S;;01.01.2024;31.01.2024;EUR;10,00;10,00\n")
    with pytest.raises(InvalidDataError, match="DKK, EUR"):
        plugin.fetch_customer_balance(make_ctx(), ["K2"])


def test_customers_from_customers_file(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    customers = write_file("customers.csv", CUSTOMERS, bom=True)
    found = plugin.fetch_customers(make_ctx(customers_path=str(customers)), ["K3", "K1", "K2"])
    assert found == [
        Customer("K3", "Fjord AS", "post@fjord.no", "Bryggen 2", "5003", "Bergen", "NO", "nb"),
        Customer("K1", "Æble ApS", "info@aeble.dk", "Østergade 1", "8000", "Århus C", "DK", "da"),
    ]


def test_customers_from_invoices_file(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file("invoices.csv", INVOICES, encoding="cp1252")
    found = plugin.fetch_customers(make_ctx(), ["K1", "K2", "K9"])
    assert found == [
        Customer("K1", "Æble ApS", email="bogholderi@aeble.dk"),
        Customer("K2", "Ørn A/S", email="orn@example.dk"),
    ]


def test_bad_customers_file(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    customers = write_file(
        "customers.csv",
        CUSTOMERS + "K1;Dublet;;;;;;;0,00\nK4;;no-email;;;;;klingon;1,00\n",
    )
    with pytest.raises(InvalidDataError) as caught:
        plugin.fetch_customers(make_ctx(customers_path=str(customers)), ["K1"])
    message = str(caught.value)
    assert message.startswith(
        "customers.csv:4: column customer_number (\"Kundenr\"): 'K1' repeats the customer on line 2"
    )
    assert 'customers.csv:5: column name ("Navn"): is empty' in message
    assert "customers.csv:5: column email (\"E-mail\"): 'no-email' is not an e-mail" in message
    assert "customers.csv:5: column language (\"Sprog\"): 'klingon' is not a language" in message
