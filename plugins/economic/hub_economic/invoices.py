"""Invoices and orders from the hub (recurring agreements): a draft invoice, booked or not.

``kind == "invoice"``: the draft is booked at once; the reference is the booked invoice's
number. ``kind == "order"``: the draft stays a draft, for a person to look at and book in
e-conomic (that is what an order is to the hub: it waits for a person); the reference is
``draft:<draftInvoiceNumber>``. (e-conomic also has sales orders, ``/orders/drafts``, but an
order there needs a person to turn it into an invoice draft first; a draft invoice is the
shortest honest path to "a person books it".)

Once per key (see :mod:`hub_economic.drafts`): a booked invoice carrying the key is the
answer, also for an order a person has booked since (then the booked number is returned:
what the draft became); a draft carrying the key is booked (invoice) or returned (order).

The draft takes recipient, VAT zone, payment terms and layout from the customer unless the
settings name others. Each line is the ``product_number`` product with the line's text,
quantity and net unit price (two decimals at most: e-conomic refuses more). e-conomic sets
the VAT of a line from the product's group and the VAT zone: a line's ``vat_code`` cannot be
sent (legacy REST has no VAT code on invoice lines).

The due date is the draft's (a recurring agreement's "no credit days" or payment days, seed
004: it overrides the customer's terms). e-conomic keeps a sent ``dueDate`` only under payment
terms of type ``dueDate`` and computes its own under any other (``net``: the date plus the
days of credit). So the draft is made under the setting ``due_date_payment_terms_number``
(terms of type "due date") when it is set, else under ``payment_terms_number`` or the
customer's terms; and before a draft is booked (or returned as an order) its ``dueDate`` as
e-conomic answers it must be the draft's. If it is not, the draft is left unbooked and the
error says how to put it right: nothing is booked with a due date the agreement did not say.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hub.amounts import CENT
from hub.errors import InputError, RemoteRequestError
from hub.model import InvoiceDraft
from hub.toolkit import fields
from hub_economic import drafts, mapping
from hub_economic.client import NAME, EconomicClient, Json
from hub_economic.documents import need_layout, reference_of
from hub_economic.mapping import Where
from hub_economic.settings import Config

CUSTOMERS = "/customers"


def order_reference(draft_number: int) -> str:
    return f"draft:{draft_number}"


def _customer(client: EconomicClient, number: str, doing: str) -> Json:
    text = number.strip()
    if not text.isdigit() or not 0 < int(text) <= 999_999_999:
        raise RemoteRequestError(
            f"{doing}: {number!r} is not an e-conomic customer number", plugin=NAME
        )
    status, body = client.request("GET", f"{CUSTOMERS}/{int(text)}", doing=doing, allow=(404,))
    if status == 404:
        raise RemoteRequestError(f"{doing}: e-conomic has no customer {text}", plugin=NAME)
    if not isinstance(body, dict):
        raise RemoteRequestError(f"{doing}: e-conomic's answer is not a customer", plugin=NAME)
    return body


def _two_places(value: Decimal, what: str, doing: str) -> Decimal:
    if value != value.quantize(CENT):
        raise InputError(f"{doing}: {what} {value} has more than two decimals; e-conomic takes two")
    return value


def _optional_number(item: Json, path: str) -> int | None:
    value = fields.get(item, path)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def body(config: Config, draft: InvoiceDraft, customer: Json, url: str) -> Json:
    """The draft's JSON (``invoices.drafts.post`` schema)."""
    doing = f"{draft.kind} {draft.idempotency_key}"
    where = Where(url, None, f"customer {draft.customer_number}")
    record = mapping.customer(customer, where)
    product = config.need_product(f"{draft.kind}s")
    recipient: dict[str, Any] = {"name": record.name}
    for key, value in (
        ("address", record.address),
        ("zip", record.postal_code),
        ("city", record.city),
        ("country", record.country),
    ):
        if value is not None:
            recipient[key] = value
    vat_zone = config.vat_zone_number or mapping.number(customer, "vatZone.vatZoneNumber", where)
    recipient["vatZone"] = {"vatZoneNumber": vat_zone}
    payment_terms = (
        config.due_date_payment_terms_number
        or config.payment_terms_number
        or mapping.number(customer, "paymentTerms.paymentTermsNumber", where)
    )
    lines = [
        {
            "lineNumber": index,
            "sortKey": index,
            "description": line.description[:2500],
            "product": {"productNumber": product},
            "quantity": _two_places(line.quantity, f"line {index}'s quantity", doing),
            "unitNetPrice": _two_places(line.unit_price, f"line {index}'s unit price", doing),
        }
        for index, line in enumerate(draft.lines, start=1)
    ]
    layout = need_layout(config, _optional_number(customer, "layout.layoutNumber"), doing)
    result: Json = {
        "date": draft.invoice_date.isoformat(),
        "dueDate": draft.due_date.isoformat(),
        "currency": draft.currency,
        "customer": {"customerNumber": int(record.customer_number)},
        "paymentTerms": {"paymentTermsNumber": payment_terms},
        "layout": {"layoutNumber": layout},
        "recipient": recipient,
        "references": {"other": drafts.marker(draft.idempotency_key)},
        "lines": lines,
    }
    if draft.text:
        result["notes"] = {"heading": draft.text[:250]}
    return result


def _check_due_date(
    client: EconomicClient, found: Json, number: int, draft: InvoiceDraft, doing: str
) -> None:
    """Refuse to book (or hand over as an order) a draft whose due date e-conomic's payment
    terms made other than the draft's."""
    where = Where(f"{client.base_url}{drafts.DRAFTS}", None, f"draft invoice {number}")
    due = mapping.date(found, "dueDate", where)
    if due == draft.due_date:
        return
    terms = fields.get(found, "paymentTerms.paymentTermsNumber")
    kind = fields.get(found, "paymentTerms.paymentTermsType")
    raise RemoteRequestError(
        f"{doing}: e-conomic made draft invoice {number} due {due} by its payment terms {terms}"
        f" (type {kind}), not {draft.due_date} as the hub asked, so it is left unbooked."
        " e-conomic keeps a given due date only under payment terms of type 'dueDate'"
        " (Forfaldsdato): name such terms in the setting due_date_payment_terms_number"
        " (hub clients set CLIENT due_date_payment_terms_number=N), then delete draft invoice"
        f" {number} in e-conomic; the next run makes it again",
        plugin=NAME,
    )


def create(client: EconomicClient, config: Config, draft: InvoiceDraft) -> str:
    """Create the invoice (booked) or order (draft) of ``draft``, once; its reference."""
    doing = f"{draft.kind} for customer {draft.customer_number}"
    key = draft.idempotency_key
    config.need_product(f"{draft.kind}s")  # fail before sending anything
    existing = drafts.find_booked(client, key)
    if existing is not None:
        return reference_of(existing, client, drafts.BOOKED)
    found = drafts.find_draft(client, key)
    if found is None:
        customer = _customer(client, draft.customer_number, doing)
        url = f"{client.base_url}{CUSTOMERS}/{draft.customer_number.strip()}"
        made = body(config, draft, customer, url)
        # The terms are part of the step's key: once a person has deleted a draft made under
        # other terms, the new draft is not answered from e-conomic's cache of the old one.
        terms = made["paymentTerms"]["paymentTermsNumber"]
        found = drafts.create_draft(client, key, made, doing, step=f"draft:terms{terms}")
    number = drafts.draft_number(found, f"{client.base_url}{drafts.DRAFTS}")
    _check_due_date(client, found, number, draft, doing)
    if draft.kind == "order":
        return order_reference(number)
    return str(drafts.book(client, key, number, doing))
