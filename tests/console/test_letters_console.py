"""The outbox and a letter's page over real HTTP: filters and pages, each letter exactly as it
was stored and sent (text in <pre>, escaped: a letter is never live HTML), the API as ``hub
messages list|show --json``; a client's overview (age buckets and stages as charts with the
numbers beside them); who may see what. With ``-m postgres`` on PostgreSQL too."""

from __future__ import annotations

import html
import json
from decimal import Decimal

from hub.operations import cases, collection, messages, overview
from hub.records import to_json
from tests.console import world
from tests.console.conftest import Console, csrf_of

SCRIPT = "<script>alert('x')</script>"


def test_a_letter_is_shown_as_sent_with_its_html_escaped(console: Console) -> None:
    world.book(console, "2001", customer="C9", gross="99.95", days_overdue=20)
    world.name_customer(console, "C9", f"Evil {SCRIPT} ApS")
    world.sync(console)
    case_id = world.start(console, "2001")
    cases.close_case(console.admin, cases.CloseRequest(case_id, "paid", "paid_to_us", notify=True))
    (letter,) = messages.page_messages(console.admin, messages.MessageFilter()).items
    stored = messages.show_message(console.admin, letter.id)
    assert SCRIPT in stored.body  # the customer's name, as the letter says it

    for name in ("anna", "bo"):
        page = console.login(name).get(f"/letters/{letter.id}")
        assert page.status_code == 200
        assert "<script" not in page.text  # never live
        assert "Evil &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; ApS" in page.text
        body = page.text.split('<pre class="letter-body">', 1)[1].split("</pre>", 1)[0]
        assert html.unescape(body) == stored.body  # word for word
        assert stored.subject in page.text
    api = console.api("bo")
    answer = api.get(f"/api/v1/messages/{letter.id}")
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json() == json.loads(to_json(stored.as_dict()))
    assert answer.json()["body"] == stored.body

    # another consultant: not found, as a letter that does not exist
    carl = console.login("carl")
    theirs, missing = carl.get(f"/letters/{letter.id}"), carl.get("/letters/999")
    assert theirs.status_code == missing.status_code == 404
    assert "No letters match." in carl.get("/letters").text
    assert console.api("carl").get(f"/api/v1/messages/{letter.id}").status_code == 404


def test_the_outbox_filters_and_pages(console: Console) -> None:
    first, second, third = world.three_cases(console)
    for case_id in (first, second, third):
        cases.close_case(
            console.admin, cases.CloseRequest(case_id, "paid", "paid_to_us", notify=True)
        )
    bo = console.login("bo")
    listed = bo.get("/letters")
    assert listed.status_code == 200 and listed.text.count('href="/letters/') == 6  # id, subject
    assert "bekræftelse på lukning" in listed.text and "i kø" in listed.text
    token = csrf_of(listed.text)
    chosen = bo.post("/letters/filter", data={"csrf_token": token, "customer": "C2", "kind": ""})
    assert chosen.status_code == 303 and chosen.headers["location"] == "/letters?customer=C2"
    assert bo.get(chosen.headers["location"]).text.count('href="/letters/') == 4
    paged = bo.get("/letters?limit=2&offset=2").text
    assert "3–3 af 3" in paged and 'rel="prev"' in paged
    api = console.api("bo")
    page = api.get("/api/v1/messages", params={"limit": 2}).json()
    every = messages.page_messages(console.admin, messages.MessageFilter()).items
    assert page["total"] == 3 and page["items"] == json.loads(
        to_json([m.as_dict() for m in every[:2]])
    )
    assert api.get("/api/v1/messages", params={"case": third}).json()["total"] == 1
    refused = api.get("/api/v1/messages", params={"kind": "poem"})
    assert refused.status_code == 422 and "letter kind 'poem'" in refused.json()["error"]["message"]


def test_the_overview_shows_the_age_buckets_and_stages_as_charts_and_tables(
    console: Console,
) -> None:
    world.three_cases(console)  # 1250.00 45 days overdue, 300.00 not due, 80.50 5 days
    world.book(console, "1004", customer="C3", gross="1000.10", days_overdue=91)
    world.book(console, "1005", customer="C3", gross="7.00", days_overdue=90)
    world.sync(console)
    found = overview.client_overview(console.admin, "acme")
    assert found.ages[0].as_dict() == {
        "currency": "DKK",
        "not_due": Decimal("300.00"),
        "days_0_30": Decimal("80.50"),
        "days_31_60": Decimal("1250.00"),
        "days_61_90": Decimal("7.00"),
        "days_over_90": Decimal("1000.10"),
        "overdue": Decimal("2337.60"),
        "invoices": 5,
    }
    bo = console.login("bo")
    page = bo.get("/overview/acme")
    assert page.status_code == 200
    assert page.text.count("<svg") == 2 and "<script" not in page.text
    for shown in ("1.000,10 kr.", "7,00 kr.", "1.250,00 kr.", "80,50 kr.", "2.337,60 kr."):
        assert f'<td class="amount">{shown}</td>' in page.text, shown
    assert "over 90 dage" in page.text and "rykker" in page.text
    assert 'href="/overview/acme"' in bo.get("/").text
    vera = console.login("vera").get("/overview/acme").text  # in Norwegian
    assert "1\u00a0000,10 DKK" in vera and "over 90 dager" in vera
    api = console.api("bo")
    assert api.get("/api/v1/overview/acme").json() == json.loads(to_json(found.as_dict()))
    owing = api.get("/api/v1/collection/acme").json()
    assert owing["items"] == json.loads(
        to_json(collection.collection_overview(console.admin, "acme").rows)
    )
    carl = console.login("carl")
    assert carl.get("/overview/acme").status_code == 404
    assert console.api("carl").get("/api/v1/overview/acme").status_code == 404
    assert console.api("carl").get("/api/v1/collection/acme").status_code == 404
