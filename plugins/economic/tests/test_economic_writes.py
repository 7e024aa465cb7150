"""The write hooks over real HTTP: credit notes, vouchers, invoices and orders, each once per
key, and every body e-conomic's draft-03 schema for its endpoint."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from economic_support import MakeCtx, Sleeps, add_invoices
from hub_economic import drafts, plugin

from hub.errors import InputError, PluginError, RemoteRequestError
from hub.model import (
    CreditNoteRequest,
    DraftLine,
    InvoiceDraft,
    InvoiceState,
    JournalEntry,
    JournalLine,
)
from hub.testing.fakes.economic import Agreement, FakeEconomic, Fault, RecordedRequest

D = Decimal
TODAY = dt.date(2026, 2, 1)
CheckSchemas = Callable[[list[RecordedRequest]], int]


def credit(
    key: str = "creditnote:7", invoice: str = "5001", amount: str = "1250.00"
) -> CreditNoteRequest:
    return CreditNoteRequest(key, invoice, "101", TODAY, "DKK", D(amount), "credit note for case 7")


def write_off(key: str = "writeoff:7") -> JournalEntry:
    text = "Loss write-off, invoice 5001 (case 7)"
    return JournalEntry(
        key,
        TODAY,
        "DKK",
        text,
        (
            JournalLine(D("-1250.00"), text, customer_number="101"),
            JournalLine(D("1000.00"), text, account="3720"),
            JournalLine(D("250.00"), text, account="6902"),
        ),
    )


def draft(
    kind: str = "invoice", key: str = "recurring:3:1", due: dt.date = dt.date(2026, 2, 15)
) -> InvoiceDraft:
    return InvoiceDraft(
        idempotency_key=key,
        kind=kind,
        customer_number="101",
        invoice_date=TODAY,
        due_date=due,
        currency="DKK",
        lines=(
            DraftLine("Abonnement februar", D("1"), D("499.00")),
            DraftLine("Ekstra brugere", D("2.5"), D("39.95")),
        ),
        text="Abonnement",
    )


def posts(fake: FakeEconomic) -> list[RecordedRequest]:
    return [r for r in fake.requests if r.method == "POST"]


# -- credit notes ------------------------------------------------------------------------------


def test_a_credit_note_is_booked_once_per_key(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, request_schemas: CheckSchemas
) -> None:
    add_invoices(agreement, 5001, 1, [101])
    ctx = make_ctx()

    first = plugin.create_credit_note(ctx, credit())
    again = plugin.create_credit_note(ctx, credit())

    assert first == again == "5002"
    note = agreement.booked[5002]
    assert (note.net_amount, note.vat_amount, note.gross_amount) == (
        D("-1000.00"),
        D("-250.00"),
        D("-1250.00"),
    )
    assert note.customer.customer_number == 101 and note.layout_number == 19
    assert (note.references or {})["other"] == "receivables-hub creditnote:7"
    assert (note.notes or {})["heading"] == "Kreditering af faktura 5001"
    assert agreement.drafts == {} and len(agreement.booked) == 2
    [draft_post, book_post] = posts(fake)
    assert draft_post.path == "/invoices/drafts" and book_post.path == "/invoices/booked"
    assert draft_post.headers["idempotency-key"] == "receivables-hub:creditnote:7:draft"
    assert book_post.headers["idempotency-key"] == "receivables-hub:creditnote:7:book"
    line = draft_post.json["lines"][0]
    assert (line["quantity"], line["unitNetPrice"], line["product"]) == (
        D("-1.00"),
        D("1000.00"),
        {"productNumber": "1"},
    )
    assert request_schemas(fake.requests) == 2
    # the credited invoice is settled in e-conomic: it reads as paid
    [status] = plugin.fetch_invoice_status(ctx, ["5001"])
    assert status.state is InvoiceState.PAID


def test_a_partial_credit_note_splits_net_and_vat(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    add_invoices(agreement, 5001, 1, [101])
    reference = plugin.create_credit_note(make_ctx(), credit(amount="100.01"))
    note = agreement.booked[int(reference)]
    assert (note.net_amount, note.vat_amount, note.gross_amount) == (
        D("-80.01"),
        D("-20.00"),
        D("-100.01"),
    )
    assert agreement.booked[5001].remainder == D("1149.99")


def test_a_lost_answer_is_retried_under_the_same_key(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, sleeps: Sleeps
) -> None:
    """The booking was done but its answer lost (503 after processing): the retry carries the
    same Idempotency-Key, e-conomic replays the answer, one credit note."""
    add_invoices(agreement, 5001, 1, [101])
    fake.fail_next(Fault(status=503, after_processing=True, path_prefix="/invoices/booked",
                         method="POST"))  # fmt: skip

    reference = plugin.create_credit_note(make_ctx(), credit())

    assert reference == "5002" and len(agreement.booked) == 2
    books = fake.requests_to("/invoices/booked", "POST")
    assert [r.status for r in books] == [503, 201] and books[1].replayed
    assert len({r.headers["idempotency-key"] for r in books}) == 1


def test_a_credit_note_left_as_a_draft_by_a_crash_is_booked_not_made_again(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, sleeps: Sleeps
) -> None:
    """The process died after the draft was made: the next call (after e-conomic forgot the
    key, too) finds the draft by its reference and books it."""
    add_invoices(agreement, 5001, 1, [101])
    fake.fail_next(Fault(status=400, path_prefix="/invoices/booked", method="POST"))
    with pytest.raises(RemoteRequestError):
        plugin.create_credit_note(make_ctx(), credit())
    assert len(agreement.drafts) == 1
    fake.idempotency_ttl = 0  # e-conomic remembers a key for an hour; it has passed
    fake.requests.clear()

    reference = plugin.create_credit_note(make_ctx(), credit())

    assert reference == "5002" and agreement.drafts == {} and len(agreement.booked) == 2
    assert [r.path for r in posts(fake)] == ["/invoices/booked"]


def test_a_credit_note_after_e_conomic_forgot_the_key_is_not_booked_twice(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    add_invoices(agreement, 5001, 1, [101])
    first = plugin.create_credit_note(make_ctx(), credit())
    fake.idempotency_ttl = 0
    assert plugin.create_credit_note(make_ctx(), credit()) == first
    assert len(agreement.booked) == 2 and len(posts(fake)) == 2


def test_a_credit_note_priced_otherwise_is_left_unbooked(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    """A VAT zone without VAT prices the line at net only: booking it would credit too little."""
    add_invoices(agreement, 5001, 1, [101])
    with pytest.raises(PluginError, match=r"priced draft invoice 1 at -1000.00 DKK") as error:
        plugin.create_credit_note(make_ctx(vat_zone_number="3"), credit())
    assert list(agreement.drafts) == [1] and len(agreement.booked) == 1
    # not a refusal before anything was made: the hub keeps the request (the draft exists)
    assert not isinstance(error.value, RemoteRequestError)


def test_a_credit_note_for_another_customer_s_invoice_is_refused(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    add_invoices(agreement, 5001, 1, [102])
    with pytest.raises(RemoteRequestError, match="belongs to customer 102"):
        plugin.create_credit_note(make_ctx(), credit())
    assert posts(fake) == []


# -- vouchers ----------------------------------------------------------------------------------


def test_a_write_off_voucher_is_posted_once_per_key(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, request_schemas: CheckSchemas
) -> None:
    add_invoices(agreement, 5001, 1, [101])
    ctx = make_ctx()

    first = plugin.post_journal_lines(ctx, write_off())
    again = plugin.post_journal_lines(ctx, write_off())

    assert first == again == "2026-50001"
    [voucher] = agreement.vouchers
    assert voucher.journal_number == 1 and voucher.voucher_number == 50001
    body = posts(fake)[0].json
    assert body["accountingYear"] == {"year": "2026"} and body["journal"] == {"journalNumber": 1}
    assert body["entries"] == {
        "customerPayments": [
            {
                "customer": {"customerNumber": 101},
                "amount": D("1000.00"),
                "contraAccount": {"accountNumber": 3720},
                "text": "Loss write-off, invoice 5001 (case 7) receivables-hub writeoff:7",
                "currency": {"code": "DKK"},
                "date": "2026-02-01",
            },
            {
                "customer": {"customerNumber": 101},
                "amount": D("250.00"),
                "contraAccount": {"accountNumber": 6902},
                "text": "Loss write-off, invoice 5001 (case 7) receivables-hub writeoff:7",
                "currency": {"code": "DKK"},
                "date": "2026-02-01",
            },
        ]
    }
    assert posts(fake)[0].headers["idempotency-key"] == "receivables-hub:writeoff:7:voucher"
    assert len(posts(fake)) == 1  # the second call found the voucher by its text
    # unbooked in the journal, the voucher changes nothing; a person books the journal and
    # the receivable is cleared: the customer owes nothing any more
    [balance] = plugin.fetch_customer_balance(ctx, ["101"])
    assert balance.balance == D("1250.00")
    agreement.book_journal(1)
    [balance] = plugin.fetch_customer_balance(ctx, ["101"])
    assert balance.balance == D("0.00")
    assert request_schemas(fake.requests) == 1


def test_a_write_off_after_e_conomic_forgot_the_key_is_not_posted_twice(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    """Days later (e-conomic keeps an ``Idempotency-Key`` for an hour), the same write-off is
    found by the key marker in its entries' text, in the journal or, once a person booked the
    journal, in the ledger: one voucher, the same reference."""
    add_invoices(agreement, 5001, 1, [101])
    fake.idempotency_ttl = 0  # the key is forgotten
    first = plugin.post_journal_lines(make_ctx(), write_off())
    assert plugin.post_journal_lines(make_ctx(), write_off()) == first == "2026-50001"
    agreement.book_journal(1)
    assert plugin.post_journal_lines(make_ctx(), write_off()) == first
    assert len(agreement.vouchers) == 1 and len(posts(fake)) == 1
    lookups = [r.path for r in fake.requests if r.method == "GET"]
    assert "/journals/1/entries" in lookups and "/accounting-years/2026/entries" in lookups
    # another key (writeoff:70 contains writeoff:7) is another voucher
    assert plugin.post_journal_lines(make_ctx(), write_off("writeoff:70")) == "2026-50002"
    # LIKE's special characters in a key: still found, once
    odd = write_off("case[7]_50%*($)")
    assert plugin.post_journal_lines(make_ctx(), odd) == "2026-50003"
    assert plugin.post_journal_lines(make_ctx(), odd) == "2026-50003"
    assert len(agreement.vouchers) == 3


def test_a_long_key_is_marked_by_a_digest_within_the_text_limit(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, request_schemas: CheckSchemas
) -> None:
    add_invoices(agreement, 5001, 1, [101])
    fake.idempotency_ttl = 0
    entry = dataclasses.replace(write_off("k" * 300), text="x" * 250)
    entry = dataclasses.replace(
        entry, lines=tuple(dataclasses.replace(line, text="[x_%] " * 60) for line in entry.lines)
    )
    first = plugin.post_journal_lines(make_ctx(), entry)
    assert plugin.post_journal_lines(make_ctx(), entry) == first
    texts = [p["text"] for p in posts(fake)[0].json["entries"]["customerPayments"]]
    assert all(len(t) <= 250 and " receivables-hub sha256:" in t for t in texts)
    assert len(posts(fake)) == 1 and request_schemas(fake.requests) == 1


def test_a_write_off_naming_its_invoice_settles_that_invoice(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, request_schemas: CheckSchemas
) -> None:
    add_invoices(agreement, 5001, 2, [101])
    ctx = make_ctx()
    entry = write_off()
    named = dataclasses.replace(
        entry,
        lines=tuple(
            dataclasses.replace(line, invoice_number="5001") if line.customer_number else line
            for line in entry.lines
        ),
    )
    plugin.post_journal_lines(ctx, named)
    payments = posts(fake)[0].json["entries"]["customerPayments"]
    assert [p["customerInvoice"] for p in payments] == [5001, 5001]
    assert request_schemas(fake.requests) == 1
    # unbooked, nothing changes; once a person books the journal, e-conomic matches the
    # payments to invoice 5001: it leaves the unpaid list, 5002 stays
    assert [i.invoice_number for i in plugin.fetch_open_invoices(ctx)] == ["5001", "5002"]
    agreement.book_journal(1)
    assert [i.invoice_number for i in plugin.fetch_open_invoices(ctx)] == ["5002"]


def test_account_to_account_lines_are_finance_vouchers(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, request_schemas: CheckSchemas
) -> None:
    entry = JournalEntry(
        "fee:1",
        TODAY,
        "DKK",
        "Gebyr",
        (
            JournalLine(D("100.00"), "Gebyr", account="5820"),
            JournalLine(D("-60.00"), "Gebyr", account="1010"),
            JournalLine(D("-40.00"), "Moms", account="6902"),
        ),
    )
    assert plugin.post_journal_lines(make_ctx(journal_number="2"), entry) == "2026-60001"
    vouchers = posts(fake)[0].json["entries"]["financeVouchers"]
    assert [(v["account"], v["amount"], v["contraAccount"]) for v in vouchers] == [
        ({"accountNumber": 5820}, D("60.00"), {"accountNumber": 1010}),
        ({"accountNumber": 5820}, D("40.00"), {"accountNumber": 6902}),
    ]
    assert request_schemas(fake.requests) == 1


def test_a_voucher_between_two_customers_is_refused(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    entry = JournalEntry(
        "move:1",
        TODAY,
        "DKK",
        "Flyt",
        (
            JournalLine(D("10.00"), "Flyt", customer_number="101"),
            JournalLine(D("-10.00"), "Flyt", customer_number="102"),
        ),
    )
    with pytest.raises(InputError, match="two customers"):
        plugin.post_journal_lines(make_ctx(), entry)
    assert fake.requests == []


def test_a_lost_voucher_answer_is_retried_not_posted_twice(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, sleeps: Sleeps
) -> None:
    add_invoices(agreement, 5001, 1, [101])
    fake.fail_next(Fault(status=502, after_processing=True, method="POST"))
    assert plugin.post_journal_lines(make_ctx(), write_off()) == "2026-50001"
    assert len(agreement.vouchers) == 1
    assert [r.status for r in posts(fake)] == [502, 201]


# -- invoices and orders -----------------------------------------------------------------------


def test_an_invoice_is_drafted_and_booked_once_per_key(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, request_schemas: CheckSchemas
) -> None:
    ctx = make_ctx(due_date_payment_terms_number="5")  # terms 5: of type "dueDate"
    first = plugin.create_invoice(ctx, draft())
    fake.idempotency_ttl = 0  # also beyond e-conomic's hour
    again = plugin.create_invoice(ctx, draft())

    assert first == again == "1"
    invoice = agreement.booked[1]
    assert (invoice.net_amount, invoice.vat_amount, invoice.gross_amount) == (
        D("598.88"),
        D("149.72"),
        D("748.60"),
    )
    assert invoice.recipient["name"] == "Østergaard ApS"
    assert invoice.due_date == dt.date(2026, 2, 15)
    assert len(posts(fake)) == 2
    body = posts(fake)[0].json
    assert body["recipient"]["vatZone"] == {"vatZoneNumber": 1}
    assert body["paymentTerms"] == {"paymentTermsNumber": 5}
    assert body["layout"] == {"layoutNumber": 19}
    assert [line["quantity"] for line in body["lines"]] == [D("1"), D("2.5")]
    assert request_schemas(fake.requests) == 2


def test_an_order_stays_a_draft_for_a_person(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, request_schemas: CheckSchemas
) -> None:
    ctx = make_ctx(layout_number="20", payment_terms_number="3")
    due = TODAY + dt.timedelta(days=30)  # terms 3: "Netto 30 dage"
    first = plugin.create_invoice(ctx, draft("order", "recurring:3:2", due))
    again = plugin.create_invoice(ctx, draft("order", "recurring:3:2", due))

    assert first == again == "draft:1"
    assert agreement.booked == {} and list(agreement.drafts) == [1]
    assert agreement.drafts[1].layout_number == 20
    assert agreement.drafts[1].payment_terms.number == 3
    assert [r.path for r in posts(fake)] == ["/invoices/drafts"]
    assert request_schemas(fake.requests) == 1


def test_an_order_a_person_booked_is_found_not_made_again(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    ctx = make_ctx(due_date_payment_terms_number="5")
    assert plugin.create_invoice(ctx, draft("order", "recurring:3:4")) == "draft:1"
    with agreement._lock:  # a person books the draft in e-conomic
        agreement.book(agreement.drafts[1], None)
    assert plugin.create_invoice(ctx, draft("order", "recurring:3:4")) == "1"
    assert agreement.drafts == {} and len(agreement.booked) == 1


def test_more_than_two_decimals_are_refused_before_sending(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    odd = InvoiceDraft(
        "recurring:3:3",
        "invoice",
        "101",
        TODAY,
        TODAY,
        "DKK",
        (DraftLine("x", D("1"), D("0.125")),),
    )
    with pytest.raises(InputError, match="more than two decimals"):
        plugin.create_invoice(make_ctx(), odd)
    assert posts(fake) == []


def test_a_long_key_still_finds_its_document(agreement: Agreement) -> None:
    long_key = "recurring:" + "x" * 300
    marker = drafts.marker(long_key)
    assert len(marker) <= 250 and marker == drafts.marker(long_key)
    assert marker != drafts.marker(long_key + "y")
    assert drafts.filter_value("a$b(c)d*e,f[g]") == "a$$b$(c$)d$*e$,f[g]"
