"""Refusals, throttling, server errors and malformed answers become the hub's errors, with what
e-conomic said, and never with a token in them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
import structlog.testing
from economic_support import APP, GRANT, MakeCtx, Sleeps, add_invoices
from hub_economic import client, plugin
from hub_economic.settings import load_config

from hub.errors import (
    AuthError,
    InvalidDataError,
    RemoteRequestError,
    RemoteServerError,
    ThrottledError,
)
from hub.model import CreditNoteRequest
from hub.testing.fakes.economic import Agreement, FakeEconomic, Fault


def test_429_waits_as_long_as_retry_after_says(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, sleeps: Sleeps
) -> None:
    add_invoices(agreement, 5001, 2, [101])
    fake.fail_next(Fault(status=429, retry_after=2, count=1))

    invoices = plugin.fetch_open_invoices(make_ctx())

    assert len(invoices) == 2
    assert sleeps == [2.0]
    assert [r.status for r in fake.requests] == [429, 200]


def test_throttled_beyond_what_a_call_waits_for(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, sleeps: Sleeps
) -> None:
    fake.fail_next(Fault(status=429, retry_after=120, count=5))
    with pytest.raises(ThrottledError) as caught:
        plugin.fetch_open_invoices(make_ctx())
    assert caught.value.retry_after == 120
    assert "Too many requests" in str(caught.value) and "120" in str(caught.value)
    assert sleeps == [] and len(fake.requests) == 1  # not waited for, not retried


def test_still_throttled_after_every_attempt(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, sleeps: Sleeps
) -> None:
    fake.fail_next(Fault(status=429, retry_after=1, count=3))
    with pytest.raises(ThrottledError, match="after 3 attempts"):
        plugin.fetch_customers(make_ctx(), ["101"])
    assert sleeps == [1.0, 1.0]


def test_5xx_is_retried(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, sleeps: Sleeps
) -> None:
    add_invoices(agreement, 5001, 1, [101])
    fake.fail_next(Fault(status=503, count=2))
    [status] = plugin.fetch_invoice_status(make_ctx(), ["5001"])
    assert status.outstanding_amount == Decimal("1250.00")
    assert [r.status for r in fake.requests] == [503, 503, 200] and len(sleeps) == 2


def test_5xx_after_every_attempt_says_what_e_conomic_said(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    fake.fail_next(Fault(status=500, count=3))
    with pytest.raises(RemoteServerError) as caught:
        plugin.fetch_open_invoices(make_ctx())
    message = str(caught.value)
    assert "HTTP 500" in message and "after 3 attempts" in message
    assert "An unexpected error occurred" in message and "logId" in message
    assert caught.value.plugin == "economic"


def test_a_slow_answer_is_waited_for(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    fake.fail_next(Fault(delay=0.5))
    assert plugin.fetch_open_invoices(make_ctx()) == []


def test_a_malformed_body_is_invalid_data_naming_the_url(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    fake.fail_next(Fault(malformed=True))
    with pytest.raises(InvalidDataError) as caught:
        plugin.fetch_open_invoices(make_ctx())
    assert caught.value.where is not None and caught.value.where.endswith("/invoices/unpaid")
    assert "not valid JSON" in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "named", "not_named"),
    [
        ({"app_secret_token": "app-wrong-1234"}, "app_secret_token", "agreement_grant_token"),
        ({"agreement_grant_token": "grant-wrong-5678"}, "agreement_grant_token", "app_secret"),
    ],
)
def test_a_refused_token_is_named_and_never_shown(
    agreement: Agreement,
    make_ctx: MakeCtx,
    fake: FakeEconomic,
    settings: dict[str, str],
    named: str,
    not_named: str,
) -> None:
    ctx = make_ctx(**settings)
    for call in (
        lambda: plugin.fetch_open_invoices(ctx),
        lambda: plugin.fetch_customers(ctx, ["101"]),
    ):
        with pytest.raises(AuthError) as caught:
            call()
        message = str(caught.value)
        assert named in message and not_named not in message
        assert "HTTP 401" in message and "e-conomic" in message
        for secret in (APP, GRANT, *settings.values()):
            assert secret not in message
    assert [r.status for r in fake.requests] == [401, 401]  # never retried


def test_a_revoked_grant_names_the_grant(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    agreement.revoke()
    with pytest.raises(AuthError, match="agreement_grant_token"):
        plugin.fetch_open_invoices(make_ctx())


def test_a_role_without_access_is_403(make_ctx: MakeCtx, fake: FakeEconomic) -> None:
    fake.add_agreement(APP, GRANT, "Bogholder ApS", role="Bookkeeping")
    with pytest.raises(AuthError) as caught:
        plugin.fetch_customers(make_ctx(), ["101"])
    message = str(caught.value)
    assert "HTTP 403" in message and "role" in message and GRANT not in message


def test_tokens_never_reach_the_logs(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic, sleeps: Sleeps
) -> None:
    add_invoices(agreement, 5001, 1, [101])
    fake.fail_next(Fault(status=503, count=1))
    ctx = make_ctx()
    with structlog.testing.capture_logs() as logs:
        plugin.fetch_open_invoices(ctx)
        plugin.create_credit_note(
            ctx,
            CreditNoteRequest(
                "creditnote:1", "5001", "101", dt.date(2026, 2, 1), "DKK", Decimal("1250.00"), "r"
            ),
        )
    assert len(logs) >= 6 and any(e["event"] == "http.retry" for e in logs)
    text = repr(logs) + repr(ctx)
    assert APP not in text and GRANT not in text


def test_a_token_echoed_by_the_server_is_masked(agreement: Agreement, make_ctx: MakeCtx) -> None:
    """Whatever a server answers, a token never reaches the error's text."""
    config = load_config(make_ctx().settings)

    def echo(request: httpx.Request) -> httpx.Response:
        token = request.headers["X-AgreementGrantToken"]
        return httpx.Response(400, json={"message": f"bad grant {token}", "errorCode": "E1"})

    economic = client.EconomicClient(
        config, client.HttpOptions(transport=httpx.MockTransport(echo))
    )
    with pytest.raises(RemoteRequestError) as caught:
        economic.get("/customers")
    assert GRANT not in str(caught.value) and "bad grant ********" in str(caught.value)
    economic.close()


def test_a_validation_error_carries_e_conomic_s_fields(
    agreement: Agreement, make_ctx: MakeCtx, fake: FakeEconomic
) -> None:
    add_invoices(agreement, 5001, 1, [101])
    ctx = make_ctx(product_number="NO-SUCH-PRODUCT")
    request = CreditNoteRequest(
        "creditnote:9", "5001", "101", dt.date(2026, 2, 1), "DKK", Decimal("1250.00"), "r"
    )
    with pytest.raises(RemoteRequestError) as caught:
        plugin.create_credit_note(ctx, request)
    message = str(caught.value)
    assert message.startswith("credit note for invoice 5001: economic: POST /invoices/drafts")
    assert "HTTP 400" in message and "Validation error" in message
    assert "lines[0].product: E06000 product does not exist;" in message
    assert "logId" in message
    assert agreement.drafts == {}


def test_an_unknown_invoice_cannot_be_credited(agreement: Agreement, make_ctx: MakeCtx) -> None:
    request = CreditNoteRequest(
        "creditnote:9", "4711", "101", dt.date(2026, 2, 1), "DKK", Decimal("10.00"), "r"
    )
    with pytest.raises(RemoteRequestError, match="e-conomic has no booked invoice 4711"):
        plugin.create_credit_note(make_ctx(), request)


def test_a_next_page_on_another_host_is_not_followed(
    agreement: Agreement, make_ctx: MakeCtx
) -> None:
    config = load_config(make_ctx().settings)
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(
            200,
            json={"collection": [], "pagination": {"nextPage": "https://evil.example/x?s=1"}},
        )

    economic = client.EconomicClient(
        config, client.HttpOptions(transport=httpx.MockTransport(answer))
    )
    with pytest.raises(InvalidDataError, match="not following it"):
        economic.collection("/invoices/unpaid")
    assert len(seen) == 1
    economic.close()


def test_connection_refused_is_a_server_error(
    agreement: Agreement, make_ctx: MakeCtx, sleeps: Sleeps
) -> None:
    ctx = make_ctx(base_url="http://127.0.0.1:9")  # discard port: nothing listens
    with pytest.raises(RemoteServerError, match="no answer from the server after 3 attempts"):
        plugin.fetch_open_invoices(ctx)
