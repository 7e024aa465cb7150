"""Throttling (``X-Rate-Limit-Reset`` honoured), server errors, malformed answers and refusals
become the hub's errors, naming the plugin, with what Tripletex said."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hub_norwegian_invoicing import plugin
from norwegian_invoicing_support import Sleeps, add_invoices, credit_request

from hub.errors import (
    InputError,
    InvalidDataError,
    RemoteRequestError,
    RemoteServerError,
    ThrottledError,
)
from hub.model import ClientContext, DraftLine, InvoiceDraft, JournalEntry, JournalLine
from hub.testing.fakes.tripletex import Company, FakeTripletex, Fault


def test_a_429_waits_as_long_as_x_rate_limit_reset_says_then_succeeds(
    ctx: ClientContext, company: Company, fake: FakeTripletex, sleeps: Sleeps
) -> None:
    add_invoices(company, 10001, 2, [10])
    fake.fault(Fault(status=429, retry_after=3, path_prefix="/invoice"))

    invoices = plugin.fetch_open_invoices(ctx)

    assert len(invoices) == 2
    assert sleeps == [3.0]
    assert [(r.path, r.status) for r in fake.requests if r.path == "/invoice"] == [
        ("/invoice", 429),
        ("/invoice", 200),
    ]


def test_a_throttled_write_is_sent_again_after_the_wait_and_made_once(
    ctx: ClientContext, company: Company, fake: FakeTripletex, sleeps: Sleeps
) -> None:
    add_invoices(company, 10001, 1, [10])
    fake.fault(Fault(status=429, retry_after=2, path_prefix="/invoice/", method="PUT"))

    reference = plugin.create_credit_note(ctx, credit_request(10001))

    assert sleeps == [2.0]
    notes = [i for i in company.invoices.values() if i.is_credit_note]
    assert [str(n.invoice_number) for n in notes] == [reference]


def test_throttled_beyond_what_a_call_waits_for_is_not_waited_for(
    ctx: ClientContext, company: Company, fake: FakeTripletex, sleeps: Sleeps
) -> None:
    fake.fault(Fault(status=429, retry_after=120, path_prefix="/customer"))
    with pytest.raises(ThrottledError) as caught:
        plugin.fetch_customers(ctx, ["10"])
    assert caught.value.retry_after == 120
    assert caught.value.plugin == "norwegian_invoicing"
    assert "120" in str(caught.value)
    assert sleeps == []
    assert len(fake.requests_to("/customer")) == 1


def test_still_throttled_after_every_attempt(
    ctx: ClientContext, company: Company, fake: FakeTripletex, sleeps: Sleeps
) -> None:
    fake.fault(Fault(status=429, retry_after=1, count=3, path_prefix="/customer"))
    with pytest.raises(ThrottledError, match="after 3 attempts"):
        plugin.fetch_customers(ctx, ["10"])
    assert sleeps == [1.0, 1.0]


def test_a_server_error_on_a_read_is_retried(
    ctx: ClientContext, company: Company, fake: FakeTripletex, sleeps: Sleeps
) -> None:
    add_invoices(company, 10001, 1, [10])
    fake.fault(Fault(status=503, count=2, path_prefix="/invoice"))
    [status] = plugin.fetch_invoice_status(ctx, ["10001"])
    assert status.outstanding_amount == Decimal("1250.00")
    assert [r.status for r in fake.requests_to("/invoice")] == [503, 503, 200]


def test_a_server_failing_after_every_attempt_says_what_tripletex_said(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    fake.fault(Fault(status=500, count=3, path_prefix="/invoice"))
    with pytest.raises(RemoteServerError) as caught:
        plugin.fetch_open_invoices(ctx)
    message = str(caught.value)
    assert "HTTP 500" in message and "after 3 attempts" in message
    assert "requestId" in message
    assert caught.value.plugin == "norwegian_invoicing"


def test_a_server_error_on_a_write_is_not_sent_again(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 1, [10])
    fake.fault(Fault(status=502, path_prefix="/invoice/", method="PUT"))
    with pytest.raises(RemoteServerError, match="same idempotency key"):
        plugin.create_credit_note(ctx, credit_request(10001))
    assert len([r for r in fake.requests if r.method == "PUT"]) == 1
    assert not company.invoice(10001).is_credited  # the fault came before the work


def test_a_malformed_answer_is_invalid_data_naming_the_url(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 1, [10])
    fake.fault(Fault(malformed=True, path_prefix="/invoice"))
    with pytest.raises(InvalidDataError) as caught:
        plugin.fetch_open_invoices(ctx)
    assert caught.value.where == f"{ctx.settings['base_url']}/invoice"
    assert "not valid JSON" in str(caught.value)


def _writeoff_to(account: str, text: str) -> JournalEntry:
    """Writing 100.00 off customer 10's balance to ``account``."""
    return JournalEntry(
        idempotency_key="writeoff:9",
        date=dt.date(2026, 2, 1),
        currency="NOK",
        text="Tap",
        lines=(
            JournalLine(Decimal("-100.00"), "Kunde", customer_number="10"),
            JournalLine(Decimal("100.00"), text, account=account),
        ),
    )


def test_a_refusal_says_what_tripletex_said_field_by_field(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    """A voucher line on the customer ledger account (1500) that names no customer: Tripletex
    refuses it (422), and the error says so, field by field."""
    entry = _writeoff_to("1500", "Feil konto")
    with pytest.raises(RemoteRequestError) as caught:
        plugin.post_journal_lines(ctx, entry)
    message = str(caught.value)
    assert "HTTP 422" in message and "Validering feilet" in message and "code 18000" in message
    assert "postings[1].customer: Kunde må oppgis for konto 1500" in message
    assert "requestId" in message and caught.value.plugin == "norwegian_invoicing"
    assert not [v for v in company.vouchers.values() if v.external_voucher_number]


def test_a_due_date_beyond_what_tripletex_takes_is_refused_before_sending(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    draft = InvoiceDraft(
        idempotency_key="recurring:1:1",
        kind="order",
        customer_number="10",
        invoice_date=dt.date(2026, 2, 1),
        due_date=dt.date(2056, 2, 1),
        currency="NOK",
        lines=(DraftLine("Abonnement", Decimal("1"), Decimal("100.00")),),
    )
    with pytest.raises(InputError, match="due 10957 days.*at most 10000"):
        plugin.create_invoice(ctx, draft)
    assert company.orders == {}


def test_an_unbalanced_or_unknown_account_voucher_is_refused_before_posting(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    entry = _writeoff_to("7999", "Tap")
    with pytest.raises(InputError, match="no account 7999"):
        plugin.post_journal_lines(ctx, entry)
    assert not [r for r in fake.requests if r.method == "POST" and r.path == "/ledger/voucher"]
