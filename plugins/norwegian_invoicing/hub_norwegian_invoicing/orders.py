"""Invoices and orders from the hub (recurring agreements): a Tripletex order, invoiced or not.

* ``POST /order`` for the customer, dated the draft's invoice date (order and delivery date),
  in the draft's currency (the customer's currency's id when it is that one, as it usually
  is; else ``GET /currency?code=``), due ``invoicesDueIn`` days (``DAYS``) after the invoice
  date (the draft's due date less its invoice date), the draft's text as ``invoiceComment``
  (printed on the invoice), one order line per draft line: its description, ``count``, net
  unit price (``unitPriceExcludingVatCurrency``, at most two decimals) and VAT type (the
  line's VAT code, else the setting ``default_vat_code``, looked up by number in ``GET
  /ledger/vatType``);
* ``kind == "order"``: that is all; the order waits for a person to invoice it in Tripletex.
  The reference is the order's number;
* ``kind == "invoice"``: ``PUT /order/{id}/:invoice?invoiceDate=<the draft's invoice date>``
  (sent to the customer per the setting ``send_to_customer``). Tripletex computes the due date
  from the order's terms; the plugin checks it came out as the draft's due date and otherwise
  raises, naming the invoice, for a person to correct it. The reference is the invoice number.

Once per key: the order's ``reference`` carries the hub's key
(:func:`hub_norwegian_invoicing.keys.marker`). Of the text fields of an order, ``reference`` is
the one meant to identify it; ``GET /order`` returns it (but cannot filter by it: its one text
filter, ``deliveryComment``, is for delivery notes, a field a person fills in for the
customer's goods). It needs no filter: before writing, the plugin reads the customer's orders of
the draft's invoice date (``GET /order?orderDateFrom=<date>&orderDateTo=<date + 1>&customerId=``,
dates from the request, never from today), a handful, and takes the one whose reference is
the key's. Found, it is not made again; for an invoice, the customer's invoices are read for
the one made from that order (``orders``), and the order is invoiced only if there is none.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from hub.amounts import CENT
from hub.errors import InputError, InvalidDataError, RemoteRequestError
from hub.model import InvoiceDraft
from hub_norwegian_invoicing import keys, lookups, mapping
from hub_norwegian_invoicing.client import NAME, Json, TripletexClient
from hub_norwegian_invoicing.mapping import Where
from hub_norwegian_invoicing.reading import INVOICES

ORDERS = "/order"
#: ``Order.invoicesDueIn``: "minimum": 0, "maximum": 10000 (Tripletex's spec).
MAX_DUE_DAYS = 10_000
_CUSTOMER_FIELDS = "id,customerNumber,currency(id,code)"
_ORDER_FIELDS = "id,number,reference,orderDate,isClosed,customer(id)"
_INVOICE_FIELDS = "id,invoiceNumber,invoiceDate,invoiceDueDate,isCreditNote,orders(id)"


def _two_places(value: Decimal, what: str, doing: str) -> Decimal:
    if value != value.quantize(CENT):
        raise InputError(f"{doing}: {what} {value} has more than two decimals")
    return value


def body(
    client: TripletexClient, draft: InvoiceDraft, customer: Json, default_vat_code: str
) -> Json:
    """The order's JSON (``Order`` schema) for ``customer`` (its id and currency), ids looked
    up."""
    doing = f"{draft.kind} {draft.idempotency_key}"
    due_in = (draft.due_date - draft.invoice_date).days
    if due_in > MAX_DUE_DAYS:
        raise InputError(
            f"{doing}: due {due_in} days after the invoice date; Tripletex takes at most"
            f" {MAX_DUE_DAYS} (invoicesDueIn)"
        )
    lines: list[Json] = []
    for index, line in enumerate(draft.lines, start=1):
        code = (line.vat_code or "").strip() or default_vat_code
        lines.append(
            {
                "description": line.description,
                "count": line.quantity,
                "unitPriceExcludingVatCurrency": _two_places(
                    line.unit_price, f"line {index}'s unit price", doing
                ),
                "vatType": {"id": lookups.vat_type_id(client, code, doing)},
            }
        )
    where = Where(client.where(lookups.CUSTOMERS), None, f"customer {draft.customer_number}")
    currency = mapping.get(customer, "currency")
    order: dict[str, Any] = {
        "customer": {"id": mapping.number(customer, "id", where)},
        "orderDate": draft.invoice_date.isoformat(),
        "deliveryDate": draft.invoice_date.isoformat(),
        "currency": {
            "id": lookups.currency_id(
                client, draft.currency, doing, currency if isinstance(currency, dict) else None
            )
        },
        "invoicesDueIn": due_in,
        "invoicesDueInType": "DAYS",
        "isPrioritizeAmountsIncludingVat": False,
        "reference": keys.marker(draft.idempotency_key),
        "orderLines": lines,
    }
    if draft.text:
        order["invoiceComment"] = draft.text
    return order


def find_order(
    client: TripletexClient, draft: InvoiceDraft, customer_id: int, doing: str
) -> Json | None:
    """The customer's order of the draft's date carrying the draft's key, if there is one."""
    mark = keys.marker(draft.idempotency_key)
    params = {
        "orderDateFrom": draft.invoice_date.isoformat(),
        "orderDateTo": (draft.invoice_date + dt.timedelta(days=1)).isoformat(),
        "customerId": str(customer_id),
        "fields": _ORDER_FIELDS,
    }
    return lookups.marked(
        client, ORDERS, params, "reference", mark, doing=doing, what="orders", made="made"
    )


def find_invoice(
    client: TripletexClient,
    order_id: int,
    customer_id: int,
    draft: InvoiceDraft,
    doing: str,
) -> Json | None:
    """The invoice (not a credit note) made from order ``order_id`` on the draft's invoice
    date (the one the plugin asked for), if there is one. Searched on that date alone,
    whatever the sync's ``invoices_since``: a retry finds an invoice of any age."""
    params = {
        "customerId": str(customer_id),
        "invoiceDateFrom": draft.invoice_date.isoformat(),
        "invoiceDateTo": (draft.invoice_date + dt.timedelta(days=1)).isoformat(),
        "fields": _INVOICE_FIELDS,
    }
    url = client.where(INVOICES)
    found: list[Json] = []
    for index, item in enumerate(client.list_all(INVOICES, params, doing=doing)):
        if mapping.is_credit_note(item, Where(url, index, "invoice")):
            continue
        orders = item.get("orders")
        if isinstance(orders, list) and any(
            isinstance(o, dict) and o.get("id") == order_id for o in orders
        ):
            found.append(item)
    if len(found) > 1:
        raise InvalidDataError(
            f"{len(found)} invoices were made from order {order_id}"
            f" ({[i.get('invoiceNumber') for i in found]})",
            plugin=NAME,
            where=url,
        )
    return found[0] if found else None


def _invoice_number(invoice: Json, draft: InvoiceDraft, url: str) -> str:
    """The invoice's number, after checking its due date is the draft's."""
    where = Where(url, None, "invoice")
    number = mapping.number(invoice, "invoiceNumber", where)
    due = mapping.date(invoice, "invoiceDueDate", where.about(f"invoice {number}"))
    if due != draft.due_date:
        raise RemoteRequestError(
            f"invoice {number} for customer {draft.customer_number} ({draft.idempotency_key})"
            f" is due {due} in Tripletex, not {draft.due_date} as the hub asked; correct its due"
            " date in Tripletex (the hub then takes the invoice as it is)",
            plugin=NAME,
        )
    return str(number)


def create(
    client: TripletexClient,
    draft: InvoiceDraft,
    *,
    default_vat_code: str,
    send_to_customer: bool,
) -> str:
    """Create the order (and, for ``kind == "invoice"``, its invoice) of ``draft``, once; its
    reference: the order number, or the invoice number."""
    doing = f"{draft.kind} for customer {draft.customer_number}"
    customer = lookups.customer_record(client, draft.customer_number, _CUSTOMER_FIELDS, doing)
    customer_where = Where(client.where(lookups.CUSTOMERS), None, "customer")
    customer_id = mapping.number(customer, "id", customer_where)
    order = find_order(client, draft, customer_id, doing)
    made_now = order is None
    if order is None:
        order_body = body(client, draft, customer, default_vat_code)
        order = client.value("POST", ORDERS, body=order_body, doing=doing)
    where = Where(client.where(ORDERS), None, "order")
    if draft.kind == "order":
        number = mapping.text(order, "number", where)
        if number is None:
            raise where.fail("the order has no number")
        return number
    order_id = mapping.number(order, "id", where)
    # An order made just now has no invoice yet; one found may have (a lost answer before).
    invoice = None if made_now else find_invoice(client, order_id, customer_id, draft, doing)
    if invoice is None and order.get("isClosed") is True:
        raise InvalidDataError(
            f"order {order.get('number')} ({draft.idempotency_key}) is closed in Tripletex but"
            f" no invoice dated {draft.invoice_date} was made from it; a person must look at it"
            " (the hub does not invoice it again)",
            plugin=NAME,
            where=client.where(ORDERS),
        )
    if invoice is None:
        path = f"{ORDERS}/{order_id}/:invoice"
        params = {
            "invoiceDate": draft.invoice_date.isoformat(),
            "sendToCustomer": "true" if send_to_customer else "false",
        }
        invoice = client.value("PUT", path, params=params, doing=doing)
    return _invoice_number(invoice, draft, client.where(INVOICES))
