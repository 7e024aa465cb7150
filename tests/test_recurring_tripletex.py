"""A Norwegian client's year of recurring invoices and orders, made in (a fake) Tripletex over
real HTTP through the `norwegian_invoicing` plugin, every request and answer checked against
Tripletex's OpenAPI spec."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from hub.db.engine import Database
from hub.plugins import PluginRegistry, load_plugins
from hub.recurring import agreements
from hub.recurring.generator import run_recurring
from hub.recurring.schedule import AgreementLine, Terms
from hub.secrets import SecretBox
from hub.testing.fakes import tripletex as tripletex_fake
from hub.testing.fakes.tripletex import Company, FakeTripletex, TripletexServer
from hub.testing.fakes.tripletex.spec import spec_missing_reason, validate_exchange
from tests.helpers import add_client_with_plugin

D = Decimal
FIRST_DAY = dt.date(2026, 1, 1)
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def tripletex() -> Iterator[tuple[FakeTripletex, Company, str]]:
    fake = FakeTripletex(today=FIRST_DAY)
    company = fake.add_company("consumer-year", "employee-year", name="Årsavtale AS")
    company.add_customer(10, "Havbris Sjømat AS", email="post@havbris.no")
    company.add_customer(11, "Lysthus Design", email="hei@lysthus.no")
    with TripletexServer(fake) as server:
        yield fake, company, server.url


@pytest.fixture
def client(
    db: Database, box: SecretBox, tripletex: tuple[FakeTripletex, Company, str]
) -> tuple[PluginRegistry, str]:
    registry = load_plugins(honour_environment=False)
    settings = {
        "consumer_token": "consumer-year",
        "employee_token": "employee-year",
        "base_url": tripletex[2],
    }
    add_client_with_plugin(db, registry, box, "havbris", "norwegian_invoicing", settings, "NO")
    return registry, "havbris"


def test_a_year_of_monthly_invoices_and_orders_in_tripletex(
    db: Database,
    box: SecretBox,
    tripletex: tuple[FakeTripletex, Company, str],
    client: tuple[PluginRegistry, str],
) -> None:
    fake, company, _ = tripletex
    registry, name = client
    with db.session() as session:
        # Monthly from 1 February, signed 21 January (10 days prorated), to 15 January next
        # year (the last invoice bills 1–15 January); made 7 days early; 25 % VAT.
        agreements.add_agreement(
            session,
            name,
            "10",
            Terms(
                every=1,
                unit="month",
                first_invoice_date=dt.date(2026, 2, 1),
                prep_days=7,
                agreement_date=dt.date(2026, 1, 21),
                end_date=dt.date(2027, 1, 15),
                currency="NOK",
                lines=(
                    AgreementLine("Lisens", D("1.00"), D("3100.00"), "month", "3"),
                    AgreementLine("Drift", D("2.00"), D("450.00"), "fixed", "3"),
                ),
            ),
            "karen",
        )
        # Quarterly orders (a person invoices them), a yearly price, no credit days.
        agreements.add_agreement(
            session,
            name,
            "11",
            Terms(
                every=3,
                unit="month",
                produce="order",
                first_invoice_date=dt.date(2026, 1, 31),
                no_credit_days=True,
                currency="NOK",
                lines=(AgreementLine("Vedlikehold", D("1.00"), D("12000.00"), "year", "3"),),
            ),
            "karen",
        )
    day = FIRST_DAY
    while day <= dt.date(2027, 1, 31):
        fake.today = day
        report = run_recurring(db, registry, box, name, day, now=NOW)  # the plugin's today too
        assert not report.failed, report.failed
        day += dt.timedelta(days=1)

    invoices = sorted(
        (i for i in company.invoices.values() if not i.is_credit_note), key=lambda i: i.invoice_date
    )
    # Twelve monthly invoices, 1 Feb 2026 to 1 Jan 2027: 1 January is before the end date
    # (15 January), so it is made, and bills 1–15 January (seed 004, G3).
    assert [str(i.invoice_date) for i in invoices] == [
        *(f"2026-{m:02d}-01" for m in range(2, 13)),
        "2027-01-01",
    ]
    assert all(i.customer.customer_number == 10 for i in invoices)
    assert all(i.due_date - i.invoice_date == dt.timedelta(days=14) for i in invoices)
    nets = [i.amount_excluding_vat for i in invoices]
    # First: 22–31 January (10/31 of 3 100 = 1 000) + February 3 100 + 2 × 450.
    assert nets[0] == D("5000.00")
    assert set(nets[1:-1]) == {D("4000.00")}
    assert invoices[-1].due_date == dt.date(2027, 1, 15)
    # Last: 1–15 January (15/31 of 3 100 = 1 500) + 900.
    assert nets[-1] == D("2400.00")
    assert [i.amount for i in invoices] == [n * D("1.25") for n in nets]  # 25 % VAT

    orders = [o for o in company.orders.values() if o.customer.customer_number == 11]
    assert [str(o.order_date) for o in orders] == [
        "2026-01-31",
        "2026-04-30",
        "2026-07-31",
        "2026-10-31",
        "2027-01-31",
    ]
    assert all(o.invoice is None and not o.is_closed for o in orders), "orders wait for a person"
    assert {sum((line.amount_excluding_vat for line in o.lines), D(0)) for o in orders} == {
        D("3000.00")  # 12 000 a year, a quarter at a time
    }
    assert all(o.invoices_due_in == 0 for o in orders), "no credit days"

    markers = Counter(o.reference for o in company.orders.values())
    assert len(markers) == len(company.orders) == 12 + 5 and set(markers.values()) == {1}

    reason = spec_missing_reason()
    if reason is not None:
        pytest.skip(f"the requests were not checked against Tripletex's spec: {reason}")
    assert {(r.method, r.path.split("/")[1]) for r in fake.requests} >= {
        ("POST", "order"),
        ("PUT", "order"),
        ("POST", "token"),
    }
    for recorded in fake.requests:
        validate_exchange(recorded)


def test_no_credit_days_makes_the_invoice_due_on_its_date_in_tripletex(
    db: Database,
    box: SecretBox,
    tripletex: tuple[FakeTripletex, Company, str],
    client: tuple[PluginRegistry, str],
) -> None:
    """Seed 004: "no credit days" sets the due date to the invoice date, whatever the
    customer's terms; over real HTTP, as Tripletex books it."""
    _, company, _ = tripletex
    registry, name = client
    with db.session() as session:
        agreements.add_agreement(
            session,
            name,
            "10",
            Terms(
                every=1,
                unit="month",
                first_invoice_date=FIRST_DAY,
                no_credit_days=True,
                currency="NOK",
                lines=(AgreementLine("Drift", D("1.00"), D("450.00"), "fixed", "3"),),
            ),
            "karen",
        )
    report = run_recurring(db, registry, box, name, FIRST_DAY, now=NOW)
    assert not report.failed, report.failed
    [invoice] = company.invoices.values()
    assert invoice.invoice_date == invoice.due_date == FIRST_DAY


def _wait_for_held_post(fake: FakeTripletex) -> None:
    """Wait until the fake holds back its answer to a request (a fault with ``hold``)."""
    deadline = time.monotonic() + 60
    while True:
        with fake.lock:
            if any(r.fault is not None and r.fault.hold is not None for r in fake.requests):
                return
        assert time.monotonic() < deadline, "the order was never posted"
        time.sleep(0.02)


def test_G6_a_send_slower_than_the_lease_keeps_it_and_a_second_run_waits(
    db: Database,
    box: SecretBox,
    tripletex: tuple[FakeTripletex, Company, str],
    client: tuple[PluginRegistry, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tripletex has no idempotency key: the plugin looks for its order, then posts it. A
    second run (another node) that took over a lapsed lease in between would post it again;
    the lease is renewed while the first run waits, so the second finds it held."""
    fake, company, _ = tripletex
    registry, name = client
    monkeypatch.setenv("HUB_RECURRING_LEASE", "1")
    with db.session() as session:
        agreements.add_agreement(
            session,
            name,
            "10",
            Terms(
                every=1,
                unit="month",
                first_invoice_date=dt.date(2026, 1, 1),
                currency="NOK",
                lines=(AgreementLine("Lisens", D("1.00"), D("3100.00"), "month", "3"),),
            ),
            "karen",
        )
    # Tripletex holds its answer to the order until the second run has tried.
    answer = threading.Event()
    fake.fault(tripletex_fake.Fault(path_prefix="/order", method="POST", hold=answer))
    reports: list[Any] = []

    def first_node() -> None:
        reports.append(run_recurring(db, registry, box, name, dt.date(2026, 1, 1)))

    slow = threading.Thread(target=first_node)
    slow.start()
    try:
        _wait_for_held_post(fake)
        time.sleep(1.8)  # the first run's lease of 1 s would have lapsed by now
        second = run_recurring(db, registry, box, name, dt.date(2026, 1, 1))
    finally:
        answer.set()
    slow.join(timeout=60)
    assert second.generated == [] and second.busy == [1]
    assert [g["sequence"] for g in reports[0].generated] == [0]
    assert len(company.orders) == 1 and len(company.invoices) == 1
