"""G6 under a real crash: `hub recurring run` is killed (SIGKILL) after the accounting system
made an invoice and before the hub stored the answer; restarted, it makes no duplicate and
loses nothing.

The accounting system is a fake served over real HTTP by this process; the generator is a
child process, as an operator runs it. The fake holds the answer to one booking for a few
seconds *after* making the invoice, and the test kills the child in that window.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from hub.db import tables as t
from hub.db.engine import Database
from hub.testing.fakes import economic as economic_fake
from hub.testing.fakes import tripletex as tripletex_fake
from hub.testing.fakes.economic import EconomicServer, FakeEconomic
from hub.testing.fakes.tripletex import FakeTripletex, TripletexServer

#: The killed run's lease (HUB_RECURRING_LEASE): longer than any restart takes, however loaded
#: the machine, so an immediate restart finds the invoice still held; the test then lapses it
#: by moving it back (:func:`lapse`), as the time passing would, instead of waiting it out.
LEASE_SECONDS = 600


@dataclass
class System:
    """An accounting system the generator writes to, as the test needs to see it."""

    client_args: list[str]  # `hub clients add` arguments after the client's name
    enable_args: list[str]
    documents: Callable[[], Counter[str]]  # hub idempotency marker -> documents carrying it
    hold_next_write: Callable[[], None]  # make the next write, then hold its answer
    held: Callable[[], bool]  # a held write has been made


def _economic() -> Iterator[System]:
    """A Danish client on the fake e-conomic: a draft, then booked (the held write)."""
    fake = FakeEconomic(today=date(2026, 1, 1))
    agreement = fake.add_agreement("app-crash", "grant-crash", "Crash ApS")
    agreement.add_customer(10, "Østergaard ApS", email="a@example.dk")
    with EconomicServer(fake) as server:

        def documents() -> Counter[str]:
            with fake.lock:
                return Counter(
                    str((inv.references or {}).get("other")) for inv in agreement.booked.values()
                )

        def hold() -> None:
            fake.fail_next(
                economic_fake.Fault(path_prefix="/invoices/booked", method="POST", delay_after=5.0)
            )

        def held() -> bool:
            with fake.lock:
                return any(
                    r.fault is not None and r.fault.delay_after > 0 and r.path == "/invoices/booked"
                    for r in fake.requests
                )

        yield System(
            client_args=["--country", "DK"],
            enable_args=[
                "economic",
                "--set",
                "app_secret_token=app-crash",
                "--set",
                "agreement_grant_token=grant-crash",
                "--set",
                f"base_url={server.url}",
                "--set",
                "journal_number=1",
                "--set",
                "product_number=1",
                "--set",  # the fake's terms 5, "Forfaldsdato": the agreement's due date holds
                "due_date_payment_terms_number=5",
            ],
            documents=documents,
            hold_next_write=hold,
            held=held,
        )


def _tripletex() -> Iterator[System]:
    """A Norwegian client on the fake Tripletex: an order, then invoiced (the held write)."""
    fake = FakeTripletex(today=date(2026, 1, 1))
    company = fake.add_company("consumer-crash", "employee-crash", name="Krasj AS")
    company.add_customer(10, "Østby Bakeri AS", email="post@ostby.no")
    with TripletexServer(fake) as server:

        def documents() -> Counter[str]:
            with fake.lock:
                return Counter(
                    order.reference for order in company.orders.values() if order.invoice
                )

        def hold() -> None:
            fake.fault(tripletex_fake.Fault(path_prefix="/order/", method="PUT", delay_after=5.0))

        def held() -> bool:
            with fake.lock:
                return any(
                    r.fault is not None and r.fault.delay_after > 0 and r.path.endswith(":invoice")
                    for r in fake.requests
                )

        yield System(
            client_args=["--country", "NO"],
            enable_args=[
                "norwegian_invoicing",
                "--set",
                "consumer_token=consumer-crash",
                "--set",
                "employee_token=employee-crash",
                "--set",
                f"base_url={server.url}",
            ],
            documents=documents,
            hold_next_write=hold,
            held=held,
        )


@pytest.fixture(params=["economic", "tripletex"])
def system(request: pytest.FixtureRequest) -> Iterator[System]:
    yield from {"economic": _economic, "tripletex": _tripletex}[request.param]()


@pytest.fixture
def hub(hub_env: Path, db_url: str) -> Callable[..., subprocess.Popen[str]]:
    def start(*args: str, lease: int = LEASE_SECONDS) -> subprocess.Popen[str]:
        env = {
            **os.environ,
            "HUB_DATA_DIR": str(hub_env),
            "HUB_DATABASE_URL": db_url,
            "HUB_RECURRING_LEASE": str(lease),
            "HUB_USER": "karen",
        }
        return subprocess.Popen(
            [sys.executable, "-m", "hub.cli.main", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    return start


def finish(process: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, (out, err)
    return json.loads(out) if out.strip().startswith("{") else {}


def lapse(db_url: str) -> None:
    """Every recorded invoice's lease lapsed a while ago (as if the lease's time had passed)."""
    db = Database(db_url)
    try:
        with db.session() as session:
            for row in session.scalars(
                select(t.RecurringInvoice).where(t.RecurringInvoice.claimed_until.is_not(None))
            ):
                assert row.claimed_until is not None
                row.claimed_until -= dt.timedelta(seconds=2 * LEASE_SECONDS)
    finally:
        db.dispose()


def rows(db_url: str) -> list[t.RecurringInvoice]:
    db = Database(db_url)
    try:
        with db.session() as session:
            return list(
                session.scalars(select(t.RecurringInvoice).order_by(t.RecurringInvoice.sequence))
            )
    finally:
        db.dispose()


def test_G6_killed_after_the_write_restarted_nothing_twice_nothing_lost(
    system: System, hub: Callable[..., subprocess.Popen[str]], db_url: str
) -> None:
    finish(hub("clients", "add", "crash", *system.client_args))
    finish(hub("clients", "enable", "crash", *system.enable_args))
    finish(
        hub(
            "--today",
            "2025-12-15",
            "recurring",
            "add",
            "--client",
            "crash",
            "--customer",
            "10",
            "--every",
            "1",
            "--unit",
            "month",
            "--next-invoice-date",
            "2026-01-01",
            "--agreement-date",
            "2025-12-20",
            "--max-count",
            "12",
            "--line",
            "Abonnement;1;1240.00;month",
        )
    )
    first = finish(hub("--today", "2026-03-01", "recurring", "run", "--client", "crash", "--json"))
    assert [g["sequence"] for g in first["generated"]] == [0, 1, 2]

    # Mid-run: the run that catches up on the rest is killed at its first write, after the
    # system made the invoice and before the hub heard back.
    system.hold_next_write()
    doomed = hub("--today", "2026-12-31", "recurring", "run", "--client", "crash", "--json")
    deadline = time.monotonic() + 60
    while not system.held():
        assert doomed.poll() is None, doomed.communicate()
        assert time.monotonic() < deadline, "the held write never came"
        time.sleep(0.01)
    time.sleep(0.3)  # the write is made (the fake holds only the answer)
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(timeout=30)
    assert doomed.returncode == -signal.SIGKILL

    made = rows(db_url)
    assert [r.state for r in made] == ["created"] * 3 + ["pending"], "recorded before the call"
    in_system = system.documents()
    assert sum(in_system.values()) == 4, "the system made the fourth invoice"

    # Restarted at once: the killed run's lease still holds the invoice; nothing is sent.
    busy = finish(hub("--today", "2026-12-31", "recurring", "run", "--client", "crash", "--json"))
    assert busy["generated"] == [] and busy["busy"] == [made[0].agreement_id]
    assert system.documents() == in_system

    # Restarted once the lease has lapsed: the fourth is reconciled, the rest made once each.
    lapse(db_url)
    rest = finish(hub("--today", "2026-12-31", "recurring", "run", "--client", "crash", "--json"))
    assert rest["reconciled"] == 1
    assert [g["sequence"] for g in rest["generated"]] == list(range(3, 12))
    assert rest["finished"] == [made[0].agreement_id]

    made = rows(db_url)
    assert [r.sequence for r in made] == list(range(12))
    assert all(r.state == "created" and r.reference for r in made)
    documents = system.documents()
    assert sum(documents.values()) == 12 and set(documents.values()) == {1}, documents
    assert len({r.reference for r in made}) == 12
