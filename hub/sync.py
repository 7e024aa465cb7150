"""Synchronising a client's invoices and customers from its accounting plugin.

A sync asks the plugin first (open invoices; the status of every stored open invoice that left
the open list, in one batch; customers and, where supported, balances, each in one batch) and
only then writes, in one transaction. So a failure at any point (a bad row, a refused token, a
server error) leaves the database exactly as it was, and the run is recorded as failed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from hub import clients
from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import HubError, InvalidDataError
from hub.model import Customer, CustomerBalance, Invoice, InvoiceState, InvoiceStatus
from hub.plugins import ClientPlugin, PluginRegistry
from hub.secrets import SecretBox

_CENT = Decimal("0.01")
_COMPARED = (
    "customer_number",
    "invoice_date",
    "due_date",
    "currency",
    "net_amount",
    "vat_amount",
    "gross_amount",
    "outstanding_amount",
    "state",
)


@dataclass
class SyncReport:
    """What a sync did; ``as_dict`` is the stable JSON shape of ``hub sync --json``."""

    client: str
    plugin: str
    today: dt.date
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    settled: int = 0  # left the open list and reported paid or credited
    unknown: int = 0  # left the open list and unknown to the accounting system
    customers: int = 0
    balances: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        keys = ("new", "updated", "unchanged", "settled", "unknown", "customers", "balances")
        return {k: getattr(self, k) for k in (*keys, "failed")}

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["today"] = self.today.isoformat()
        return data


class SyncFailed(HubError):
    """A sync stored nothing; ``report`` says why (``errors``) and how many records failed."""

    def __init__(self, message: str, report: SyncReport) -> None:
        super().__init__(message)
        self.report = report


def _refusals(invoices: list[Invoice]) -> list[str]:
    """Problems that make the hub refuse a fetched invoice list (it is stored whole or not)."""
    problems: list[str] = []
    seen: set[str] = set()
    for inv in invoices:
        if inv.invoice_number in seen:
            problems.append(f"invoice {inv.invoice_number}: listed twice")
        seen.add(inv.invoice_number)
        for name in ("net_amount", "vat_amount", "gross_amount", "outstanding_amount"):
            amount: Decimal = getattr(inv, name)
            if amount != amount.quantize(_CENT):
                problems.append(f"invoice {inv.invoice_number}: {name} {amount} has > 2 decimals")
    return problems


def _invoice_row(inv: Invoice) -> dict[str, Any]:
    state = InvoiceState.OPEN if inv.outstanding_amount > 0 else InvoiceState.PAID
    return {
        "invoice_number": inv.invoice_number,
        "customer_number": inv.customer_number,
        "invoice_date": inv.invoice_date,
        "due_date": inv.due_date,
        "currency": inv.currency,
        "net_amount": inv.net_amount,
        "vat_amount": inv.vat_amount,
        "gross_amount": inv.gross_amount,
        "outstanding_amount": inv.outstanding_amount,
        "state": state.value,
    }


@dataclass
class _Fetched:
    invoices: list[Invoice]
    statuses: list[InvoiceStatus]
    customers: list[Customer]
    balances: list[CustomerBalance]


def _fetch(session: Session, plugin: ClientPlugin, client_id: int) -> _Fetched:
    invoices = plugin.fetch_open_invoices()
    open_numbers = {i.invoice_number for i in invoices}
    stored_open = session.scalars(
        select(t.Invoice.invoice_number).where(
            t.Invoice.client_id == client_id, t.Invoice.state == InvoiceState.OPEN.value
        )
    ).all()
    left = sorted(set(stored_open) - open_numbers)
    statuses = plugin.fetch_invoice_status(left)
    customer_numbers = sorted({i.customer_number for i in invoices})
    customers = plugin.fetch_customers(customer_numbers)
    balances = (
        plugin.fetch_customer_balance(customer_numbers) if plugin.has("customer_balance") else []
    )
    return _Fetched(invoices, statuses, customers, balances)


def _store_invoices(
    session: Session, client_id: int, fetched: _Fetched, report: SyncReport, now: dt.datetime
) -> None:
    existing = {
        row.invoice_number: row
        for row in session.execute(
            select(
                t.Invoice.id, *(getattr(t.Invoice, c) for c in ("invoice_number", *_COMPARED))
            ).where(t.Invoice.client_id == client_id)
        )
    }
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for inv in fetched.invoices:
        row = _invoice_row(inv)
        old = existing.get(inv.invoice_number)
        if old is None:
            inserts.append({**row, "client_id": client_id, "first_seen_at": now, "synced_at": now})
            report.new += 1
        elif any(getattr(old, c) != row[c] for c in _COMPARED):
            updates.append({**row, "id": old.id, "synced_at": now})
            report.updated += 1
        else:
            report.unchanged += 1
    for status in fetched.statuses:
        old = existing[status.invoice_number]
        if status.state is InvoiceState.UNKNOWN:
            updates.append({"id": old.id, "state": status.state.value, "synced_at": now})
            report.unknown += 1
            continue
        change: dict[str, Any] = {"id": old.id, "state": status.state.value, "synced_at": now}
        if status.outstanding_amount is not None:
            change["outstanding_amount"] = status.outstanding_amount
        updates.append(change)
        if status.state is InvoiceState.OPEN:
            report.updated += 1
        else:
            report.settled += 1
    if inserts:
        session.execute(insert(t.Invoice), inserts)
    # Bulk UPDATE by primary key groups rows by their set of keys, so it stays a few statements.
    if updates:
        session.execute(update(t.Invoice), updates)


def _store_customers(
    session: Session, client_id: int, fetched: _Fetched, report: SyncReport, now: dt.datetime
) -> None:
    existing: dict[str, int] = {
        number: row_id
        for number, row_id in session.execute(
            select(t.Customer.customer_number, t.Customer.id).where(
                t.Customer.client_id == client_id
            )
        )
    }
    balances = {b.customer_number: b for b in fetched.balances}
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for c in fetched.customers:
        row: dict[str, Any] = {
            "customer_number": c.customer_number,
            "name": c.name,
            "email": c.email,
            "address": c.address,
            "postal_code": c.postal_code,
            "city": c.city,
            "country": c.country,
            "language": c.language,
            "synced_at": now,
        }
        balance = balances.pop(c.customer_number, None)
        if balance is not None:
            row |= {"balance": balance.balance, "balance_currency": balance.currency}
        if c.customer_number in existing:
            updates.append({**row, "id": existing[c.customer_number]})
        else:
            inserts.append({**row, "client_id": client_id})
        report.customers += 1
    # Balances of customers whose contact data was not returned still update known customers.
    for number, balance in balances.items():
        if number in existing:
            updates.append(
                {
                    "id": existing[number],
                    "balance": balance.balance,
                    "balance_currency": balance.currency,
                    "synced_at": now,
                }
            )
    report.balances = len(fetched.balances)
    if inserts:
        session.execute(insert(t.Customer), inserts)
    if updates:
        session.execute(update(t.Customer), updates)


def _record_run(
    db: Database, client_id: int, started: dt.datetime, outcome: str, report: SyncReport
) -> None:
    with db.session() as session:
        session.add(
            t.JobRun(
                job="sync",
                client_id=client_id,
                started_at=started,
                finished_at=dt.datetime.now(dt.UTC),
                outcome=outcome,
                counts=report.counts,
                error="; ".join(report.errors) or None,
            )
        )


def sync_client(db: Database, registry: PluginRegistry, box: SecretBox, name: str) -> SyncReport:
    """Fetch the client's open invoices and customers and store them; all or nothing.

    :raises SyncFailed: the plugin's data was refused; nothing was stored.
    :raises HubError: the plugin or the database failed; nothing was stored.
    """
    started = dt.datetime.now(dt.UTC)
    with db.session() as session:
        client = clients.get_client(session, name)
        client_id = client.id
        ctx = clients.client_context(client, registry, box, job="sync")
    plugin = registry.for_client(ctx)
    report = SyncReport(client=name, plugin=plugin.name, today=ctx.today)
    try:
        with db.session() as session:
            fetched = _fetch(session, plugin, client_id)
        problems = _refusals(fetched.invoices)
        if problems:
            report.failed = len(problems)
            report.errors = problems
            raise SyncFailed(
                f"sync of {name!r} stored nothing: {len(problems)} invoice(s) refused: "
                + "; ".join(problems[:10]),
                report,
            )
        now = dt.datetime.now(dt.UTC)
        with db.session() as session:
            _store_invoices(session, client_id, fetched, report, now)
            _store_customers(session, client_id, fetched, report, now)
    except HubError as exc:
        if not report.errors:
            report.errors = [str(exc)]
        if isinstance(exc, InvalidDataError) and not report.failed:
            report.failed = 1
        _zero_stored(report)
        _record_run(db, client_id, started, "failed", report)
        raise
    ctx.log.info("sync done", **report.counts)
    _record_run(db, client_id, started, "ok", report)
    return report


def _zero_stored(report: SyncReport) -> None:
    """After a failure nothing was stored, so the report must not claim otherwise."""
    for key in ("new", "updated", "unchanged", "settled", "unknown", "customers", "balances"):
        setattr(report, key, 0)
