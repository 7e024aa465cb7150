"""Tripletex ids behind the numbers the hub speaks in: customers, accounts, VAT types, currencies.

The hub names a customer, an account, a VAT code and a currency by the number or code people
see; Tripletex's bodies refer to records by internal ``id``. Accounts, VAT types and
currencies hardly change, so their ids are kept per client (in
:attr:`~hub_norwegian_invoicing.client.TripletexClient.cache`, made anew when the client's
tokens change); customers are looked up on every call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hub.errors import InputError, InvalidDataError, RemoteRequestError
from hub.toolkit import fields
from hub_norwegian_invoicing import mapping
from hub_norwegian_invoicing.client import NAME, Json, TripletexClient
from hub_norwegian_invoicing.mapping import Where

CUSTOMERS = "/customer"
ACCOUNTS = "/ledger/account"
VAT_TYPES = "/ledger/vatType"
CURRENCIES = "/currency"
#: Customer numbers a request (``customerAccountNumber=1,2,...``): the URL stays short.
CUSTOMER_BATCH = 100


def numbers_of(values: Iterable[str]) -> dict[str, int]:
    """The values that can be Tripletex numbers (whole, 1..2147483647: int32), by text."""
    return fields.numbers_of(values, 2_147_483_647)


def customer_records(
    client: TripletexClient, numbers: Sequence[int], fields: str, doing: str
) -> dict[int, Json]:
    """The customers Tripletex has among ``numbers``, by customer number.

    ``GET /customer?customerAccountNumber=...`` in batches. Tripletex lists active customers
    only unless asked (``isInactive`` defaults to false), and a customer made inactive may
    still owe money, so numbers not found among the active ones are asked for again among the
    inactive ones.
    """
    url = client.where(CUSTOMERS)
    found: dict[int, Json] = {}
    missing = sorted(set(numbers))
    for inactive in (False, True):
        for start in range(0, len(missing), CUSTOMER_BATCH):
            batch = missing[start : start + CUSTOMER_BATCH]
            params = {
                "customerAccountNumber": ",".join(map(str, batch)),
                "isInactive": "true" if inactive else "false",
                "fields": fields,
            }
            for index, item in enumerate(client.list_all(CUSTOMERS, params, doing=doing)):
                found[mapping.number(item, "customerNumber", Where(url, index, "customer"))] = item
        missing = [n for n in missing if n not in found]
        if not missing:
            break
    return found


def customer_record(client: TripletexClient, customer_number: str, fields: str, doing: str) -> Json:
    """The customer the hub calls ``customer_number`` (its ``fields``)."""
    wanted = numbers_of([customer_number])
    if not wanted:
        raise RemoteRequestError(
            f"{doing}: {customer_number!r} is not a Tripletex customer number", plugin=NAME
        )
    number = wanted[customer_number]
    records = customer_records(client, [number], fields, doing)
    if number not in records:
        raise RemoteRequestError(f"{doing}: Tripletex has no customer {number}", plugin=NAME)
    return records[number]


def customer_id(client: TripletexClient, customer_number: str, doing: str) -> int:
    """Tripletex's id of the customer the hub calls ``customer_number``."""
    record = customer_record(client, customer_number, "id,customerNumber", doing)
    return mapping.number(record, "id", Where(client.where(CUSTOMERS), None, "customer"))


def _cached(client: TripletexClient, key: str) -> dict[Any, int]:
    table: dict[Any, int] = client.cache.setdefault(key, {})
    return table


def account_ids(client: TripletexClient, numbers: Iterable[int], doing: str) -> dict[int, int]:
    """Tripletex's ids of the ledger accounts ``numbers`` (``GET /ledger/account?number=``)."""
    known = _cached(client, "accounts")
    wanted = sorted(set(numbers) - set(known))
    if wanted:
        url = client.where(ACCOUNTS)
        params = {"number": ",".join(map(str, wanted)), "fields": "id,number"}
        for index, item in enumerate(client.list_all(ACCOUNTS, params, doing=doing)):
            where = Where(url, index, "account")
            known[mapping.number(item, "number", where)] = mapping.number(item, "id", where)
    absent = [n for n in numbers if n not in known]
    if absent:
        raise InputError(
            f"{doing}: Tripletex's chart of accounts has no account"
            f" {', '.join(map(str, sorted(set(absent))))}; check the client's accounts (rules"
            " for write-offs, the plugin's receivable_account setting)"
        )
    return {n: known[n] for n in numbers}


def vat_type_id(client: TripletexClient, code: str, doing: str) -> int:
    """Tripletex's id of the VAT type whose number (VAT code, "MVA-kode") is ``code``.

    All VAT types are read once (a few dozen) and kept, so an unknown code is answered with
    the codes there are.
    """
    table = _cached(client, "vat_types")
    if not table:
        url = client.where(VAT_TYPES)
        params = {"fields": "id,number"}
        for index, item in enumerate(client.list_all(VAT_TYPES, params, doing=doing)):
            where = Where(url, index, "VAT type")
            vat_number = mapping.text(item, "number", where)
            if vat_number is not None:
                table[vat_number] = mapping.get(item, "id")
    key = code.strip()
    found = table.get(key)
    if not isinstance(found, int) or isinstance(found, bool):
        known = ", ".join(sorted(table, key=lambda c: (len(c), c)))
        raise InputError(
            f"{doing}: Tripletex has no VAT type with the code {code!r} (its codes: {known});"
            " a line's VAT code is Tripletex's VAT code (MVA-kode), e.g. 3 for 25 %"
        )
    return found


def currency_id(client: TripletexClient, code: str, doing: str, known: Json | None = None) -> int:
    """Tripletex's id of the currency ``code``: from ``known`` (a currency object already
    read, ``{"id", "code"}``, such as a customer's) when it is that currency, else
    ``GET /currency?code=`` (kept per client)."""
    if known is not None and mapping.get(known, "code") == code:
        ident = mapping.get(known, "id")
        if isinstance(ident, int) and not isinstance(ident, bool) and ident > 0:
            return ident
    table = _cached(client, "currencies")
    if code not in table:
        url = client.where(CURRENCIES)
        params = {"code": code, "fields": "id,code"}
        for index, item in enumerate(client.list_all(CURRENCIES, params, doing=doing)):
            where = Where(url, index, "currency")
            table[mapping.currency(item, "code", where)] = mapping.number(item, "id", where)
    if code not in table:
        raise InputError(f"{doing}: Tripletex has no currency {code}")
    return table[code]


def marked(
    client: TripletexClient,
    path: str,
    params: Mapping[str, Any],
    field: str,
    mark: str,
    *,
    doing: str,
    what: str,
    made: str,
    shown: str = "number",
) -> Json | None:
    """The one record of the list at ``path`` whose ``field`` carries ``mark`` (the hub's key),
    if there is one.

    :raises InvalidDataError: several carry it (``what`` they are, by ``shown``): the hub
        ``made`` at most one, so a person must look at them.
    """
    found = [item for item in client.list_all(path, params, doing=doing) if item.get(field) == mark]
    if len(found) > 1:
        raise InvalidDataError(
            f"{len(found)} {what} carry the key {mark!r} ({[o.get(shown) for o in found]});"
            f" the hub {made} at most one, so a person must look at them",
            plugin=NAME,
            where=client.where(path),
        )
    return found[0] if found else None
