"""Reading invoices files through the hooks: formats, aliases, mapping and the bad-row rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from generic_csv import plugin

from hub.errors import InvalidDataError, SettingsError
from hub.model import ClientContext, InvoiceState

D = Decimal

# Fixture types (see conftest.py; not imported from it: the hub's tests have one too).
MakeCtx = Callable[..., ClientContext]
WriteFile = Callable[..., Path]

DANISH_1252 = (
    "Fakturanr;Kundenr;Kundenavn;Fakturadato;Forfaldsdato;Valuta;Netto;Moms;Brutto;Restbeløb\r\n"
    "1001;K1;Æblegården ApS;01.03.2024;31.03.2024;DKK;1.000,00;250,00;1.250,00;1.250,00\r\n"
    "1002;K2;Søren Ørsted;15.03.2024;14.04.2024;DKK;80,40;20,10;100,50;50,25\r\n"
    "1003;K3;Blåbær & Co;20.03.2024;19.04.2024;DKK;1.234.567,89;308.641,97;1.543.209,86;"
    "1.543.209,86\r\n"
)


def test_semicolon_decimal_comma_windows_1252(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file("invoices.csv", DANISH_1252, encoding="cp1252")
    invoices = plugin.fetch_open_invoices(make_ctx())
    assert [i.invoice_number for i in invoices] == ["1001", "1002", "1003"]
    first, second, third = invoices
    assert first.customer_name == "Æblegården ApS"
    assert second.customer_name == "Søren Ørsted"
    assert third.customer_name == "Blåbær & Co"
    assert (first.net_amount, first.vat_amount, first.gross_amount) == (
        D("1000.00"),
        D("250.00"),
        D("1250.00"),
    )
    assert str(second.outstanding_amount) == "50.25"
    assert str(third.gross_amount) == "1543209.86"
    assert first.invoice_date == dt.date(2024, 3, 1)
    assert first.due_date == dt.date(2024, 3, 31)
    assert first.currency == "DKK"


def test_utf8_bom_tab_iso(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    text = (
        "invoice_number\tcustomer_number\tcustomer_name\tinvoice_date\tdue_date\tcurrency"
        "\tgross_amount\toutstanding_amount\n"
        "A-1\t10\tÅse Økland\t2024-05-01\t2024-05-15\tNOK\t1000.00\t999.99\n"
    )
    write_file("invoices.csv", text, bom=True)
    [invoice] = plugin.fetch_open_invoices(make_ctx())
    assert invoice.invoice_number == "A-1"  # no BOM glued to the first header
    assert invoice.customer_name == "Åse Økland"
    assert invoice.currency == "NOK"
    assert invoice.gross_amount == D("1000.00") and invoice.net_amount == D("1000.00")
    assert invoice.vat_amount == 0  # neither net nor VAT column: VAT 0, net = gross
    assert invoice.outstanding_amount == D("999.99")
    assert invoice.due_date == dt.date(2024, 5, 15)


def test_comma_separated_decimal_point_thousands(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    text = (
        "invoice_number,customer_number,invoice_date,due_date,net_amount,vat_amount,gross_amount\n"
        '7,C7,2024-01-10,2024-02-09,"1,000.00",250.00,"1,250.00"\n'
        '8,C8,2024-01-11,2024-02-10,"1,234,567.50","308,641.88","1,543,209.38"\n'
    )
    write_file("invoices.csv", text)
    invoices = plugin.fetch_open_invoices(make_ctx(default_currency="EUR"))
    assert [(i.gross_amount, i.outstanding_amount, i.currency) for i in invoices] == [
        (D("1250.00"), D("1250.00"), "EUR"),  # outstanding defaults to gross
        (D("1543209.38"), D("1543209.38"), "EUR"),
    ]


@pytest.mark.parametrize(
    "header",
    [
        "Fakturanr.;Kundenr.;Kundenavn;E-mail;Fakturadato;Forfaldsdato;Valuta;"
        "Beløb ekskl. moms;Moms;Beløb inkl. moms;Udestående",
        "Fakturanummer;Kundenummer;Kundenavn;E-post;Fakturadato;Forfallsdato;Valuta;"
        "Beløp eks. mva;MVA;Beløp inkl. mva;Utestående",
        " FAKTURANR ; kundenr ;KUNDENAVN; e-mail ;fakturadato;forfaldsdato;VALUTA;"
        "netto;moms;brutto;restbeløb",
    ],
)
def test_danish_and_norwegian_header_aliases(
    header: str, make_ctx: MakeCtx, write_file: WriteFile
) -> None:
    row = "55;K9;Fjord AS;post@fjord.no;02.01.2024;16.01.2024;nok;800,00;200,00;1.000,00;400,00"
    write_file("invoices.csv", f"{header}\n{row}\n")
    [invoice] = plugin.fetch_open_invoices(make_ctx())
    assert invoice.invoice_number == "55" and invoice.customer_number == "K9"
    assert invoice.currency == "NOK"
    assert (invoice.net_amount, invoice.vat_amount, invoice.gross_amount) == (
        D("800.00"),
        D("200.00"),
        D("1000.00"),
    )
    assert invoice.outstanding_amount == D("400.00")


def test_column_mapping_setting(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    text = (
        "Bilag;Debitor konto;Dato;Betales senest;Beløb i alt;Heraf moms;Mangler\n"
        "9001;D-1;05.02.2024;05.03.2024;125,00;25,00;125,00\n"
    )
    write_file("invoices.csv", text)
    ctx = make_ctx(
        columns="invoice_number=Bilag;customer_number=Debitor konto;due_date=Betales senest;"
        "gross_amount=Beløb i alt;vat_amount=Heraf moms;outstanding_amount=Mangler;",
        default_currency="dkk",
    )
    [invoice] = plugin.fetch_open_invoices(ctx)
    assert invoice.invoice_number == "9001" and invoice.customer_number == "D-1"
    assert invoice.invoice_date == dt.date(2024, 2, 5)  # "Dato" is a default alias
    assert (invoice.net_amount, invoice.vat_amount) == (D("100.00"), D("25.00"))  # net derived
    assert invoice.currency == "DKK"


def test_column_mapping_unknown_field(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file("invoices.csv", DANISH_1252, encoding="cp1252")
    with pytest.raises(SettingsError, match="invoice_nummer"):
        plugin.fetch_open_invoices(make_ctx(columns="invoice_nummer=Fakturanr"))
    with pytest.raises(SettingsError, match="field=Header"):
        plugin.fetch_open_invoices(make_ctx(columns="Fakturanr"))


HEADER = (
    "invoice_number;customer_number;invoice_date;due_date;currency;net_amount;vat_amount;"
    "gross_amount"
)


def _file(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


def test_bad_amount_fails_the_whole_file(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file(
        "invoices.csv",
        _file(
            "1;C1;01.01.2024;31.01.2024;DKK;8,00;2,00;10,00",
            "2;C1;01.01.2024;31.01.2024;DKK;8,00;2,00;12,3x",
        ),
    )
    with pytest.raises(InvalidDataError) as caught:
        plugin.fetch_open_invoices(make_ctx())
    assert caught.value.where == "invoices.csv:3"
    assert str(caught.value) == "invoices.csv:3: column gross_amount: '12,3x' is not an amount"


def test_all_bad_rows_are_reported_in_one_error(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file(
        "invoices.csv",
        _file(
            "1;C1;01.01.2024;31.01.2024;DKK;8,00;2,00;10,00",
            "2;C1;31.02.2024;31.03.2024;DKK;8,00;2,00;10,00",
            "3;C1;01.01.2024;31.01.2024;DKK;8,00;2,00",
            "4;;01.01.2024;31.01.2024;DKK;8,00;2,00;10,00",
            "5;C1;01.01.2024;31.01.2024;DKK;8,00;2,00;11,00",
            "6;C1;01.02.2024;31.01.2024;DKK;8,00;2,00;10,00",
            "7;C1;01.01.2024;31.01.2024;kr;8,00;2,00;10,00",
        ),
    )
    with pytest.raises(InvalidDataError) as caught:
        plugin.fetch_open_invoices(make_ctx())
    message = str(caught.value)
    assert caught.value.where == "invoices.csv:3"
    assert message.startswith("invoices.csv:3: column invoice_date: '31.02.2024' is not a valid")
    assert "invoices.csv:4: the row has 7 fields, the header has 8" in message
    assert "invoices.csv:5: column customer_number: is empty (a value is required)" in message
    assert "invoices.csv:6: column gross_amount: 11.00 is not net 8.00 + VAT 2.00" in message
    assert "invoices.csv:7: column due_date: 2024-01-31 is before the invoice date" in message
    assert "invoices.csv:8: column currency: 'kr' is not an ISO 4217 currency code" in message
    assert "6 problems in this file" in message


def test_missing_required_column(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file(
        "invoices.csv",
        "invoice_number;customer_number;invoice_date;gross_amount\n1;C1;01.01.2024;10,00\n",
    )
    with pytest.raises(InvalidDataError, match="required column due_date is missing") as caught:
        plugin.fetch_open_invoices(make_ctx(default_currency="DKK"))
    assert caught.value.where == "invoices.csv:1"


def test_duplicate_invoice_number(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file(
        "invoices.csv",
        _file(
            "1;C1;01.01.2024;31.01.2024;DKK;8,00;2,00;10,00",
            "2;C1;01.01.2024;31.01.2024;DKK;8,00;2,00;10,00",
            "1;C2;01.01.2024;31.01.2024;DKK;8,00;2,00;10,00",
        ),
    )
    with pytest.raises(InvalidDataError) as caught:
        plugin.fetch_open_invoices(make_ctx())
    assert str(caught.value) == (
        "invoices.csv:4: column invoice_number: '1' repeats the invoice on line 2"
    )


def test_bad_date(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file("invoices.csv", _file("1;C1;2024/01/01;31.01.2024;DKK;8,00;2,00;10,00"))
    with pytest.raises(InvalidDataError) as caught:
        plugin.fetch_invoice_status(make_ctx(), ["1"])
    assert caught.value.where == "invoices.csv:2"
    assert "column invoice_date: '2024/01/01' is not a date" in str(caught.value)


def test_physical_line_numbers_and_blank_lines(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    # A column the hub does not read ("note") may hold a value over several lines.
    text = (
        f"{HEADER};note\r\n"
        "1;C1;01.01.2024;31.01.2024;DKK;8,00;2,00;10,00;\r\n"
        "\r\n"
        ";;;;;;;;\r\n"
        '2;C1;01.01.2024;31.01.2024;DKK;8,00;2,00;10,00;"a\r\nb"\r\n'
        "3;C1;01.01.2024;31.01.2024;DKK;8,00;2,00;oops;\r\n"
        "\r\n\r\n"
    )
    write_file("invoices.csv", text)
    with pytest.raises(InvalidDataError) as caught:
        plugin.fetch_open_invoices(make_ctx())
    assert caught.value.where == "invoices.csv:7"


def test_an_invoice_number_over_two_lines_is_refused_at_its_line(
    make_ctx: MakeCtx, write_file: WriteFile
) -> None:
    text = f'{HEADER}\r\n"2\r\nb";C1;01.01.2024;31.01.2024;DKK;8,00;2,00;10,00\r\n'
    write_file("invoices.csv", text)
    with pytest.raises(InvalidDataError) as caught:
        plugin.fetch_open_invoices(make_ctx())
    assert caught.value.where == "invoices.csv:2"
    assert "column invoice_number: holds the control character '\\r'" in str(caught.value)


def test_blank_trailing_lines_and_sep_hint(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file("invoices.csv", "sep=;\n" + _file("1;C1;01.01.2024;31.01.2024;DKK;8;2;10") + "\n\n")
    [invoice] = plugin.fetch_open_invoices(make_ctx())
    assert invoice.gross_amount == 10
    write_file("invoices.csv", "sep=;\n" + _file("1;C1;01.01.2024;31.01.2024;DKK;8;2;x"))
    with pytest.raises(InvalidDataError, match=r"^invoices\.csv:3: "):
        plugin.fetch_open_invoices(make_ctx())


def test_ambiguous_amounts_use_the_files_decimal_mark(
    make_ctx: MakeCtx, write_file: WriteFile
) -> None:
    write_file(
        "invoices.csv",
        _file(
            "1;C1;01.01.2024;31.01.2024;DKK;1.000;250;1.250",
            "2;C1;01.01.2024;31.01.2024;DKK;8,00;2,00;10,00",
        ),
    )
    first, _ = plugin.fetch_open_invoices(make_ctx())
    assert first.gross_amount == D("1250")  # the file uses ',' as decimal mark: '.' groups
    write_file("invoices.csv", _file("1;C1;01.01.2024;31.01.2024;DKK;1.000;250;1.250"))
    with pytest.raises(InvalidDataError, match="column net_amount: '1.000' is ambiguous"):
        plugin.fetch_open_invoices(make_ctx())


def test_currency_affix_must_match(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file("invoices.csv", _file("1;C1;01.01.2024;31.01.2024;DKK;kr. 8,00;2,00 DKK;10,00"))
    [invoice] = plugin.fetch_open_invoices(make_ctx())
    assert invoice.net_amount == D("8.00")
    write_file("invoices.csv", _file("1;C1;01.01.2024;31.01.2024;EUR;8,00 kr;2,00;10,00"))
    with pytest.raises(InvalidDataError, match="in kroner but the currency is EUR"):
        plugin.fetch_open_invoices(make_ctx())


def test_net_or_vat_derived_from_gross(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file(
        "invoices.csv",
        "Fakturanr;Kundenr;Fakturadato;Forfaldsdato;Moms;Brutto\n"
        "1;C1;01.01.2024;31.01.2024;25,00;125,00\n",
    )
    [invoice] = plugin.fetch_open_invoices(make_ctx(default_currency="DKK"))
    assert (invoice.net_amount, invoice.vat_amount) == (D("100.00"), D("25.00"))
    write_file(
        "invoices.csv",
        "Fakturanr;Kundenr;Fakturadato;Forfaldsdato;Netto;Brutto\n"
        "1;C1;01.01.2024;31.01.2024;100,00;125,00\n",
    )
    [invoice] = plugin.fetch_open_invoices(make_ctx(default_currency="DKK"))
    assert (invoice.net_amount, invoice.vat_amount) == (D("100.00"), D("25.00"))


STATUS_FILE = (
    "invoice_number;customer_number;invoice_date;due_date;currency;gross_amount;"
    "outstanding_amount\n"
    "1;C1;01.01.2024;31.01.2024;DKK;100,00;40,00\n"
    "2;C1;01.01.2024;31.01.2024;DKK;100,00;0,00\n"
    "3;C2;01.01.2024;31.01.2024;EUR;-50,00;-50,00\n"
)


@pytest.mark.parametrize("scope", ["open", "all", None])
def test_invoice_status_and_export_scope(
    scope: str | None, make_ctx: MakeCtx, write_file: WriteFile
) -> None:
    write_file("invoices.csv", STATUS_FILE)
    ctx = make_ctx(export_scope=scope) if scope else make_ctx()  # default is "open"
    assert [i.invoice_number for i in plugin.fetch_open_invoices(ctx)] == ["1"]
    statuses = plugin.fetch_invoice_status(ctx, ["3", "1", "99", "2"])
    by_number = {s.invoice_number: s for s in statuses}
    assert [s.invoice_number for s in statuses] == ["3", "1", "99", "2"]
    assert (by_number["1"].state, by_number["1"].outstanding_amount) == (
        InvoiceState.OPEN,
        D("40.00"),
    )
    assert (by_number["2"].state, by_number["2"].outstanding_amount) == (
        InvoiceState.PAID,
        D("0.00"),
    )
    assert (by_number["3"].state, by_number["3"].currency) == (InvoiceState.PAID, "EUR")
    missing = by_number["99"]
    if scope == "all":
        assert (missing.state, missing.outstanding_amount, missing.currency) == (
            InvoiceState.UNKNOWN,
            None,
            None,
        )
    else:
        assert (missing.state, missing.outstanding_amount, missing.currency) == (
            InvoiceState.PAID,
            D("0"),
            "DKK",
        )


def test_bad_export_scope(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file("invoices.csv", STATUS_FILE)
    with pytest.raises(SettingsError, match="export_scope"):
        plugin.fetch_invoice_status(make_ctx(export_scope="some"), ["1"])


def test_missing_invoices_file(make_ctx: MakeCtx) -> None:
    with pytest.raises(SettingsError, match="invoices_path"):
        plugin.fetch_open_invoices(make_ctx())


def test_empty_file(make_ctx: MakeCtx, write_file: WriteFile) -> None:
    write_file("invoices.csv", "\n\n")
    with pytest.raises(InvalidDataError, match="empty"):
        plugin.fetch_open_invoices(make_ctx())
