"""The consumer and employee tokens, and the session tokens made from them, never show: not in
a log (structlog or the standard library, at DEBUG), not on stdout or stderr, not in an error,
in none of the forms they take on the way out (as they are, URL-encoded, base64, HTTP Basic)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
import structlog.testing
from hub_norwegian_invoicing import plugin
from norwegian_invoicing_support import CONSUMER, EMPLOYEE, MakeCtx, add_invoices, credit_request

from hub.errors import HubError
from hub.model import ClientContext, DraftLine, InvoiceDraft, JournalEntry, JournalLine
from hub.testing.conformance.leaks import forms
from hub.testing.fakes.tripletex import Company, FakeTripletex, Fault


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()} {record.__dict__!r}")


@pytest.fixture
def seen() -> Iterator[Callable[[], list[str]]]:
    """seen(): everything logged at DEBUG so far, structlog events and standard-library
    records."""
    handler = _Lines()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in ("httpx", "httpcore", "hub.toolkit.http"):
        logging.getLogger(name).setLevel(logging.NOTSET)
    with structlog.testing.capture_logs() as events:
        yield lambda: [repr(e) for e in events] + handler.lines
    root.removeHandler(handler)
    root.setLevel(level)


def _hooks(ctx: ClientContext) -> list[Callable[[], object]]:
    entry = JournalEntry(
        idempotency_key="writeoff:1",
        date=dt.date(2026, 1, 30),
        currency="NOK",
        text="Tap",
        lines=(
            JournalLine(Decimal("-1250.00"), "Kunde", customer_number="10", invoice_number="10002"),
            JournalLine(Decimal("1250.00"), "Tap", account="7830"),
        ),
    )
    draft = InvoiceDraft(
        idempotency_key="recurring:1:1",
        kind="invoice",
        customer_number="10",
        invoice_date=dt.date(2026, 2, 1),
        due_date=dt.date(2026, 2, 15),
        currency="NOK",
        lines=(DraftLine("Abonnement", Decimal("1"), Decimal("100.00")),),
    )
    return [
        lambda: plugin.fetch_open_invoices(ctx),
        lambda: plugin.fetch_invoice_status(ctx, ["10001", "10002", "99"]),
        lambda: plugin.fetch_customers(ctx, ["10", "11"]),
        lambda: plugin.fetch_customer_balance(ctx, ["10", "11"]),
        lambda: plugin.create_credit_note(ctx, credit_request(10001)),
        lambda: plugin.post_journal_lines(ctx, entry),
        lambda: plugin.create_invoice(ctx, draft),
    ]


def test_no_token_shows_in_logs_output_or_errors(
    make_ctx: MakeCtx,
    company: Company,
    fake: FakeTripletex,
    seen: Callable[[], list[str]],
    capfd: pytest.CaptureFixture[str],
) -> None:
    add_invoices(company, 10001, 2, [10])
    ctx = make_ctx()
    for hook in _hooks(ctx) * 2:  # the second time, the writes find what the first made
        hook()
    fake.expire_sessions()  # a 401, and a new session
    errors: list[str] = []
    for fault in (
        Fault(status=401, count=1000),
        Fault(status=429, retry_after=0.01, count=1000),
        Fault(status=500, count=1000),
        Fault(malformed=True, count=1000),
        Fault(after_processing=True, count=1000),
    ):
        fake.fault(fault)
        for hook in _hooks(ctx):
            try:
                hook()
            except HubError as exc:
                errors.append(f"{exc!r} {exc}")
        fake.clear_faults()
    for hook in _hooks(make_ctx(employee_token="employee-refused-9876")):
        with pytest.raises(HubError) as caught:
            hook()
        errors.append(f"{caught.value!r} {caught.value}")

    out, err = capfd.readouterr()
    sessions = list(fake.sessions)
    logged = seen()
    assert len(sessions) >= 2 and errors and any("http.request" in t for t in logged)
    secrets = {"consumer_token": CONSUMER, "employee_token": EMPLOYEE}
    secrets |= {f"session {n}": token for n, token in enumerate(sessions)}
    places = [("stdout", out), ("stderr", err)] + [("a log", t) for t in logged]
    places += [("an error", e) for e in errors]
    leaks = sorted(
        {
            f"{name} in {where}"
            for name, value in secrets.items()
            for where, text in places
            if any(form in text for form in forms(value, ["0", str(company.id)]))
        }
    )
    assert leaks == []
