"""Credit notes: a draft invoice with a negative line, booked; once per idempotency key.

e-conomic has no credit-note entity: a credit note is an invoice whose total is negative
(reference §5). The draft copies what the credited invoice says about its recipient (name,
address, VAT zone), layout and payment terms (unless the settings name others), and has one
line: the product of the ``product_number`` setting, quantity -1, at the net part of the
amount credited. e-conomic prices the line itself (VAT from the product and the VAT zone), so
before booking, the draft's gross total is compared with the amount the hub asked for: a
product whose VAT differs from the invoice's would credit the wrong amount, and a booked
invoice cannot be taken back. Such a draft is left unbooked for a person, and the error says
so; once it is corrected in e-conomic, the same request books it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hub.amounts import split_vat
from hub.errors import PluginError, RemoteRequestError
from hub.model import ClientContext, CreditNoteRequest
from hub.toolkit import vendor
from hub_economic import drafts, mapping
from hub_economic.client import NAME, EconomicClient, Json
from hub_economic.documents import line_text, need_layout, reference_of
from hub_economic.mapping import Where
from hub_economic.settings import Config


def _invoice(client: EconomicClient, request: CreditNoteRequest, doing: str) -> Json:
    number = request.invoice_number.strip()
    if not number.isdigit() or int(number) < 1:
        raise RemoteRequestError(
            f"{doing}: {request.invoice_number!r} is not an e-conomic invoice number", plugin=NAME
        )
    path = f"{drafts.BOOKED}/{int(number)}"
    status, body = client.request("GET", path, doing=doing, allow=(404,))
    if status == 404:
        raise RemoteRequestError(f"{doing}: e-conomic has no booked invoice {number}", plugin=NAME)
    if not isinstance(body, dict):
        raise RemoteRequestError(f"{doing}: e-conomic's answer is not an invoice", plugin=NAME)
    return body


def body(
    ctx: ClientContext, config: Config, request: CreditNoteRequest, invoice: Json, url: str
) -> Json:
    """The draft's JSON (``invoices.drafts.post`` schema)."""
    doing = f"credit note for invoice {request.invoice_number}"
    where = Where(url, None, f"invoice {request.invoice_number}")
    booked = mapping.booked_invoice(invoice, where)
    vendor.check_credited(booked, request, vendor="e-conomic", plugin=NAME, doing=doing)
    if request.amount > booked.gross_amount:
        raise RemoteRequestError(
            f"{doing}: {request.amount} {request.currency} is more than the invoice's"
            f" {booked.gross_amount}",
            plugin=NAME,
        )
    # The invoice's VAT share, as the hub's write-off splits it: the whole invoice gives
    # exactly its own net.
    net, _ = split_vat(request.amount, gross=booked.gross_amount, vat=booked.vat_amount)
    recipient: dict[str, Any] = invoice.get("recipient") or {}
    vat_zone = config.vat_zone_number or mapping.number(
        invoice, "recipient.vatZone.vatZoneNumber", where
    )
    payment_terms = config.payment_terms_number or mapping.number(
        invoice, "paymentTerms.paymentTermsNumber", where
    )
    layout = need_layout(config, _layout(invoice), doing)
    text = line_text(ctx.country, request.invoice_number)
    draft: Json = {
        "date": request.date.isoformat(),
        "currency": booked.currency,
        "customer": {"customerNumber": int(booked.customer_number)},
        "paymentTerms": {"paymentTermsNumber": payment_terms},
        "layout": {"layoutNumber": layout},
        "recipient": {
            **{
                k: recipient[k]
                for k in ("name", "address", "zip", "city", "country", "ean")
                if isinstance(recipient.get(k), str) and recipient[k].strip()
            },
            "vatZone": {"vatZoneNumber": vat_zone},
        },
        "references": {"other": drafts.marker(request.idempotency_key)},
        "notes": {"heading": text[:250], "textLine1": request.reason[:1000]},
        "lines": [
            {
                "lineNumber": 1,
                "sortKey": 1,
                "description": text,
                "product": {"productNumber": config.need_product("credit notes")},
                "quantity": Decimal("-1.00"),
                "unitNetPrice": net,
            }
        ],
    }
    if "name" not in draft["recipient"]:
        raise RemoteRequestError(f"{doing}: the invoice has no recipient name", plugin=NAME)
    return draft


def _layout(invoice: Json) -> int | None:
    value = (invoice.get("layout") or {}).get("layoutNumber")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _check_total(draft: Json, request: CreditNoteRequest, url: str) -> int:
    """The draft's number, after checking that e-conomic priced it at -amount.

    A refusal here is a :class:`PluginError`, not a :class:`RemoteRequestError`: the draft
    exists in e-conomic, so the hub keeps the credit note asked for (the same key books this
    draft once a person corrected it) instead of dropping it as refused before anything was
    made."""
    number = drafts.draft_number(draft, url)
    gross = mapping.optional_amount(draft, "grossAmount", Where(url, None, f"draft {number}"))
    if gross is None:  # booking cannot be undone: never book a total nobody has seen
        raise PluginError(
            f"credit note for invoice {request.invoice_number}: e-conomic's draft invoice"
            f" {number} has no grossAmount; it is left unbooked (look at it in e-conomic)",
            plugin=NAME,
        )
    if gross != -request.amount:
        raise PluginError(
            f"credit note for invoice {request.invoice_number}: e-conomic priced draft invoice"
            f" {number} at {gross} {request.currency}, not {-request.amount}: the VAT it puts on"
            " the line (from product_number's product and the VAT zone) differs from the"
            " invoice's. The draft is left unbooked; correct it in e-conomic and run the action"
            " again to book it (or delete it and choose another product_number)",
            plugin=NAME,
        )
    return number


def create(
    ctx: ClientContext, client: EconomicClient, config: Config, request: CreditNoteRequest
) -> str:
    """Book the credit note for ``request`` (once); its booked invoice number as text."""
    doing = f"credit note for invoice {request.invoice_number}"
    key = request.idempotency_key
    config.need_product("credit notes")  # fail before sending anything
    existing = drafts.find_booked(client, key)
    if existing is not None:
        return reference_of(existing, client, drafts.BOOKED)
    draft = drafts.find_draft(client, key)
    if draft is None:
        invoice = _invoice(client, request, doing)
        url = f"{client.base_url}{drafts.BOOKED}/{request.invoice_number.strip()}"
        draft = drafts.create_draft(client, key, body(ctx, config, request, invoice, url), doing)
    number = _check_total(draft, request, f"{client.base_url}{drafts.DRAFTS}")
    return str(drafts.book(client, key, number, doing))
