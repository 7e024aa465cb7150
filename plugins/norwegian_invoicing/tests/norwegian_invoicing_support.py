"""What the Tripletex plugin tests share besides fixtures: tokens, dates, the fast HTTP options,
contexts, and the check of every recorded request against Tripletex's OpenAPI spec.

A module of its own (not ``conftest``): several plugins' test directories have a conftest, so
importing names from "conftest" would depend on which one was imported last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from hub_norwegian_invoicing import plugin
from hub_norwegian_invoicing.client import HttpOptions

from hub.amounts import CENT
from hub.model import ClientContext, CreditNoteRequest
from hub.testing.contexts import plugin_context, schema_defaults
from hub.testing.fakes.tripletex import Company, FakeTripletex, RecordedRequest
from hub.testing.fakes.tripletex import spec as tripletex_spec
from hub.toolkit.http import RetryPolicy

CONSUMER = "consumer-7d41c9e2b8"
EMPLOYEE = "employee-3f90a6d1c5"
#: The client's today (and the fake's): far enough from the real date that a plugin taking
#: dates from ``date.today()`` instead of the request shows.
TODAY = dt.date(2026, 2, 2)
#: Records a page the plugin asks for in these tests (and the most the fake serves), so that
#: a few dozen invoices make several pages.
PAGE = 50
MakeCtx = Callable[..., ClientContext]


class Sleeps(list[float]):
    """What the HTTP client would have slept between retries (recorded, not slept)."""


def fast_options(sleep: Callable[[float], None]) -> HttpOptions:
    """3 attempts, millisecond backoff, waits up to 5 s honoured (recorded by ``sleep``), and
    :data:`PAGE` records a page."""
    return HttpOptions(
        retry=RetryPolicy(
            max_attempts=3, initial_backoff=0.001, max_backoff=0.002, max_retry_after=5
        ),
        sleep=sleep,
        timeout=5.0,
        page_size=PAGE,
    )


def context(url: str, *, today: dt.date = TODAY, **settings: str) -> ClientContext:
    """A context for the fake company, as the core builds one (defaults filled in, secrets
    masked in its repr)."""
    info = plugin.system_info()
    values = {
        **schema_defaults(info),
        "consumer_token": CONSUMER,
        "employee_token": EMPLOYEE,
        "base_url": url,
        **settings,
    }
    return plugin_context(
        info,
        values,
        today=today,
        client_name="Fjordline AS",
        country="NO",
        currency="NOK",
        timezone="Europe/Oslo",
    )


def add_invoices(
    company: Company,
    first: int,
    count: int,
    customers: list[int],
    net: Decimal = Decimal("1000.00"),
    on: dt.date = dt.date(2026, 1, 5),
) -> list[int]:
    """``count`` unpaid invoices at 25 % VAT numbered from ``first``, round-robin over
    ``customers``, dated ``on`` with 14 days' credit."""
    numbers = []
    for k in range(count):
        company.add_invoice(
            first + k,
            customers[k % len(customers)],
            on,
            on + dt.timedelta(days=14),
            net,
            (net / 4).quantize(CENT),
        )
        numbers.append(first + k)
    return numbers


def to(requests: list[RecordedRequest], method: str, prefix: str) -> list[RecordedRequest]:
    """The recorded requests of ``method`` whose API path starts with ``prefix``."""
    return [r for r in requests if r.method == method and r.path.startswith(prefix)]


def credit_request(
    number: int, amount: Decimal = Decimal("1250.00"), customer: str = "10", key: str | None = None
) -> CreditNoteRequest:
    """Credit invoice ``number`` of ``customer`` (by default in full: 1000.00 + 25 %)."""
    return CreditNoteRequest(
        idempotency_key=key or f"creditnote:{number}",
        invoice_number=str(number),
        customer_number=customer,
        date=TODAY,
        currency="NOK",
        amount=amount,
        reason="Kreditert etter avtale",
    )


def spec_problems(fake: FakeTripletex) -> list[str]:
    """What does not fit Tripletex's OpenAPI spec among every request the fake received and
    every answer it gave. The answers of faults meant to be unreadable (``malformed``) are left
    out; their requests are not."""
    with fake.lock:
        recorded = list(fake.requests)
    problems: list[str] = []
    for exchange in recorded:
        try:
            if exchange.fault is not None and exchange.fault.malformed:
                tripletex_spec.validate_request(exchange)
            else:
                tripletex_spec.validate_exchange(exchange)
        except AssertionError as exc:
            problems.append(str(exc))
    return problems
