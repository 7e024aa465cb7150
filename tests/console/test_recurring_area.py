"""Recurring agreements in the console, over real HTTP: every agreement a user may see; a
client's agreements with the form that adds one and previews its first invoices; an
agreement's page with its upcoming invoices; deactivating one with a reason. The API's JSON is
the CLI's ``--json``."""

from __future__ import annotations

import httpx

from hub.operations import recurring
from tests.console.area_support import Cli, add_agreement, api_json, cli
from tests.console.conftest import Console, csrf_of

__all__ = ["cli"]  # a fixture

FORM = {
    "customer": "C9",
    "every": "1",
    "unit": "month",
    "produce": "invoice",
    "first_invoice_date": "2026-04-01",
    "prep_days": "10",
    "payment_days": "14",
    "agreement_date": "2026-03-20",
    "line.0.description": "Support",
    "line.0.quantity": "1",
    "line.0.unit_price": "3100.00",
    "line.0.price_factor": "month",
    "line.0.vat_code": "",
    "line.1.description": "",
    "line.1.quantity": "",
    "line.1.unit_price": "",
    "line.1.price_factor": "fixed",
    "line.1.vat_code": "",
}


def _post(
    browser: httpx.Client, page: str, data: dict[str, str], path: str | None = None
) -> httpx.Response:
    token = csrf_of(browser.get(page).text)
    return browser.post(path or page, data={**data, "csrf_token": token})


def test_a_preview_shows_the_first_invoices_and_stores_nothing(console: Console) -> None:
    """G5: the agreement date 20.03 bills 11 days of March (11/31 of 3 100.00 = 1 100.00) on
    the first invoice, made 10 preparation days before its date (G1)."""
    bo = console.login("bo")
    shown = _post(bo, "/clients/acme/recurring", {**FORM, "action": "preview"})
    assert shown.status_code == 200
    text = shown.text
    assert "De første 12 fakturaer" in text
    assert "22.03.2026" in text and "01.04.2026" in text  # made on, invoice date
    assert "4.200,00 kr." in text and "3.100,00 kr." in text  # first total, then monthly
    assert 'value="C9"' in text and 'value="3100.00"' in text  # the form keeps what was typed
    assert recurring.list_agreements(console.admin, "acme") == []


def test_an_agreement_added_in_the_form_shows_its_upcoming_invoices(console: Console) -> None:
    bo = console.login("bo")
    added = _post(bo, "/clients/acme/recurring", {**FORM, "action": "add"})
    assert added.status_code == 303
    (summary,) = recurring.list_agreements(console.admin, "acme")
    assert added.headers["location"] == f"/clients/acme/recurring/{summary.id}"
    page = bo.get(added.headers["location"])
    assert page.status_code == 200
    assert f"Aftale {summary.id} om faste fakturaer er tilføjet." in page.text
    assert "Kommende fakturaer" in page.text and "01.09.2026" in page.text  # the 6th upcoming
    listed = bo.get("/clients/acme/recurring").text
    assert f"/clients/acme/recurring/{summary.id}" in listed and "C9" in listed
    assert "C9" in bo.get("/recurring").text


def test_a_refused_agreement_is_shown_with_what_was_typed(console: Console) -> None:
    bo = console.login("bo")
    refused = _post(
        bo,
        "/clients/acme/recurring",
        {**FORM, "action": "add", "line.0.price_factor": "week", "prep_days": "3"},
    )
    assert refused.status_code == 422
    assert "price factor" in refused.text and 'value="Support"' in refused.text
    assert 'name="prep_days" value="3"' in refused.text
    no_date = _post(
        bo, "/clients/acme/recurring", {**FORM, "action": "add", "first_invoice_date": ""}
    )
    assert no_date.status_code == 422 and "first invoice date" in no_date.text
    assert recurring.list_agreements(console.admin, "acme") == []


def test_an_agreement_is_deactivated_with_a_reason(console: Console) -> None:
    agreement = add_agreement(console)
    anna = console.login("anna")
    page = f"/clients/acme/recurring/{agreement}"
    no_reason = _post(anna, page, {"reason": "  "}, f"{page}/deactivate")
    assert no_reason.status_code == 422
    assert "Give a reason for deactivating the agreement." in no_reason.text
    done = _post(anna, page, {"reason": "the customer left"}, f"{page}/deactivate")
    assert done.status_code == 303
    shown = anna.get(page).text
    assert "inactive" in shown and "the customer left (root)" not in shown
    assert "the customer left (anna)" in shown
    assert "Nothing more: the agreement is inactive." in shown
    assert f"{page}/deactivate" not in shown


def test_the_apis_agreements_are_the_clis(console: Console, cli: Cli) -> None:
    agreement = add_agreement(console)
    api = console.api("bo")
    assert api_json(api.get("/api/v1/recurring")) == cli("recurring", "list", "--json")
    assert api_json(api.get("/api/v1/clients/acme/recurring")) == cli(
        "recurring", "list", "--client", "acme", "--json"
    )
    assert api_json(api.get(f"/api/v1/clients/acme/recurring/{agreement}")) == cli(
        "recurring", "show", str(agreement), "--json"
    )
    terms = {
        "every": 3,
        "unit": "month",
        "next_invoice_date": "2026-04-01",
        "lines": ["Licence;1;1500.00;month;25"],
    }
    preview = api.post("/api/v1/clients/acme/recurring/preview?count=4", json=terms)
    assert api_json(preview) == cli(
        "recurring", "preview", "--every", "3", "--unit", "month",
        "--next-invoice-date", "2026-04-01", "--line", "Licence;1;1500.00;month;25",
        "--currency", "DKK", "--count", "4", "--json",
    )  # fmt: skip
    assert api_json(preview)[0]["total"] == "4500.00"
    added = api.post("/api/v1/clients/acme/recurring", json={**terms, "customer": "C3"})
    assert added.status_code == 201
    made = added.json()
    assert made["customer"] == "C3" and made["first_invoice"]["total"] == "4500.00"
    bad = api.post("/api/v1/clients/acme/recurring", json={**terms, "customer": "C3", "every": 0})
    assert bad.status_code == 422 and "every" in bad.json()["error"]["message"]
    off = api.post(
        f"/api/v1/clients/acme/recurring/{made['id']}/deactivate", json={"reason": "test"}
    )
    assert off.json()["status"] == "inactive" and off.json()["upcoming"] == []
    assert off.json() == cli("recurring", "show", str(made["id"]), "--json")
    again = api.post(
        f"/api/v1/clients/acme/recurring/{made['id']}/deactivate", json={"reason": "again"}
    )
    assert again.status_code == 422 and "already inactive" in again.json()["error"]["message"]
