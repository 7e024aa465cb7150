"""A client's overview (the console's overview page and API): its open amount by days past
due in exact Decimal at every bucket's edges, per currency, and its open cases by stage. Runs
on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hub.clock import Clock
from hub.db.engine import Database
from hub.errors import NotFoundError
from hub.operations import cases, overview
from hub.operations.context import Actor, Context, Services
from hub.secrets import SecretBox
from tests.helpers import add_client_with_plugin, registry_with, sync_client
from tests.sample_plugins import RecordingPlugin, invoice

TODAY = dt.date(2026, 6, 30)
D = Decimal

#: invoice number -> (days past due on TODAY, gross amount, currency)
EDGES = {
    "later": (-5, "1000.00", "DKK"),  # not due yet
    "today": (0, "0.01", "DKK"),  # due today: not due yet either
    "d1": (1, "1.10", "DKK"),  # the first day overdue: 0-30
    "d30": (30, "30.30", "DKK"),  # the last of 0-30
    "d31": (31, "31.31", "DKK"),  # 31-60
    "d60": (60, "60.60", "DKK"),
    "d61": (61, "61.61", "DKK"),  # 61-90
    "d90": (90, "90.90", "DKK"),
    "d91": (91, "91.91", "DKK"),  # 90+
    "d400": (400, "400.04", "DKK"),
    "eur": (45, "12.34", "EUR"),  # another currency: a row of its own
}


def test_the_buckets_edges() -> None:
    assert overview.age_bucket(-1) is None and overview.age_bucket(0) is None
    assert [overview.age_bucket(n) for n in (1, 30, 31, 60, 61, 90, 91, 10_000)] == [
        "days_0_30",
        "days_0_30",
        "days_31_60",
        "days_31_60",
        "days_61_90",
        "days_61_90",
        "days_over_90",
        "days_over_90",
    ]


@pytest.fixture
def world(db: Database, box: SecretBox) -> tuple[Context, RecordingPlugin]:
    ledger = RecordingPlugin("ledger")
    registry = registry_with(ledger)
    add_client_with_plugin(db, registry, box, "acme", "ledger", {"api_token": "t"})
    for number, (days, gross, currency) in EDGES.items():
        due = TODAY - dt.timedelta(days=days)
        ledger.invoices[number] = invoice(
            number,
            "C1",
            gross,
            invoice_date=due - dt.timedelta(days=30),
            due_date=due,
            currency=currency,
        )
    # partly paid in the books: only what is open counts
    ledger.invoices["d30"] = invoice(
        "d30",
        "C2",
        "100.00",
        invoice_date=TODAY - dt.timedelta(days=60),
        due_date=TODAY - dt.timedelta(days=30),
        outstanding_amount=D("30.30"),
    )
    sync_client(db, registry, box, "acme", TODAY)
    return Context(Services(db, registry, box), Actor("root"), Clock(fixed=TODAY)), ledger


def test_open_amount_by_age_is_exact_at_every_edge(
    world: tuple[Context, RecordingPlugin],
) -> None:
    ctx, _ = world
    found = overview.client_overview(ctx, "acme")
    assert (found.client, found.currency, found.today) == ("acme", "DKK", TODAY)
    dkk, eur = found.ages
    assert dkk == overview.AgeBuckets(
        currency="DKK",
        not_due=D("1000.01"),
        days_0_30=D("31.40"),  # 1.10 + 30.30
        days_31_60=D("91.91"),  # 31.31 + 60.60
        days_61_90=D("152.51"),  # 61.61 + 90.90
        days_over_90=D("491.95"),  # 91.91 + 400.04
        overdue=D("767.77"),
        invoices=10,
    )
    assert eur == overview.AgeBuckets("EUR", D(0), D(0), D("12.34"), D(0), D(0), D("12.34"), 1)
    assert found.as_dict()["ages"][0]["days_61_90"] == D("152.51")


def test_cases_by_stage_count_open_cases_only(world: tuple[Context, RecordingPlugin]) -> None:
    ctx, _ = world
    assert [s.as_dict() for s in overview.client_overview(ctx, "acme").stages] == [
        {"stage": "invoice", "active": 0, "paused": 0},
        {"stage": "reminder", "active": 0, "paused": 0},
        {"stage": "collection", "active": 0, "paused": 0},
    ]
    later = cases.start_case(ctx, client="acme", invoice="later").id
    d1 = cases.start_case(ctx, client="acme", invoice="d1").id
    d31 = cases.start_case(ctx, client="acme", invoice="d31").id
    cases.pause_case(ctx, cases.PauseRequest(d1, "customer phoned"))
    cases.close_case(ctx, cases.CloseRequest(d31, "dispute", "customer_disputes_claim"))
    stages = {
        s.stage: (s.active, s.paused, s.open) for s in overview.client_overview(ctx, "acme").stages
    }
    assert stages == {"invoice": (1, 0, 1), "reminder": (0, 1, 1), "collection": (0, 0, 0)}
    assert later  # the invoice case counts as active in the invoice stage


def test_a_client_with_nothing_open_has_a_row_of_zeros_and_an_unseen_one_is_not_found(
    db: Database, box: SecretBox
) -> None:
    registry = registry_with(RecordingPlugin("ledger"))
    add_client_with_plugin(db, registry, box, "empty", "ledger", {"api_token": "t"}, "NO")
    root = Context(Services(db, registry, box), Actor("root"), Clock(fixed=TODAY))
    (nok,) = overview.client_overview(root, "empty").ages
    assert nok.currency == "NOK" and nok.overdue == nok.not_due == D(0) and nok.invoices == 0
    other = Context(root.services, Actor("bo", role="consultant", clients=frozenset({"x"})))
    with pytest.raises(NotFoundError) as unseen:
        overview.client_overview(other, "empty")
    with pytest.raises(NotFoundError) as missing:
        overview.client_overview(root, "ghost")
    assert str(unseen.value) == str(missing.value).replace("ghost", "empty")
