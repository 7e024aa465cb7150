"""Case actions, payments and postings to the books under concurrency (issue 16).

Contenders are threads started together with a barrier, each with its own Database (its own
connections) and its own plugin registry, calling the operations as the CLI does; the books
are the fake e-conomic and Tripletex servers over real HTTP on loopback. Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from hub import clients
from hub.clock import Clock
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import actions
from hub.dunning import rules as dunning_rules
from hub.dunning.cases import lock_case
from hub.dunning.cycle import run_cycle
from hub.dunning.postings import PostingBusy, PostingRefused
from hub.dunning.write_off import write_off as domain_write_off
from hub.errors import HubError, InputError, PluginError
from hub.operations import cases as case_ops
from hub.operations import collection as collection_ops
from hub.operations.clients import client_day
from hub.operations.context import Actor, Context, Services
from hub.operations.postings import finish_postings
from hub.operations.sync import fetch_invoices
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from hub.testing.fakes import economic as economic_fake
from hub.testing.fakes import tripletex as tripletex_fake
from hub.testing.fakes.economic import EconomicServer, FakeEconomic
from hub.testing.fakes.tripletex import FakeTripletex, TripletexServer

D = Decimal
DAY = dt.date(2026, 3, 2)


@dataclass
class Books:
    """A client on a fake accounting system, with one case on an overdue invoice."""

    db_url: str
    box: SecretBox
    client: str
    case_id: int
    server: Any  # the fake (FakeEconomic or FakeTripletex)
    books: Any  # its agreement / company

    def ctx(self, db: Database | None = None, user: str = "tester") -> Context:
        """A context as a front end builds it: its own Database unless given, its own plugins."""
        return Context(
            Services(db or Database(self.db_url), load_plugins(), self.box),
            Actor(user),
            Clock(fixed=DAY),
        )


def _start_case(db: Database, ctx: Context, client: str, invoice: str) -> int:
    fetch_invoices(ctx, client_day(ctx, client))
    return case_ops.start_case(ctx, client=client, invoice=invoice).id


@contextmanager
def economic_books(
    db: Database, db_url: str, box: SecretBox, *, product_number: str | None = "1"
) -> Iterator[Books]:
    """A Danish client on fake e-conomic; invoice 9001 (1,000.00 incl. VAT) overdue."""
    fake = FakeEconomic(today=DAY)
    agreement = fake.add_agreement("locks-app", "locks-grant", "Låse ApS")
    agreement.add_customer(101, "Kunde 101 ApS", email="k101@example.dk")
    agreement.add_invoice(
        booked_invoice_number=9001,
        customer_number=101,
        date=DAY - dt.timedelta(days=40),
        due_date=DAY - dt.timedelta(days=10),
        net_amount=D("800.00"),
        vat_amount=D("200.00"),
        currency="DKK",
    )
    with EconomicServer(fake) as server:
        books = Books(db_url, box, "dk", 0, fake, agreement)
        ctx = books.ctx(db)
        with db.session() as session:
            clients.add_client(session, "dk", "DK")
            clients.enable_plugin(
                session,
                ctx.registry,
                box,
                "dk",
                "economic",
                {
                    "app_secret_token": "locks-app",
                    "agreement_grant_token": "locks-grant",
                    "base_url": server.url,
                    "journal_number": "1",
                    **({"product_number": product_number} if product_number else {}),
                },
            )
        books.case_id = _start_case(db, ctx, "dk", "9001")
        yield books


@pytest.fixture
def economic(db: Database, db_url: str, box: SecretBox) -> Iterator[Books]:
    with economic_books(db, db_url, box) as books:
        yield books


@pytest.fixture
def tripletex(db: Database, db_url: str, box: SecretBox) -> Iterator[Books]:
    """A Norwegian client on fake Tripletex; invoice 1 (1,250.00 incl. VAT) overdue; the
    write-off accounts are Tripletex's (7830 loss, 2700 output VAT)."""
    fake = FakeTripletex(today=DAY)
    company = fake.add_company("locks-consumer", "locks-employee", name="Låsen AS")
    company.add_customer(201, "Kunde 201 AS", email="k201@example.no")
    company.add_invoice(
        1, 201, DAY - dt.timedelta(days=40), DAY - dt.timedelta(days=20), D("1000"), D("250")
    )
    with TripletexServer(fake) as server:
        books = Books(db_url, box, "no", 0, fake, company)
        ctx = books.ctx(db)
        with db.session() as session:
            clients.add_client(session, "no", "NO")
            clients.enable_plugin(
                session,
                ctx.registry,
                box,
                "no",
                "norwegian_invoicing",
                {
                    "consumer_token": "locks-consumer",
                    "employee_token": "locks-employee",
                    "base_url": server.url,
                },
            )
            dunning_rules.set_rules(
                session,
                clients.get_client(session, "no"),
                {"loss_account": "7830", "output_vat_account": "2700"},
            )
        books.case_id = _start_case(db, ctx, "no", "1")
        yield books


def together(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads released together by a barrier; each one's result or error."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except BaseException as exc:
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def in_thread(call: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    box: list[object] = []

    def run() -> None:
        try:
            box.append(call())
        except BaseException as exc:
            box.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def economic_postings(books: Books) -> tuple[int, int]:
    """(credit notes booked, vouchers posted) in the e-conomic agreement."""
    with books.server.lock:
        notes = sum(1 for inv in books.books.booked.values() if inv.net_amount < 0)
        return notes, len(books.books.vouchers)


def tripletex_write_offs(books: Books) -> list[str]:
    """The external numbers of the hub's vouchers in the Tripletex company."""
    with books.server.lock:
        return [
            v.external_voucher_number
            for v in books.books.vouchers.values()
            if v.external_voucher_number.startswith("receivables-hub")
        ]


def case_row(db: Database, case_id: int) -> t.Case:
    with db.session() as session:
        case = session.get(t.Case, case_id)
        assert case is not None
        return case


def events(db: Database, case_id: int) -> list[t.CaseEvent]:
    with db.session() as session:
        return list(
            session.scalars(
                select(t.CaseEvent).where(t.CaseEvent.case_id == case_id).order_by(t.CaseEvent.id)
            )
        )


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def held(books: Books) -> bool:
    """Whether the fake holds back the answer to a request (a fault with ``hold``)."""
    with books.server.lock:
        return any(r.fault is not None and r.fault.hold is not None for r in books.server.requests)


def leased(db: Database, case_id: int) -> bool:
    return case_row(db, case_id).posting_owner is not None


# --- one of conflicting actions wins ----------------------------------------------------------


@pytest.mark.parametrize("slow", [False, True], ids=["fast-books", "slow-books"])
def test_credit_note_and_write_off_at_once_post_exactly_one(
    db: Database, economic: Books, slow: bool
) -> None:
    """The attack: `hub cases credit-note 5 & hub cases write-off 5 &`. Fast books: both
    check the case at the same moment (the lock decides); slow books: one's posting is in
    flight while the other asks (the lease and the pending request decide)."""
    if slow:
        economic.server.fail_next(economic_fake.Fault(count=10, method="POST", delay=0.5))
    case_id = economic.case_id
    note_ctx, off_ctx = economic.ctx(user="karen"), economic.ctx(user="ole")
    results = together(
        lambda: case_ops.credit_note(note_ctx, case_id),
        lambda: collection_ops.write_off(off_ctx, collection_ops.WriteOffRequest(case_id)),
    )
    won = [r for r in results if not isinstance(r, BaseException)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], InputError), repr(lost[0])
    assert f"case {case_id}" in str(lost[0])
    assert sum(economic_postings(economic)) == 1  # one credit note or one voucher, not both
    case = case_row(db, case_id)
    assert case.state == "closed" and case.close_code in ("credited", "written_off")
    assert case.posting_owner is None  # the lease was given back


def test_three_payments_of_600_on_1000_at_once_one_is_accepted(
    db: Database, economic: Books
) -> None:
    case_id = economic.case_id
    ctxs = [economic.ctx(user=f"clerk{i}") for i in range(3)]
    results = together(
        *(
            lambda ctx=ctx: case_ops.register_payment(
                ctx, case_ops.PaymentRequest(case_id, D("600.00"), DAY)
            )
            for ctx in ctxs
        )
    )
    accepted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(accepted) == 1, results
    assert len(refused) == 2 and all(isinstance(r, InputError) for r in refused), results
    assert all("overpayment is refused" in str(r) for r in refused)
    with db.session() as session:
        paid = session.scalars(select(t.CasePayment.amount).where(t.CasePayment.case_id == case_id))
        assert list(paid) == [D("600.00")]
    shown = case_ops.show_case(economic.ctx(db), case_id).detail
    assert shown["state"] == "active"


# --- the lease on a write to the books --------------------------------------------------------


def test_a_second_write_off_and_the_postings_job_keep_off_a_write_off_in_flight(
    db: Database, tripletex: Books
) -> None:
    """The attack: `hub cases write-off 3 & hub cases write-off 3` while the first one's
    voucher POST is on its way, and the daemon's postings job meanwhile. Tripletex has no
    idempotency key. Tripletex holds its answer until the others have tried."""
    answer = threading.Event()
    tripletex.server.fault(
        tripletex_fake.Fault(method="POST", path_prefix="/ledger/voucher", hold=answer)
    )
    case_id = tripletex.case_id
    first, outcome = in_thread(
        lambda: collection_ops.write_off(
            tripletex.ctx(user="karen"), collection_ops.WriteOffRequest(case_id)
        )
    )
    try:
        wait_for(lambda: leased(db, case_id), "the first write-off's lease")
        wait_for(lambda: held(tripletex), "the first write-off's voucher POST")
        with pytest.raises(PostingBusy, match=f"case {case_id}: its write-off is being posted"):
            collection_ops.write_off(
                tripletex.ctx(user="ole"), collection_ops.WriteOffRequest(case_id)
            )
        job_ctx = tripletex.ctx(user="daemon")
        with job_ctx.db.session() as session:
            day = job_ctx.day_of(clients.get_client(session, "no"))
        job = finish_postings(job_ctx, day)
        assert (job.write_offs, job.busy, job.failed) == (0, 1, 0)
        with pytest.raises(InputError, match="being posted right now"):
            case_ops.close_case(
                tripletex.ctx(user="ole"),
                case_ops.CloseRequest(case_id, "dispute", "customer_disputes_claim"),
            )
    finally:
        answer.set()
    first.join(timeout=60)
    assert not isinstance(outcome[0], BaseException), outcome
    assert tripletex_write_offs(tripletex) == [f"receivables-hub writeoff:{case_id}"]
    case = case_row(db, case_id)
    assert case.close_code == "written_off" and case.posting_owner is None


def test_the_lease_is_renewed_while_the_books_are_slower_than_the_lease(
    db: Database, tripletex: Books
) -> None:
    """A 1 s lease, a voucher POST that outlasts it: the renewer keeps the lease live."""
    answer = threading.Event()
    tripletex.server.fault(
        tripletex_fake.Fault(method="POST", path_prefix="/ledger/voucher", hold=answer)
    )
    case_id = tripletex.case_id
    own = Database(tripletex.db_url)
    ctx = tripletex.ctx(own)
    thread, outcome = in_thread(
        lambda: domain_write_off(
            own,
            ctx.registry,
            ctx.box,
            case_id,
            "loss_confirmed",
            DAY,
            actor="karen",
            lease=dt.timedelta(seconds=1),
        )
    )
    try:
        wait_for(lambda: leased(db, case_id), "the lease")
        first_until = case_row(db, case_id).posting_until
        assert first_until is not None
        time.sleep(2.5)  # well past the first lease's end, the POST still unanswered
        case = case_row(db, case_id)
        assert case.posting_until is not None
        assert case.posting_until > first_until  # renewed
        with pytest.raises(PostingBusy):
            collection_ops.write_off(
                tripletex.ctx(user="ole"), collection_ops.WriteOffRequest(case_id)
            )
    finally:
        answer.set()
    thread.join(timeout=60)
    assert not isinstance(outcome[0], BaseException), outcome
    assert len(tripletex_write_offs(tripletex)) == 1


def test_an_expired_lease_is_taken_over_and_a_live_one_of_another_host_is_not(
    db: Database, tripletex: Books
) -> None:
    """A write-off whose poster died on another host: its lease holds until it expires, then
    a retry takes it over and finishes the write-off."""
    case_id = tripletex.case_id
    # The first attempt's answer is lost (a broken answer after the voucher was made) ...
    tripletex.server.fault(
        tripletex_fake.Fault(
            method="POST", path_prefix="/ledger/voucher", malformed=True, after_processing=True
        )
    )
    with pytest.raises(PluginError):
        collection_ops.write_off(tripletex.ctx(), collection_ops.WriteOffRequest(case_id))
    assert case_row(db, case_id).posting_owner is None  # given back when the call ended
    # ... and a poster on another host holds the retry's lease (it died there, or still works)
    other = "elsewhere 4242 0123456789ab karen"
    with db.session() as session:
        session.execute(
            update(t.Case)
            .where(t.Case.id == case_id)
            .values(
                posting_owner=other,
                posting_until=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30),
            )
        )
    with pytest.raises(PostingBusy, match=r"karen \(host elsewhere, pid 4242\)"):
        collection_ops.write_off(tripletex.ctx(), collection_ops.WriteOffRequest(case_id))
    with db.session() as session:
        session.execute(
            update(t.Case)
            .where(t.Case.id == case_id)
            .values(posting_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    done = collection_ops.write_off(tripletex.ctx(), collection_ops.WriteOffRequest(case_id))
    assert done.state == "closed"
    # the voucher the lost answer was about is found by its key: one voucher in the books
    assert tripletex_write_offs(tripletex) == [f"receivables-hub writeoff:{case_id}"]


# --- the ways out of a stuck posting ----------------------------------------------------------


def test_a_write_off_refused_for_accounts_tripletex_lacks_frees_the_case_and_uses_new_rules(
    db: Database, tripletex: Books
) -> None:
    case_id = tripletex.case_id
    with db.session() as session:  # the Danish defaults; Tripletex's chart has neither
        dunning_rules.set_rules(
            session,
            clients.get_client(session, "no"),
            {"loss_account": "3720", "output_vat_account": "6902"},
        )
    with pytest.raises(PostingRefused, match="has no account 3720, 6902") as refused:
        collection_ops.write_off(tripletex.ctx(), collection_ops.WriteOffRequest(case_id))
    assert "nothing was booked" in str(refused.value)
    case = case_row(db, case_id)
    assert (case.state, case.write_off_key, case.posting_owner) == ("active", None, None)
    [event] = [e for e in events(db, case_id) if e.kind == "posting_refused"]
    assert "3720" in (event.reason or "") and event.data["key"] == f"writeoff:{case_id}"
    # the rules corrected, the next write-off is built from them, under a new key
    with db.session() as session:
        dunning_rules.set_rules(
            session,
            clients.get_client(session, "no"),
            {"loss_account": "7830", "output_vat_account": "2700"},
        )
    done = collection_ops.write_off(tripletex.ctx(), collection_ops.WriteOffRequest(case_id))
    assert [line.account for line in done.entry.lines] == [None, "7830", "2700"]
    assert tripletex_write_offs(tripletex) == [f"receivables-hub writeoff:{case_id}:2"]


def test_a_credit_note_refused_before_sending_lets_the_case_go_on(
    db: Database, db_url: str, box: SecretBox
) -> None:
    """e-conomic without product_number: nothing is sent; the case is not frozen."""
    with economic_books(db, db_url, box, product_number=None) as economic:
        _refused_credit_note(db, economic)


def _refused_credit_note(db: Database, economic: Books) -> None:
    case_id = economic.case_id
    ctx = economic.ctx(db)
    with pytest.raises(PostingRefused, match="product_number"):
        case_ops.credit_note(ctx, case_id)
    assert economic_postings(economic) == (0, 0)
    assert case_row(db, case_id).credit_note_key is None
    # reminders and the other actions go on; a person can close it
    case_ops.restart_flow(ctx, case_id)
    closed = case_ops.close_case(
        ctx, case_ops.CloseRequest(case_id, "dispute", "customer_disputes_claim")
    )
    assert closed.state == "closed"
    kinds = [e.kind for e in events(db, case_id)]
    assert kinds.index("credit_note_requested") < kinds.index("posting_refused")


def test_abandon_an_unfinished_write_off_refused_while_its_lease_is_live(
    db: Database, economic: Books
) -> None:
    case_id = economic.case_id
    # The voucher's answer is broken: the hub cannot tell whether it was posted; it waits.
    economic.server.fail_next(
        economic_fake.Fault(path_prefix="/journals", method="POST", malformed=True)
    )
    with pytest.raises(HubError):
        collection_ops.write_off(economic.ctx(), collection_ops.WriteOffRequest(case_id))
    with pytest.raises(InputError, match="abandon-posting"):
        case_ops.close_case(
            economic.ctx(), case_ops.CloseRequest(case_id, "dispute", "customer_disputes_claim")
        )
    # Someone runs it again, slowly (and it breaks again): no abandoning under its lease.
    answer = threading.Event()  # e-conomic answers only once the abandon has been tried
    economic.server.fail_next(
        economic_fake.Fault(path_prefix="/journals", method="POST", malformed=True, hold=answer)
    )
    retry, outcome = in_thread(
        lambda: collection_ops.write_off(economic.ctx(), collection_ops.WriteOffRequest(case_id))
    )
    request = case_ops.AbandonRequest(case_id, "voucher not in the journal; we give up the loss")
    try:
        wait_for(lambda: leased(db, case_id), "the retry's lease")
        with pytest.raises(PostingBusy, match="being posted right now"):
            case_ops.abandon_posting(economic.ctx(user="karen"), request)
    finally:
        answer.set()
    retry.join(timeout=60)
    assert isinstance(outcome[0], HubError)
    shown = case_ops.abandon_posting(economic.ctx(user="karen"), request)
    assert shown.state == "active"
    [event] = [e for e in events(db, case_id) if e.kind == "posting_abandoned"]
    assert (event.actor, event.reason) == ("karen", request.reason)
    assert event.data == {"posting": "write_off", "key": f"writeoff:{case_id}"}
    with pytest.raises(InputError, match="nothing to abandon"):
        case_ops.abandon_posting(economic.ctx(), request)
    assert economic_postings(economic) == (0, 0)
    closed = case_ops.close_case(
        economic.ctx(), case_ops.CloseRequest(case_id, "dispute", "customer_disputes_claim")
    )
    assert closed.state == "closed"


# --- the dunning cycle against a person's action ------------------------------------------------


def test_the_cycle_waits_for_a_person_closing_a_case_and_sends_it_nothing(
    db: Database, economic: Books
) -> None:
    """A person closes a case while the cycle runs for its client: the cycle waits for the
    close (a lock per case, and per client for the cycle), then sees the case closed, so no
    reminder is queued for it. Without the cycle's lock it decided on the case as it was
    before the close and queued a reminder for a closed case."""
    later = DAY + dt.timedelta(days=20)  # 30 days overdue: the first reminder is due
    with db.session() as session:
        client_id = session.scalars(select(t.Client.id).where(t.Client.name == "dk")).one()
    cycle_db = Database(economic.db_url)
    person = db.session()
    session = person.__enter__()
    try:
        lock_case(session, economic.case_id)  # the person's unit of work has the case
        cycle, outcome = in_thread(lambda: run_cycle(cycle_db, client_id, later))
        time.sleep(1.0)
        actions.close(
            session, economic.case_id, "paid", "paid_to_us", later, notify=False, actor="karen"
        )
    finally:
        person.__exit__(None, None, None)
    cycle.join(timeout=60)
    assert not cycle.is_alive()
    assert outcome and not isinstance(outcome[0], BaseException), outcome
    with db.session() as session:
        case = session.get(t.Case, economic.case_id)
        assert case is not None and case.state == "closed"
        queued = session.scalars(select(t.Message.kind).where(t.Message.case_id == case.id))
        assert list(queued) == []
    cycle_db.dispose()
