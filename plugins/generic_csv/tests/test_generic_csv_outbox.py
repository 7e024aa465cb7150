"""Writes: one CSV file per idempotency key in the outbox, atomically, exactly once."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from generic_csv import plugin
from generic_csv.outbox import Outcome, file_name, write_once
from hypothesis import given
from hypothesis import strategies as st

from hub.model import (
    ClientContext,
    CreditNoteRequest,
    DraftLine,
    InvoiceDraft,
    JournalEntry,
    JournalLine,
)
from hub.toolkit.files import escape_key

D = Decimal

# Fixture types (see conftest.py; not imported from it: the hub's tests have one too).
MakeCtx = Callable[..., ClientContext]

CREDIT = CreditNoteRequest(
    idempotency_key="creditnote:12",
    invoice_number="1001",
    customer_number="K1",
    date=dt.date(2024, 6, 1),
    currency="DKK",
    amount=D("1250.50"),
    reason='Kreditering; rykkergebyr "fejl"',
)

VOUCHER = JournalEntry(
    idempotency_key="writeoff:7",
    date=dt.date(2024, 6, 2),
    currency="DKK",
    text="Tab på debitor Æble ApS",
    lines=(
        JournalLine(D("-1250.00"), "Faktura 1001", customer_number="K1"),
        JournalLine(D("1000.00"), "Tab", account="7800"),
        JournalLine(D("250.00"), "Moms", account="14261"),
    ),
)

DRAFT = InvoiceDraft(
    idempotency_key="recurring:3:2024-06",
    kind="invoice",
    customer_number="K1",
    invoice_date=dt.date(2024, 6, 1),
    due_date=dt.date(2024, 6, 15),
    currency="NOK",
    lines=(
        DraftLine("Abonnement juni", D("1"), D("499.00"), "S25"),
        DraftLine("Ekstra brugere", D("2.5"), D("12.10")),
    ),
    text="Juni 2024",
)


def _outbox_files(ctx_outbox: Path) -> list[str]:
    return sorted(p.name for p in ctx_outbox.iterdir())


def test_credit_note_written_once(make_ctx: MakeCtx, tmp_path: Path) -> None:
    ctx = make_ctx()
    reference = plugin.create_credit_note(ctx, CREDIT)
    assert reference == "creditnote-creditnote%3A12.csv"
    path = tmp_path / "outbox" / reference  # the missing outbox was created
    content = path.read_bytes()
    assert content.decode("utf-8") == (
        "idempotency_key;invoice_number;customer_number;date;currency;amount;reason\r\n"
        'creditnote:12;1001;K1;2024-06-01;DKK;1250.50;"Kreditering; rykkergebyr ""fejl"""\r\n'
    )
    assert plugin.create_credit_note(ctx, CREDIT) == reference
    assert _outbox_files(tmp_path / "outbox") == [reference]
    assert path.read_bytes() == content


def test_voucher_written_once(make_ctx: MakeCtx, tmp_path: Path) -> None:
    ctx = make_ctx()
    reference = plugin.post_journal_lines(ctx, VOUCHER)
    assert reference == "voucher-writeoff%3A7.csv"
    path = tmp_path / "outbox" / reference
    lines = path.read_text("utf-8").splitlines()
    assert lines == [
        "idempotency_key;date;currency;voucher_text;line;account;customer_number;amount;text",
        "writeoff:7;2024-06-02;DKK;Tab på debitor Æble ApS;1;;K1;-1250.00;Faktura 1001",
        "writeoff:7;2024-06-02;DKK;Tab på debitor Æble ApS;2;7800;;1000.00;Tab",
        "writeoff:7;2024-06-02;DKK;Tab på debitor Æble ApS;3;14261;;250.00;Moms",
    ]
    before = path.read_bytes()
    assert plugin.post_journal_lines(ctx, VOUCHER) == reference
    assert _outbox_files(tmp_path / "outbox") == [reference]
    assert path.read_bytes() == before


def test_invoice_and_order_written_once(make_ctx: MakeCtx, tmp_path: Path) -> None:
    ctx = make_ctx()
    reference = plugin.create_invoice(ctx, DRAFT)
    assert reference == "invoice-recurring%3A3%3A2024-06.csv"
    lines = (tmp_path / "outbox" / reference).read_text("utf-8").splitlines()
    assert lines == [
        "idempotency_key;kind;customer_number;invoice_date;due_date;currency;text;line;"
        "description;quantity;unit_price;vat_code;net_amount",
        "recurring:3:2024-06;invoice;K1;2024-06-01;2024-06-15;NOK;Juni 2024;1;Abonnement juni;"
        "1;499.00;S25;499.00",
        "recurring:3:2024-06;invoice;K1;2024-06-01;2024-06-15;NOK;Juni 2024;2;Ekstra brugere;"
        "2.5;12.10;;30.250",
    ]
    assert plugin.create_invoice(ctx, DRAFT) == reference
    order = InvoiceDraft(**{**DRAFT.__dict__, "kind": "order", "idempotency_key": "o/1"})
    assert plugin.create_invoice(ctx, order) == "order-o%2F1.csv"
    assert _outbox_files(tmp_path / "outbox") == [
        "invoice-recurring%3A3%3A2024-06.csv",
        "order-o%2F1.csv",
    ]


def test_concurrent_writers_make_one_file(tmp_path: Path) -> None:
    outbox = tmp_path / "out"
    barrier = threading.Barrier(8)
    outcomes: list[Outcome] = []

    def write(n: int) -> None:
        barrier.wait()
        outcomes.append(write_once(outbox, "voucher-x.csv", f"writer {n}\n".encode()))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count(Outcome.CREATED) == 1
    assert sorted(p.name for p in outbox.iterdir()) == ["voucher-x.csv"]  # no temp files left
    assert (outbox / "voucher-x.csv").read_text().startswith("writer ")


def test_reused_key_keeps_the_first_file(make_ctx: MakeCtx, tmp_path: Path) -> None:
    ctx = make_ctx()
    first = plugin.create_credit_note(ctx, CREDIT)
    content = (tmp_path / "outbox" / first).read_bytes()
    other = CreditNoteRequest(**{**CREDIT.__dict__, "amount": D("1.00")})
    assert plugin.create_credit_note(ctx, other) == first
    assert (tmp_path / "outbox" / first).read_bytes() == content


def test_key_escaping() -> None:
    assert escape_key("case:12") == "case%3A12"
    assert escape_key("a%3A") == "a%253A"  # '%' is escaped: injective
    assert escape_key("Æ/..") == "%C3%86%2F.."
    long_name = file_name("voucher", "x" * 500)
    assert len(long_name) <= 200 and long_name.startswith("voucher-xxx")
    assert file_name("voucher", "x" * 500) != file_name("voucher", "x" * 501)


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_file_names_are_safe_and_injective(a: str, b: str) -> None:
    name = file_name("creditnote", a)
    # "~" only joins the hash of a key too long to spell out.
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-%~")
    assert len(name.encode()) <= 200
    assert (name == file_name("creditnote", b)) == (a == b)
