"""``POST /journals/{n}/vouchers`` of the fake e-conomic server (see
:mod:`hub.testing.fakes.economic` for what is faithful and what is simplified).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from hub.records import made_from
from hub.testing.fakes.economic.model import (
    DEBTORS_ACCOUNT,
    RATE_PLACES,
    Agreement,
    ApiError,
    Day,
    Journal,
    LedgerEntry,
    Result,
    Voucher,
)
from hub.testing.fakes.economic.writes import (
    Errors,
    Path,
    Reader,
    json_type,
    read_currency,
    reject_nulls,
)
from hub.testing.fakes.money import HUNDRED, money
from hub.testing.fakes.wire import dumps

__all__ = ["create_vouchers"]

_YEAR_RE = re.compile(r"(\d{4})(?:/(\d{4}))?")
ENTRY_TYPES = {
    "financeVouchers": "financeVoucher",
    "customerPayments": "customerPayment",
    "manualCustomerInvoices": "manualCustomerInvoice",
}


LEDGER_ENTRY_TYPES = {  # a voucher's entries key -> the ledger entry's entryType
    "customerPayments": "customerPayment",
    "manualCustomerInvoices": "manualDebtorInvoice",
    "financeVouchers": "financeVoucher",
}


@dataclass
class _PlannedEntry:
    kind: str
    amount: Decimal
    date: Day
    currency: str
    exchange_rate: Decimal
    text: str | None
    customer_number: int | None
    invoice_number: int | None
    due_date: Day | None
    account_number: int | None
    contra_account_number: int | None
    voucher_number: int | None


def create_vouchers(
    agreement: Agreement, journal: Journal, body: object, base: str, payment_sign: int
) -> Result:
    """Post vouchers (one object, or a list for bulk [S1]) to a journal. Answers 201 with a JSON
    *array* of the vouchers created [S2 live; S3], grouped by voucher number.

    The vouchers stay unbooked in the journal (``GET /journals/{n}/entries``), changing
    nothing else, until a person books it (:meth:`Agreement.book_journal`). Booked, a customer
    payment lowers the customer's balance and the remainder of the invoice it names in
    ``customerInvoice``; a manual customer invoice raises the balance.
    """
    errors = Errors()
    bulk = isinstance(body, list)
    docs = body if isinstance(body, list) else [body]
    if not docs:
        raise ApiError(400, {"message": "No vouchers in the request.", "developerHint": ""})
    plans: list[tuple[str, list[_PlannedEntry]]] = []
    for v_index, raw in enumerate(docs):
        prefix: Path = (v_index,) if bulk else ()
        if not isinstance(raw, dict):
            errors.add(prefix or ("voucher",), f"Expected Object but got {json_type(raw)}.")
            continue
        reject_nulls(raw, prefix, errors)
        plans.append(_plan_voucher(agreement, journal, Reader(raw, prefix, errors), errors))
    errors.check()
    created: list[dict[str, object]] = []
    for (year, entries), raw in zip(plans, docs, strict=True):
        assert isinstance(raw, dict)
        auto = None
        groups: dict[int, list[_PlannedEntry]] = {}
        for plan in entries:
            if plan.voucher_number is None:
                if auto is None:
                    auto = agreement.take_voucher_number(journal)
                plan.voucher_number = auto
            groups.setdefault(plan.voucher_number, []).append(plan)
        for voucher_number, group in groups.items():
            created.append(
                _post_voucher(
                    agreement, journal, year, voucher_number, group, raw, base, payment_sign
                )
            )
    location = str(created[0]["self"]) if created else f"{base}/journals/{journal.journal_number}"
    return Result(201, dumps(created), {"Location": location})


def _plan_voucher(
    agreement: Agreement, journal: Journal, r: Reader, errors: Errors
) -> tuple[str, list[_PlannedEntry]]:
    year = ""
    years: tuple[int, ...] = ()
    acc = r.obj("accountingYear", required=True)
    if acc is not None:
        text = acc.text("year", required=True)
        match = _YEAR_RE.fullmatch(text or "")
        if text is not None and match is None:
            acc.missing("year", "accountingYear", text, "accounting-years")
        elif match is not None and text is not None:
            year = text
            years = tuple(int(y) for y in match.groups() if y)
    journal_number = r.ref("journal", "journalNumber", "journals")
    if journal_number is not None and journal_number != journal.journal_number:
        errors.add(
            (*r.path, "journal"),
            f"journalNumber {journal_number} does not match the journal in the URL "
            f"({journal.journal_number}).",
            value=journal_number,
        )
    top_number = r.integer("voucherNumber", minimum=1)
    plans: list[_PlannedEntry] = []
    entries = r.obj("entries", required=True)
    if entries is None:
        return year, plans
    for kind in ("supplierInvoices", "supplierPayments"):
        if entries.doc.get(kind):
            raise ApiError(
                501,
                {
                    "message": f"{kind} are not implemented by the fake e-conomic server.",
                    "developerHint": "Only customerPayments, manualCustomerInvoices and "
                    "financeVouchers are supported.",
                },
            )
    count = 0
    for kind in ENTRY_TYPES:
        raw = entries.doc.get(kind)
        if raw is None:
            continue
        if not isinstance(raw, list):
            errors.add((*entries.path, kind), f"Expected Array but got {json_type(raw)}.")
            continue
        for i, item in enumerate(raw):
            count += 1
            if not isinstance(item, dict):
                errors.add((*entries.path, kind, i), "Expected Object.")
                continue
            plan = _plan_entry(agreement, Reader(item, (*entries.path, kind, i), errors), kind)
            if plan is None:
                continue
            if years and plan.date.year not in years:
                errors.add(
                    (*entries.path, kind, i, "date"),
                    f"The date {plan.date} is not in accounting year {year}.",
                    value=plan.date.isoformat(),
                )
            if plan.voucher_number is None:
                plan.voucher_number = top_number
            plans.append(plan)
    if count == 0:
        errors.add((*r.path, "entries"), "The voucher has no entries.")
    return year, plans


def _plan_entry(agreement: Agreement, e: Reader, kind: str) -> _PlannedEntry | None:
    errors = e.errors
    before = len(errors.items)
    amount = e.number("amount", required=True)
    day = e.day("date", required=True)
    text = e.text("text", max_length=250)
    currency_reader = e.obj("currency")
    currency = agreement.base_currency
    if currency_reader is not None:
        currency = read_currency(currency_reader, "code", errors, required=True) or currency
    rate_given = e.number("exchangeRate", places=6)
    voucher = e.obj("voucher")
    voucher_number = voucher.integer("voucherNumber", minimum=1) if voucher else None
    contra = e.ref("contraAccount", "accountNumber", "accounts")
    account: int | None = None
    customer_number: int | None = None
    invoice: int | None = None
    due: date | None = None
    if kind in ("customerPayments", "manualCustomerInvoices"):
        customer_number = e.ref("customer", "customerNumber", "customers")
        if customer_number is not None and customer_number not in agreement.customers:
            e.missing("customer", "customer", customer_number, "customers")
        invoice = e.integer("customerInvoice", minimum=1)
        if kind == "customerPayments" and customer_number is None and contra is None:
            errors.add(e.path, "Either 'customer' or 'contraAccount' is required.")
        if kind == "manualCustomerInvoices":
            due = e.day("dueDate")
            if "customer" not in e.doc:
                errors.add((*e.path, "customer"), "Property customer is required.")
    else:
        account = e.ref("account", "accountNumber", "accounts", required=True)
        if contra is None:
            errors.add((*e.path, "contraAccount"), "Property contraAccount is required.")
    if len(errors.items) > before or amount is None or day is None:
        return None
    rate = rate_given.quantize(RATE_PLACES) if rate_given else agreement.rate(currency)
    return _PlannedEntry(
        kind=kind,
        amount=money(amount),
        date=day,
        currency=currency,
        exchange_rate=rate,
        text=text,
        customer_number=customer_number,
        invoice_number=invoice,
        due_date=due,
        account_number=account,
        contra_account_number=contra,
        voucher_number=voucher_number,
    )


def _post_voucher(
    agreement: Agreement,
    journal: Journal,
    year: str,
    voucher_number: int,
    plans: list[_PlannedEntry],
    request: dict[str, Any],
    base: str,
    payment_sign: int,
) -> dict[str, object]:
    j = journal.journal_number
    me = f"{base}/journals/{j}/vouchers/{year}-{voucher_number}"
    year_ref = {"year": year, "self": f"{base}/accounting-years/{year}"}
    journal_ref = {"journalNumber": j, "self": f"{base}/journals/{j}"}
    voucher_ref = {
        "accountingYear": year_ref,
        "voucherNumber": voucher_number,
        "attachment": f"{me}/attachment",
        "self": me,
    }
    rendered: dict[str, list[dict[str, object]]] = {}
    posted: list[tuple[str, LedgerEntry]] = []
    listed: list[dict[str, object]] = []
    for plan in plans:
        customer = agreement.customers.get(plan.customer_number) if plan.customer_number else None
        journal_entry = agreement.take_journal_entry_number()
        entry = made_from(
            LedgerEntry,
            plan,
            entry_number=0,  # numbered when booked
            entry_type=LEDGER_ENTRY_TYPES[plan.kind],
            account_number=plan.account_number or DEBTORS_ACCOUNT,
            voucher_number=voucher_number,
            customer=customer,
            journal_number=j,
            journal_entry_number=journal_entry,
        )
        remainder: Decimal | None = None
        if customer is not None and plan.kind in ("customerPayments", "manualCustomerInvoices"):
            remainder = plan.amount  # nothing settled while unbooked
        if plan.kind == "customerPayments" and customer is not None:
            entry.amount = money(-plan.amount * payment_sign)  # ledger sign: received < 0
        posted.append((plan.kind, entry))
        out = _entry_out(
            plan,
            customer is not None,
            journal,
            journal_ref,
            voucher_ref,
            remainder,
            journal_entry,
            base,
        )
        rendered.setdefault(plan.kind, []).append(out)
        listed.append(_listed(out))
    agreement.vouchers.append(Voucher(j, year, voucher_number, posted, request, listed))
    return {
        "accountingYear": year_ref,
        "journal": journal_ref,
        "entries": rendered,
        "voucherNumber": voucher_number,
        "attachment": f"{me}/attachment",
        "self": me,
    }


def _entry_out(
    plan: _PlannedEntry,
    has_customer: bool,
    journal: Journal,
    journal_ref: dict[str, object],
    voucher_ref: dict[str, object],
    remainder: Decimal | None,
    journal_entry: int,
    base: str,
) -> dict[str, object]:
    """A voucher entry as the voucher POST answers it [S3 journal_voucher_repo_test]."""
    out: dict[str, object] = {}
    if has_customer:
        n = plan.customer_number
        out["customer"] = {"customerNumber": n, "self": f"{base}/customers/{n}"}
    if plan.invoice_number is not None:
        out["customerInvoice"] = plan.invoice_number
    if plan.account_number is not None:
        out["account"] = {
            "accountNumber": plan.account_number,
            "self": f"{base}/accounts/{plan.account_number}",
        }
    if plan.text is not None:
        out["text"] = plan.text
    out["journal"] = journal_ref
    out["amount"] = plan.amount
    contra = plan.contra_account_number
    if contra is None and plan.kind == "customerPayments":
        contra = journal.contra_account_customer_payments
    if contra is not None:
        out["contraAccount"] = {"accountNumber": contra, "self": f"{base}/accounts/{contra}"}
    out["currency"] = {"code": plan.currency, "self": f"{base}/currencies/{plan.currency}"}
    out["date"] = plan.date
    if plan.due_date is not None:
        out["dueDate"] = plan.due_date
    out["exchangeRate"] = plan.exchange_rate
    out["entryType"] = ENTRY_TYPES[plan.kind]
    out["voucher"] = voucher_ref
    out["amountDefaultCurrency"] = money(plan.amount * plan.exchange_rate / HUNDRED)
    if remainder is not None:
        out["remainder"] = remainder
        out["remainderDefaultCurrency"] = money(remainder * plan.exchange_rate / HUNDRED)
    out["journalEntryNumber"] = journal_entry
    href = f"{base}/journals/{journal.journal_number}/entries/{journal_entry}"
    out["metaData"] = {
        "delete": {"description": "Delete this entry.", "href": href, "httpMethod": "delete"}
    }
    out["self"] = href
    return out


def _listed(out: dict[str, object]) -> dict[str, object]:
    """A voucher entry as ``GET /journals/{n}/entries`` lists it (that schema's names)."""
    listed = {k: v for k, v in out.items() if k not in ("metaData", "remainderDefaultCurrency")}
    voucher = out["voucher"]
    assert isinstance(voucher, dict)
    listed["voucher"] = {k: v for k, v in voucher.items() if k != "attachment"}
    if "remainderDefaultCurrency" in out:
        listed["remainderInDefaultCurrency"] = out["remainderDefaultCurrency"]
    return listed
