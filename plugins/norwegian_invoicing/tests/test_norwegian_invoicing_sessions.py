"""Sessions: made once from the tokens in a POST body, used as HTTP Basic, renewed before they
run out and when Tripletex drops them, refused tokens named and never shown."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from hub_norwegian_invoicing import client as tripletex_client
from hub_norwegian_invoicing import plugin
from norwegian_invoicing_support import CONSUMER, EMPLOYEE, MakeCtx, add_invoices, credit_request

from hub.errors import AuthError
from hub.model import ClientContext
from hub.testing.fakes.tripletex import Company, FakeTripletex

SESSION = "/token/session/:create"


def _basic(headers: dict[str, str]) -> tuple[str, str]:
    scheme, _, encoded = headers["authorization"].partition(" ")
    assert scheme == "Basic"
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    return user, password


def test_one_session_from_the_tokens_in_a_post_body_serves_every_call(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 2, [10])
    plugin.fetch_open_invoices(ctx)
    plugin.fetch_customers(ctx, ["10"])
    plugin.fetch_invoice_status(ctx, ["10001"])

    [create] = fake.requests_to(SESSION)
    assert create.method == "POST"  # never the legacy PUT with the tokens in the query
    assert create.query == {}
    assert create.json["consumerToken"] == CONSUMER
    assert create.json["employeeToken"] == EMPLOYEE
    expires = dt.date.fromisoformat(create.json["expirationDate"])
    assert expires == max(dt.datetime.now(dt.UTC).date(), ctx.today) + dt.timedelta(days=2)
    assert create.response is not None
    token = create.response.json()["value"]["token"]
    calls = [r for r in fake.requests if r.path != SESSION]
    assert len(calls) == 3
    assert {_basic(r.headers) for r in calls} == {("0", token)}


def test_company_id_is_the_basic_user(
    make_ctx: MakeCtx, company: Company, fake: FakeTripletex
) -> None:
    plugin.fetch_customers(make_ctx(company_id=str(company.id)), ["10"])
    [call] = fake.requests_to("/customer")
    assert _basic(call.headers)[0] == str(company.id)


def test_a_dropped_session_is_renewed_once_and_the_call_goes_through(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 1, [10])
    plugin.fetch_open_invoices(ctx)
    fake.expire_sessions()

    invoices = plugin.fetch_open_invoices(ctx)

    assert [i.invoice_number for i in invoices] == ["10001"]
    statuses = [(r.method, r.path, r.status) for r in fake.requests]
    assert statuses == [
        ("POST", SESSION, 201),
        ("GET", "/invoice", 200),
        ("GET", "/invoice", 401),
        ("POST", SESSION, 201),
        ("GET", "/invoice", 200),
    ]


def test_a_write_refused_for_its_session_is_sent_again_with_a_new_one(
    ctx: ClientContext, company: Company, fake: FakeTripletex
) -> None:
    add_invoices(company, 10001, 1, [10])
    plugin.fetch_customers(ctx, ["10"])
    fake.expire_sessions()
    reference = plugin.create_credit_note(ctx, credit_request(10001))
    assert reference == str(company.invoice(10001).credit_note.invoice_number)  # type: ignore[union-attr]
    assert len(fake.requests_to(SESSION)) == 2


def test_a_session_running_out_is_renewed_before_the_call(
    make_ctx: MakeCtx, company: Company, fake: FakeTripletex
) -> None:
    """A client whose today (real or simulated) comes within a day of the session's expiration
    date makes a new session first: no call is refused for it."""
    plugin.fetch_customers(make_ctx(), ["10"])
    [first] = fake.requests_to(SESSION)
    expires = dt.date.fromisoformat(first.json["expirationDate"])
    later = expires - dt.timedelta(days=1)
    fake.today = later

    plugin.fetch_customers(make_ctx(today=later), ["10"])

    creates = fake.requests_to(SESSION)
    assert len(creates) == 2
    assert creates[1].json["expirationDate"] == (later + dt.timedelta(days=2)).isoformat()
    assert all(r.status < 400 for r in fake.requests)


def test_refused_tokens_are_an_auth_error_naming_the_settings_not_their_values(
    make_ctx: MakeCtx, company: Company, fake: FakeTripletex
) -> None:
    ctx = make_ctx(employee_token="employee-refused-0000")
    with pytest.raises(AuthError) as caught:
        plugin.fetch_open_invoices(ctx)
    message = str(caught.value)
    assert caught.value.plugin == "norwegian_invoicing"
    assert "consumer_token" in message and "employee_token" in message
    assert "employee-refused-0000" not in message and CONSUMER not in message
    assert [r.path for r in fake.requests] == [SESSION]  # nothing else is tried


def test_a_company_the_employee_may_not_use_is_an_auth_error(
    make_ctx: MakeCtx, company: Company, fake: FakeTripletex
) -> None:
    """A company id the session may not use: 403, not retried, no new session."""
    with pytest.raises(AuthError, match="HTTP 403") as caught:
        plugin.fetch_customers(make_ctx(company_id="42"), ["10"])
    assert "employee_token" in str(caught.value)
    assert [(r.path, r.status) for r in fake.requests] == [(SESSION, 201), ("/customer", 403)]


def test_new_tokens_make_a_new_client_and_session(
    make_ctx: MakeCtx, company: Company, fake: FakeTripletex
) -> None:
    plugin.fetch_customers(make_ctx(), ["10"])
    other = fake.add_company("consumer-other-11", "employee-other-22", "Annen AS")
    other.add_customer(10, "Annen Kunde AS")
    [customer] = plugin.fetch_customers(
        make_ctx(consumer_token="consumer-other-11", employee_token="employee-other-22"), ["10"]
    )
    assert customer.name == "Annen Kunde AS"
    assert len(fake.requests_to(SESSION)) == 2
    tripletex_client.close_clients()
