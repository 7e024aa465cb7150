"""Writes over real HTTP against the fake Tripletex: credit notes, vouchers, invoices and orders,
each made once per key: repeated, after a lost answer, and from a fresh plugin state."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hub_norwegian_invoicing import client as tripletex_client
from hub_norwegian_invoicing import keys, plugin
from norwegian_invoicing_support import TODAY, MakeCtx, add_invoices, credit_request, to

from hub.errors import InputError, InvalidDataError, RemoteRequestError, RemoteServerError
from hub.model import (
    ClientContext,
    DraftLine,
    InvoiceDraft,
    InvoiceState,
    JournalEntry,
    JournalLine,
)
from hub.testing.fakes.tripletex import Company, FakeTripletex, Fault

LATER = TODAY + dt.timedelta(days=9)  # a repeat after a crash, days later


def _fresh_state() -> None:
    """As after a restart: no client, no session, no cached ids."""
    tripletex_client.close_clients()


def _credit_notes(company: Company) -> list[int]:
    return [i.invoice_number for i in company.invoices.values() if i.is_credit_note]


# -- credit notes --------------------------------------------------------------------------------


def test_a_credit_note_credits_the_invoice_in_full_on_the_date_asked(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 1, [10])

    reference = plugin.create_credit_note(ctx, credit_request(10001))

    [note] = _credit_notes(company)
    assert reference == str(note)
    credit = company.invoice(note)
    assert credit.credited_invoice is company.invoice(10001)
    assert (credit.amount_currency, credit.invoice_date) == (Decimal("-1250.00"), TODAY)
    [put] = to(fake.requests, "PUT", "/invoice/")
    assert put.path == f"/invoice/{company.invoice(10001).id}/:createCreditNote"
    assert put.query["date"] == [TODAY.isoformat()]
    assert put.query["comment"] == ["Kreditert etter avtale"]
    [status] = plugin.fetch_invoice_status(ctx, ["10001"])
    assert (status.state, status.outstanding_amount) == (InvoiceState.CREDITED, Decimal("0.00"))


def test_a_credit_note_is_made_once_per_key_even_from_a_fresh_state_days_later(
    make_ctx: MakeCtx, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 1, [10])
    request = credit_request(10001)
    first = plugin.create_credit_note(make_ctx(), request)
    again = plugin.create_credit_note(make_ctx(), request)
    _fresh_state()
    later = plugin.create_credit_note(make_ctx(today=LATER), request)

    assert first == again == later
    assert len(_credit_notes(company)) == 1
    assert len(to(fake.requests, "PUT", "/invoice/")) == 1


def test_a_credit_note_whose_answer_was_lost_is_found_not_made_again(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 1, [10])
    fake.fault(Fault(after_processing=True, path_prefix="/invoice/", method="PUT"))
    request = credit_request(10001)
    with pytest.raises(RemoteServerError, match="same idempotency key"):
        plugin.create_credit_note(ctx, request)
    [made] = _credit_notes(company)  # the lost answer's credit note exists

    assert plugin.create_credit_note(ctx, request) == str(made)
    assert _credit_notes(company) == [made]


def test_a_partial_credit_is_refused_saying_why_and_nothing_is_sent(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 1, [10])
    with pytest.raises(RemoteRequestError) as caught:
        plugin.create_credit_note(ctx, credit_request(10001, amount=Decimal("500.00")))
    message = str(caught.value)
    assert "in full only" in message and "500.00" in message and "1250.00" in message
    assert caught.value.plugin == "norwegian_invoicing"
    assert not to(fake.requests, "PUT", "/invoice/")
    assert _credit_notes(company) == []


def test_a_partly_paid_invoice_is_not_credited_in_full(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 1, [10])
    company.register_payment(10001, Decimal("250.00"), dt.date(2026, 1, 20))
    with pytest.raises(RemoteRequestError, match="partly settled.*1000.00 of 1250.00"):
        plugin.create_credit_note(ctx, credit_request(10001))
    assert _credit_notes(company) == []


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"customer": "11"}, "belongs to customer 10"),
        ({"number": 99999}, "no invoice 99999"),
    ],
)
def test_a_credit_note_that_does_not_fit_the_invoice_is_refused(
    ctx: ClientContext, company: Company, changes: dict[str, object], says: str
) -> None:
    add_invoices(company, 10001, 1, [10])
    number = changes.get("number", 10001)
    customer = changes.get("customer", "10")
    assert isinstance(number, int) and isinstance(customer, str)
    with pytest.raises(RemoteRequestError, match=says):
        plugin.create_credit_note(ctx, credit_request(number, customer=customer))
    assert _credit_notes(company) == []


# -- vouchers ------------------------------------------------------------------------------------


def _write_off(key: str = "writeoff:7", invoice: str = "10001") -> JournalEntry:
    return JournalEntry(
        idempotency_key=key,
        date=dt.date(2026, 1, 30),
        currency="NOK",
        text=f"Tap på faktura {invoice}",
        lines=(
            JournalLine(
                Decimal("-1250.00"),
                f"Faktura {invoice} avskrevet",
                customer_number="10",
                invoice_number=invoice,
            ),
            JournalLine(Decimal("1000.00"), "Tap på fordringer", account="7830"),
            JournalLine(Decimal("250.00"), "Utgående mva", account="2700"),
        ),
    )


def test_a_write_off_voucher_is_posted_balanced_and_settles_the_invoice(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 2, [10])

    reference = plugin.post_journal_lines(ctx, _write_off())

    [voucher] = [v for v in company.vouchers.values() if v.external_voucher_number]
    assert reference == f"{voucher.number}-{voucher.year}"
    assert voucher.external_voucher_number == "receivables-hub writeoff:7"
    assert voucher.date == dt.date(2026, 1, 30)
    rows = [
        (p.row, p.account.number, p.amount_gross, p.customer, p.invoice_number)
        for p in voucher.postings
        if not p.system_generated
    ]
    customer = company.customer(10)
    assert rows == [
        (1, 1500, Decimal("-1250.00"), customer, "10001"),
        (2, 7830, Decimal("1000.00"), None, ""),
        (3, 2700, Decimal("250.00"), None, ""),
    ]
    assert sum(p.amount_gross for p in voucher.postings) == 0
    statuses = plugin.fetch_invoice_status(ctx, ["10001", "10002"])
    assert [s.state for s in statuses] == [InvoiceState.PAID, InvoiceState.OPEN]
    assert plugin.fetch_customer_balance(ctx, ["10"])[0].balance == Decimal("1250.00")
    [post] = to(fake.requests, "POST", "/ledger/voucher")
    assert all(p["vatType"] == {"id": 0} for p in post.json["postings"])


def test_a_voucher_is_posted_once_per_key_across_a_lost_answer_and_a_restart(
    make_ctx: MakeCtx, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 1, [10])
    entry = _write_off()
    fake.fault(Fault(after_processing=True, path_prefix="/ledger/voucher", method="POST"))
    with pytest.raises(RemoteServerError):
        plugin.post_journal_lines(make_ctx(), entry)
    found = plugin.post_journal_lines(make_ctx(), entry)
    _fresh_state()
    later = plugin.post_journal_lines(make_ctx(today=LATER), entry)

    assert found == later
    ours = [v for v in company.vouchers.values() if v.external_voucher_number]
    assert len(ours) == 1 and found == f"{ours[0].number}-{ours[0].year}"
    # Each repeat looked for the key on the entry's date, never on today's.
    looks = to(fake.requests, "GET", "/ledger/voucher")
    assert {(r.query["dateFrom"][0], r.query["dateTo"][0]) for r in looks} == {
        ("2026-01-30", "2026-01-31")
    }


def test_a_long_key_is_carried_as_a_digest_and_still_found(
    ctx: ClientContext, company: Company
) -> None:
    add_invoices(company, 10001, 1, [10])
    entry = _write_off(key="writeoff:" + "long-case-name-" * 8)
    first = plugin.post_journal_lines(ctx, entry)
    assert plugin.post_journal_lines(ctx, entry) == first
    ours = [v for v in company.vouchers.values() if v.external_voucher_number]
    assert [v.external_voucher_number for v in ours] == [keys.marker(entry.idempotency_key)]
    assert len(ours[0].external_voucher_number) == 70


def test_a_voucher_in_another_currency_than_the_company_s_is_refused(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    entry = JournalEntry(
        idempotency_key="writeoff:8",
        date=dt.date(2026, 1, 30),
        currency="EUR",
        text="Tap",
        lines=(
            JournalLine(Decimal("-10.00"), "Kunde", customer_number="10"),
            JournalLine(Decimal("10.00"), "Tap", account="7830"),
        ),
    )
    with pytest.raises(InputError, match="company's currency is NOK"):
        plugin.post_journal_lines(ctx, entry)
    assert fake.requests == []


# -- invoices and orders -------------------------------------------------------------------------


def _draft(kind: str = "invoice", key: str = "recurring:3:1", **changes: object) -> InvoiceDraft:
    fields: dict[str, object] = {
        "idempotency_key": key,
        "kind": kind,
        "customer_number": "10",
        "invoice_date": dt.date(2026, 2, 1),
        "due_date": dt.date(2026, 2, 21),
        "currency": "NOK",
        "lines": (
            DraftLine("Abonnement februar", Decimal("2"), Decimal("149.50")),
            DraftLine("Matvarer", Decimal("1"), Decimal("100.00"), vat_code="31"),
        ),
        "text": "Avtale 3, februar 2026",
    }
    fields.update(changes)
    return InvoiceDraft(**fields)  # type: ignore[arg-type]


def test_an_invoice_is_an_order_invoiced_on_the_draft_s_dates(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    reference = plugin.create_invoice(ctx, _draft())

    [order] = company.orders.values()
    assert order.invoice is not None and reference == str(order.invoice.invoice_number)
    invoice = order.invoice
    assert (invoice.invoice_date, invoice.due_date) == (dt.date(2026, 2, 1), dt.date(2026, 2, 21))
    assert invoice.customer is company.customer(10)
    assert invoice.invoice_comment == "Avtale 3, februar 2026"
    # 2 × 149.50 at 25 % and 100.00 at 15 % (VAT code 31).
    assert invoice.amount_excluding_vat_currency == Decimal("399.00")
    assert invoice.amount_currency == Decimal("488.75")
    assert [(line.vat_type.number, line.count) for line in order.lines] == [
        ("3", Decimal("2")),
        ("31", Decimal("1")),
    ]
    assert order.reference == "receivables-hub recurring:3:1"
    [put] = to(fake.requests, "PUT", "/order/")
    assert put.query["invoiceDate"] == ["2026-02-01"]
    [opened] = plugin.fetch_open_invoices(ctx)
    assert (opened.invoice_number, opened.gross_amount) == (reference, Decimal("488.75"))


def test_an_order_waits_for_a_person(ctx: ClientContext, company: Company) -> None:
    reference = plugin.create_invoice(ctx, _draft(kind="order"))
    [order] = company.orders.values()
    assert reference == order.number
    assert order.invoice is None and not order.is_closed
    assert (order.order_date, order.delivery_date) == (dt.date(2026, 2, 1), dt.date(2026, 2, 1))
    assert order.invoices_due_in == 20 and order.invoices_due_in_type == "DAYS"


@pytest.mark.parametrize("lost", ["/order", "/order/"])
def test_an_invoice_is_made_once_per_key_across_a_lost_answer_and_a_restart(
    make_ctx: MakeCtx, company: Company, fake: FakeTripletex, lost: str
) -> None:
    """The answer lost after the order was made (POST /order) or after it was invoiced (PUT
    /order/{id}/:invoice): the repeat finds the order and invoices it only if it is not."""
    draft = _draft()
    method = "POST" if lost == "/order" else "PUT"
    fake.fault(Fault(after_processing=True, path_prefix=lost, method=method))
    with pytest.raises(RemoteServerError):
        plugin.create_invoice(make_ctx(), draft)
    first = plugin.create_invoice(make_ctx(), draft)
    _fresh_state()
    later = plugin.create_invoice(make_ctx(today=LATER), draft)

    assert first == later
    assert len(company.orders) == 1
    [invoice] = [i for i in company.invoices.values() if not i.is_credit_note]
    assert str(invoice.invoice_number) == first
    assert len(to(fake.requests, "POST", "/order")) == 1
    assert len(to(fake.requests, "PUT", "/order/")) == 1
    looks = to(fake.requests, "GET", "/order")
    assert {(r.query["orderDateFrom"][0], r.query["orderDateTo"][0]) for r in looks} == {
        ("2026-02-01", "2026-02-02")
    }


def test_a_lost_invoice_dated_before_invoices_since_is_found_not_invoiced_again(
    make_ctx: MakeCtx, company: Company, fake: FakeTripletex
) -> None:
    """The sync reads invoices from ``invoices_since`` on; the retry of a write looks on the
    draft's own invoice date, however old (review finding: it searched from invoices_since)."""
    draft = _draft()  # dated 1 February 2026
    fake.fault(Fault(after_processing=True, path_prefix="/order/", method="PUT"))
    with pytest.raises(RemoteServerError):
        plugin.create_invoice(make_ctx(invoices_since="2026-03-01"), draft)
    again = plugin.create_invoice(make_ctx(invoices_since="2026-03-01"), draft)
    [invoice] = [i for i in company.invoices.values() if not i.is_credit_note]
    assert again == str(invoice.invoice_number)
    assert len(to(fake.requests, "PUT", "/order/")) == 1


def test_a_closed_order_without_its_invoice_is_named_not_invoiced_again(
    make_ctx: MakeCtx, company: Company, fake: FakeTripletex
) -> None:
    draft = _draft()
    fake.fault(Fault(after_processing=True, path_prefix="/order/", method="PUT"))
    with pytest.raises(RemoteServerError):
        plugin.create_invoice(make_ctx(), draft)
    with fake.lock:  # a person moved the invoice's date in Tripletex
        [order] = company.orders.values()
        assert order.invoice is not None
        order.invoice.invoice_date = dt.date(2026, 2, 5)  # type: ignore[assignment]
    with pytest.raises(InvalidDataError, match="is closed in Tripletex but no invoice dated"):
        plugin.create_invoice(make_ctx(), draft)
    assert len(to(fake.requests, "PUT", "/order/")) == 1


def test_an_order_is_made_once_per_key_across_a_lost_answer_and_a_restart(
    make_ctx: MakeCtx, company: Company, fake: FakeTripletex
) -> None:
    draft = _draft(kind="order")
    fake.fault(Fault(after_processing=True, path_prefix="/order", method="POST"))
    with pytest.raises(RemoteServerError):
        plugin.create_invoice(make_ctx(), draft)
    [made] = company.orders.values()
    first = plugin.create_invoice(make_ctx(), draft)
    assert first == made.number
    _fresh_state()
    assert plugin.create_invoice(make_ctx(today=LATER), draft) == first
    other = plugin.create_invoice(make_ctx(), _draft(kind="order", key="recurring:3:2"))
    assert other != first and len(company.orders) == 2
    assert all(o.invoice is None for o in company.orders.values())


def test_an_invoice_whose_due_date_came_out_otherwise_is_named_for_a_person(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    """The order's answer was lost, a person changed its terms in Tripletex, the hub tries
    again: the invoice is made once, and the hub is told its due date is not the one asked."""
    draft = _draft()
    fake.fault(Fault(after_processing=True, path_prefix="/order", method="POST"))
    with pytest.raises(RemoteServerError):
        plugin.create_invoice(ctx, draft)
    with fake.lock:
        [order] = company.orders.values()
        order.invoices_due_in = 30
    with pytest.raises(RemoteRequestError, match="is due 2026-03-03 in Tripletex, not 2026-02-21"):
        plugin.create_invoice(ctx, draft)
    assert order.invoice is not None
    with pytest.raises(RemoteRequestError, match=f"invoice {order.invoice.invoice_number}"):
        plugin.create_invoice(ctx, draft)  # not invoiced again
    assert len([i for i in company.invoices.values() if not i.is_credit_note]) == 1


def test_an_unknown_vat_code_names_the_codes_and_sends_nothing(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    draft = _draft(lines=(DraftLine("Noe", Decimal("1"), Decimal("10.00"), vat_code="25"),))
    with pytest.raises(InputError, match=r"no VAT type with the code '25' \(its codes: .*31"):
        plugin.create_invoice(ctx, draft)
    assert company.orders == {}
    assert not to(fake.requests, "POST", "/order")


def test_an_unknown_customer_is_refused(ctx: ClientContext, company: Company) -> None:
    with pytest.raises(RemoteRequestError, match="no customer 77"):
        plugin.create_invoice(ctx, _draft(customer_number="77"))
    assert company.orders == {}


def test_a_unit_price_beyond_øre_is_refused(ctx: ClientContext, company: Company) -> None:
    draft = _draft(lines=(DraftLine("Noe", Decimal("1"), Decimal("10.005")),))
    with pytest.raises(InputError, match="more than two decimals"):
        plugin.create_invoice(ctx, draft)
    assert company.orders == {}
