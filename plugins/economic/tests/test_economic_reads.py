"""The read hooks over real HTTP against the fake e-conomic: open invoices (all pages),
invoice states (filters in batches of 200), customers and balances (one pass for both)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from economic_support import MakeCtx, add_invoices
from hub_economic import plugin

from hub.errors import InvalidDataError
from hub.model import InvoiceState
from hub.testing.fakes.economic import Agreement, FakeEconomic

D = Decimal


def test_open_invoices_are_mapped_exactly(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    agreement.add_invoice(
        booked_invoice_number=5001,
        customer_number=101,
        date=dt.date(2026, 1, 1),
        due_date=dt.date(2026, 1, 15),
        net_amount=D("1000.10"),
        vat_amount=D("250.03"),
    )
    # an EUR invoice: amounts in the invoice's currency, not the base currency
    agreement.add_invoice(5002, 102, dt.date(2026, 1, 2), dt.date(2026, 2, 1), D("0.10"), D("0.20"))
    agreement.add_invoice(5003, 101, dt.date(2026, 1, 3), dt.date(2026, 1, 17), D("80"), D("20"))
    agreement.pay(5003, amount=D("33.33"))
    agreement.add_invoice(5004, 101, dt.date(2026, 1, 4), dt.date(2026, 1, 18), D("80"), D("20"))
    agreement.pay(5004)  # paid: not open

    invoices = {i.invoice_number: i for i in plugin.fetch_open_invoices(make_ctx())}

    assert set(invoices) == {"5001", "5002", "5003"}
    first = invoices["5001"]
    assert first.customer_number == "101" and first.customer_name == "Østergaard ApS"
    assert (first.invoice_date, first.due_date) == (dt.date(2026, 1, 1), dt.date(2026, 1, 15))
    assert (first.net_amount, first.vat_amount, first.gross_amount) == (
        D("1000.10"),
        D("250.03"),
        D("1250.13"),
    )
    assert first.outstanding_amount == D("1250.13") and first.currency == "DKK"
    eur = invoices["5002"]
    assert (eur.currency, eur.gross_amount, eur.outstanding_amount) == ("EUR", D("0.30"), D("0.30"))
    assert invoices["5003"].outstanding_amount == D("66.67")
    for invoice in invoices.values():
        for name in ("net_amount", "vat_amount", "gross_amount", "outstanding_amount"):
            assert type(getattr(invoice, name)) is Decimal
    [request] = fake.requests
    assert (request.path, request.query) == ("/invoices/unpaid", {"pagesize": "1000"})


def test_amounts_beyond_float_precision_stay_exact(agreement: Agreement, make_ctx: MakeCtx) -> None:
    """17 significant digits: a float would already have lost the last cents."""
    agreement.add_invoice(
        5001, 101, dt.date(2026, 1, 1), dt.date(2026, 1, 15), D("987654321098765.43"), D("0.01")
    )
    [invoice] = plugin.fetch_open_invoices(make_ctx())
    assert str(invoice.gross_amount) == str(invoice.outstanding_amount) == "987654321098765.44"
    assert str(invoice.net_amount) == "987654321098765.43"
    assert repr(float("987654321098765.44")) == "987654321098765.5"  # what a float would keep


def test_pages_are_followed_until_next_page_is_absent(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    add_invoices(agreement, 10001, 2345, [101, 102])

    invoices = plugin.fetch_open_invoices(make_ctx())

    assert len(invoices) == 2345
    assert len({i.invoice_number for i in invoices}) == 2345
    pages = fake.requests_to("/invoices/unpaid", "GET")
    assert len(pages) == len(fake.requests) == 3  # ceil(2345 / 1000)
    assert [r.query.get("skippages", "0") for r in pages] == ["0", "1", "2"]
    assert {r.query["pagesize"] for r in pages} == {"1000"}


def test_no_open_invoices_is_one_request_and_an_empty_list(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    assert plugin.fetch_open_invoices(make_ctx()) == []
    assert len(fake.requests) == 1


def test_states_in_batches_of_200_unknown_numbers_answered(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    numbers = add_invoices(agreement, 20001, 450, [101])
    for number in numbers[:300]:
        agreement.pay(number)
    agreement.pay(numbers[300], amount=D("0.01"))
    asked = [str(n) for n in numbers] + ["99999", "ABC-1", "0"]

    statuses = plugin.fetch_invoice_status(make_ctx(), asked)

    assert [s.invoice_number for s in statuses] == asked
    by_number = {s.invoice_number: s for s in statuses}
    assert by_number["20001"].state is InvoiceState.PAID
    assert by_number["20001"].outstanding_amount == D("0.00")
    assert by_number["20301"].state is InvoiceState.OPEN
    assert by_number["20301"].outstanding_amount == D("1249.99")
    assert by_number["20450"].state is InvoiceState.OPEN
    for unknown in ("99999", "ABC-1", "0"):
        assert by_number[unknown].state is InvoiceState.UNKNOWN
        assert by_number[unknown].outstanding_amount is None
    requests = fake.requests_to("/invoices/booked", "GET")
    assert len(requests) == len(fake.requests) == 3  # ceil(451 / 200)
    sizes = [r.query["filter"].count(",") + 1 for r in requests]
    assert sizes == [200, 200, 51] and all(
        r.query["filter"].startswith("bookedInvoiceNumber$in:[") for r in requests
    )


def test_a_credited_invoice_is_paid_not_credited(agreement: Agreement, make_ctx: MakeCtx) -> None:
    """e-conomic cannot say what settled a remainder; the plugin never claims CREDITED."""
    add_invoices(agreement, 5001, 1, [101])
    from hub.model import CreditNoteRequest

    ctx = make_ctx()
    plugin.create_credit_note(
        ctx,
        CreditNoteRequest(
            "creditnote:1", "5001", "101", dt.date(2026, 2, 1), "DKK", D("1250.00"), "wrong"
        ),
    )
    [status] = plugin.fetch_invoice_status(ctx, ["5001"])
    assert (status.state, status.outstanding_amount) == (InvoiceState.PAID, D("0.00"))


def test_customers_and_balances_in_one_pass(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    for number in range(1000, 1450):
        agreement.add_customer(
            customer_number=number, name=f"Kunde {number}", email=f"k{number}@example.dk b@x.dk"
        )
    add_invoices(agreement, 5001, 3, [101, 1000])
    agreement.pay(5001, amount=D("0.05"))
    asked = [str(n) for n in range(1000, 1450)] + ["101", "102", "777"]
    ctx = make_ctx()

    customers = plugin.fetch_customers(ctx, asked)
    balances = plugin.fetch_customer_balance(ctx, asked)

    assert len(customers) == len(balances) == 452  # 777 is unknown: left out
    by_number = {c.customer_number: c for c in customers}
    assert "777" not in by_number
    oe = by_number["101"]
    assert (oe.name, oe.email, oe.address, oe.postal_code, oe.city, oe.country) == (
        "Østergaard ApS",
        "bogholderi@oestergaard.dk",
        "Søndergade 1",
        "8000",
        "Aarhus C",
        "Danmark",
    )
    assert by_number["1000"].email == "k1000@example.dk"  # the first of several addresses
    assert by_number["102"].email is None
    balance = {b.customer_number: b for b in balances}
    assert balance["101"].balance == D("2499.95") and balance["101"].currency == "DKK"
    assert balance["1000"].balance == D("1250.00")
    assert type(balance["101"].balance) is Decimal
    requests = fake.requests_to("/customers", "GET")
    assert len(requests) == len(fake.requests) == 3  # ceil(453 / 200), for both hooks
    assert all(r.query["filter"].startswith("customerNumber$in:[") for r in requests)


def test_a_balance_is_in_the_base_currency(agreement: Agreement, make_ctx: MakeCtx) -> None:
    """A EUR customer's balance is kept in DKK by e-conomic: labelled DKK, not EUR."""
    agreement.add_invoice(5001, 102, dt.date(2026, 1, 1), dt.date(2026, 1, 15), D("100"), D("0"))
    [balance] = plugin.fetch_customer_balance(make_ctx(), ["102"])
    assert (balance.balance, balance.currency) == (D("746.00"), "DKK")


def test_balances_without_customers_first_read_afresh(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    """The one-pass cache serves only the same context object, once; anything else reads."""
    ctx = make_ctx()
    plugin.fetch_customers(ctx, ["101"])
    plugin.fetch_customer_balance(make_ctx(), ["101"])  # another context: reads
    plugin.fetch_customer_balance(ctx, ["101", "102"])  # more numbers than cached: reads
    plugin.fetch_customers(ctx, ["101"])
    plugin.fetch_customer_balance(ctx, ["101"])  # served
    plugin.fetch_customer_balance(ctx, ["101"])  # used once: reads
    assert len(fake.requests_to("/customers", "GET")) == 5


def test_a_malformed_record_fails_the_answer_and_names_it(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    add_invoices(agreement, 5001, 2, [101])
    agreement.booked[5002].net_amount = D("999.99")  # gross no longer net + VAT
    with pytest.raises(InvalidDataError) as caught:
        plugin.fetch_open_invoices(make_ctx())
    message = str(caught.value)
    assert "/invoices/unpaid" in message and "invoice 5002" in message
    assert "grossAmount 1250.00 is not netAmount 999.99 + vatAmount 250.00" in message


def test_nothing_asked_nothing_sent(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    ctx = make_ctx()
    assert plugin.fetch_invoice_status(ctx, []) == []
    assert plugin.fetch_customers(ctx, []) == []
    assert plugin.fetch_customer_balance(ctx, []) == []
    assert fake.requests == []
