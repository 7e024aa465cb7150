"""The fake Tripletex API v2 (hub.testing.fakes.tripletex) over real HTTP on loopback: every
request and answer is checked against Tripletex's OpenAPI spec (hub.testing.fakes.tripletex.spec),
then the behaviour: auth, paging, fields, orders and invoices, credit notes, vouchers and the
ledger's arithmetic, rate limiting, faults, the Python API, speed and the process.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hub.testing.fakes.tripletex import (
    Company,
    FakeTripletex,
    Fault,
    RecordedRequest,
    Response,
    TripletexServer,
    dumps,
    seed,
)
from hub.testing.fakes.tripletex.spec import (
    load_spec,
    spec_missing_reason,
    validate_exchange,
    validate_response,
)

TODAY = date(2026, 2, 1)
D = Decimal
JAN: dict[str, Any] = {"invoiceDateFrom": "2026-01-01", "invoiceDateTo": "2026-03-01"}
WIDE: dict[str, Any] = {"invoiceDateFrom": "2025-01-01", "invoiceDateTo": "2027-01-01"}


#: Without the spec (shared/specs absent), the behaviour tests run unchecked against it.
SPEC_MISSING = spec_missing_reason()
needs_spec = pytest.mark.skipif(SPEC_MISSING is not None, reason=SPEC_MISSING or "")


def loads(response: httpx.Response) -> Any:
    """The body with amounts as Decimal, as a careful client reads it."""
    return json.loads(response.content, parse_float=Decimal)


class Api:
    """An httpx client for a served fake; every exchange is validated against the spec."""

    def __init__(self, fake: FakeTripletex, server: TripletexServer, token: str | None) -> None:
        self.fake = fake
        self.url = server.url
        self.client = httpx.Client(base_url=server.url, timeout=10, verify=False)  # plain HTTP
        self.token = token

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: object = None,
        raw: bytes | None = None,
        expect: int | None = None,
        spec_invalid: bool = False,
        user: str = "0",
        token: str | None = None,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        secret = token if token is not None else self.token
        auth = (user, secret) if secret else None
        content = raw if raw is not None else dumps(body).encode() if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        with self.fake.lock:
            seen = len(self.fake.requests)
        response = self.client.request(
            method, path, params=params, content=content, headers=headers, auth=auth
        )
        if expect is not None:
            assert response.status_code == expect, response.text
        record = self.fake.requests[seen]
        assert record.response is not None and record.response.status == response.status_code
        if SPEC_MISSING is None:
            validate_exchange(record, request_valid=not spec_invalid)
        return response

    def get(
        self,
        path: str,
        expect: int | None = 200,
        *,
        token: str | None = None,
        spec_invalid: bool = False,
        **params: Any,
    ) -> Any:
        response = self.call(
            "GET", path, params=params, expect=expect, token=token, spec_invalid=spec_invalid
        )
        return loads(response)

    def post(self, path: str, body: object, expect: int | None = 201, **params: Any) -> Any:
        return loads(self.call("POST", path, params=params, body=body, expect=expect))

    def put(self, path: str, expect: int | None = 200, **params: Any) -> Any:
        return loads(self.call("PUT", path, params=params, expect=expect))


def make_fake(**options: Any) -> tuple[FakeTripletex, Company]:
    fake = FakeTripletex(today=TODAY, **options)
    company = fake.add_company("consumer-1", "employee-1", "Firma AS")
    company.add_customer(
        10001,
        "Nordmann AS",
        "post@nordmann.no",
        organization_number="912345678",
        address="Storgata 1",
        postal_code="0150",
        city="Oslo",
    )
    company.add_customer(10002, "Fjord & Fisk AS", invoices_due_in=30)
    company.add_customer(10003, "Uten Epost AS")
    company.add_invoice(
        10001, 10001, date(2026, 1, 1), date(2026, 1, 15), D("1000.00"), D("250.00")
    )
    company.add_invoice(
        10002,
        10002,
        date(2026, 1, 10),
        date(2026, 2, 10),
        D("200.00"),
        D("50.00"),
        outstanding=D("100.00"),
    )
    company.add_invoice(10003, 10001, date(2026, 2, 1), date(2026, 2, 15), D("80.00"), D("20.00"))
    return fake, company


@pytest.fixture
def served() -> Iterator[tuple[FakeTripletex, Company, Api]]:
    fake, company = make_fake()
    with TripletexServer(fake) as server:
        api = Api(fake, server, None)
        created = api.post(
            "/token/session/:create",
            {
                "consumerToken": "consumer-1",
                "employeeToken": "employee-1",
                "expirationDate": "2026-03-01",
            },
        )
        api.token = created["value"]["token"]
        yield fake, company, api
        api.client.close()


def accounts(api: Api) -> dict[int, int]:
    """Account number -> id."""
    return {a["number"]: a["id"] for a in api.get("/ledger/account", fields="id,number")["values"]}


def invoice(api: Api, company: Company, number: int, **params: Any) -> dict[str, Any]:
    ident = company.invoice(number).id
    return api.get(f"/invoice/{ident}", **params)["value"]  # type: ignore[no-any-return]


# --- auth -----------------------------------------------------------------------------------------


def test_sessions_are_created_by_post_and_legacy_put(served: tuple[Any, Company, Api]) -> None:
    _, company, api = served
    legacy = api.put(
        "/token/session/:create",
        consumerToken="consumer-1",
        employeeToken="employee-1",
        expirationDate="2026-02-02",
    )["value"]
    assert legacy["expirationDate"] == "2026-02-02" and legacy["token"] != api.token
    me = loads(api.call("GET", "/token/session/>whoAmI", token=legacy["token"], expect=200))
    assert me["value"]["companyId"] == company.id
    assert me["value"]["employeeId"] == company.employee_id
    expanded = api.get("/token/session/>whoAmI", fields="companyId,company(name)")["value"]
    assert expanded == {"companyId": company.id, "company": {"name": "Firma AS"}}

    wrong = api.post(
        "/token/session/:create",
        {"consumerToken": "consumer-1", "employeeToken": "nope", "expirationDate": "2026-03-01"},
        expect=401,
    )
    assert (wrong["status"], wrong["code"]) == (401, 3000)
    expired = api.post(
        "/token/session/:create",
        {
            "consumerToken": "consumer-1",
            "employeeToken": "employee-1",
            "expirationDate": "2026-02-01",
        },
        expect=422,
    )
    assert expired["validationMessages"][0]["field"] == "expirationDate"
    missing = api.post("/token/session/:create", {"consumerToken": "consumer-1"}, expect=422)
    assert {m["field"] for m in missing["validationMessages"]} == {
        "employeeToken",
        "expirationDate",
    }
    assert missing["code"] == 15000


def test_every_call_needs_a_live_session(served: tuple[FakeTripletex, Company, Api]) -> None:
    fake, company, api = served
    none = loads(api.call("GET", "/customer", token="", expect=401, spec_invalid=True))
    assert (none["status"], none["code"], none["message"]) == (401, 3000, "Unauthorized")
    assert api.get("/customer", expect=401, token="made-up")["code"] == 3000
    assert loads(api.call("GET", "/customer", user=str(company.id), expect=200))["count"] == 3
    other = loads(api.call("GET", "/customer", user="4242", expect=403))
    assert (other["status"], other["code"]) == (403, 9000)

    fake.expire_sessions()
    assert api.get("/customer", expect=401)["code"] == 3000
    fresh = api.post(
        "/token/session/:create",
        {
            "consumerToken": "consumer-1",
            "employeeToken": "employee-1",
            "expirationDate": "2026-02-03",
        },
    )["value"]["token"]
    api.token = fresh
    assert api.get("/customer")["count"] == 3
    fake.today = date(2026, 2, 3)  # a session is valid while today < expirationDate
    assert api.get("/customer", expect=401)["code"] == 3000
    fake.today = TODAY
    assert api.get("/customer")["count"] == 3
    assert api.call("DELETE", f"/token/session/{fresh}", expect=204).content == b""
    assert api.get("/customer", expect=401)["code"] == 3000


# --- reading invoices ---------------------------------------------------------------------------


def test_invoice_dates_are_required_and_the_end_is_exclusive(
    served: tuple[FakeTripletex, Company, Api],
) -> None:
    _, company, api = served
    error = loads(api.call("GET", "/invoice", expect=422, spec_invalid=True))
    assert error["code"] == 15000 and error["message"] == "Validation failed"
    assert [m["field"] for m in error["validationMessages"]] == ["invoiceDateFrom", "invoiceDateTo"]
    assert error["validationMessages"][0]["message"] == "Kan ikke være null."

    def numbers(**params: Any) -> list[int]:
        return [i["invoiceNumber"] for i in api.get("/invoice", **params)["values"]]

    assert numbers(invoiceDateFrom="2026-01-01", invoiceDateTo="2026-02-01") == [10001, 10002]
    assert numbers(invoiceDateFrom="2026-01-10", invoiceDateTo="2026-02-02") == [10002, 10003]
    assert numbers(**JAN, invoiceNumber="10003") == [10003]
    assert numbers(**JAN, invoiceNumber="10001,10003") == []  # "Equals": one number
    ids = f"{company.invoice(10001).id},{company.invoice(10003).id}"
    assert numbers(**JAN, id=ids) == [10001, 10003]
    assert numbers(**JAN, customerId=str(company.customer(10001).id)) == [10001, 10003]
    assert numbers(**JAN, kid=company.invoice(10002).kid) == [10002]
    voucher = invoice(api, company, 10002)["voucher"]["id"]
    assert numbers(**JAN, voucherId=str(voucher)) == [10002]
    assert numbers(**JAN, sorting="-invoiceNumber") == [10003, 10002, 10001]
    assert numbers(**JAN, sorting="customer.name,-invoiceDate") == [10002, 10003, 10001]
    bad_sort = api.get("/invoice", expect=422, **JAN, sorting="colour")
    assert bad_sort["code"] == 17000
    backwards = api.get(
        "/invoice", expect=422, invoiceDateFrom="2026-02-01", invoiceDateTo="2026-01-01"
    )
    assert backwards["validationMessages"][0]["field"] == "invoiceDateTo"


def test_invoice_shape_amounts_and_links(served: tuple[FakeTripletex, Company, Api]) -> None:
    _, company, api = served
    first = company.invoice(10001)
    text = api.call("GET", f"/invoice/{first.id}", expect=200).text
    assert '"amount":1250.00' in text and '"amountExcludingVat":1000.00' in text
    assert '"amountOutstanding":1250.00' in text and '"sumRemits":0.00' in text
    doc = loads(api.call("GET", f"/invoice/{first.id}"))["value"]
    host = api.url.removeprefix("http://")
    assert doc["url"] == f"{host}/invoice/{first.id}"  # host and path, no scheme
    assert doc["customer"] == {
        "id": company.customer(10001).id,
        "url": f"{host}/customer/{company.customer(10001).id}",
    }
    assert doc["creditedInvoice"] == 0 and doc["isCredited"] is False
    assert (doc["isCharged"], doc["isApproved"], doc["isCreditNote"]) == (True, True, False)
    assert doc["currency"]["id"] == 1 and doc["kid"] == "100016"
    assert (doc["invoiceDate"], doc["invoiceDueDate"]) == ("2026-01-01", "2026-01-15")
    partly = invoice(api, company, 10002)
    assert partly["amount"] == D("250.00") and partly["amountOutstanding"] == D("100.00")
    assert partly["amountCurrencyOutstandingTotal"] == D("100.00")
    assert len(partly["postings"]) == 2  # the invoice's posting and the payment's
    assert api.get("/invoice/999", expect=404)["code"] == 6000
    bad_id = loads(api.call("GET", "/invoice/abc", expect=400, spec_invalid=True))
    assert bad_id["code"] == 12000


def test_fields_select_and_expand(served: tuple[FakeTripletex, Company, Api]) -> None:
    _, company, api = served
    ident = company.invoice(10001).id
    slim = api.get(f"/invoice/{ident}", fields="id,invoiceNumber,amountOutstanding")["value"]
    assert slim == {"id": ident, "invoiceNumber": 10001, "amountOutstanding": D("1250.00")}
    full = api.get(f"/invoice/{ident}", fields="*,customer(*),orderLines(*)")["value"]
    assert full["customer"]["name"] == "Nordmann AS" and "amount" in full
    assert full["customer"]["postalAddress"].keys() == {"id", "url"}
    nested = api.get(f"/invoice/{ident}", fields="customer(name,postalAddress(addressLine1,city))")[
        "value"
    ]
    assert nested == {
        "customer": {
            "name": "Nordmann AS",
            "postalAddress": {"addressLine1": "Storgata 1", "city": "Oslo"},
        }
    }
    posting = api.get(f"/invoice/{ident}", fields="postings(amountGross,account(number))")
    assert posting["value"]["postings"] == [
        {"amountGross": D("1250.00"), "account": {"number": 1500}}
    ]
    company.register_payment(10001, D("1250.00"), TODAY)  # closes the group: a closeGroup link
    everything = (
        "*,customer(*,currency(*),postalAddress(*,country(*)),ledgerAccount(*)),"
        "voucher(*,postings(*,account(*,vatType(*)),vatType(*,parentType(*)),closeGroup(*),"
        "currency(*),customer(name))),orders(*),orderLines(*)"
    )
    deep_doc = api.get(f"/invoice/{ident}", fields=everything)["value"]  # validated like all
    assert deep_doc["customer"]["postalAddress"]["country"]["isoAlpha2Code"] == "NO"
    assert deep_doc["voucher"]["postings"][0]["closeGroup"]["postings"][0]["id"] > 0
    assert deep_doc["voucher"]["postings"][0]["currency"]["code"] == "NOK"
    me = api.get("/token/session/>whoAmI", fields="*,employee(*),company(*,currency(*))")
    assert me["value"]["company"]["name"] == "Firma AS"
    assert me["value"]["employee"]["companyId"] == company.id
    illegal = api.get(f"/invoice/{ident}", expect=400, fields="id,amountUnpaid")
    assert illegal["code"] == 11000
    assert illegal["message"] == (
        "Illegal field in fields filter: amountUnpaid. amountUnpaid does not match a field in "
        "the model: InvoiceDTO"
    )
    deep = api.get(f"/invoice/{ident}", expect=400, fields="customer(balance)")
    assert deep["message"].endswith("CustomerDTO")
    assert api.get(f"/invoice/{ident}", expect=400, fields="customer(name")["code"] == 11000
    assert api.get(f"/invoice/{ident}", fields="id,changes")["value"] == {
        "id": ident,
        "changes": [],
    }


def test_paging_over_2500_invoices() -> None:
    fake = FakeTripletex(today=TODAY, count_max=1000)
    [company] = seed(fake, 1, 2500, customers=7)
    with TripletexServer(fake) as server:
        api = Api(fake, server, fake.session_for(company))
        pages = []
        for start in (0, 1000, 2000, 3000):
            page = loads(
                api.call(
                    "GET", "/invoice", params={**WIDE, "from": start, "fields": "invoiceNumber"}
                )
            )
            assert page["fullResultSize"] == 2500 and page["from"] == start
            assert page["versionDigest"] == "'If-None-Match' header not specified"
            pages.append([i["invoiceNumber"] for i in page["values"]])
        assert [len(p) for p in pages] == [1000, 1000, 500, 0]
        assert [n for p in pages for n in p] == list(range(10001, 12501))
        small = api.get("/invoice", **WIDE, count="10", fields="id")
        assert small["count"] == 10 and len(small["values"]) == 10
        too_many = api.get("/invoice", expect=422, **WIDE, count="1001")
        assert too_many["code"] == 23000
        word = loads(
            api.call(
                "GET", "/invoice", params={**WIDE, "count": "many"}, expect=422, spec_invalid=True
            )
        )
        assert word["code"] == 21000 and word["validationMessages"][0]["field"] == "count"
        customers = api.get(
            "/customer", customerAccountNumber="10002,10005", fields="customerNumber"
        )
        assert [c["customerNumber"] for c in customers["values"]] == [10002, 10005]


def test_customers(served: tuple[FakeTripletex, Company, Api]) -> None:
    _, company, api = served
    listed = api.get("/customer")["values"]
    assert [c["customerNumber"] for c in listed] == [10001, 10002, 10003]
    first = listed[0]
    assert first["id"] == company.customer(10001).id != 10001
    assert (first["name"], first["email"], first["invoiceEmail"]) == (
        "Nordmann AS",
        "post@nordmann.no",
        "post@nordmann.no",
    )
    assert (first["organizationNumber"], first["invoicesDueIn"], first["invoicesDueInType"]) == (
        "912345678",
        14,
        "DAYS",
    )
    assert (first["language"], first["isCustomer"], first["accountManager"]) == ("NO", True, None)
    assert listed[1]["invoicesDueIn"] == 30 and listed[2]["email"] == ""
    by_number = api.get("/customer", customerAccountNumber="10003")["values"]
    assert [c["name"] for c in by_number] == ["Uten Epost AS"]
    assert api.get("/customer", isInactive="true")["values"] == []
    assert api.get("/customer", customerName="fisk")["values"][0]["customerNumber"] == 10002
    one = api.get(f"/customer/{first['id']}", fields="postalAddress(*),ledgerAccount(number)")
    address = one["value"]["postalAddress"]
    assert (address["addressLine1"], address["postalCode"], address["city"]) == (
        "Storgata 1",
        "0150",
        "Oslo",
    )
    assert one["value"]["ledgerAccount"] == {"number": 1500}
    assert api.get("/customer/1", expect=404)["code"] == 6000


# --- orders and invoices from orders ------------------------------------------------------------


def order_body(customer_id: int, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "customer": {"id": customer_id},
        "orderDate": "2026-02-01",
        "deliveryDate": "2026-02-01",
        "reference": "hub:recurring:7",
        "invoiceComment": "Abonnement februar",
        "orderLines": [
            {
                "description": "Abonnement",
                "count": D("2"),
                "unitPriceExcludingVatCurrency": D("99.99"),
                "vatType": {"id": 3},
            },
            {
                "description": "Mat",
                "count": D("3"),
                "unitPriceExcludingVatCurrency": D("10.05"),
                "discount": D("10"),
                "vatType": {"id": 31},
            },
            {
                "description": "Transport",
                "count": 1,
                "unitPriceIncludingVatCurrency": D("112.00"),
                "vatType": {"id": 32},
            },
        ],
    }
    body.update(changes)
    return body


def test_order_is_invoiced_once(served: tuple[FakeTripletex, Company, Api]) -> None:
    fake, company, api = served
    kunde = company.customer(10002)  # invoicesDueIn 30
    order = api.post("/order", order_body(kunde.id))["value"]
    assert (order["number"], order["isClosed"], order["invoicesDueIn"]) == ("1", False, 30)
    assert order["customer"]["id"] == kunde.id and len(order["orderLines"]) == 3
    lines = api.get(f"/order/{order['id']}", fields="orderLines(*)")["value"]["orderLines"]
    # 2 x 99.99 = 199.98 (+49.995 -> 50.00); 3 x 10.05 less 10 % = 27.135 -> 27.14 (+4.071 ->
    # 4.07); 112.00 incl. 12 % -> 100.00 net
    assert [(x["amountExcludingVatCurrency"], x["amountIncludingVatCurrency"]) for x in lines] == [
        (D("199.98"), D("249.98")),
        (D("27.14"), D("31.21")),
        (D("100.00"), D("112.00")),
    ]
    made = api.put(
        f"/order/{order['id']}/:invoice", invoiceDate="2026-02-01", sendToCustomer="false"
    )
    value = made["value"]
    assert value["id"] == order["preliminaryInvoice"]["id"]  # the id the order announced
    assert value["invoiceNumber"] == 10004  # the next after the highest
    assert value["invoiceDueDate"] == "2026-03-03"  # + invoicesDueIn 30 days
    assert (value["amountExcludingVat"], value["amount"]) == (D("327.12"), D("393.19"))
    assert value["amountOutstanding"] == D("393.19")
    assert value["orders"] == [{"id": order["id"], "url": order["url"]}]
    assert value["invoiceComment"] == "Abonnement februar" and value["customer"]["id"] == kunde.id
    again = api.put(f"/order/{order['id']}/:invoice", expect=422, invoiceDate="2026-02-01")
    assert (again["code"], again["validationMessages"][0]["message"]) == (
        18000,
        "Ordren er allerede fakturert.",
    )
    after = api.get(f"/order/{order['id']}", fields="isClosed,preliminaryInvoice(invoiceNumber)")
    assert after["value"] == {"isClosed": True, "preliminaryInvoice": {"invoiceNumber": 10004}}
    orders = api.get(
        "/order", orderDateFrom="2026-02-01", orderDateTo="2026-02-02", isClosed="true"
    )
    assert [o["id"] for o in orders["values"]] == [order["id"]]
    assert api.get("/order", orderDateFrom="2026-01-01", orderDateTo="2026-02-01")["values"] == []
    assert (
        api.get("/order", orderDateFrom="2026-01-01", orderDateTo="2026-03-01", number="1")["count"]
        == 1
    )
    missing = loads(api.call("GET", "/order", expect=422, spec_invalid=True))
    assert [m["field"] for m in missing["validationMessages"]] == ["orderDateFrom", "orderDateTo"]
    # the ledger: receivable +393.19 for the customer, the voucher balances
    assert company.balance(10002) == D("100.00") + D("393.19")
    voucher = api.get(f"/ledger/voucher/{value['voucher']['id']}", fields="postings(*)")["value"]
    assert sum(p["amount"] for p in voucher["postings"]) == 0  # the ledger amounts balance
    vat = {p["account"]["id"]: p["amountGross"] for p in voucher["postings"] if p["row"] == 0}
    numbers = {v: k for k, v in accounts(api).items()}
    assert {numbers[k]: v for k, v in vat.items()} == {
        2700: D("-50.00"),
        2701: D("-4.07"),
        2702: D("-12.00"),
    }
    assert fake.requests_to(f"/order/{order['id']}/:invoice", "PUT")[0].status == 200


def test_order_validation(served: tuple[FakeTripletex, Company, Api]) -> None:
    _, company, api = served
    ident = company.customer(10001).id
    empty = api.post("/order", {"reference": "x"}, expect=422)
    assert (empty["code"], empty["message"]) == (18000, "Validering feilet.")
    assert {m["field"] for m in empty["validationMessages"]} == {
        "customer",
        "orderDate",
        "deliveryDate",
    }
    unknown = loads(
        api.call(
            "POST", "/order", body=order_body(ident, colour="red"), expect=422, spec_invalid=True
        )
    )
    assert (unknown["code"], unknown["validationMessages"][0]) == (
        16000,
        {
            "field": "colour",
            "message": "Feltet eksisterer ikke i objektet.",
            "path": None,
            "rootId": None,
        },
    )
    wrong_type = loads(
        api.call(
            "POST",
            "/order",
            body=order_body(ident, customer={"id": "x"}),
            expect=422,
            spec_invalid=True,
        )
    )
    assert wrong_type["code"] == 16000
    nobody = api.post("/order", order_body(123), expect=422)
    assert nobody["validationMessages"][0]["field"] == "customer.id"
    no_count = order_body(
        ident, orderLines=[{"description": "x", "unitPriceExcludingVatCurrency": 1}]
    )
    assert api.post("/order", no_count, expect=422)["validationMessages"][0]["field"] == (
        "orderLines[0].count"
    )
    incoming = order_body(
        ident, orderLines=[{"count": 1, "unitPriceExcludingVatCurrency": 1, "vatType": {"id": 1}}]
    )
    assert api.post("/order", incoming, expect=422)["validationMessages"][0]["message"] == (
        "Ugyldig mva-kode."
    )
    garbage = loads(api.call("POST", "/order", raw=b"{not json", expect=422, spec_invalid=True))
    assert garbage["code"] == 22000
    bare = api.post("/order", order_body(ident, orderLines=[]))["value"]
    nothing = api.put(f"/order/{bare['id']}/:invoice", expect=422, invoiceDate="2026-02-01")
    assert nothing["code"] == 18000
    assert api.put("/order/77/:invoice", expect=404, invoiceDate="2026-02-01")["code"] == 6000
    assert company.orders[bare["id"]].invoice is None


# --- credit notes -------------------------------------------------------------------------------


def test_credit_note_nullifies_the_invoice_once(served: tuple[FakeTripletex, Company, Api]) -> None:
    _, company, api = served
    original = company.invoice(10001)
    note = api.put(f"/invoice/{original.id}/:createCreditNote", date="2026-02-01", comment="Feil")[
        "value"
    ]
    assert (note["isCreditNote"], note["creditedInvoice"], note["invoiceNumber"]) == (
        True,
        original.id,
        10004,
    )
    assert (note["amount"], note["amountExcludingVat"], note["amountOutstanding"]) == (
        D("-1250.00"),
        D("-1000.00"),
        D("0.00"),
    )
    assert note["comment"] == "Feil" and note["invoiceDate"] == "2026-02-01"
    back = invoice(api, company, 10001)
    assert (back["isCredited"], back["amountOutstanding"]) == (True, D("0.00"))
    again = api.put(f"/invoice/{original.id}/:createCreditNote", expect=422, date="2026-02-01")
    assert (again["code"], again["validationMessages"][0]["message"]) == (
        18000,
        "Fakturaen er allerede kreditert.",
    )
    of_note = api.put(f"/invoice/{note['id']}/:createCreditNote", expect=422, date="2026-02-01")
    assert of_note["validationMessages"][0]["message"] == "En kreditnota kan ikke krediteres."
    missing = loads(
        api.call(
            "PUT",
            f"/invoice/{company.invoice(10003).id}/:createCreditNote",
            expect=422,
            spec_invalid=True,
        )
    )
    assert missing["validationMessages"][0]["field"] == "date"
    assert company.invoice(10003).is_credited is False
    # closed: both postings are out of the open posts, each with the close group
    posts = api.get(
        "/ledger/posting/openPost", date="2026-03-01", customerId=str(original.customer.id)
    )
    assert {p["invoiceNumber"] for p in posts["values"]} == {"10003"}
    closed = api.get(f"/invoice/{original.id}", fields="postings(closeGroup)")["value"]["postings"]
    assert all(p["closeGroup"] is not None for p in closed)


def test_credit_note_of_a_partly_paid_invoice_leaves_a_credit(
    served: tuple[FakeTripletex, Company, Api],
) -> None:
    _, company, api = served
    partly = company.invoice(10002)  # 250.00, 150.00 paid
    note = api.put(f"/invoice/{partly.id}/:createCreditNote", date="2026-02-01")["value"]
    assert note["amount"] == D("-250.00") and note["amountOutstanding"] == D("-150.00")
    assert invoice(api, company, 10002)["amountOutstanding"] == D("0.00")
    posts = api.get(
        "/ledger/posting/openPost", date="2026-03-01", customerId=str(partly.customer.id)
    )["values"]
    assert sorted(p["amount"] for p in posts) == [D("-250.00"), D("-150.00"), D("250.00")]
    assert sum(p["amount"] for p in posts) == company.balance(10002) == D("-150.00")


# --- vouchers and the ledger --------------------------------------------------------------------


def payment(
    acc: dict[int, int], customer_id: int, amount: str, invoice_number: str | None, **extra: Any
) -> dict[str, Any]:
    customer_posting: dict[str, Any] = {
        "row": 2,
        "date": "2026-02-01",
        "description": "Innbetaling",
        "account": {"id": acc[1500]},
        "customer": {"id": customer_id},
        "amountGross": -D(amount),
        "amountGrossCurrency": -D(amount),
        "currency": {"id": 1},
    }
    if invoice_number is not None:
        customer_posting["invoiceNumber"] = invoice_number
    body = {
        "date": "2026-02-01",
        "description": "Innbetaling",
        "postings": [
            {
                "row": 1,
                "date": "2026-02-01",
                "account": {"id": acc[1920]},
                "amountGross": D(amount),
                "amountGrossCurrency": D(amount),
            },
            customer_posting,
        ],
    }
    body.update(extra)
    return body


def test_vouchers_settle_invoices_and_keep_surplus_open(
    served: tuple[FakeTripletex, Company, Api],
) -> None:
    fake, company, api = served
    acc = accounts(api)
    kunde = company.customer(10001).id
    narrow = {**JAN, "fields": "invoiceNumber,amountOutstanding,postings(amountGross)"}
    before = api.get("/invoice", **narrow)["values"][0]  # answers are cached per version...
    assert before == {
        "invoiceNumber": 10001,
        "amountOutstanding": D("1250.00"),
        "postings": [{"amountGross": D("1250.00")}],
    }
    first = api.post(
        "/ledger/voucher", payment(acc, kunde, "250.00", "10001", externalVoucherNumber="hub:pay:1")
    )["value"]
    after = api.get("/invoice", **narrow)["values"][0]  # ...and a payment is a new version
    assert after["amountOutstanding"] == D("1000.00") and len(after["postings"]) == 2
    assert first["externalVoucherNumber"] == "hub:pay:1" and first["year"] == 2026
    assert first["number"] > 0 and len(first["postings"]) == 2
    assert invoice(api, company, 10001)["amountOutstanding"] == D("1000.00")
    api.post("/ledger/voucher", payment(acc, kunde, "1010.00", "10001"))
    assert invoice(api, company, 10001)["amountOutstanding"] == D("0.00")
    api.post("/ledger/voucher", payment(acc, kunde, "30.00", None))  # on account, no invoice
    posts = api.get("/ledger/posting/openPost", date="2026-02-02", customerId=str(kunde))["values"]
    # 10001 is paid with 10.00 too much: its group stays open (+1250, -250, -1010); the 30.00
    # on account is open; 10003 (100.00) is open
    assert sorted(p["amount"] for p in posts) == [
        D("-1010.00"),
        D("-250.00"),
        D("-30.00"),
        D("100.00"),
        D("1250.00"),
    ]
    assert sum(p["amount"] for p in posts) == D("60.00") == company.balance(10001)
    summed = api.get("/ledger/openPost", date="2026-02-02", customerId=str(kunde))["values"]
    assert [(row["account"]["id"], row["sumAmount"]) for row in summed] == [(acc[1500], D("60.00"))]
    found = api.get(
        "/ledger/voucher/>externalVoucherNumber", externalVoucherNumber="hub:pay:1", fields="id"
    )
    assert found["values"] == [{"id": first["id"]}]
    listed = api.get(
        "/ledger/voucher",
        dateFrom="2026-02-01",
        dateTo="2026-02-02",
        fields="id,externalVoucherNumber",
    )
    assert listed["values"][-3]["externalVoucherNumber"] == "hub:pay:1"
    assert len(listed["values"]) == 4  # invoice 10003's voucher and the three payments
    by_number = api.get(
        "/ledger/voucher", dateFrom="2026-01-01", dateTo="2026-03-01", number=str(first["number"])
    )
    assert [v["id"] for v in by_number["values"]] == [first["id"]]
    assert by_number["totalNumberOfPostings"] == 2
    before = api.get("/ledger/voucher", dateFrom="2026-01-01", dateTo="2026-02-01", fields="id")
    assert first["id"] not in {v["id"] for v in before["values"]}  # dateTo is exclusive
    postings = api.get(
        "/ledger/posting", dateFrom="2026-01-01", dateTo="2026-03-01", customerId=str(kunde)
    )["values"]
    assert sum(p["amountGross"] for p in postings) == D("60.00")
    assert api.get(f"/ledger/posting/{postings[0]['id']}")["value"]["id"] == postings[0]["id"]
    assert fake.requests_to("/ledger/voucher", "POST")[0].json["postings"][0]["amountGross"] == D(
        "250.00"
    )


def test_open_posts_as_of_a_date(served: tuple[FakeTripletex, Company, Api]) -> None:
    _, company, api = served
    company.register_payment(10001, D("1250.00"), date(2026, 1, 20))
    kunde = str(company.customer(10001).id)

    def open_numbers(on: str) -> list[str]:
        posts = api.get("/ledger/posting/openPost", date=on, customerId=kunde)["values"]
        return sorted(p["invoiceNumber"] for p in posts)

    assert open_numbers("2026-01-01") == []  # the date is exclusive
    assert open_numbers("2026-01-02") == ["10001"]
    assert open_numbers("2026-01-21") == []  # paid on 2026-01-20: closed
    assert open_numbers("2026-02-02") == ["10003"]
    for day in ("2026-01-02", "2026-01-21", "2026-02-02"):
        posts = api.get("/ledger/posting/openPost", date=day, customerId=kunde)["values"]
        assert sum((p["amount"] for p in posts), D(0)) == company.balance(
            10001, date.fromisoformat(day)
        )
    assert api.get("/ledger/posting/openPost", expect=422, spec_invalid=True)["code"] == 15000
    everyone = api.get(
        "/ledger/posting/openPost",
        date="2026-03-01",
        accountNumberFrom="1500",
        accountNumberTo="1500",
    )
    assert sum(p["amount"] for p in everyone["values"]) == D("200.00")  # 100.00 + 100.00


def test_voucher_rules(served: tuple[FakeTripletex, Company, Api]) -> None:
    _, company, api = served
    acc = accounts(api)
    kunde = company.customer(10001).id

    def refused(body: dict[str, Any], **params: Any) -> list[tuple[str, str]]:
        error = api.post("/ledger/voucher", body, expect=422, **params)
        assert error["code"] == 18000
        return [(m["field"], m["message"]) for m in error["validationMessages"]]

    unbalanced = payment(acc, kunde, "10.00", "10001")
    unbalanced["postings"][0]["amountGross"] = D("11.00")
    unbalanced["postings"][0]["amountGrossCurrency"] = D("11.00")
    assert refused(unbalanced) == [
        ("postings", "Bilaget er ikke i balanse. Summen av posteringene er 1.00.")
    ]
    row_zero = payment(acc, kunde, "10.00", "10001")
    row_zero["postings"][0]["row"] = 0
    assert refused(row_zero)[0] == (
        "postings.row",
        "Posteringene på rad 0 (guiRow 0) er systemgenererte og kan ikke opprettes eller endres "
        "på utsiden av Tripletex.",
    )
    assert refused({"date": "2026-02-01", "postings": []}) == [
        ("postings", "Et bilag kan ikke registreres uten posteringer.")
    ]
    no_customer = payment(acc, kunde, "10.00", "10001")
    del no_customer["postings"][1]["customer"]
    assert refused(no_customer) == [("postings[1].customer", "Kunde må oppgis for konto 1500.")]
    long_number = payment(acc, kunde, "10.00", None, externalVoucherNumber="x" * 71)
    assert refused(long_number) == [("externalVoucherNumber", "Maks 70 tegn.")]
    precise = payment(acc, kunde, "10.005", None)
    assert ("postings[0].amountGross", "Beløp kan ikke ha mer enn to desimaler.") in refused(
        precise
    )
    no_account = payment(acc, kunde, "10.00", None)
    no_account["postings"][0]["account"] = {"id": 5}
    assert refused(no_account) == [("postings[0].account.id", "Objektet finnes ikke.")]
    assert refused({"postings": payment(acc, kunde, "1.00", None)["postings"]}) == [
        ("date", "Kan ikke være null.")
    ]
    # not sent to the ledger: no number, nothing settled
    draft = api.post(
        "/ledger/voucher", payment(acc, kunde, "100.00", "10001"), sendToLedger="false"
    )
    assert draft["value"]["number"] == 0 and draft["value"]["tempNumber"] > 0
    assert invoice(api, company, 10001)["amountOutstanding"] == D("1250.00")
    assert len(company.vouchers) == 5  # three invoices, one payment (10002), the draft


def test_voucher_vat_type_is_split_into_a_vat_posting(
    served: tuple[FakeTripletex, Company, Api],
) -> None:
    _, company, api = served
    acc = accounts(api)
    body = {
        "date": "2026-02-01",
        "description": "Purregebyr",
        "postings": [
            {
                "row": 1,
                "account": {"id": acc[1500]},
                "customer": {"id": company.customer(10003).id},
                "amountGross": D("125.00"),
            },
            {
                "row": 2,
                "account": {"id": acc[3000]},
                "vatType": {"id": 3},
                "amountGross": D("-125.00"),
            },
        ],
    }
    made = api.post("/ledger/voucher", body)["value"]
    postings = api.get(
        f"/ledger/voucher/{made['id']}", fields="postings(row,amount,amountGross,account(number))"
    )
    rows = [
        (p["row"], p["account"]["number"], p["amount"], p["amountGross"])
        for p in postings["value"]["postings"]
    ]
    assert rows == [
        (1, 1500, D("125.00"), D("125.00")),
        (2, 3000, D("-100.00"), D("-125.00")),
        (0, 2700, D("-25.00"), D("-25.00")),
    ]
    assert company.balance(10003) == D("125.00")


def test_due_dates_follow_the_orders_terms(served: tuple[FakeTripletex, Company, Api]) -> None:
    _, company, api = served
    ident = company.customer(10001).id
    due = {}
    for kind, count in (("DAYS", 10), ("MONTHS", 1), ("RECURRING_DAY_OF_MONTH", 20)):
        body = order_body(
            ident, invoicesDueIn=count, invoicesDueInType=kind, orderDate="2026-01-31"
        )
        made = api.post("/order", body)["value"]
        assert (made["invoicesDueIn"], made["invoicesDueInType"]) == (count, kind)
        value = api.put(f"/order/{made['id']}/:invoice", invoiceDate="2026-01-31")["value"]
        due[kind] = value["invoiceDueDate"]
    assert due == {
        "DAYS": "2026-02-10",
        "MONTHS": "2026-02-28",
        "RECURRING_DAY_OF_MONTH": "2026-02-20",
    }


# --- reference data -----------------------------------------------------------------------------


def test_vat_types_and_accounts(served: tuple[FakeTripletex, Company, Api]) -> None:
    _, _, api = served
    types = {v["id"]: v for v in api.get("/ledger/vatType")["values"]}
    assert {i: (types[i]["number"], types[i]["percentage"]) for i in (3, 31, 32, 5, 6)} == {
        3: ("3", 25),
        31: ("31", 15),
        32: ("33", 12),
        5: ("5", 0),
        6: ("6", 0),
    }
    assert types[3]["name"] == "Utgående avgift, høy sats"
    assert types[6]["name"] == "Ingen utgående avgift (utenfor mva-loven)"
    assert [v["id"] for v in api.get("/ledger/vatType", number="33")["values"]] == [32]
    assert (
        api.get("/ledger/vatType/31")["value"]["displayName"]
        == "31: (15%) Utgående avgift, middels sats"
    )
    receivables = api.get("/ledger/account", number="1500")["values"]
    assert [(a["name"], a["ledgerType"], a["isCloseable"]) for a in receivables] == [
        ("Kundefordringer", "CUSTOMER", True)
    ]
    numbers = [a["number"] for a in api.get("/ledger/account", fields="number")["values"]]
    assert {1500, 1920, 2700, 3000, 7830, 8050} <= set(numbers)
    assert [a["number"] for a in api.get("/ledger/account", isBankAccount="true")["values"]] == [
        1920
    ]
    ident = receivables[0]["id"]
    assert api.get(f"/ledger/account/{ident}")["value"]["displayName"] == "1500 Kundefordringer"


# --- rate limiting, errors and faults -----------------------------------------------------------


def test_rate_limit_headers_and_429() -> None:
    fake, company = make_fake(rate_limit=3, rate_window=30)
    with TripletexServer(fake) as server:
        api = Api(fake, server, fake.session_for(company))
        seen = []
        for _ in range(3):
            response = api.call("GET", "/customer", expect=200)
            seen.append(response.headers["X-Rate-Limit-Remaining"])
            assert response.headers["X-Rate-Limit-Limit"] == "3"
            assert 0 < int(response.headers["X-Rate-Limit-Reset"]) <= 30
        assert seen == ["2", "1", "0"]
        throttled = api.call("GET", "/customer", expect=429)
        assert loads(throttled)["status"] == 429 and "Retry-After" not in throttled.headers
        assert 1 <= int(throttled.headers["X-Rate-Limit-Reset"]) <= 30


def test_fault_429_500_malformed_and_matching(served: tuple[FakeTripletex, Company, Api]) -> None:
    fake, _, api = served
    fake.fault(Fault(status=429, retry_after=2))
    throttled = api.call("GET", "/customer", expect=429)
    assert throttled.headers["X-Rate-Limit-Reset"] == "2" and "Retry-After" not in throttled.headers
    assert throttled.headers["X-Rate-Limit-Remaining"] == "0"
    fake.fault(Fault(status=429, retry_after=0.25))
    assert api.call("GET", "/customer", expect=429).headers["X-Rate-Limit-Reset"] == "0.25"
    fake.fault(Fault(status=500, count=2, path_prefix="/invoice", method="GET"))
    assert api.get("/customer")["count"] == 3  # other paths are not hit
    error = api.get("/invoice", expect=500, **JAN)
    assert (error["status"], error["code"]) == (500, 1000)
    assert api.get("/invoice", expect=500, **JAN)["code"] == 1000
    assert api.get("/invoice", **JAN)["count"] == 3  # count=2 used up
    fake.fault(Fault(malformed=True))
    broken = api.client.get("/customer", auth=("0", api.token or ""))
    assert broken.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        broken.json()
    if SPEC_MISSING is None:
        with pytest.raises(AssertionError, match="not JSON"):
            validate_response(fake.requests[-1])
    fake.fault(Fault(status=503, count=5))
    fake.clear_faults()
    assert api.get("/customer")["count"] == 3
    with pytest.raises(ValueError):
        Fault(count=0)


def test_lost_answers_leave_the_write_done(served: tuple[FakeTripletex, Company, Api]) -> None:
    fake, company, api = served
    acc = accounts(api)
    fake.fault(Fault(after_processing=True, path_prefix="/ledger/voucher", method="POST"))
    body = payment(
        acc, company.customer(10001).id, "1250.00", "10001", externalVoucherNumber="hub:7"
    )
    lost = api.post("/ledger/voucher", body, expect=500)
    assert lost["code"] == 1000
    # the voucher was posted: a client finds it by its external number instead of posting twice
    found = api.get("/ledger/voucher/>externalVoucherNumber", externalVoucherNumber="hub:7")
    assert found["count"] == 1 and invoice(api, company, 10001)["amountOutstanding"] == 0
    target = company.invoice(10003)
    fake.fault(Fault(after_processing=True, path_prefix="/invoice/"))
    assert (
        api.put(f"/invoice/{target.id}/:createCreditNote", expect=500, date="2026-02-01")["code"]
        == 1000
    )
    retry = api.put(f"/invoice/{target.id}/:createCreditNote", expect=422, date="2026-02-01")
    assert retry["validationMessages"][0]["message"] == "Fakturaen er allerede kreditert."
    assert invoice(api, company, 10003)["isCredited"] is True
    kunde = company.customer(10002).id
    fake.fault(Fault(after_processing=True, method="POST", path_prefix="/order"))
    assert api.post("/order", order_body(kunde), expect=500)["code"] == 1000
    mine = api.get(
        "/order",
        orderDateFrom="2026-02-01",
        orderDateTo="2026-02-02",
        customerId=str(kunde),
        fields="id,reference,preliminaryInvoice",
    )["values"]
    assert [o["reference"] for o in mine] == ["hub:recurring:7"]
    made = api.put(f"/order/{mine[0]['id']}/:invoice", invoiceDate="2026-02-01")["value"]
    assert made["id"] == mine[0]["preliminaryInvoice"]["id"]


def test_unknown_paths_and_methods() -> None:
    fake, company = make_fake()
    with TripletexServer(fake) as server:
        client = httpx.Client(
            base_url=server.url, auth=("0", fake.session_for(company)), verify=False
        )
        for method, path, status in (
            ("GET", "/nothing/here", 404),
            ("DELETE", "/invoice", 405),
        ):
            response = client.request(method, path)
            assert response.status_code == status
            body = loads(response)
            assert (
                body["status"] == status
                and body["requestId"] == response.headers["x-tlx-request-id"]
            )
            assert body["link"] == "https://tripletex.no/v2-docs/"
        assert client.delete("/invoice").headers["Allow"] == "GET"
        assert loads(client.get("/nothing/here"))["code"] == 6000
        root = httpx.get(server.url.removesuffix("/v2") + "/invoice")
        assert root.status_code == 404 and "/v2" in loads(root)["developerMessage"]


# --- the spec helper catches what it should ------------------------------------------------------


@needs_spec
def test_the_spec_check_refuses_wrong_answers(served: tuple[FakeTripletex, Company, Api]) -> None:
    fake, _, api = served
    api.call("GET", "/customer", params={"count": "1"}, expect=200)
    record = fake.requests[-1]
    answer = record.response
    assert answer is not None
    validate_exchange(record)

    def with_body(doc: object, status: int = 200, **headers: str) -> Response:
        return Response(status, {**answer.headers, **headers}, json.dumps(doc).encode())

    good = json.loads(answer.body)
    extra = json.loads(answer.body)
    extra["values"][0]["balance"] = 1
    with pytest.raises(AssertionError, match=r"values\[0\].balance: not a property of Customer"):
        validate_response(record, with_body(extra))
    typed = json.loads(answer.body)
    typed["values"][0]["customerNumber"] = "10001"
    with pytest.raises(AssertionError, match="is not of type 'integer'"):
        validate_response(record, with_body(typed))
    nulled = json.loads(answer.body)
    nulled["values"][0]["isInactive"] = None
    with pytest.raises(AssertionError, match="isInactive: null"):
        validate_response(record, with_body(nulled))
    with pytest.raises(AssertionError, match="declares"):
        validate_response(record, with_body(good, 201))
    no_id = {k: v for k, v in answer.headers.items() if k != "x-tlx-request-id"}
    with pytest.raises(AssertionError, match="headers missing"):
        validate_response(record, Response(200, no_id, answer.body))
    bad_request = RecordedRequest("GET", "/invoice", {"count": ["x"]}, dict(record.headers), b"")
    with pytest.raises(AssertionError, match="invoiceDateFrom"):
        validate_exchange(bad_request, answer)
    assert load_spec().load_seconds < 5


#: What the fake leaves out of each schema (``changes`` is answered when asked for).
OMITTED = {
    "Customer": {"changes"},
    "Address": {"changes", "displayNameInklMatrikkel", "knr", "gnr", "bnr", "fnr", "snr"}
    | {"unitNumber"},
    "Invoice": {"changes", "paymentTypeId", "paidAmount", "ehfSendStatus"},
    "Order": {"changes", "ourContact", "ourContactEmployee", "status", "canCreateBackorder"},
    "OrderLine": {"changes"},
    "Voucher": {"changes"},
    "Posting": {"changes", "taxTransactionType", "taxTransactionTypeId", "postingRuleId"}
    | {"quantityAmount1", "quantityType1", "quantityAmount2", "quantityType2"},
    "Account": {"changes"},
    "VatType": {"changes"},
    "LedgerAccount": {"openingBalance", "openingBalanceCurrency", "closingBalance"}
    | {"closingBalanceCurrency", "balanceOutInAccountCurrency"},
}


@needs_spec
def test_fields_and_bodies_are_the_schemas(served: tuple[FakeTripletex, Company, Api]) -> None:
    from hub.testing.fakes.tripletex.body import (
        ORDER_FIELDS,
        ORDER_LINE_FIELDS,
        POSTING_FIELDS,
        VOUCHER_FIELDS,
    )

    schemas = load_spec().document["components"]["schemas"]
    for fields, name in (
        (ORDER_FIELDS, "Order"),
        (ORDER_LINE_FIELDS, "OrderLine"),
        (VOUCHER_FIELDS, "Voucher"),
        (POSTING_FIELDS, "Posting"),
    ):
        assert fields == set(schemas[name]["properties"]), name
    _, company, api = served
    order = api.post("/order", order_body(company.customer(10001).id))["value"]
    line = api.get(f"/order/orderline/{order['orderLines'][0]['id']}", expect=404)
    assert line["code"] == 6000  # not served; reached through fields:
    lines = api.get(f"/order/{order['id']}", fields="orderLines(*)")["value"]["orderLines"]
    ident = company.invoice(10002).id
    shown = {
        "Customer": api.get(f"/customer/{company.customer(10001).id}")["value"],
        "Address": api.get(f"/customer/{company.customer(10001).id}", fields="postalAddress(*)")[
            "value"
        ]["postalAddress"],
        "Invoice": api.get(f"/invoice/{ident}")["value"],
        "Order": order,
        "OrderLine": lines[0],
        "Voucher": api.get(f"/invoice/{ident}", fields="voucher(*)")["value"]["voucher"],
        "Posting": api.get(f"/invoice/{ident}", fields="postings(*)")["value"]["postings"][0],
        "Account": api.get("/ledger/account", number="1500")["values"][0],
        "VatType": api.get("/ledger/vatType/3")["value"],
        "LedgerAccount": api.get("/ledger/openPost", date="2026-03-01")["values"][0],
    }
    for name, doc in shown.items():
        declared = list(schemas[name]["properties"])
        assert [k for k in declared if k in doc] == list(doc), f"{name}: order or extras"
        assert set(declared) - set(doc) == OMITTED[name], name


# --- the Python API, threads, speed, the process ------------------------------------------------


def test_python_api_and_ledger_arithmetic() -> None:
    fake, company = make_fake()
    first = company.invoice(10001)
    assert (first.amount, first.amount_outstanding, first.amount_excluding_vat) == (
        D("1250.00"),
        D("1250.00"),
        D("1000.00"),
    )
    company.register_payment(10001, D("200.00"), date(2026, 1, 20))
    assert first.amount_outstanding == D("1050.00")
    company.register_payment(10001, D("1100.00"), date(2026, 1, 21))
    assert first.amount_outstanding == D("0.00")
    assert company.balance(10001) == D("-50.00") + D("100.00")
    with pytest.raises(ValueError):
        company.register_payment(10001, D("0"), TODAY)
    with pytest.raises(ValueError):
        company.add_invoice(10001, 10001, TODAY, TODAY, D("1"), D("0"))
    with pytest.raises(ValueError):
        company.add_customer(10001, "Twice")
    kunde = company.customer(10002)
    assert kunde.id in company.customers and kunde.customer_number == 10002 != kunde.id
    assert set(company.invoices) == {i.id for i in company.invoices.values()}
    euro = company.add_invoice(10010, 10002, TODAY, TODAY, D("100.00"), D("25.00"), currency="EUR")
    assert (euro.amount_currency, euro.amount) == (D("125.00"), D("1437.50"))
    assert euro.amount_outstanding == D("1437.50") and euro.amount_currency_outstanding == D(
        "125.00"
    )
    vouchers = list(company.vouchers.values())
    assert [v.number for v in vouchers] == list(range(1, len(vouchers) + 1))
    assert all(sum(p.amount for p in v.postings) == 0 for v in vouchers)
    with pytest.raises(ValueError):
        fake.add_company("consumer-2", "employee-1")


def test_concurrent_writes_keep_the_books(served: tuple[FakeTripletex, Company, Api]) -> None:
    _, company, api = served
    acc = accounts(api)
    kunde = company.customer(10001).id
    errors: list[BaseException] = []

    def pay(n: int) -> None:
        try:
            with httpx.Client(
                base_url=api.url, auth=("0", api.token or ""), verify=False
            ) as client:
                body = payment(acc, kunde, "10.00", "10001", externalVoucherNumber=f"t{n}")
                response = client.post(
                    "/ledger/voucher",
                    content=dumps(body),
                    headers={"Content-Type": "application/json"},
                )
                assert response.status_code == 201, response.text
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert company.invoice(10001).amount_outstanding == D("1090.00")
    numbers = [v.number for v in company.vouchers.values()]
    assert sorted(numbers) == list(range(1, len(numbers) + 1))


def test_seed_and_reads_at_the_benchmarks_size() -> None:
    """How long these take is bench/fakes.py's figure, not a test's."""
    fake = FakeTripletex(today=TODAY)
    companies = seed(fake, 1000, 100)
    assert len(companies) == 1000 and companies[-1].name == "Firma 1000 AS"
    last = fake.company("employee-1000")
    assert len(last.invoices) == 100 and len(last.customers) == 20
    with TripletexServer(fake) as server:
        client = httpx.Client(base_url=server.url, timeout=10, verify=False)
        token = client.post(
            "/token/session/:create",
            json={
                "consumerToken": "consumer-7",
                "employeeToken": "employee-7",
                "expirationDate": "2026-02-02",
            },
        ).json()["value"]["token"]
        client.auth = ("0", token)
        page = client.get(
            "/invoice", params={"invoiceDateFrom": "2025-01-01", "invoiceDateTo": "2027-01-01"}
        )
        assert page.json()["count"] == 100
        big = FakeTripletex(today=TODAY)
        [one] = seed(big, 1, 1000)
        session = big.session_for(one)
        target = "/v2/invoice?invoiceDateFrom=2025-01-01&invoiceDateTo=2027-01-01"
        auth = {"Authorization": "Basic " + base64.b64encode(f"0:{session}".encode()).decode()}
        big.handle("GET", target, auth, b"", "http://x")
        answer = big.handle("GET", target, auth, b"", "http://x")  # a status read, 1000 invoices
        assert json.loads(answer.body)["count"] == 1000


def test_seeded_vouchers_are_built_when_needed() -> None:
    fake = FakeTripletex(today=TODAY)
    [company] = seed(fake, 1, 30, customers=3)
    assert company.pending and len(company.pending) == 30
    reserved = company.invoice(10005).voucher_id
    with TripletexServer(fake) as server:
        api = Api(fake, server, fake.session_for(company))
        shown = api.get(f"/invoice/{company.invoice(10005).id}")["value"]
        assert shown["voucher"]["id"] == reserved and company.pending  # links need no voucher
        expanded = api.get(f"/invoice/{company.invoice(10005).id}", fields="voucher(number)")
        assert not company.pending and expanded["value"]["voucher"]["number"] == 5
        assert company.invoice(10005).voucher is not None
        assert company.invoice(10005).voucher.id == reserved  # type: ignore[union-attr]
    total = sum((i.amount_outstanding for i in company.invoices.values()), D(0))
    assert sum(company.balance(n) for n in (10001, 10002, 10003)) == total


def test_runs_as_a_process() -> None:
    command = [sys.executable, "-m", "hub.testing.fakes.tripletex", "--port", "0"]
    command += ["--companies", "2", "--invoices", "5", "--customers", "2"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v2")
        expires = (date.today() + timedelta(days=2)).isoformat()
        made = httpx.post(
            f"{url}/token/session/:create",
            json={
                "consumerToken": "consumer-2",
                "employeeToken": "employee-2",
                "expirationDate": expires,
            },
            timeout=10,
        )
        assert made.status_code == 201
        token = made.json()["value"]["token"]
        listed = httpx.get(
            f"{url}/invoice",
            params={"invoiceDateFrom": "2000-01-01", "invoiceDateTo": "2100-01-01"},
            auth=("0", token),
            timeout=10,
        )
        assert listed.status_code == 200 and listed.json()["count"] == 5
    finally:
        process.terminate()
        process.wait(timeout=10)
