"""A toy accounting plugin for the conformance kit's own tests: its "system" is a JSON file.

``KIT_TOY_FLAW`` (an environment variable, so the kit's fresh process sees it too) makes it
break the contract in one way, so the tests can show that the kit catches each and says what
to fix. Without it, the plugin is sound and passes the kit.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub import hookimpl
from hub.errors import AuthError, InvalidDataError, RemoteServerError, ThrottledError
from hub.model import (
    ClientContext,
    CreditNoteRequest,
    Customer,
    CustomerBalance,
    Invoice,
    InvoiceState,
    InvoiceStatus,
    SettingSpec,
    SystemInfo,
)

NAME = "kit_toy"
PAGE_SIZE = 10
_seen_keys: dict[str, str] = {}  # the "in_process_dedupe" flaw's memory


def _flaw() -> str:
    return os.environ.get("KIT_TOY_FLAW", "")


def _open_books(ctx: ClientContext) -> dict[str, Any]:
    path = Path(ctx.settings["books_path"])
    with path.with_suffix(".requests").open("a", encoding="ascii") as requests:
        requests.write("r")  # one "request" to the toy system
    books: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    if _flaw() == "leaks_token":
        ctx.log.info("toy.open", token=ctx.settings["api_token"])
    if ctx.settings["api_token"] != books["token"]:
        raise AuthError(f"{path}: the api_token was refused")
    fault = books.get("fault")
    if fault == "throttle" and _flaw() == "leak_on_retry":
        ctx.log.debug(
            "toy.retrying", headers={"Authorization": f"Bearer {ctx.settings['api_token']}"}
        )
    if fault == "throttle":
        if _flaw() == "unmapped_errors":
            raise RuntimeError("429 Too Many Requests")
        raise ThrottledError(f"{path}: throttled", retry_after=1.0)
    if fault == "server_error":
        raise RemoteServerError(f"{path}: server error")
    return books


def _save(ctx: ClientContext, books: dict[str, Any]) -> None:
    Path(ctx.settings["books_path"]).write_text(json.dumps(books, default=str), encoding="utf-8")


def _money(record: dict[str, Any], name: str) -> Decimal:
    value = record[name]
    if _flaw() == "float_amounts":
        return float(value)  # type: ignore[return-value]
    try:
        return Decimal(value)
    except ArithmeticError:
        if _flaw() == "status_defaults" and name == "outstanding":
            return Decimal(0)
        raise InvalidDataError(
            f"invoice {record['number']}: {name} {value!r} is not an amount"
        ) from None


def _invoice(record: dict[str, Any]) -> Invoice:
    return Invoice(
        invoice_number=record["number"],
        customer_number=record["customer"],
        invoice_date=dt.date.fromisoformat(record["date"]),
        due_date=dt.date.fromisoformat(record["due"]),
        currency=record["currency"],
        net_amount=_money(record, "net"),
        vat_amount=_money(record, "vat"),
        gross_amount=_money(record, "gross"),
        outstanding_amount=_money(record, "outstanding"),
    )


@hookimpl
def system_info() -> SystemInfo:
    return SystemInfo(
        name=NAME,
        title="Toy books (a JSON file)",
        version="1.0",
        capabilities=frozenset({"customer_balance", "credit_note"}),
        settings=(
            SettingSpec("books_path", "path", required=True, description="The books file"),
            SettingSpec(
                "api_token",
                required=True,
                secret=_flaw() != "insecure_schema",
                description="The token",
            ),
        ),
    )


@hookimpl
def fetch_open_invoices(ctx: ClientContext) -> list[Invoice]:
    books = _open_books(ctx)
    pages = [
        books["invoices"][i : i + PAGE_SIZE] for i in range(0, len(books["invoices"]), PAGE_SIZE)
    ]
    if _flaw() == "first_page_only":
        pages = pages[:1]
    invoices = [_invoice(r) for page in pages for r in page]
    return [i for i in invoices if i.outstanding_amount > 0]


@hookimpl
def fetch_invoice_status(ctx: ClientContext, invoice_numbers: Sequence[str]) -> list[InvoiceStatus]:
    held = {r["number"]: r for r in _open_books(ctx)["invoices"]}
    statuses = []
    for number in invoice_numbers:
        if _flaw() == "one_per_number":
            held = {r["number"]: r for r in _open_books(ctx)["invoices"]}
        record = held.get(number)
        if record is None:
            state = InvoiceState.PAID if _flaw() == "unknown_is_paid" else InvoiceState.UNKNOWN
            amount = Decimal(0) if state is InvoiceState.PAID else None
            statuses.append(
                InvoiceStatus(number, state, amount, "DKK" if amount is not None else None)
            )
            continue
        outstanding = _money(record, "outstanding")
        state = InvoiceState.OPEN if outstanding > 0 else InvoiceState.PAID
        statuses.append(InvoiceStatus(number, state, outstanding, record["currency"]))
    return statuses


@hookimpl
def fetch_customers(ctx: ClientContext, customer_numbers: Sequence[str]) -> list[Customer]:
    held = {c["number"]: c for c in _open_books(ctx)["customers"]}
    return [
        Customer(n, held[n]["name"], email=held[n]["email"]) for n in customer_numbers if n in held
    ]


@hookimpl
def fetch_customer_balance(
    ctx: ClientContext, customer_numbers: Sequence[str]
) -> list[CustomerBalance]:
    books = _open_books(ctx)
    totals: dict[str, Decimal] = {}
    for record in books["invoices"]:
        totals[record["customer"]] = totals.get(record["customer"], Decimal(0)) + _money(
            record, "outstanding"
        )
    return [CustomerBalance(n, totals[n], "DKK") for n in customer_numbers if n in totals]


@hookimpl
def create_credit_note(ctx: ClientContext, request: CreditNoteRequest) -> str:
    if _flaw() == "unmapped_in_writes":
        books = json.loads(Path(ctx.settings["books_path"]).read_text(encoding="utf-8"))
        if ctx.settings["api_token"] != books["token"]:
            raise RuntimeError("401 Unauthorized")
    books = _open_books(ctx)
    notes: dict[str, str] = books.setdefault("credit_notes", {})
    if _flaw() == "in_process_dedupe":
        if request.idempotency_key not in _seen_keys:
            _seen_keys[request.idempotency_key] = f"CN-{len(notes) + 1}"
            notes[f"{request.idempotency_key}#{len(notes)}"] = _seen_keys[request.idempotency_key]
        _save(ctx, books)
        return _seen_keys[request.idempotency_key]
    if _flaw() == "not_idempotent" or request.idempotency_key not in notes:
        reference = f"CN-{len(notes) + 1}"
        key = request.idempotency_key if _flaw() != "not_idempotent" else f"{reference}"
        notes[key] = reference
        _save(ctx, books)
        return reference
    return notes[request.idempotency_key]
