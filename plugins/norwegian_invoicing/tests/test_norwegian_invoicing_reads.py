"""Reads over real HTTP against the fake Tripletex: open invoices across pages, invoice states
in few requests, customers (inactive ones too), balances from the open posts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hub_norwegian_invoicing import plugin
from norwegian_invoicing_support import PAGE, MakeCtx, add_invoices, credit_request, to

from hub.model import ClientContext, CustomerBalance, InvoiceState
from hub.testing.fakes.tripletex import Company, FakeTripletex


def test_open_invoices_are_those_with_something_outstanding_to_the_øre(
    ctx: ClientContext, company: Company
) -> None:
    on = dt.date(2026, 1, 5)
    company.add_invoice(
        10001, 10, on, on + dt.timedelta(days=14), Decimal("999.99"), Decimal("250.00")
    )
    company.add_invoice(
        10002, 11, on, on + dt.timedelta(days=10), Decimal("400.00"), Decimal("100.00")
    )
    company.add_invoice(
        10003,
        10,
        on,
        on + dt.timedelta(days=14),
        Decimal("800.00"),
        Decimal("200.00"),
        outstanding=Decimal("0.00"),
    )
    company.add_invoice(
        10004, 11, on, on + dt.timedelta(days=14), Decimal("80.00"), Decimal("20.00")
    )
    company.register_payment(10004, Decimal("30.55"), on + dt.timedelta(days=3))

    invoices = {i.invoice_number: i for i in plugin.fetch_open_invoices(ctx)}

    assert sorted(invoices) == ["10001", "10002", "10004"]  # 10003 is paid
    first = invoices["10001"]
    assert (first.customer_number, first.customer_name) == ("10", "Nordmann Bygg AS")
    assert (first.invoice_date, first.due_date, first.currency) == (
        on,
        on + dt.timedelta(days=14),
        "NOK",
    )
    assert (first.net_amount, first.vat_amount, first.gross_amount) == (
        Decimal("999.99"),
        Decimal("250.00"),
        Decimal("1249.99"),
    )
    assert first.outstanding_amount == Decimal("1249.99")
    assert invoices["10004"].outstanding_amount == Decimal("69.45")


def test_credit_notes_and_credited_invoices_are_not_open(
    ctx: ClientContext, company: Company
) -> None:
    add_invoices(company, 10001, 2, [10])
    plugin.create_credit_note(ctx, credit_request(10002))
    assert [i.invoice_number for i in plugin.fetch_open_invoices(ctx)] == ["10001"]


def test_open_invoices_cover_every_page_asking_for_pages_in_turn(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    numbers = add_invoices(company, 20001, 2 * PAGE + 7, [10, 11])

    invoices = plugin.fetch_open_invoices(ctx)

    assert sorted(int(i.invoice_number) for i in invoices) == numbers
    pages = to(fake.requests, "GET", "/invoice")
    assert [(r.query["from"], r.query["count"]) for r in pages] == [
        (["0"], [str(PAGE)]),
        ([str(PAGE)], [str(PAGE)]),
        ([str(2 * PAGE)], [str(PAGE)]),
    ]
    window = pages[0].query
    assert window["sorting"] == ["id"]  # an invoice booked meanwhile comes last
    assert window["invoiceDateFrom"] == ["2000-01-01"]  # the invoices_since default
    assert dt.date.fromisoformat(window["invoiceDateTo"][0]) > dt.date.today()


def test_invoices_since_narrows_what_is_read(
    make_ctx: MakeCtx, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 1, [10], on=dt.date(2025, 6, 1))
    add_invoices(company, 10002, 1, [10], on=dt.date(2026, 1, 5))
    ctx = make_ctx(invoices_since="2026-01-01")
    assert [i.invoice_number for i in plugin.fetch_open_invoices(ctx)] == ["10002"]
    assert to(fake.requests, "GET", "/invoice")[0].query["invoiceDateFrom"] == ["2026-01-01"]


def test_invoice_states_open_paid_credited_and_unknown(
    ctx: ClientContext, company: Company
) -> None:
    add_invoices(company, 10001, 4, [10])
    company.register_payment(10002, Decimal("1250.00"), dt.date(2026, 1, 20))
    company.register_payment(10003, Decimal("250.00"), dt.date(2026, 1, 20))
    plugin.create_credit_note(ctx, credit_request(10004))

    asked = ["10001", "10002", "10003", "10004", "99999", "no-such", "0"]
    statuses = {s.invoice_number: s for s in plugin.fetch_invoice_status(ctx, asked)}

    assert list(statuses) == asked
    assert (statuses["10001"].state, statuses["10001"].outstanding_amount) == (
        InvoiceState.OPEN,
        Decimal("1250.00"),
    )
    assert (statuses["10002"].state, statuses["10002"].outstanding_amount) == (
        InvoiceState.PAID,
        Decimal("0.00"),
    )
    assert statuses["10003"].outstanding_amount == Decimal("1000.00")
    assert statuses["10004"].state is InvoiceState.CREDITED
    for unknown in ("99999", "no-such", "0"):
        assert statuses[unknown].state is InvoiceState.UNKNOWN
        assert statuses[unknown].outstanding_amount is None


def test_invoice_states_read_pages_not_one_request_a_number(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    numbers = add_invoices(company, 30001, 3 * PAGE, [10, 11])
    before = len(fake.requests)

    statuses = plugin.fetch_invoice_status(ctx, [str(n) for n in numbers] + ["99999"])

    assert [s.state for s in statuses[:-1]] == [InvoiceState.OPEN] * len(numbers)
    assert statuses[-1].state is InvoiceState.UNKNOWN
    reads = to(fake.requests[before:], "GET", "/invoice")
    assert len(reads) == 3  # the three pages (the first also made the session)
    assert all("invoiceNumber" not in r.query for r in reads)


def test_a_few_invoice_states_stop_reading_pages_once_found(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 30001, 4 * PAGE, [10])
    before = len(fake.requests)
    # One on the first page: found there, nothing more is read.
    [first] = plugin.fetch_invoice_status(ctx, ["30002"])
    assert first.state is InvoiceState.OPEN
    assert len(to(fake.requests[before:], "GET", "/invoice")) == 1
    # One on the last page: fewer numbers left than pages, so it is asked for by number.
    before = len(fake.requests)
    [last] = plugin.fetch_invoice_status(ctx, [str(30000 + 4 * PAGE)])
    assert last.outstanding_amount == Decimal("1250.00")
    reads = to(fake.requests[before:], "GET", "/invoice")
    assert [r.query.get("invoiceNumber") for r in reads] == [None, [str(30000 + 4 * PAGE)]]


def test_customers_known_inactive_and_unknown(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    gone = company.add_customer(12, "Nedlagt AS", "post@nedlagt.example")
    with fake.lock:
        gone.is_inactive = True

    customers = {
        c.customer_number: c for c in plugin.fetch_customers(ctx, ["10", "11", "12", "13"])
    }

    assert sorted(customers) == ["10", "11", "12"]
    nordmann = customers["10"]
    assert nordmann.name == "Nordmann Bygg AS"
    assert nordmann.email == "faktura@nordmann.example"  # the invoice address, for letters
    assert (nordmann.address, nordmann.postal_code, nordmann.city) == (
        "Storgata 5",
        "6002",
        "Ålesund",
    )
    assert customers["11"].email is None
    assert customers["12"].email == "post@nedlagt.example"


def test_many_customers_are_read_a_hundred_a_request(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    for n in range(100, 250):
        company.add_customer(n, f"Kunde {n} AS", f"kunde{n}@example.no")
    before = len(fake.requests)

    customers = plugin.fetch_customers(ctx, [str(n) for n in range(100, 250)])

    assert len(customers) == 150
    reads = to(fake.requests[before:], "GET", "/customer")
    # Two batches (100 and 50 numbers), read in pages of PAGE: 2 + 1 requests.
    assert [len(r.query["customerAccountNumber"][0].split(",")) for r in reads] == [100, 100, 50]


def test_balances_are_what_the_ledger_says_the_customer_owes(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 3, [10])  # 3 × 1250.00
    company.register_payment(10001, Decimal("1250.00"), dt.date(2026, 1, 10))
    company.register_payment(10002, Decimal("1500.00"), dt.date(2026, 1, 10))  # 250.00 over
    add_invoices(company, 10004, 1, [11], net=Decimal("80.00"))  # 100.00
    plugin.create_credit_note(ctx, credit_request(10004, amount=Decimal("100.00"), customer="11"))
    company.add_customer(12, "Uten Poster AS")

    balances = plugin.fetch_customer_balance(ctx, ["10", "11", "12", "13"])

    assert balances == [
        CustomerBalance("10", Decimal("1000.00"), "NOK"),  # 1250 + 1250 - 1500 (+ 10001 settled)
        CustomerBalance("11", Decimal("0.00"), "NOK"),
        CustomerBalance("12", Decimal("0.00"), "NOK"),
    ]
    assert company.balance(10) == Decimal("1000.00")
    assert to(fake.requests, "GET", "/ledger/posting/openPost")


def test_reads_are_repeatable_and_change_nothing(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 3, [10, 11])
    first = plugin.fetch_open_invoices(ctx), plugin.fetch_customer_balance(ctx, ["10", "11"])
    second = plugin.fetch_open_invoices(ctx), plugin.fetch_customer_balance(ctx, ["10", "11"])
    assert first == second
    assert {r.method for r in fake.requests} == {"GET", "POST"}
    assert {r.path for r in fake.requests if r.method == "POST"} == {"/token/session/:create"}
