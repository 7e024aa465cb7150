"""Vouchers: the hub's balanced journal entries, posted to Tripletex's ledger once.

``POST /ledger/voucher`` with one posting per line of the hub's entry, rows numbered from 1, in
the entry's order. Tripletex uses the gross amounts only (``amountGross``, and
``amountGrossCurrency`` in the posting's currency, which is the company's: no ``currency`` is
sent); debit is positive, as in the hub. Each posting has:

* an account line: the account's id (``GET /ledger/account?number=``, kept per client);
* a customer line: the receivable account (setting ``receivable_account``, 1500) with the
  customer's id, and the line's ``invoice_number`` as ``invoiceNumber`` where it names one (a
  write-off does), so Tripletex puts the posting against that invoice's open post and its
  outstanding amount drops (the invoice leaves the open list when it reaches zero);
* VAT type 0 ("Ingen avgiftsbehandling"): the hub's lines are amounts as they stand (a
  write-off's net on the loss account, its VAT on the output-VAT account), not amounts for
  Tripletex to split again by an account's default VAT type.

The voucher is in the company's currency: Tripletex needs the company-currency amount of every
posting, and the hub's entry gives only its own, so an entry in another currency is refused.
(The hub writes off in the invoice's currency: a Norwegian company's NOK invoices.)

Once per key: the voucher's ``externalVoucherNumber`` (at most 70 characters) carries the
hub's key (:func:`hub_norwegian_invoicing.keys.marker`). Before posting, the plugin reads the
vouchers of the entry's date (``GET /ledger/voucher?dateFrom=<date>&dateTo=<date + 1>``, the
date from the request, never from today) and answers with the one carrying the key, if any. The
reference is the voucher's ``number-year`` as Tripletex shows it (``7-2026``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.amounts import CENT
from hub.errors import InputError
from hub.model import JournalEntry, JournalLine
from hub_norwegian_invoicing import keys, lookups, mapping
from hub_norwegian_invoicing.client import Json, TripletexClient
from hub_norwegian_invoicing.mapping import Where

VOUCHERS = "/ledger/voucher"
#: ``vatType`` 0: "Ingen avgiftsbehandling" (no VAT treatment).
NO_VAT = 0
_TEXT_MAX = 255


def _account_number(line: JournalLine, doing: str) -> int:
    assert line.account is not None
    wanted = lookups.numbers_of([line.account])
    if not wanted:
        raise InputError(f"{doing}: {line.account!r} is not an account number")
    return wanted[line.account]


def body(client: TripletexClient, entry: JournalEntry, receivable_account: int, doing: str) -> Json:
    """The voucher's JSON (``Voucher`` schema), ids looked up."""
    for line in entry.lines:
        if line.amount != line.amount.quantize(CENT):
            raise InputError(f"{doing}: amount {line.amount} has more than two decimals")
    numbers = {
        _account_number(line, doing) if line.account is not None else receivable_account
        for line in entry.lines
    }
    accounts = lookups.account_ids(client, numbers, doing)
    customer_ids = {
        number: lookups.customer_id(client, number, doing)
        for number in {line.customer_number for line in entry.lines if line.customer_number}
    }
    postings: list[Json] = []
    for row, line in enumerate(entry.lines, start=1):
        account = _account_number(line, doing) if line.account is not None else receivable_account
        posting: dict[str, Any] = {
            "row": row,
            "date": entry.date.isoformat(),
            "description": (line.text or entry.text)[:_TEXT_MAX],
            "account": {"id": accounts[account]},
            "amountGross": line.amount,
            "amountGrossCurrency": line.amount,
            "vatType": {"id": NO_VAT},
        }
        if line.customer_number is not None:
            posting["customer"] = {"id": customer_ids[line.customer_number]}
            if line.invoice_number is not None:
                posting["invoiceNumber"] = line.invoice_number.strip()
        postings.append(posting)
    return {
        "date": entry.date.isoformat(),
        "description": entry.text[:_TEXT_MAX],
        "externalVoucherNumber": keys.marker(entry.idempotency_key),
        "postings": postings,
    }


def reference(voucher: Json, where: Where) -> str:
    """``number-year`` of a voucher sent to the ledger; ``id:<id>`` of one that is not (a
    voucher waiting for approval has number 0)."""
    number = mapping.get(voucher, "number")
    year = mapping.get(voucher, "year")
    if isinstance(number, int) and number > 0 and isinstance(year, int) and year > 0:
        return f"{number}-{year}"
    return f"id:{mapping.number(voucher, 'id', where)}"


def find(client: TripletexClient, entry: JournalEntry, doing: str) -> Json | None:
    """The voucher posted on the entry's date carrying its key, if there is one."""
    mark = keys.marker(entry.idempotency_key)
    params = {
        "dateFrom": entry.date.isoformat(),
        "dateTo": (entry.date + dt.timedelta(days=1)).isoformat(),
        "fields": "id,number,year,date,externalVoucherNumber",
    }
    return lookups.marked(
        client,
        VOUCHERS,
        params,
        "externalVoucherNumber",
        mark,
        doing=doing,
        what=f"vouchers of {entry.date}",
        made="posted",
        shown="id",
    )


def post(
    client: TripletexClient, entry: JournalEntry, receivable_account: int, company_currency: str
) -> str:
    """Post ``entry`` once; the voucher as ``number-year``. A voucher found for the key
    (:func:`find`) is the answer, and nothing is posted."""
    doing = f"voucher {entry.idempotency_key}"
    if entry.currency != company_currency:
        raise InputError(
            f"{doing}: the voucher is in {entry.currency}, the company's currency is"
            f" {company_currency}; Tripletex needs each posting's amount in the company's"
            " currency as well, which the hub does not have"
        )
    where = Where(client.where(VOUCHERS), None, "voucher")
    existing = find(client, entry, doing)
    if existing is not None:
        return reference(existing, where)
    voucher = client.value(
        "POST", VOUCHERS, body=body(client, entry, receivable_account, doing), doing=doing
    )
    return reference(voucher, where)
