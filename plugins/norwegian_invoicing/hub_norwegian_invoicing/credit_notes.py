"""Credit notes: ``PUT /invoice/{id}/:createCreditNote``, once per invoice.

Tripletex makes a credit note that nullifies the whole invoice ("Creates a new Invoice
representing a credit memo that nullifies the given invoice"); the action takes a date and a
comment, no amount. So the plugin credits in full only: a request for less than the invoice's
gross amount is refused before anything is sent, saying why. (A partial credit would be an
order with negative lines, invoiced as a credit note of the invoice; the hub asks for full
credits only, rule A3.)

Once per key: Tripletex has no idempotency key, but it links a credit note to the invoice it
credits (the invoice's ``isCredited``, the credit note's ``creditedInvoice``), and an invoice
is credited at most once. Before crediting, the plugin reads the invoice: already credited,
it finds that credit note among the customer's invoices and answers with its number instead of
crediting again. A call whose answer was lost (the credit note was made, the plugin never
heard) is repeated by the hub with the same request and finds it the same way, from any
process, on any later day. The credit note found may have been made by a person in Tripletex:
the invoice is credited in full either way, which is what the hub asked for.
"""

from __future__ import annotations

import datetime as dt

from hub.errors import InvalidDataError, PluginError, RemoteRequestError
from hub.model import CreditNoteRequest
from hub.toolkit import vendor
from hub_norwegian_invoicing import lookups, mapping
from hub_norwegian_invoicing.client import NAME, Json, TripletexClient
from hub_norwegian_invoicing.mapping import Where
from hub_norwegian_invoicing.reading import INVOICES


def _invoice(
    client: TripletexClient,
    request: CreditNoteRequest,
    since: dt.date,
    until: dt.date,
    doing: str,
) -> Json:
    """The invoice (not a credit note) numbered ``request.invoice_number``."""
    wanted = lookups.numbers_of([request.invoice_number])
    if not wanted:
        raise RemoteRequestError(
            f"{doing}: {request.invoice_number!r} is not a Tripletex invoice number", plugin=NAME
        )
    number = wanted[request.invoice_number]
    params = {
        "invoiceNumber": str(number),
        "invoiceDateFrom": since.isoformat(),
        "invoiceDateTo": until.isoformat(),
        "fields": mapping.INVOICE_FIELDS,
    }
    url = client.where(INVOICES)
    found = [
        item
        for index, item in enumerate(client.list_all(INVOICES, params, doing=doing))
        if mapping.get(item, "invoiceNumber") == number
        and not mapping.is_credit_note(item, Where(url, index, f"invoice {number}"))
    ]
    if not found:
        raise RemoteRequestError(
            f"{doing}: Tripletex has no invoice {number} dated from {since} (the setting"
            f" invoices_since) to {until}",
            plugin=NAME,
        )
    if len(found) > 1:
        raise InvalidDataError(
            f"{len(found)} invoices are numbered {number}", plugin=NAME, where=url
        )
    return found[0]


def _check(invoice: Json, request: CreditNoteRequest, url: str, doing: str) -> None:
    """The request fits the invoice: its customer, its currency, its whole gross amount."""
    where = Where(url, None, f"invoice {request.invoice_number}")
    booked = mapping.invoice(invoice, where)
    vendor.check_credited(booked, request, vendor="Tripletex", plugin=NAME, doing=doing)
    if request.amount != booked.gross_amount:
        raise RemoteRequestError(
            f"{doing}: Tripletex credits an invoice in full only (PUT"
            " /invoice/{id}/:createCreditNote takes no amount), and the credit note asked for"
            f" is {request.amount} {request.currency} of the invoice's {booked.gross_amount};"
            " refusing rather than crediting more than asked",
            plugin=NAME,
        )
    credited = mapping.flag(invoice, "isCredited", where)
    if not credited and booked.outstanding_amount != booked.gross_amount:
        raise RemoteRequestError(
            f"{doing}: the invoice is partly settled in Tripletex (outstanding"
            f" {booked.outstanding_amount} of {booked.gross_amount} {booked.currency}); a credit"
            " note for the full amount would credit money already received",
            plugin=NAME,
        )


def _existing(
    client: TripletexClient,
    invoice: Json,
    request: CreditNoteRequest,
    since: dt.date,
    until: dt.date,
    doing: str,
) -> str:
    """The number of the credit note that credits ``invoice`` (which says it is credited)."""
    url = client.where(INVOICES)
    where = Where(url, None, f"invoice {request.invoice_number}")
    invoice_id = mapping.number(invoice, "id", where)
    params = {
        "customerId": str(mapping.number(invoice, "customer.id", where)),
        "invoiceDateFrom": since.isoformat(),
        "invoiceDateTo": max(until, request.date + dt.timedelta(days=1)).isoformat(),
        "fields": mapping.INVOICE_FIELDS,
    }
    notes: list[Json] = []
    for index, item in enumerate(client.list_all(INVOICES, params, doing=doing)):
        note_where = Where(url, index, "credit note")
        if mapping.is_credit_note(item, note_where) and item.get("creditedInvoice") == invoice_id:
            notes.append(item)
    if len(notes) > 1:  # credited, the credit reversed, credited again: the one of this date
        dated = [n for n in notes if n.get("invoiceDate") == request.date.isoformat()]
        notes = dated if len(dated) == 1 else notes
    if len(notes) != 1:
        numbers = [n.get("invoiceNumber") for n in notes]
        # Not a refusal before anything was made (the invoice is credited in the books): a
        # PluginError, so the hub keeps the credit note asked for until a person looks.
        raise PluginError(
            f"{doing}: Tripletex says the invoice is credited, and"
            f" {'no' if not notes else len(notes)} credit note(s) credit it"
            f"{f' ({numbers})' if numbers else ''}; a person must look at it in Tripletex",
            plugin=NAME,
        )
    return str(mapping.number(notes[0], "invoiceNumber", Where(url, None, "credit note")))


def create(
    client: TripletexClient,
    request: CreditNoteRequest,
    since: dt.date,
    until: dt.date,
    send_to_customer: bool,
) -> str:
    """Credit ``request.invoice_number`` in full, once; the credit note's invoice number."""
    doing = f"credit note for invoice {request.invoice_number}"
    invoice = _invoice(client, request, since, until, doing)
    url = client.where(INVOICES)
    _check(invoice, request, url, doing)
    if mapping.flag(invoice, "isCredited", Where(url, None, "invoice")):
        return _existing(client, invoice, request, since, until, doing)
    invoice_id = mapping.number(invoice, "id", Where(url, None, "invoice"))
    path = f"{INVOICES}/{invoice_id}/:createCreditNote"
    params = {
        "date": request.date.isoformat(),
        "comment": request.reason[:255],
        "sendToCustomer": "true" if send_to_customer else "false",
    }
    note = client.value("PUT", path, params=params, doing=doing)
    return str(
        mapping.number(note, "invoiceNumber", Where(client.where(path), None, "credit note"))
    )
