"""Fixtures for the Tripletex plugin tests: the fake Tripletex over real HTTP on loopback, a
company with customers, contexts as the core builds them, fast retries, and every request
the plugin sent (and every answer) checked against Tripletex's OpenAPI spec."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator

import pytest
from hub_norwegian_invoicing import client as tripletex_client
from norwegian_invoicing_support import (
    CONSUMER,
    EMPLOYEE,
    PAGE,
    TODAY,
    MakeCtx,
    Sleeps,
    context,
    fast_options,
    spec_problems,
)

from hub.model import ClientContext
from hub.testing.fakes.tripletex import Company, FakeTripletex, TripletexServer
from hub.testing.fakes.tripletex import spec as tripletex_spec


@pytest.fixture
def sleeps() -> Iterator[Sleeps]:
    """Every plugin client built in the test retries fast and records its waits."""
    recorded = Sleeps()
    tripletex_client.configure(fast_options(recorded.append))
    yield recorded
    tripletex_client.configure(tripletex_client.HttpOptions())


@pytest.fixture
def fake(sleeps: Sleeps) -> FakeTripletex:
    return FakeTripletex(today=TODAY, count_max=PAGE)


@pytest.fixture
def company(fake: FakeTripletex) -> Company:
    firm = fake.add_company(CONSUMER, EMPLOYEE, "Fjordline AS")
    firm.add_customer(
        10,
        "Nordmann Bygg AS",
        "post@nordmann.example",
        organization_number="920000010",
        address="Storgata 5",
        postal_code="6002",
        city="Ålesund",
        invoice_email="faktura@nordmann.example",
    )
    firm.add_customer(11, "Blåbær Kafé AS", None, invoices_due_in=10)
    return firm


@pytest.fixture
def server(fake: FakeTripletex) -> Iterator[TripletexServer]:
    with TripletexServer(fake) as running:
        yield running


@pytest.fixture
def make_ctx(server: TripletexServer) -> MakeCtx:
    """make_ctx(today=..., **settings): a context for the fake company, as the core builds it."""

    def make(*, today: dt.date = TODAY, **settings: str) -> ClientContext:
        return context(server.url, today=today, **settings)

    return make


@pytest.fixture
def ctx(make_ctx: MakeCtx, company: Company) -> ClientContext:
    return make_ctx()


@pytest.fixture(autouse=True)
def requests_match_the_spec(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that ran the fake: every request the plugin sent, and every answer it
    got, validates against Tripletex's OpenAPI spec (:mod:`hub.testing.fakes.tripletex.spec`). The
    answers of faults meant to be unreadable (``malformed``) are left out; their requests are
    not. Without the spec beside the repository the check is skipped, with a warning saying
    why (the test itself still runs)."""
    if "fake" not in request.fixturenames:
        yield
        return
    # Asked for before the test runs, so that the fake is torn down after this check.
    fake: FakeTripletex = request.getfixturevalue("fake")
    reason = tripletex_spec.spec_missing_reason()
    if reason is not None:
        warnings.warn(f"requests not validated against Tripletex's spec: {reason}", stacklevel=1)
        yield
        return
    yield
    problems = spec_problems(fake)
    assert problems == [], f"{len(problems)} exchange(s) do not fit Tripletex's spec:\n" + (
        "\n".join(problems[:5])
    )
