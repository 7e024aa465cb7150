"""The fake e-conomic REST server (hub.testing.fakes.economic): shapes against e-conomic's
published draft-03 schemas, paging, filters, auth, faults, idempotency and bookkeeping.

Most tests run twice: over real HTTP (EconomicServer) and in-process (fake.transport()).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.testing.fakes.economic import (
    Agreement,
    EconomicServer,
    FakeEconomic,
    Fault,
    dumps,
    seed,
)
from hub.testing.fakes.economic.reads import (
    BOOKED_SPEC,
    CUSTOMER_SPEC,
    DRAFT_SPEC,
    ENTRY_SPEC,
    JOURNAL_ENTRY_SPEC,
    JOURNAL_SPEC,
    STATUS_SPEC,
)

#: The project's shared folder beside the repository, or HUB_SHARED_DIR where it lives elsewhere.
SHARED = Path(os.environ.get("HUB_SHARED_DIR") or Path(__file__).resolve().parents[2] / "shared")
SCHEMAS = SHARED / "specs" / "economic" / "legacy-schemas"
APP, GRANT = "app-1", "grant-1"
AUTH = {"X-AppSecretToken": APP, "X-AgreementGrantToken": GRANT}
TODAY = date(2026, 2, 1)

Client = httpx.Client
Serve = Callable[..., Client]


def loads(response: httpx.Response) -> Any:
    """The body with amounts as Decimal, as a careful client reads it."""
    return json.loads(response.content, parse_float=Decimal)


def body(payload: object) -> bytes:
    """JSON text with Decimal amounts written as numbers (json.dumps cannot)."""
    return dumps(payload).encode()


def post(client: Client, path: str, payload: object, **headers: str) -> httpx.Response:
    return client.post(
        path, content=body(payload), headers={"Content-Type": "application/json", **headers}
    )


def book(client: Client, draft: dict[str, Any]) -> dict[str, Any]:
    """Create a draft and book it; the booked invoice."""
    created = post(client, "/invoices/drafts", draft)
    assert created.status_code == 201, created.text
    booked = post(client, "/invoices/booked", {"draftInvoice": loads(created)})
    assert booked.status_code == 201, booked.text
    return loads(booked)  # type: ignore[no-any-return]


def pay(client: Client, customer: int, amount: str, invoice: int | None = None) -> httpx.Response:
    return post(client, "/journals/1/vouchers", payment_voucher(customer, amount, invoice))


# --- fixtures -----------------------------------------------------------------------------------


def make_fake(**options: Any) -> tuple[FakeEconomic, Agreement]:
    fake = FakeEconomic(today=TODAY, **options)
    ag = fake.add_agreement(app_secret_token=APP, agreement_grant_token=GRANT, company_name="Acme")
    ag.add_customer(customer_number=101, name="Østergaard ApS", email="a@example.dk")
    ag.add_customer(
        102,
        "Hansen & Søn A/S",
        currency="DKK",
        address="Vejlevej 21",
        zip="7000",
        city="Fredericia",
        country="Danmark",
        corporate_identification_number="12345678",
        telephone_and_fax_number="7629 2929",
        barred=True,
    )
    ag.add_customer(103, "Euro GmbH", currency="EUR", country="Deutschland", vat_zone_number=2)
    d = Decimal
    ag.add_invoice(5001, 101, date(2026, 1, 1), date(2026, 1, 15), d("1000.00"), d("250.00"))
    ag.add_invoice(5002, 102, date(2026, 1, 10), date(2026, 2, 10), d("200.00"), d("50.00"))
    ag.add_invoice(
        5003, 102, date(2026, 1, 5), date(2026, 1, 20), d("80.00"), d("20.00"), remainder=d(0)
    )
    ag.add_invoice(
        5004, 103, date(2026, 1, 20), date(2026, 2, 19), d("100"), d(0), notes={"heading": "Re"}
    )
    return fake, ag


@pytest.fixture(params=["http", "transport"])
def serve(request: pytest.FixtureRequest) -> Iterator[Serve]:
    """Gives a client for a fake: over real HTTP or through the in-process transport."""
    servers: list[EconomicServer] = []
    clients: list[Client] = []

    def connect(fake: FakeEconomic, headers: dict[str, str] | None = None) -> Client:
        hdrs = AUTH if headers is None else headers
        if request.param == "http":
            server = EconomicServer(fake).start()
            servers.append(server)
            client = httpx.Client(base_url=server.url, headers=hdrs, timeout=10)
        else:
            client = httpx.Client(
                transport=fake.transport(), base_url="https://restapi.e-conomic.com", headers=hdrs
            )
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()
    for server in servers:
        server.stop()


# --- schemas ------------------------------------------------------------------------------------


def load_schema(name: str) -> dict[str, Any]:
    path = SCHEMAS / name
    if not path.exists():
        pytest.skip(
            f"e-conomic's schemas are not at {SCHEMAS} (shared/specs is absent; set HUB_SHARED_DIR)"
        )
    text = re.sub(r",(\s*[}\]])", r"\1", path.read_text(encoding="utf-8"))  # some have trailing
    return json.loads(text)  # type: ignore[no-any-return]


def _validator(schema: dict[str, Any]) -> Any:
    jsonschema = pytest.importorskip("jsonschema")

    def max_decimal(validator: Any, places: int, instance: object, schema: object) -> Any:
        if isinstance(instance, Decimal):
            exponent = instance.as_tuple().exponent
            if isinstance(exponent, int) and -exponent > places:
                yield jsonschema.ValidationError(f"{instance} has more than {places} decimals")

    cls = jsonschema.validators.extend(jsonschema.Draft3Validator, {"maxDecimal": max_decimal})
    return cls(schema, format_checker=jsonschema.Draft3Validator.FORMAT_CHECKER)


def undeclared(schema: dict[str, Any], doc: object, where: str = "$") -> list[str]:
    """Properties in ``doc`` that the schema does not declare (where it lists properties)."""
    out: list[str] = []
    if isinstance(doc, dict) and "properties" in schema:
        for key, value in doc.items():
            sub = schema["properties"].get(key)
            if sub is None:
                out.append(f"{where}.{key}")
            else:
                out += undeclared(sub, value, f"{where}.{key}")
    elif isinstance(doc, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(doc):
            out += undeclared(schema["items"], item, f"{where}[{i}]")
    return out


def assert_schema(schema_name: str, document: object, allowed_extra: tuple[str, ...] = ()) -> None:
    schema = load_schema(schema_name)
    errors = sorted(_validator(schema).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
    extra = [p for p in undeclared(schema, document) if not p.endswith(allowed_extra)]
    assert not extra, f"not in {schema_name}: {extra[:10]}"


def draft_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "date": "2026-01-25",
        "currency": "DKK",
        "customer": {"customerNumber": 101},
        "paymentTerms": {"paymentTermsNumber": 1},
        "layout": {"layoutNumber": 19},
        "recipient": {"name": "Østergaard ApS", "vatZone": {"vatZoneNumber": 1}},
        "references": {"other": "Order 77"},
        "notes": {"heading": "Faktura"},
        "lines": [
            {
                "lineNumber": 1,
                "description": "Consulting",
                "product": {"productNumber": "1"},
                "quantity": Decimal("2.00"),
                "unitNetPrice": Decimal("100.00"),
            },
            {
                "description": "Discounted",
                "product": {"productNumber": "2"},
                "quantity": Decimal("1"),
                "unitNetPrice": Decimal("99.99"),
                "discountPercentage": Decimal("10.00"),
            },
        ],
    }
    payload.update(changes)
    return payload


def credit_note_payload(customer: int, amount: str, text: str) -> dict[str, Any]:
    return draft_payload(
        customer={"customerNumber": customer},
        references={"other": text},
        notes={"heading": "Kreditnota"},
        lines=[
            {
                "description": "Credit",
                "product": {"productNumber": "1"},
                "quantity": Decimal("-1.00"),
                "unitNetPrice": Decimal(amount),
            }
        ],
    )


def payment_voucher(customer: int, amount: str, invoice: int | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "customer": {"customerNumber": customer},
        "amount": Decimal(amount),
        "contraAccount": {"accountNumber": 5820},
        "currency": {"code": "DKK"},
        "date": "2026-01-30",
        "text": "Indbetaling",
    }
    if invoice is not None:
        entry["customerInvoice"] = invoice
    return {
        "accountingYear": {"year": "2026"},
        "journal": {"journalNumber": 1},
        "entries": {"customerPayments": [entry]},
    }


def collect(client: Client, path: str, **params: str) -> tuple[list[dict[str, Any]], int]:
    """Every item of a collection, following nextPage; and the number of pages read."""
    items: list[dict[str, Any]] = []
    pages = 0
    response = client.get(path, params=params)
    while True:
        assert response.status_code == 200, response.text
        doc = loads(response)
        items += doc["collection"]
        pages += 1
        next_page = doc["pagination"].get("nextPage")
        if not next_page:
            return items, pages
        assert next_page.startswith(str(client.base_url).rstrip("/"))
        response = client.get(next_page)


# --- shapes ---------------------------------------------------------------------------------------


def test_every_get_validates_against_the_published_schemas(
    serve: Serve,
) -> None:
    fake, ag = make_fake()
    client = serve(fake)
    draft = loads(post(client, "/invoices/drafts", draft_payload()))
    assert post(client, "/invoices/drafts", draft_payload(date="2026-01-26")).status_code == 201
    booked = post(client, "/invoices/booked", {"draftInvoice": draft})
    assert booked.status_code == 201
    assert_schema("invoices.booked.bookedInvoiceNumber.get.schema.json", loads(booked))
    assert pay(client, 101, "100.00", 5001).status_code == 201
    ag.book_journal(1)
    assert pay(client, 101, "10.00", 5001).status_code == 201  # left unbooked in journal 1
    ag.pay(5002, Decimal("50.00"))

    checks = [
        ("/invoices/unpaid", "invoices.unpaid.get.schema.json"),
        ("/invoices/overdue", "invoices.overdue.get.schema.json"),
        ("/invoices/not-due", "invoices.not-due.get.schema.json"),
        ("/invoices/paid", "invoices.paid.get.schema.json"),
        ("/invoices/booked", "invoices.booked.get.schema.json"),
        ("/invoices/booked/5001", "invoices.booked.bookedInvoiceNumber.get.schema.json"),
        ("/invoices/booked/5004", "invoices.booked.bookedInvoiceNumber.get.schema.json"),
        ("/invoices/drafts", "invoices.drafts.get.schema.json"),
        ("/customers", "customers.get.schema.json"),
        ("/customers/102", "customers.customerNumber.get.schema.json"),
        ("/journals", "journals.get.schema.json"),
        ("/journals/1/entries", "journals.journalNumber.entries.get.schema.json"),
        (
            "/accounting-years/2026/entries",
            "accounting-years.accountingYear.entries.get.schema.json",
        ),
    ]
    for path, schema in checks:
        response = client.get(path, params={"pagesize": "1000"})
        assert response.status_code == 200, (path, response.text)
        doc = loads(response)
        assert_schema(schema, doc)
        if "collection" in doc:
            assert doc["collection"], f"{path} is empty: the check would prove nothing"


def test_status_lists_have_the_fields_their_schemas_have(
    serve: Serve,
) -> None:
    fake, _ = make_fake()
    client = serve(fake)
    unpaid = loads(client.get("/invoices/unpaid"))["collection"]
    booked = loads(client.get("/invoices/booked"))["collection"]
    assert "exchangeRate" not in unpaid[0] and "grossAmountInBaseCurrency" not in unpaid[0]
    assert booked[0]["exchangeRate"] == Decimal("100.000000")
    assert "lines" not in booked[0]
    assert loads(client.get("/invoices/booked/5001"))["lines"][0]["totalNetAmount"] == 1000


def test_amounts_are_json_numbers_with_two_decimals(serve: Serve) -> None:
    fake, _ = make_fake()
    client = serve(fake)
    text = client.get("/invoices/booked/5001").text
    assert '"grossAmount":1250.00' in text and '"remainder":1250.00' in text
    assert '"vatAmount":250.00' in text and '"roundingAmount":0.00' in text
    customer = loads(client.get("/customers/102"))
    assert customer["balance"] == Decimal("250.00") and "address" in customer
    assert customer["barred"] is True
    assert "address" not in loads(client.get("/customers/101"))  # unset: omitted, not null
    assert "barred" not in loads(client.get("/customers/101"))  # false booleans are omitted


def test_filterable_properties_are_the_schemas() -> None:
    def filterable(schema: dict[str, Any]) -> tuple[set[str], set[str]]:
        found: tuple[set[str], set[str]] = (set(), set())

        def walk(node: dict[str, Any], path: str) -> None:
            if node.get("filterable"):
                found[0].add(path)
            if node.get("sortable"):
                found[1].add(path)
            for key, sub in node.get("properties", {}).items():
                walk(sub, f"{path}.{key}" if path else key)

        walk(schema["properties"]["collection"]["items"], "")
        return found

    for spec, name, extra in [
        (STATUS_SPEC, "invoices.unpaid.get.schema.json", set()),
        (BOOKED_SPEC, "invoices.booked.get.schema.json", set()),
        (DRAFT_SPEC, "invoices.drafts.get.schema.json", set()),
        (CUSTOMER_SPEC, "customers.get.schema.json", {"pNumber"}),  # live: filterable [S2]
        (ENTRY_SPEC, "accounting-years.accountingYear.entries.get.schema.json", set()),
        (JOURNAL_SPEC, "journals.get.schema.json", set()),
        (JOURNAL_ENTRY_SPEC, "journals.journalNumber.entries.get.schema.json", set()),
    ]:
        fields, sortable = filterable(load_schema(name))
        assert set(spec.fields) == fields | extra, name
        assert spec.sortable == sortable, name


# --- paging ---------------------------------------------------------------------------------------


def test_paging_follows_next_page_over_2500_invoices(serve: Serve) -> None:
    fake = FakeEconomic(today=TODAY)
    seed(fake, 1, 2500, customers=30)
    client = serve(fake)
    first = loads(client.get("/invoices/unpaid", params={"pagesize": "1000"}))
    pagination = first["pagination"]
    assert pagination["maxPageSizeAllowed"] == 1000
    assert (pagination["results"], pagination["resultsWithoutFilter"]) == (2500, 2500)
    assert (pagination["skipPages"], pagination["pageSize"]) == (0, 1000)
    assert pagination["nextPage"].endswith("/invoices/unpaid?skippages=1&pagesize=1000")
    assert pagination["lastPage"].endswith("skippages=2&pagesize=1000")
    items, pages = collect(client, "/invoices/unpaid", pagesize="1000")
    assert pages == 3
    numbers = [i["bookedInvoiceNumber"] for i in items]
    assert numbers == list(range(10001, 12501))
    last = loads(client.get("/invoices/unpaid", params={"pagesize": "1000", "skippages": "2"}))
    assert "nextPage" not in last["pagination"] and len(last["collection"]) == 500
    past = loads(client.get("/invoices/unpaid", params={"pagesize": "1000", "skippages": "9"}))
    assert past["collection"] == []
    assert len(loads(client.get("/invoices/unpaid"))["collection"]) == 20  # default page size


def test_pagesize_above_the_maximum_is_refused(serve: Serve) -> None:
    fake, _ = make_fake()
    client = serve(fake)
    for size in ("1001", "0", "-1", "many"):
        response = client.get("/customers", params={"pagesize": size})
        assert response.status_code == 400
        error = loads(response)
        assert error["errorCode"] == "E04810" and error["httpStatusCode"] == 400
        assert {"message", "developerHint", "logId", "logTime"} <= error.keys()
    small = FakeEconomic(page_size_max=2)
    small.add_agreement(APP, GRANT)
    assert serve(small).get("/customers", params={"pagesize": "3"}).status_code == 400


# --- filters --------------------------------------------------------------------------------------


def numbers(response: httpx.Response, key: str = "bookedInvoiceNumber") -> list[int]:
    assert response.status_code == 200, response.text
    return [item[key] for item in loads(response)["collection"]]


def test_filters(serve: Serve) -> None:
    fake, _ = make_fake()
    client = serve(fake)

    def booked(expression: str) -> list[int]:
        return numbers(client.get("/invoices/booked", params={"filter": expression}))

    assert booked("customer.customerNumber$in:[101,102]") == [5001, 5002, 5003]
    assert booked("bookedInvoiceNumber$in:[5004,5001,9999]") == [5001, 5004]
    assert booked("bookedInvoiceNumber$nin:[5001]") == [5002, 5003, 5004]
    assert booked("customer.customerNumber$eq:102$and:date$gte:2026-01-06") == [5002]
    either = "currency$eq:eur$or:(customer.customerNumber$eq:101$and:date$lt:2026-02-01)"
    assert booked(either) == [5001, 5004]
    assert booked("recipient.name$like:søn") == [5002, 5003]  # contains, case-insensitive
    assert booked("recipient.name$eq:Hansen*") == [5002, 5003]  # wildcard
    assert booked("notes.heading$eq:$null:") == [5001, 5002, 5003]
    assert booked("notes.heading$ne:$null:") == [5004]
    assert booked("exchangeRate$gt:100") == [5004]
    unpaid = client.get("/invoices/unpaid", params={"filter": "customer.customerNumber$in:[102]"})
    assert numbers(unpaid) == [5002]
    assert loads(unpaid)["pagination"]["resultsWithoutFilter"] == 3
    customers = client.get("/customers", params={"filter": "customerNumber$in:[101,103]"})
    assert numbers(customers, "customerNumber") == [101, 103]
    barred = client.get("/customers", params={"filter": "barred$eq:false"})
    assert numbers(barred, "customerNumber") == [101, 103]
    by_sort = client.get("/invoices/booked", params={"sort": "-date"})
    assert numbers(by_sort) == [5004, 5002, 5003, 5001]


def test_filter_is_kept_in_the_page_links(serve: Serve) -> None:
    fake = FakeEconomic()
    seed(fake, 1, 50, customers=5)
    client = serve(fake)
    items, pages = collect(
        client, "/invoices/booked", pagesize="3", filter="customer.customerNumber$in:[1,2]"
    )
    assert pages == 7 and len(items) == 20
    assert {i["customer"]["customerNumber"] for i in items} == {1, 2}


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("remainder$gt:0", "Filtering is not allowed on property 'remainder'"),
        ("dueDate$lt:2026-01-01", "Filtering is not allowed on property 'dueDate'"),
        ("recipient.name$in:[a,b]", "only allowed on numeric properties"),
        ("bookedInvoiceNumber$in:[" + ",".join(map(str, range(201))) + "]", "at most 200"),
        ("bookedInvoiceNumber$eq:abc", "not valid"),
        ("date$eq:01-01-2026", "not valid"),
        ("bookedInvoiceNumber$foo:1", "Expected an operator"),
        ("(bookedInvoiceNumber$eq:1", "Missing ')'"),
        ("bookedInvoiceNumber$eq:1)", "Unbalanced"),
        ("recipient.name$eq:a$b", "Unescaped '$'"),
        ("recipient.name$eq:$[x", "not an escape"),
    ],
)
def test_bad_filters_are_400_with_the_reason(expression: str, says: str) -> None:
    fake, _ = make_fake()
    client = httpx.Client(transport=fake.transport(), base_url="https://x", headers=AUTH)
    response = client.get("/invoices/booked", params={"filter": expression})
    assert response.status_code == 400
    error = loads(response)
    assert error["message"] == "Could not parse query string filter."
    assert any(says in e for e in error["errors"]), error["errors"]
    if "not allowed on property" in says:
        assert "customer.customerNumber" in error["allowedFilteringFields"]


def test_filter_escapes() -> None:
    fake, ag = make_fake()
    ag.add_customer(200, "A (B) $ C, D*")
    client = httpx.Client(transport=fake.transport(), base_url="https://x", headers=AUTH)
    hit = client.get("/customers", params={"filter": "name$eq:A $(B$) $$ C$, D$*"})
    assert numbers(hit, "customerNumber") == [200]
    literal_star = client.get("/customers", params={"filter": "name$eq:A$*"})
    assert numbers(literal_star, "customerNumber") == []


# --- auth -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "code", "says"),
    [
        ({}, "E00100", "X-AppSecretToken header is missing"),
        (
            {"X-AppSecretToken": "nope", "X-AgreementGrantToken": GRANT},
            "E00110",
            "X-AppSecretToken",
        ),
        ({"X-AppSecretToken": APP}, "E00200", "X-AgreementGrantToken header is missing"),
        (
            {"X-AppSecretToken": APP, "X-AgreementGrantToken": "x"},
            "E00210",
            "X-AgreementGrantToken",
        ),
        ({"X-AppSecretToken": "app-2", "X-AgreementGrantToken": GRANT}, "E00210", "this app"),
    ],
)
def test_bad_tokens_are_401_naming_the_token(
    serve: Serve, headers: dict[str, str], code: str, says: str
) -> None:
    fake, _ = make_fake()
    fake.add_agreement("app-2", "grant-2")
    response = serve(fake, headers).get("/invoices/unpaid")
    assert response.status_code == 401
    error = loads(response)
    assert error["errorCode"] == code and says in error["message"]
    assert error["httpStatusCode"] == 401 and error["logId"] and error["developerHint"]


def test_revoked_grant_and_role_without_access(serve: Serve) -> None:
    fake, ag = make_fake()
    fake.add_agreement("app-2", "grant-2", role="Bookkeeping")
    forbidden = serve(fake, {"X-AppSecretToken": "app-2", "X-AgreementGrantToken": "grant-2"})
    assert forbidden.get("/customers").status_code == 403
    assert forbidden.get("/invoices/unpaid").status_code == 200
    client = serve(fake)
    assert client.get("/self").json()["company"]["name"] == "Acme"
    ag.revoke()
    response = client.get("/invoices/unpaid")
    assert response.status_code == 401 and "revoked" in response.json()["message"]


# --- faults ---------------------------------------------------------------------------------------


def test_429_with_retry_after_then_normal(serve: Serve) -> None:
    fake, _ = make_fake()
    client = serve(fake)
    fake.fail_next(Fault(status=429, retry_after=2, count=1, path_prefix=None))
    throttled = client.get("/invoices/unpaid")
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"
    assert loads(throttled)["httpStatusCode"] == 429
    assert client.get("/invoices/unpaid").status_code == 200
    assert [r.status for r in fake.requests] == [429, 200]
    assert fake.requests[0].fault is not None


def test_5xx_count_and_path_prefix(serve: Serve) -> None:
    fake, _ = make_fake()
    client = serve(fake)
    fake.fail_next(Fault(status=503, count=2, path_prefix="/invoices"))
    assert client.get("/customers").status_code == 200  # other path: untouched
    failed = client.get("/invoices/unpaid")
    assert failed.status_code == 503
    assert {"message", "developerHint", "logId", "httpStatusCode"} <= loads(failed).keys()
    assert client.get("/invoices/booked").status_code == 503
    assert client.get("/invoices/booked").status_code == 200


def test_slow_and_malformed_answers(serve: Serve) -> None:
    fake, _ = make_fake()
    client = serve(fake)
    fake.fail_next(Fault(delay=0.3))
    started = time.monotonic()
    assert client.get("/invoices/unpaid").status_code == 200
    assert time.monotonic() - started >= 0.3
    fake.fail_next(Fault(malformed=True))
    broken = client.get("/invoices/unpaid")
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        json.loads(broken.content)


def test_rate_limit_headers_and_an_enforced_bucket(serve: Serve) -> None:
    fake, _ = make_fake(rate_limit=3, rate_window=60)
    client = serve(fake)
    answers = [client.get("/customers") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["X-CallCost"] == "1"
    assert answers[1].headers["X-RateLimiting"] == "token-limit-3-per-60-seconds: 2/3"
    assert int(answers[3].headers["Retry-After"]) > 0
    unlimited, _ = make_fake()
    header = serve(unlimited).get("/customers").headers["X-RateLimiting"]
    assert re.fullmatch(r"token-limit-10000-per-60-seconds: 1/10000", header)


def test_unknown_path_wrong_method_unknown_resource(serve: Serve) -> None:
    fake, _ = make_fake()
    client = serve(fake)
    missing = client.get("/no/such/thing")
    assert missing.status_code == 404 and loads(missing)["message"] == "Resource not found."
    wrong = client.delete("/invoices/unpaid")
    assert wrong.status_code == 405 and wrong.headers["Allow"] == "GET"
    unknown = client.get("/invoices/booked/999")
    assert unknown.status_code == 404 and loads(unknown)["errorCode"] == "E06000"
    assert client.get("/customers/abc").status_code == 404
    not_json = client.post(
        "/invoices/drafts", content=b"<x/>", headers={"Content-Type": "text/xml"}
    )
    assert not_json.status_code == 415


# --- writes ---------------------------------------------------------------------------------------


def test_draft_is_priced_by_the_server_and_booked(serve: Serve) -> None:
    fake, ag = make_fake()
    client = serve(fake)
    created = post(client, "/invoices/drafts", draft_payload())
    assert created.status_code == 201
    draft = loads(created)
    assert created.headers["Location"].endswith(f"/invoices/drafts/{draft['draftInvoiceNumber']}")
    # 2 x 100.00 + 99.99 less 10 % (89.99) = 289.99 net; 25 % VAT = 72.50
    assert (draft["netAmount"], draft["vatAmount"], draft["grossAmount"]) == (
        Decimal("289.99"),
        Decimal("72.50"),
        Decimal("362.49"),
    )
    assert draft["dueDate"] == "2026-02-02"  # net 8 days
    assert [line["lineNumber"] for line in draft["lines"]] == [1, 2]
    booked = post(client, "/invoices/booked", {"draftInvoice": {"draftInvoiceNumber": 1}})
    assert booked.status_code == 201
    invoice = loads(booked)
    assert invoice["bookedInvoiceNumber"] == 5005 and invoice["remainder"] == Decimal("362.49")
    assert ag.drafts == {} and ag.booked[5005].remainder == Decimal("362.49")
    assert loads(client.get("/customers/101"))["balance"] == Decimal("1612.49")
    again = post(client, "/invoices/booked", {"draftInvoice": {"draftInvoiceNumber": 1}})
    assert again.status_code == 400
    assert loads(again)["errors"]["draftInvoice"]["errors"][0]["errorCode"] == "E06000"
    draft = loads(post(client, "/invoices/drafts", draft_payload()))
    number = post(client, "/invoices/booked", {"draftInvoice": draft, "bookWithNumber": 7})
    assert loads(number)["bookedInvoiceNumber"] == 7
    taken = post(client, "/invoices/drafts", draft_payload())
    again = post(client, "/invoices/booked", {"draftInvoice": loads(taken), "bookWithNumber": 7})
    assert again.status_code == 400 and "bookWithNumber" in loads(again)["errors"]


def test_draft_validation_errors_are_annotated(serve: Serve) -> None:
    fake, ag = make_fake()
    client = serve(fake)
    too_precise = {
        "product": {"productNumber": "1"},
        "quantity": Decimal("1"),
        "unitNetPrice": Decimal("10.12345"),
    }
    bad = draft_payload(
        currency="ZUL",
        customer={"customerNumber": 987987987},
        layout={},
        recipient={"vatZone": {"vatZoneNumber": 1}, "address": None},
        lines=[too_precise, {"quantity": Decimal("1")}],
    )
    del bad["date"]
    response = post(client, "/invoices/drafts", bad)
    assert response.status_code == 400
    error = loads(response)
    assert error["message"] == "Validation error."
    errors = error["errors"]
    assert errors["currency"]["errors"][0]["errorCode"] == "E06000"
    assert errors["customer"]["errors"][0]["value"] == 987987987
    assert errors["layout"]["errors"][0]["errorCode"] == "E04500"
    assert "date" in errors and "name" in errors["recipient"] and "address" in errors["recipient"]
    assert errors["lines"][0]["arrayIndex"] == 0
    assert errors["lines"][0]["unitNetPrice"]["errors"][0]["errorCode"] == "E04740"
    assert errors["lines"][1]["arrayIndex"] == 1 and "product" in errors["lines"][1]
    assert ag.drafts == {}
    due = post(client, "/invoices/drafts", draft_payload(paymentTerms={"paymentTermsNumber": 5}))
    assert loads(due)["errors"]["dueDate"]["errors"][0]["errorCode"] == "E04042"


def test_idempotent_post_is_replayed_and_changes_nothing(
    serve: Serve,
) -> None:
    fake, ag = make_fake()
    client = serve(fake)
    first = post(client, "/invoices/drafts", draft_payload(), **{"Idempotency-Key": "k-1"})
    second = post(client, "/invoices/drafts", draft_payload(), **{"Idempotency-Key": "k-1"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.content == second.content
    assert second.headers["X-ResultFromCache"] == "true"
    assert "X-ResultFromCache" not in first.headers
    assert second.headers["Location"] == first.headers["Location"]
    assert len(ag.drafts) == 1
    assert [r.replayed for r in fake.requests_to("/invoices/drafts", "POST")] == [False, True]
    assert fake.requests[0].headers["idempotency-key"] == "k-1"
    assert fake.requests[0].json["lines"][0]["unitNetPrice"] == Decimal("100.00")
    voucher = payment_voucher(101, "1")
    other_path = post(client, "/journals/1/vouchers", voucher, **{"Idempotency-Key": "k-1"})
    assert other_path.status_code == 400 and loads(other_path)["errorCode"] == "URLChanged"
    assert ag.vouchers == []


def test_lost_answer_then_retry_with_the_same_key(serve: Serve) -> None:
    fake, ag = make_fake()
    client = serve(fake)
    fake.fail_next(Fault(status=503, after_processing=True, method="POST"))
    payload = payment_voucher(101, "1250.00", 5001)
    lost = post(client, "/journals/1/vouchers", payload, **{"Idempotency-Key": "pay-5001"})
    assert lost.status_code == 503
    assert len(ag.vouchers) == 1  # it was posted
    retry = post(client, "/journals/1/vouchers", payload, **{"Idempotency-Key": "pay-5001"})
    assert retry.status_code == 201 and retry.headers["X-ResultFromCache"] == "true"
    assert len(ag.vouchers) == 1 and ag.booked[5001].remainder == Decimal("1250.00")
    ag.book_journal(1)
    assert ag.booked[5001].remainder == 0


def test_credit_note_lowers_the_balance_and_the_credited_invoice(
    serve: Serve,
) -> None:
    fake, ag = make_fake()
    client = serve(fake)
    note = book(client, credit_note_payload(101, "400.00", "Kreditnota for faktura nr. 5001"))
    assert note["grossAmount"] == Decimal("-500.00") and note["remainder"] == 0
    assert ag.booked[5001].remainder == Decimal("750.00")
    assert loads(client.get("/customers/101"))["balance"] == Decimal("750.00")
    assert loads(client.get("/invoices/booked/5001"))["remainder"] == Decimal("750.00")
    # Fully credited: off the unpaid list. Unlinked: balance down, invoice untouched.
    book(client, credit_note_payload(101, "600.00", "Credit note for invoice 5001"))
    assert 5001 not in numbers(client.get("/invoices/unpaid"))
    unlinked = book(client, credit_note_payload(102, "40.00", "Goodwill"))
    assert unlinked["remainder"] == Decimal("-50.00")
    assert ag.booked[5002].remainder == Decimal("250.00")
    assert loads(client.get("/customers/102"))["balance"] == Decimal("200.00")


def test_voucher_payment_lowers_the_remainder(serve: Serve) -> None:
    fake, ag = make_fake()
    client = serve(fake)
    assert numbers(client.get("/invoices/unpaid")) == [5001, 5002, 5004]
    partial = pay(client, 101, "250.00", 5001)
    assert partial.status_code == 201
    vouchers = loads(partial)
    assert isinstance(vouchers, list) and len(vouchers) == 1  # an array, as the real API
    entry = vouchers[0]["entries"]["customerPayments"][0]
    assert entry["entryType"] == "customerPayment" and entry["remainder"] == Decimal("250.00")
    assert entry["voucher"]["voucherNumber"] == vouchers[0]["voucherNumber"]
    assert partial.headers["Location"] == vouchers[0]["self"]
    # unbooked in the journal: nothing moves until a person books it
    assert loads(client.get("/customers/101"))["balance"] == Decimal("1250.00")
    assert ag.book_journal(1) == 1
    assert loads(client.get("/invoices/booked/5001"))["remainder"] == Decimal("1000.00")
    assert loads(client.get("/customers/101"))["balance"] == Decimal("1000.00")
    # Pays the rest and 10.00 too much: the invoice is paid, the excess is a credit.
    assert pay(client, 101, "1010.00", 5001).status_code == 201
    assert numbers(client.get("/invoices/unpaid")) == [5001, 5002, 5004]
    ag.book_journal(1)
    assert numbers(client.get("/invoices/unpaid")) == [5002, 5004]
    assert 5001 in numbers(client.get("/invoices/paid"))
    assert loads(client.get("/customers/101"))["balance"] == Decimal("-10.00")
    assert len(ag.vouchers) == 2 and ag.vouchers[0].entries[0][0] == "customerPayments"
    payments = {"filter": "entryType$eq:customerPayment"}
    entries = loads(client.get("/accounting-years/2026/entries", params=payments))["collection"]
    assert [e["amount"] for e in entries] == [Decimal("-250.00"), Decimal("-1010.00")]
    assert [e["remainder"] for e in entries] == [0, Decimal("-10.00")]


def test_unbooked_vouchers_are_listed_in_their_journal_until_it_is_booked(
    serve: Serve,
) -> None:
    fake, ag = make_fake()
    client = serve(fake)
    assert pay(client, 101, "250.00", 5001).status_code == 201
    other = payment_voucher(101, "1000.00", 5001)
    other["entries"]["customerPayments"][0]["text"] = "Tab, faktura 5001 (receivables-hub w:7)"
    assert post(client, "/journals/1/vouchers", other).status_code == 201
    doc = loads(client.get("/journals/1/entries", params={"pagesize": "1"}))
    assert_schema("journals.journalNumber.entries.get.schema.json", doc)
    assert doc["pagination"]["results"] == 2 and "nextPage" in doc["pagination"]
    [first] = doc["collection"]
    assert first["customer"]["customerNumber"] == 101 and first["customerInvoice"] == 5001
    assert first["amount"] == Decimal("250.00") and first["remainder"] == Decimal("250.00")
    assert first["voucher"]["voucherNumber"] == 50001
    assert first["self"].endswith(f"/journals/1/entries/{first['journalEntryNumber']}")
    items, _ = collect(client, "/journals/1/entries")
    assert [i["voucher"]["voucherNumber"] for i in items] == [50001, 50002]

    def texts(path: str, expression: str) -> list[str]:
        found = loads(client.get(path, params={"filter": expression}))["collection"]
        return [i["text"] for i in found]

    assert texts("/journals/1/entries", "text$like:receivables-hub w:7") == [
        "Tab, faktura 5001 (receivables-hub w:7)"
    ]
    assert texts("/journals/1/entries", "text$like:*w:7$)") == [
        "Tab, faktura 5001 (receivables-hub w:7)"
    ]
    assert texts("/journals/1/entries", "text$eq:Indbetaling") == ["Indbetaling"]
    assert texts("/journals/1/entries", "amount$eq:999") == []
    assert loads(client.get("/journals/2/entries"))["collection"] == []
    assert client.get("/journals/9/entries").status_code == 404
    # Unbooked, nothing else moved: no ledger entry, the invoice and balance as they were.
    assert ag.booked[5001].remainder == Decimal("1250.00")
    assert loads(client.get("/customers/101"))["balance"] == Decimal("1250.00")
    assert texts("/accounting-years/2026/entries", "text$like:receivables-hub") == []

    assert ag.book_journal(1) == 2  # a bookkeeper books the journal in e-conomic's UI
    assert loads(client.get("/journals/1/entries"))["collection"] == []
    assert ag.booked[5001].remainder == 0
    assert loads(client.get("/customers/101"))["balance"] == 0
    assert 5001 not in numbers(client.get("/invoices/unpaid"))
    booked = texts("/accounting-years/2026/entries", "text$like:receivables-hub w:7")
    assert booked == ["Tab, faktura 5001 (receivables-hub w:7)"]
    ledger = loads(client.get("/accounting-years/2026/entries"))
    assert_schema("accounting-years.accountingYear.entries.get.schema.json", ledger)
    assert ag.book_journal(1) == 0


def test_voucher_validation_and_the_other_sign() -> None:
    fake, ag = make_fake(payment_sign=-1)
    client = httpx.Client(transport=fake.transport(), base_url="https://x", headers=AUTH)
    assert pay(client, 101, "-250.00", 5001).status_code == 201
    ag.book_journal(1)
    assert ag.booked[5001].remainder == Decimal("1000.00")
    bad = payment_voucher(999, "1.234", 5001)
    bad["entries"]["customerPayments"][0]["date"] = "2025-12-31"
    response = post(client, "/journals/1/vouchers", bad)
    assert response.status_code == 400
    entry_errors = loads(response)["errors"]["entries"]["customerPayments"][0]
    assert {"customer", "amount"} <= entry_errors.keys()
    assert post(client, "/journals/9/vouchers", payment_voucher(101, "1")).status_code == 404
    missing_year = payment_voucher(101, "1")
    del missing_year["accountingYear"]
    assert post(client, "/journals/1/vouchers", missing_year).status_code == 400
    supplier = {"accountingYear": {"year": "2026"}, "entries": {"supplierPayments": [{}]}}
    assert post(client, "/journals/1/vouchers", supplier).status_code == 501
    assert len(ag.vouchers) == 1


def test_pay_from_the_test_side(serve: Serve) -> None:
    fake, ag = make_fake()
    client = serve(fake)
    assert ag.pay(5001, Decimal("250.00")) == Decimal("1000.00")
    assert ag.pay(5001) == 0
    with pytest.raises(ValueError):
        ag.pay(5001)
    assert 5001 not in numbers(client.get("/invoices/unpaid"))
    assert loads(client.get("/customers/101"))["balance"] == 0
    overdue = numbers(client.get("/invoices/overdue"))
    not_due = numbers(client.get("/invoices/not-due"))
    assert (overdue, not_due) == ([], [5002, 5004])
    fake.today = date(2026, 2, 11)
    assert numbers(client.get("/invoices/overdue")) == [5002]


# --- size and the process ------------------------------------------------------------------------


def test_seeding_500_by_400() -> None:
    """The benchmark's size (how long it takes is bench/fakes.py's figure, not a test's)."""
    fake = FakeEconomic()
    seed(fake, 500, 400)
    assert len(fake.agreements) == 500 and len(fake.agreement("grant-500").booked) == 400
    client = httpx.Client(
        transport=fake.transport(),
        base_url="https://x",
        headers={"X-AppSecretToken": "app-7", "X-AgreementGrantToken": "grant-7"},
    )
    page = client.get("/invoices/unpaid", params={"pagesize": "1000"})
    assert len(page.json()["collection"]) == 400


def test_runs_as_a_process() -> None:
    command = [sys.executable, "-m", "hub.testing.fakes.economic", "--port", "0"]
    command += ["--agreements", "3", "--invoices", "7"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        headers = {"X-AppSecretToken": "app-3", "X-AgreementGrantToken": "grant-3"}
        response = httpx.get(f"{url}/invoices/unpaid", headers=headers, timeout=10)
        assert response.status_code == 200 and len(response.json()["collection"]) == 7
    finally:
        process.terminate()
        process.wait(timeout=10)
