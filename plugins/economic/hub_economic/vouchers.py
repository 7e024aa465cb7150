"""Vouchers: the hub's balanced journal entries, posted to an e-conomic journal once.

``POST /journals/{journal_number}/vouchers`` with one voucher. An e-conomic journal entry
moves an amount between two places: the entry's own (a customer, or an account) and its
contra account. Every entry here names both, so the voucher never depends on the journal's
default contra accounts (a customer payment without one would go to the bank), and finance
vouchers, which e-conomic refuses without a contra account, always have one.

The hub's lines (debit positive) are paired, debits with credits in the order given, splitting
an amount where needed, and each pair becomes one entry:

* customer and account: a ``customerPayments`` entry on the customer with the account as
  contra account. A customer payment's amount is the money received: positive credits the
  customer and debits the contra account (e-conomic's examples post a payment of 100 as
  ``"amount": 100``, and so does traels-it/economic-rest against the live API). A loss
  write-off (customer -1250.00, loss account 3720 +1000.00, output VAT 6902 +250.00) becomes
  two payments on the customer: 1000.00 against 3720 and 250.00 against 6902;
* two accounts: a ``financeVouchers`` entry, debit account and credit contra account;
* two customers: refused, e-conomic has no entry between two customers.

The entries carry the voucher's date and currency and the line's text with the key marker
(:func:`tag`); the accounting year is the date's calendar year. The voucher lands in the
journal unbooked: a person books the journal (legacy REST cannot), and until then e-conomic's
customer balance does not show it. A customer line that names the invoice it settles (a
write-off's does) sets ``customerInvoice`` on each of its payments, so e-conomic matches them
to that invoice once the journal is booked; without one a person matches them in e-conomic.

Once per key: the POST carries ``Idempotency-Key`` (``<key>:voucher``), which e-conomic honours
for an hour. Beyond the hour (a crash, a restart, days later) each entry's ``text`` ends with the
hub's key marker (:func:`tag`), and before posting the plugin looks for it: in the journal
(``GET /journals/{n}/entries``, the voucher not booked yet) and in the ledger of the date's
accounting year (``GET /accounting-years/{year}/entries``, a person booked the journal). Found,
the existing voucher is the answer and nothing is posted.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hub.amounts import CENT
from hub.errors import InputError, InvalidDataError
from hub.model import JournalEntry, JournalLine
from hub_economic import drafts, mapping
from hub_economic.client import NAME, EconomicClient, Json
from hub_economic.mapping import Where
from hub_economic.settings import Config

_TEXT_MAX = 250
_TAG_MAX = 80  # the key marker's share of an entry's text


def tag(key: str) -> str:
    """The marker that ends each entry's text of the voucher for ``key``:
    :func:`drafts.marker` when it is short enough, else the same with a digest of the key."""
    text = drafts.marker(key)
    if len(text) <= _TAG_MAX:
        return text
    return f"{drafts.KEY_PREFIX} sha256:{hashlib.sha256(key.encode('utf-8')).hexdigest()[:40]}"


def tagged(text: str, key: str) -> str:
    """``text`` (shortened where needed) followed by the key's :func:`tag`, within 250."""
    mark = tag(key)
    room = _TEXT_MAX - len(mark) - 1
    return f"{text[:room].rstrip()} {mark}".lstrip()


def _like(mark: str) -> str:
    """A ``text$like:`` value matching texts that end with ``mark``. Characters that are
    wildcards or classes under SQL ``LIKE`` (``[ ] % _``) become ``*``: the texts found are
    compared exactly afterwards."""
    parts = re.split(r"[\[\]%_]", mark)
    return "*" + "*".join(drafts.filter_value(part) for part in parts)


@dataclass(frozen=True)
class Pair:
    """``amount`` (> 0) debited to ``debit``'s place and credited to ``credit``'s."""

    debit: JournalLine
    credit: JournalLine
    amount: Decimal


def pairs(lines: tuple[JournalLine, ...]) -> list[Pair]:
    """Debit lines matched with credit lines in order, amounts split where they differ.

    The lines sum to zero (:class:`~hub.model.JournalEntry` checks it), so both sides run out
    together; a line of zero takes part in no pair.
    """
    debits = [line for line in lines if line.amount > 0]
    credits = [line for line in lines if line.amount < 0]
    debit_left = [line.amount for line in debits]
    credit_left = [-line.amount for line in credits]
    result: list[Pair] = []
    d = c = 0
    while d < len(debits) and c < len(credits):
        amount = min(debit_left[d], credit_left[c])
        result.append(Pair(debits[d], credits[c], amount))
        debit_left[d] -= amount
        credit_left[c] -= amount
        if not debit_left[d]:
            d += 1
        if not credit_left[c]:
            c += 1
    return result


def _number(value: str, what: str, doing: str, maximum: int = 999_999_999) -> int:
    text = value.strip()
    if not text.isdigit() or not 0 < int(text) <= maximum:
        raise InputError(f"{doing}: {what} {value!r} is not an e-conomic {what} number")
    return int(text)


def _entry(pair: Pair, entry: JournalEntry, doing: str) -> tuple[str, Json]:
    """One e-conomic entry for ``pair``: (the ``entries`` key, the entry)."""
    debit, credit = pair.debit, pair.credit
    common: dict[str, Any] = {
        "currency": {"code": entry.currency},
        "date": entry.date.isoformat(),
    }
    if debit.customer_number is not None and credit.customer_number is not None:
        raise InputError(
            f"{doing}: a voucher line moves {pair.amount} from customer {credit.customer_number}"
            f" to customer {debit.customer_number}; e-conomic has no journal entry between two"
            " customers"
        )
    if credit.customer_number is not None or debit.customer_number is not None:
        # Money received (positive) credits the customer: positive when the customer is the
        # credit side, negative when it is the debit side.
        customer_line, account_line = (
            (credit, debit) if credit.customer_number is not None else (debit, credit)
        )
        received = pair.amount if customer_line is credit else -pair.amount
        assert customer_line.customer_number is not None and account_line.account is not None
        return "customerPayments", {
            "customer": {
                "customerNumber": _number(customer_line.customer_number, "customer", doing)
            },
            "amount": received,
            "contraAccount": {"accountNumber": _number(account_line.account, "account", doing)},
            "text": tagged(customer_line.text or entry.text, entry.idempotency_key),
            **common,
            **(
                {"customerInvoice": _number(customer_line.invoice_number, "invoice", doing)}
                if customer_line.invoice_number is not None
                else {}
            ),
        }
    assert debit.account is not None and credit.account is not None
    return "financeVouchers", {
        "account": {"accountNumber": _number(debit.account, "account", doing)},
        "amount": pair.amount,
        "contraAccount": {"accountNumber": _number(credit.account, "account", doing)},
        "text": tagged(debit.text or entry.text, entry.idempotency_key),
        **common,
    }


def body(config: Config, entry: JournalEntry) -> Json:
    """The voucher's JSON (``journals.journalNumber.vouchers.post`` schema)."""
    doing = f"voucher {entry.idempotency_key}"
    for line in entry.lines:
        if line.amount != line.amount.quantize(CENT):
            raise InputError(f"{doing}: amount {line.amount} has more than two decimals")
    entries: dict[str, list[Json]] = {}
    for pair in pairs(entry.lines):
        key, item = _entry(pair, entry, doing)
        entries.setdefault(key, []).append(item)
    return {
        "accountingYear": {"year": str(entry.date.year)},
        "journal": {"journalNumber": config.need_journal()},
        "entries": entries,
    }


def _references(answer: Any, url: str, year: str) -> list[str]:
    """``year-voucherNumber`` of each voucher in the answer (e-conomic answers with a list,
    its schema says an object: both are read)."""
    vouchers = answer if isinstance(answer, list) else [answer]
    if not vouchers:
        raise InvalidDataError("the answer lists no voucher", plugin=NAME, where=url)
    references: list[str] = []
    for index, voucher in enumerate(vouchers):
        if not isinstance(voucher, dict):
            raise InvalidDataError(
                f"voucher {index} of the answer is not an object", plugin=NAME, where=url
            )
        number = mapping.number(voucher, "voucherNumber", Where(url, index, "voucher"))
        booked_year = (voucher.get("accountingYear") or {}).get("year")
        references.append(f"{booked_year if isinstance(booked_year, str) else year}-{number}")
    return references


def _carries(item: Json, mark: str) -> bool:
    text = item.get("text")
    return isinstance(text, str) and (text == mark or text.endswith(f" {mark}"))


def find(client: EconomicClient, config: Config, entry: JournalEntry) -> list[str]:
    """The voucher(s) already posted for ``entry``'s key as ``year-voucherNumber``: unbooked in
    the journal, or booked in the ledger of the entry's accounting year; empty if none."""
    mark = tag(entry.idempotency_key)
    query = {"filter": f"text$like:{_like(mark)}"}
    year = str(entry.date.year)
    found: list[str] = []
    journal_path = f"/journals/{config.need_journal()}/entries"
    ledger_path = f"/accounting-years/{year}/entries"
    for path, number_at in (
        (journal_path, "voucher.voucherNumber"),
        (ledger_path, "voucherNumber"),
    ):
        for index, item in enumerate(client.collection(path, query)):
            if not _carries(item, mark):
                continue
            number = mapping.number(item, number_at, Where(f"{client.base_url}{path}", index))
            booked_year = ((item.get("voucher") or {}).get("accountingYear") or {}).get("year")
            found.append(f"{booked_year if isinstance(booked_year, str) else year}-{number}")
    return list(dict.fromkeys(found))


def post(client: EconomicClient, config: Config, entry: JournalEntry) -> str:
    """Post ``entry`` once; the voucher(s) as ``2026-50001`` (comma-separated if e-conomic
    split the entries over several vouchers). A voucher found for the key (:func:`find`) is
    the answer, and nothing is posted."""
    voucher = body(config, entry)
    existing = find(client, config, entry)
    if existing:
        return ",".join(existing)
    path = f"/journals/{config.need_journal()}/vouchers"
    answer = client.post(
        path,
        voucher,
        idempotency_key=drafts.idempotency_key(entry.idempotency_key, "voucher"),
        doing=f"voucher {entry.idempotency_key}",
    )
    return ",".join(_references(answer, f"{client.base_url}{path}", str(entry.date.year)))
