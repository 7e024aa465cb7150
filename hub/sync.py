"""Synchronising a client's invoices and customers from its accounting plugin.

A sync asks the plugin first (open invoices; the status of every stored open invoice that left
the open list, in one batch; customers and, where supported, balances, each in one batch),
checks the answers, and only then writes, in one transaction together with the record of the
run (which the caller writes: see :data:`RunRecorder`). So a failure at any point (a missing
setting, a bad row, a refused token, a server error, an amount the database cannot hold) leaves
the database exactly as it was, and the run is recorded as failed.

A sync that would take more of the client's open invoices off the open list (paid, credited,
unknown) than its settle guard allows stops before it stores anything: an export that lost its
rows must not close every case as paid. ``confirm_settle`` (``hub sync --confirm-settle``) lets
one sync through after a person looked; the daemon never confirms by itself.

The fetch has a deadline (``HUB_SYNC_DEADLINE``, :func:`hub.config.sync_deadline`): every
request a plugin sends through :mod:`hub.toolkit.http` meanwhile ends by it, and no retry, page
or next step is started after it (:mod:`hub.toolkit.deadline`); the sync then fails, storing
nothing, with an error naming the URL and the deadline.

A customer used by an open invoice whose contact data the plugin did not return is no reason to
fail: the invoices are stored, and the customer is named in ``SyncReport.missing_customers``
(and logged as a warning) so someone can fix the accounting system's data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from hub import clients, config
from hub.amounts import CENT, LIMIT
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning.rules import SettleGuard, settle_guard
from hub.errors import HubError, InputError, InvalidDataError, NotFoundError, SettingsError
from hub.logging import get_logger
from hub.model import (
    Capability,
    Customer,
    CustomerBalance,
    Invoice,
    InvoiceState,
    InvoiceStatus,
)
from hub.plugins import ClientPlugin, PluginRegistry
from hub.secrets import SecretBox
from hub.toolkit import deadline as job_deadline

_AMOUNTS = ("net_amount", "vat_amount", "gross_amount", "outstanding_amount")
_COMPARED = (
    "customer_number",
    "invoice_date",
    "due_date",
    "currency",
    *_AMOUNTS,
    "state",
)
#: The counts of what a sync stored; all zero after a failure.
_STORED_COUNTS = ("new", "updated", "unchanged", "settled", "unknown", "customers", "balances")


@dataclass
class SyncReport:
    """What a sync did; ``as_dict`` is the stable JSON shape of ``hub sync --json``.

    ``plugin`` is None when the client has no accounting plugin enabled (the sync failed).
    ``missing_customers`` are customers of open invoices whose contact data the plugin did
    not return: their invoices are stored, but letters to them cannot be addressed.
    ``notes`` are what the plugin passed over on purpose (``ClientContext.notes``), such as a
    CSV export's total row, each naming where.
    """

    client: str
    plugin: str | None
    today: dt.date
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    settled: int = 0  # left the open list and reported paid or credited
    unknown: int = 0  # left the open list and unknown to the accounting system
    customers: int = 0
    balances: int = 0  # balances stored (of customers stored now or before)
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    missing_customers: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in (*_STORED_COUNTS, "failed")}

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["today"] = self.today.isoformat()
        return data


class SyncFailed(HubError):
    """A sync stored nothing; ``report`` says why (``errors``) and how many records failed.

    Every failure of a sync of an existing client is raised as this, with the original error
    as ``__cause__`` and its exit code (2 for the user's input, such as a missing setting).
    """

    def __init__(self, message: str, report: SyncReport, *, exit_code: int = 1) -> None:
        super().__init__(message)
        self.report = report
        self.exit_code = exit_code


class SettleGuardTripped(InputError):
    """The sync would settle more of the client's open invoices than its settle guard allows;
    nothing was stored. ``leaving`` of ``open_before`` open invoices would leave the open list.
    """

    def __init__(self, message: str, *, leaving: int, open_before: int) -> None:
        super().__init__(message)
        self.leaving = leaving
        self.open_before = open_before


def _check_settle_guard(name: str, fetched: _Fetched, *, confirmed: bool, log: Any) -> None:
    """Refuse (:class:`SettleGuardTripped`) a sync that trips the client's settle guard,
    unless a person ``confirmed`` it (then it is logged)."""
    leaving = [s for s in fetched.statuses if s.state is not InvoiceState.OPEN]
    if not fetched.guard.trips(len(leaving), fetched.open_before):
        return
    if confirmed:
        log.warning(
            "sync: settle guard confirmed by a person",
            leaving=len(leaving),
            open_before=fetched.open_before,
        )
        return
    unknown = sum(s.state is InvoiceState.UNKNOWN for s in leaving)
    raise SettleGuardTripped(
        f"the accounting system's answer would take {len(leaving)} of the {fetched.open_before}"
        f" open invoices of {name!r} off the open list ({len(leaving) - unknown} paid or"
        f" credited, {unknown} unknown to it), more than the settle guard allows"
        f" ({fetched.guard.describe()}: more than {fetched.guard.percent} % and at least"
        f" {fetched.guard.minimum}). If the export or the books lost rows, fix them and sync"
        f" again; if they really were settled, run `hub sync {name} --confirm-settle` once"
        f" (or change the rule: `hub rules set {name} settle_guard_percent=...`)",
        leaving=len(leaving),
        open_before=fetched.open_before,
    )


def _amount_problem(amount: Decimal) -> str | None:
    if abs(amount) >= LIMIT:
        return f"{amount} is too large to store (at most 16 digits before the point)"
    if amount != amount.quantize(CENT):
        return f"{amount} has > 2 decimals"
    return None


def _refusals(fetched: _Fetched) -> list[str]:
    """Problems that make the hub refuse the fetched data (it is stored whole or not at all)."""
    problems: list[str] = []
    seen: set[str] = set()
    for inv in fetched.invoices:
        number = inv.invoice_number
        if number in seen:
            problems.append(f"invoice {number}: listed twice")
        seen.add(number)
        amount_problems = [
            f"invoice {number}: {name} {why}"
            for name in _AMOUNTS
            if (why := _amount_problem(getattr(inv, name))) is not None
        ]
        problems += amount_problems
        if amount_problems:
            continue
        if inv.outstanding_amount <= 0:
            problems.append(
                f"invoice {number}: outstanding_amount {inv.outstanding_amount} is not positive,"
                " but the invoice is in the list of open invoices"
            )
        elif inv.outstanding_amount > inv.gross_amount:
            problems.append(
                f"invoice {number}: outstanding_amount {inv.outstanding_amount} is more than"
                f" gross_amount {inv.gross_amount}"
            )
    for status in fetched.statuses:
        if status.outstanding_amount is not None:
            why = _amount_problem(status.outstanding_amount)
            if why is not None:
                problems.append(
                    f"status of invoice {status.invoice_number}: outstanding_amount {why}"
                )
    for balance in fetched.balances:
        why = _amount_problem(balance.balance)
        if why is not None:
            problems.append(f"balance of customer {balance.customer_number}: {why}")
    return problems


def _invoice_row(inv: Invoice) -> dict[str, Any]:
    # _refusals made sure the outstanding amount is positive: an open invoice.
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
        "state": InvoiceState.OPEN.value,
    }


@dataclass
class _Fetched:
    invoices: list[Invoice]
    statuses: list[InvoiceStatus]
    customers: list[Customer]
    balances: list[CustomerBalance]
    open_before: int = 0  # the client's invoices stored as open before this sync
    guard: SettleGuard = field(default_factory=lambda: settle_guard(None))

    def missing_customers(self) -> list[str]:
        """Customers of the open invoices whose contact data was not returned."""
        returned = {c.customer_number for c in self.customers}
        return sorted({i.customer_number for i in self.invoices} - returned)


def _fetch(session: Session, plugin: ClientPlugin, client_id: int) -> _Fetched:
    """Ask the plugin; between its steps, stop if the sync's deadline has passed."""
    invoices = plugin.fetch_open_invoices()
    job_deadline.check(f"{plugin.name}: asking for invoice statuses", plugin=plugin.name)
    open_numbers = {i.invoice_number for i in invoices}
    stored_open = session.scalars(
        select(t.Invoice.invoice_number).where(
            t.Invoice.client_id == client_id, t.Invoice.state == InvoiceState.OPEN.value
        )
    ).all()
    left = sorted(set(stored_open) - open_numbers)
    statuses = plugin.fetch_invoice_status(left)
    job_deadline.check(f"{plugin.name}: asking for customers", plugin=plugin.name)
    customer_numbers = sorted({i.customer_number for i in invoices})
    customers = plugin.fetch_customers(customer_numbers)
    job_deadline.check(f"{plugin.name}: asking for balances", plugin=plugin.name)
    rules = session.get(t.ClientDunning, client_id)
    entry_sync = rules is None or rules.entry_sync  # switched off: no balances, no R2 (C2)
    balances = (
        plugin.fetch_customer_balance(customer_numbers)
        if entry_sync and plugin.has(Capability.CUSTOMER_BALANCE)
        else []
    )
    return _Fetched(invoices, statuses, customers, balances, len(stored_open), settle_guard(rules))


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
        elif status.state is InvoiceState.OPEN:
            # Still open, though no longer listed: a change only if the amount moved.
            amount = status.outstanding_amount
            if amount is None or amount == old.outstanding_amount:
                report.unchanged += 1
            else:
                updates.append({"id": old.id, "outstanding_amount": amount, "synced_at": now})
                report.updated += 1
        else:
            change: dict[str, Any] = {"id": old.id, "state": status.state.value, "synced_at": now}
            if status.outstanding_amount is not None:
                change["outstanding_amount"] = status.outstanding_amount
            updates.append(change)
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
            report.balances += 1
        if c.customer_number in existing:
            updates.append({**row, "id": existing[c.customer_number]})
        else:
            inserts.append({**row, "client_id": client_id})
        report.customers += 1
    # A balance of a customer whose contact data was not returned updates a known customer;
    # one of a customer never stored cannot be kept (no name): that customer is in
    # report.missing_customers, since balances are asked only for customers of open invoices.
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
            report.balances += 1
    if inserts:
        session.execute(insert(t.Customer), inserts)
    if updates:
        session.execute(update(t.Customer), updates)


def _describe(exc: Exception) -> str:
    if isinstance(exc, InvalidDataError) and exc.plugin and f"{exc.plugin!r}" not in str(exc):
        # A refused record says where and which field; the plugin it came from is named too.
        return f"plugin {exc.plugin!r}: {exc}"
    return str(exc) if isinstance(exc, HubError) else f"{type(exc).__name__}: {exc}"


#: Records the sync's run inside the given session: ``(session, stored, report)``, ``stored``
#: true in the very transaction that stores the data, false (nothing stored) in one of its own.
RunRecorder = Callable[[Session, bool, SyncReport], None]


def sync_client(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    client_id: int,
    today: dt.date,
    *,
    record: RunRecorder | None = None,
    confirm_settle: bool = False,
    deadline: float | None = None,
) -> SyncReport:
    """Fetch the client's open invoices and customers and store them; all or nothing.

    ``today`` is the client's day the run acts for. The run is recorded by ``record`` with the
    data, in the same transaction; a failed run in a transaction of its own.
    ``confirm_settle``: store even what trips the client's settle guard (a person looked).
    ``deadline`` is how long the fetch may take, in seconds (None: ``HUB_SYNC_DEADLINE``,
    else 10 minutes).

    :raises NotFoundError: there is no such client (nothing is recorded).
    :raises SyncFailed: anything else went wrong (settings, plugin, refused data, the settle
        guard, database); nothing was stored, the run is recorded as failed, and ``report``
        says why. The original error is its ``__cause__`` and gives it its exit code.
    """
    with db.session() as session:
        client = session.get(t.Client, client_id)
        if client is None:
            raise NotFoundError(f"the client (id {client_id}) was removed")
        name = client.name
        cp = clients.enabled_plugin(client)
        report = SyncReport(client=name, plugin=cp.plugin if cp else None, today=today)
    log = get_logger("hub.sync", client=name, job="sync")
    try:
        with db.session() as session:
            current = session.get(t.Client, client_id)
            if current is None:
                raise NotFoundError(f"client {name!r} was removed while it was being synced")
            ctx = clients.client_context(current, registry, box, today=today, job="sync")
        plugin = registry.for_client(ctx)
        report.plugin, log = plugin.name, ctx.log
        seconds = config.sync_deadline() if deadline is None else deadline
        with (
            job_deadline.within(seconds, "the sync deadline", "HUB_SYNC_DEADLINE"),
            db.session() as session,
        ):
            fetched = _fetch(session, plugin, client_id)
        report.notes = list(dict.fromkeys(ctx.notes))  # each once, though asked twice
        report.missing_customers = fetched.missing_customers()
        problems = _refusals(fetched)
        if problems:
            report.failed = len(problems)
            report.errors = problems
            raise SyncFailed(
                f"sync of {name!r} stored nothing: {len(problems)} record(s) refused: "
                + "; ".join(problems[:10]),
                report,
            )
        _check_settle_guard(name, fetched, confirmed=confirm_settle, log=log)
        now = dt.datetime.now(dt.UTC)
        with db.session() as session:
            _store_invoices(session, client_id, fetched, report, now)
            _store_customers(session, client_id, fetched, report, now)
            if record is not None:
                record(session, True, report)
    except Exception as exc:
        if not report.errors:
            report.errors = [_describe(exc)]
        if isinstance(exc, InvalidDataError) and not report.failed:
            report.failed = 1
        _zero_stored(report)
        if record is not None:
            _record_failure(db, record, report, log)
        if isinstance(exc, SyncFailed):
            raise
        fix = (
            f" (`hub clients show {name}` shows the settings, `hub clients set {name}"
            " KEY=VALUE` changes one)"
            if isinstance(exc, SettingsError)
            else ""
        )
        raise SyncFailed(
            f"sync of {name!r} stored nothing: {_describe(exc)}{fix}",
            report,
            exit_code=exc.exit_code if isinstance(exc, HubError) else 1,
        ) from exc
    if report.missing_customers:
        log.warning(
            "sync: customers of open invoices were not returned by the plugin",
            missing=len(report.missing_customers),
            customers=report.missing_customers[:20],
        )
    log.info("sync done", **report.counts)
    return report


def _record_failure(db: Database, record: RunRecorder, report: SyncReport, log: Any) -> None:
    """Record the failed run; a failure to record must not hide why the sync failed."""
    try:
        with db.session() as session:
            record(session, False, report)
    except Exception as exc:
        log.error("sync: could not record the failed run", error=_describe(exc))


def _zero_stored(report: SyncReport) -> None:
    """After a failure nothing was stored, so the report must not claim otherwise."""
    for key in _STORED_COUNTS:
        setattr(report, key, 0)
