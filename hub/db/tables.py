"""The hub's tables (SQLAlchemy 2 declarative). Alembic migrations are the only way they change.

Money columns use :class:`Money`: ``NUMERIC(18, 2)`` on PostgreSQL and whole øre/cents in a
``BIGINT`` on SQLite, whose NUMERIC goes through float. Either way the Python value is an exact
``Decimal`` and an amount with more than two decimals is refused, never rounded.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy import text as sa_text
from sqlalchemy import true as sa_true
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeEngine

from hub import limits
from hub.amounts import CENT
from hub.errors import StorageError


class Money(TypeDecorator[Decimal]):
    """An exact amount with two decimals (the currency is a column beside it)."""

    impl = Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise StorageError(f"amount {value!r} is a {type(value).__name__}, not a Decimal")
        if value != value.quantize(CENT):
            raise StorageError(f"amount {value} has more than two decimals; it is not rounded")
        if dialect.name == "sqlite":
            return int(value * 100)
        return value.quantize(CENT)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(CENT)
        return Decimal(value).quantize(CENT)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        list[str]: JSON,
        dt.datetime: DateTime(timezone=True),
        dict[str, Any]: JSON,
    }


class Client(Base):
    """A company whose receivables the hub follows."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.CLIENT_NAME), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)

    plugins: Mapped[list[ClientPlugin]] = relationship(
        back_populates="client", cascade="all, delete-orphan", order_by="ClientPlugin.plugin"
    )


class ClientPlugin(Base):
    """A plugin configured for a client; at most one accounting plugin is enabled at a time."""

    __tablename__ = "client_plugins"
    __table_args__ = (UniqueConstraint("client_id", "plugin"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    plugin: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16), default="accounting", server_default="accounting")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)

    client: Mapped[Client] = relationship(back_populates="plugins")
    settings: Mapped[list[PluginSetting]] = relationship(
        back_populates="client_plugin", cascade="all, delete-orphan", order_by="PluginSetting.key"
    )


class PluginSetting(Base):
    """One setting; ``value`` of a secret setting is a Fernet token, never the plain text."""

    __tablename__ = "plugin_settings"
    __table_args__ = (UniqueConstraint("client_plugin_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_plugin_id: Mapped[int] = mapped_column(
        ForeignKey("client_plugins.id", ondelete="CASCADE")
    )
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(Text)
    secret: Mapped[bool] = mapped_column(Boolean, default=False)

    client_plugin: Mapped[ClientPlugin] = relationship(back_populates="settings")


class Customer(Base):
    """A client's customer as last synced from the accounting system."""

    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("client_id", "customer_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    customer_number: Mapped[str] = mapped_column(String(limits.CUSTOMER_NUMBER))
    name: Mapped[str] = mapped_column(String(limits.CUSTOMER_NAME))
    email: Mapped[str | None] = mapped_column(String(limits.EMAIL))
    address: Mapped[str | None] = mapped_column(Text)
    postal_code: Mapped[str | None] = mapped_column(String(limits.POSTAL_CODE))
    city: Mapped[str | None] = mapped_column(String(limits.CITY))
    country: Mapped[str | None] = mapped_column(String(limits.COUNTRY_NAME))
    language: Mapped[str | None] = mapped_column(String(limits.LANGUAGE))
    balance: Mapped[Decimal | None] = mapped_column(Money)
    balance_currency: Mapped[str | None] = mapped_column(String(3))
    synced_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)


class Invoice(Base):
    """A booked invoice the hub mirrors; ``state`` is an :class:`hub.model.InvoiceState`."""

    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("client_id", "invoice_number"),
        Index("ix_invoices_client_state", "client_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    invoice_number: Mapped[str] = mapped_column(String(limits.INVOICE_NUMBER))
    customer_number: Mapped[str] = mapped_column(String(limits.CUSTOMER_NUMBER))
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    net_amount: Mapped[Decimal] = mapped_column(Money)
    vat_amount: Mapped[Decimal] = mapped_column(Money)
    gross_amount: Mapped[Decimal] = mapped_column(Money)
    outstanding_amount: Mapped[Decimal] = mapped_column(Money)
    state: Mapped[str] = mapped_column(String(16))
    first_seen_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    synced_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)


class ClientDunning(Base):
    """A client's dunning rules: auto-close switches (R4), automatic start, letter details."""

    __tablename__ = "client_dunning"

    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    auto_close_paid: Mapped[bool] = mapped_column(Boolean, default=True)  # R1
    # R2; None: the default, on only where the plugin's balance is the ledger's (entries_sync)
    auto_close_balance: Mapped[bool | None] = mapped_column(Boolean)
    auto_start: Mapped[bool] = mapped_column(Boolean, default=False)
    start_date: Mapped[dt.date | None] = mapped_column(Date)  # invoices due before: not pursued
    min_amount: Mapped[Decimal | None] = mapped_column(Money)
    excluded_customers: Mapped[list[str]] = mapped_column(JSON, default=list)
    creditor_name: Mapped[str | None] = mapped_column(String(limits.CREDITOR_NAME))
    payment_details: Mapped[str | None] = mapped_column(Text)
    sender_email: Mapped[str | None] = mapped_column(String(limits.EMAIL))
    reminder_mode: Mapped[str] = mapped_column(
        String(16), default="invoice", server_default="invoice"
    )  # invoice or customer (C1)
    entry_sync: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=sa_true()
    )  # customer balances are synchronised (C2)
    success_fee_percent: Mapped[Decimal | None] = mapped_column(
        Money
    )  # of what a collection case collects (D1); None: the default, 10 %
    loss_account: Mapped[str] = mapped_column(
        String(limits.ACCOUNT), default="3720", server_default="3720"
    )  # D4: net amount of a write-off
    output_vat_account: Mapped[str] = mapped_column(
        String(limits.ACCOUNT), default="6902", server_default="6902"
    )  # D4: VAT of a write-off
    settle_guard_percent: Mapped[Decimal | None] = mapped_column(
        Money
    )  # a sync settling more than this share of the open invoices asks first; None: 50
    settle_guard_min: Mapped[int | None] = mapped_column(
        Integer
    )  # ... and at least this many of them; None: 3
    approval: Mapped[str] = mapped_column(
        String(16), default="none", server_default="none"
    )  # none, or required: the cycle's letters wait for a person's approval
    sending_window: Mapped[str | None] = mapped_column(
        String(64)
    )  # e.g. "mon-fri 08:00-18:00" in the client's time zone; None: any time


class ClientGrant(Base):
    """A feature an operator granted a client (C2: customer reminders); never self-granted."""

    __tablename__ = "client_grants"
    __table_args__ = (UniqueConstraint("client_id", "feature"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    feature: Mapped[str] = mapped_column(String(64))
    granted_by: Mapped[str] = mapped_column(String(100))
    granted_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)


class FlowStepRow(Base):
    """One step of a client's own flow for a stage; none for a stage means the country default."""

    __tablename__ = "flow_steps"
    __table_args__ = (UniqueConstraint("client_id", "stage", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer)
    offset_days: Mapped[int] = mapped_column(Integer)
    anchor: Mapped[str] = mapped_column(String(16))
    template: Mapped[str] = mapped_column(String(32))
    fee: Mapped[Decimal] = mapped_column(Money)


class Case(Base):
    """The hub's follow-up of one unpaid invoice (or one customer, in customer mode).

    ``round`` counts how often the current stage's flow was (re)started; ``step_index`` how
    many of its steps were sent. At most one case that is not closed follows an invoice.
    """

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_client_state", "client_id", "state"),
        Index(
            "ux_cases_open_invoice",
            "invoice_id",
            unique=True,
            sqlite_where=sa_text("state != 'closed'"),
            postgresql_where=sa_text("state != 'closed'"),
        ),
        Index(
            "ux_cases_open_customer",
            "client_id",
            "customer_number",
            unique=True,
            sqlite_where=sa_text("mode = 'customer' AND state != 'closed'"),
            postgresql_where=sa_text("mode = 'customer' AND state != 'closed'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id", ondelete="RESTRICT"))
    customer_number: Mapped[str] = mapped_column(String(limits.CUSTOMER_NUMBER))
    mode: Mapped[str] = mapped_column(String(16), default="invoice", server_default="invoice")
    stage: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    started_by: Mapped[str] = mapped_column(String(8), default="user", server_default="user")
    opened_on: Mapped[dt.date | None] = mapped_column(Date)
    stage_entered_on: Mapped[dt.date | None] = mapped_column(Date)
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    step_index: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_step_on: Mapped[dt.date | None] = mapped_column(Date)
    last_fee_on: Mapped[dt.date | None] = mapped_column(Date)
    pause_reason: Mapped[str | None] = mapped_column(Text)
    pause_note: Mapped[str | None] = mapped_column(Text)
    resume_on: Mapped[dt.date | None] = mapped_column(Date)
    paid_in_accounting: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=sa_false()
    )
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_by: Mapped[str | None] = mapped_column(String(8))
    close_code: Mapped[str | None] = mapped_column(String(32))
    close_reason: Mapped[str | None] = mapped_column(Text)
    credit_note_key: Mapped[str | None] = mapped_column(String(100))
    credit_note_ref: Mapped[str | None] = mapped_column(Text)
    collection_warned_on: Mapped[dt.date | None] = mapped_column(Date)  # D1/D2
    collection_deadline: Mapped[dt.date | None] = mapped_column(Date)
    collection_started_on: Mapped[dt.date | None] = mapped_column(Date)
    collection_amount: Mapped[Decimal | None] = mapped_column(Money)  # pursued at the start
    success_fee: Mapped[Decimal | None] = mapped_column(Money)  # recorded once, when paid
    write_off_key: Mapped[str | None] = mapped_column(String(100))  # D4, set before posting
    write_off_ref: Mapped[str | None] = mapped_column(Text)
    # The lease on the credit note or write-off being posted (hub.dunning.postings): who
    # posts it ("<host> <pid> <token> <actor>") and until when, renewed while it works.
    posting_owner: Mapped[str | None] = mapped_column(String(200))
    posting_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseEvent.id"
    )
    payments: Mapped[list[CasePayment]] = relationship(
        cascade="all, delete-orphan", order_by="CasePayment.id"
    )


class CaseEvent(Base):
    """One entry of a case's history: who, when, what, why. Never updated, never deleted.

    ``on_date`` is the client's day (simulated with ``--today``); ``at`` the wall-clock time.
    """

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    on_date: Mapped[dt.date | None] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)

    case: Mapped[Case] = relationship(back_populates="events")


class CasePayment(Base):
    """A partial payment registered in the hub (A2); lowers what is pursued, not booked."""

    __tablename__ = "case_payments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    paid_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    registered_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)


class Message(Base):
    """The outbox: every letter or e-mail the hub makes, with its delivery state.

    A step's message is unique per (case, stage, round, step): running a step twice cannot
    make a second message. ``status`` is pending_approval or held (the client's ``approval``
    rule; a person's decision), queued, sending (claimed by a delivery run), sent, failed
    (retried) or cancelled (its case closed, or left its step, before it went out).

    ``letter`` is what the letter says (:func:`hub.dunning.letters.letter_json`), so that a
    letter that goes out on a later day than it was made is dated, and its deadline counted,
    from the day it goes out; ``amount`` and ``currency`` what it claims.
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("case_id", "stage", "round", "step"),
        Index("ix_messages_client_status", "client_id", "status"),
        Index(  # one collection warning per case and round, however it was sent (D1, D2)
            "ux_messages_one_warning",
            "case_id",
            "round",
            unique=True,
            sqlite_where=sa_text("kind = 'collection_warning'"),
            postgresql_where=sa_text("kind = 'collection_warning'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer)
    step: Mapped[int | None] = mapped_column(Integer)
    created_on: Mapped[dt.date] = mapped_column(Date)
    fee: Mapped[Decimal] = mapped_column(Money)
    fee_currency: Mapped[str] = mapped_column(String(3))
    language: Mapped[str] = mapped_column(String(8))
    recipient_name: Mapped[str] = mapped_column(String(limits.CUSTOMER_NAME))
    recipient_email: Mapped[str | None] = mapped_column(String(limits.EMAIL))
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    reference: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[dt.datetime | None] = mapped_column()  # a delivery run took it (renewed)
    # Which delivery run holds the claim (a token of its own): it sends only while it does.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[dt.datetime | None] = mapped_column()
    sent_on: Mapped[dt.date | None] = mapped_column(Date)  # the client's day it went out
    amount: Mapped[Decimal | None] = mapped_column(Money)  # the total the letter claims
    currency: Mapped[str | None] = mapped_column(String(3))
    letter: Mapped[dict[str, Any] | None] = mapped_column()
    approved_by: Mapped[str | None] = mapped_column(String(100))
    approved_at: Mapped[dt.datetime | None] = mapped_column()
    held_by: Mapped[str | None] = mapped_column(String(100))
    held_at: Mapped[dt.datetime | None] = mapped_column()
    hold_reason: Mapped[str | None] = mapped_column(Text)

    covered: Mapped[list[MessageInvoice]] = relationship(cascade="all, delete-orphan")


class MessageInvoice(Base):
    """The invoices a message covered: one for an invoice case's letter, several for a
    consolidated customer reminder. The law counts fees per invoice (claim) through it."""

    __tablename__ = "message_invoices"

    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    invoice_id: Mapped[int] = mapped_column(
        ForeignKey("invoices.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class JobRun(Base):
    """One run of a unit of work (a sync, a generation run), with its outcome and counts."""

    __tablename__ = "job_runs"
    __table_args__ = (
        Index("ix_job_runs_client_started", "client_id", "started_at"),
        Index("ix_job_runs_job_client_finished", "job", "client_id", "finished_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id", ondelete="SET NULL"))
    started_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    outcome: Mapped[str] = mapped_column(String(16), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    # "daemon <host> <pid>" or "cli <host> <pid>": a run still "running" whose process is gone
    # was interrupted (a crash, a kill), which only its own host can tell.
    runner: Mapped[str | None] = mapped_column(String(128))
    # The client's day the run acted for (simulated with --today), beside its wall-clock times.
    today: Mapped[dt.date | None] = mapped_column(Date)


class DaemonLease(Base):
    """Who runs the scheduled jobs on this database: one row per lease ``name``
    (``scheduler``: the one ``hub run``). The holder renews ``heartbeat_at`` while it runs;
    a lease whose heartbeat is older than its length (its daemon crashed) can be taken over."""

    __tablename__ = "daemon_leases"

    # "scheduler", or "node <host> <pid> <token>" for each node of ``hub run --distributed``
    name: Mapped[str] = mapped_column(String(160), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))  # "<host> <pid> <token>"
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column()
    heartbeat_at: Mapped[dt.datetime] = mapped_column()


class JobSchedule(Base):
    """When ``hub run --distributed`` next runs a job kind for a client (its dispatcher's
    state; the single-process daemon keeps this in APScheduler's table instead).

    ``fingerprint`` is the schedule it was computed from (:meth:`hub.daemon.schedules.Trigger
    .fingerprint` and the time zone): a changed one is rescheduled, an unchanged one keeps its
    next due time. A row whose client is gone is dropped by the next tick.
    """

    __tablename__ = "job_schedule"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    client: Mapped[str] = mapped_column(String(limits.CLIENT_NAME), primary_key=True)
    next_due_at: Mapped[dt.datetime] = mapped_column()
    fingerprint: Mapped[str] = mapped_column(String(255))


class RateBucket(Base):
    """A shared rate budget's token bucket (:mod:`hub.operations.rate_budget`), one row per key
    (``"economic:<16 hex digits of the credential's SHA-256>"``, never the credential): the
    tokens it held at ``updated_at`` (it refills from there), and the end of a pause a vendor's
    429 asked for. Used on PostgreSQL only; on SQLite the buckets are in memory."""

    __tablename__ = "rate_buckets"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    tokens: Mapped[Decimal] = mapped_column(Numeric(24, 12))
    updated_at: Mapped[dt.datetime] = mapped_column()
    paused_until: Mapped[dt.datetime | None] = mapped_column()


class RecurringAgreement(Base):
    """A recurring invoice agreement (seed 004): what to bill a customer, and how often.

    The schedule columns are what :class:`hub.recurring.schedule.Terms` takes. How many
    invoices it has made, and so its next invoice date, come from its history
    (:class:`RecurringInvoice`), never from a counter that could drift from it.
    """

    __tablename__ = "recurring_agreements"
    __table_args__ = (Index("ix_recurring_agreements_client_status", "client_id", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Random, so that idempotency keys stay unique beyond this database (a second hub, or
    # one set up afresh, beside the same accounting system never reuses another's key).
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    customer_number: Mapped[str] = mapped_column(String(limits.CUSTOMER_NUMBER))
    every: Mapped[int] = mapped_column(Integer)
    unit: Mapped[str] = mapped_column(String(8))  # day, week, month, year
    produce: Mapped[str] = mapped_column(String(8))  # invoice or order
    first_invoice_date: Mapped[dt.date] = mapped_column(Date)  # the anchor of the schedule (G2)
    prep_days: Mapped[int] = mapped_column(Integer, default=0)
    agreement_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    max_count: Mapped[int | None] = mapped_column(Integer)
    no_credit_days: Mapped[bool] = mapped_column(Boolean, default=False)
    payment_days: Mapped[int] = mapped_column(Integer, default=14)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active or inactive
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)

    lines: Mapped[list[RecurringLine]] = relationship(
        cascade="all, delete-orphan", order_by="RecurringLine.position", lazy="selectin"
    )


class RecurringLine(Base):
    """A line of an agreement; ``unit_price`` is per invoice or per the price factor's period."""

    __tablename__ = "recurring_lines"
    __table_args__ = (UniqueConstraint("agreement_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("recurring_agreements.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(Money)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    price_factor: Mapped[str] = mapped_column(String(8))  # fixed, month, quarter, year
    vat_code: Mapped[str | None] = mapped_column(String(32))


class RecurringInvoice(Base):
    """One invoice (or order) of an agreement: recorded, with its request, before the plugin
    is called (G6). ``(agreement_id, sequence)`` and ``idempotency_key`` are unique, so two
    generators cannot both record it; ``state`` is ``pending`` until the plugin has answered
    with a ``reference``, then ``created``. ``claimed_until`` is a lease: a pending invoice
    is sent by whoever holds an unexpired lease, and picked up again once it lapses."""

    __tablename__ = "recurring_invoices"
    __table_args__ = (
        UniqueConstraint("agreement_id", "sequence"),
        UniqueConstraint("idempotency_key"),
        Index("ix_recurring_invoices_state", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("recurring_agreements.id", ondelete="CASCADE")
    )
    sequence: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8))  # invoice or order
    generate_on: Mapped[dt.date] = mapped_column(Date)
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Money)
    request: Mapped[dict[str, Any]] = mapped_column(JSON)  # the draft, sent as recorded
    state: Mapped[str] = mapped_column(String(16), default="pending")
    reference: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_until: Mapped[dt.datetime | None] = mapped_column()
    recorded_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    created_at: Mapped[dt.datetime | None] = mapped_column()


class User(Base):
    """A person who logs in to the console or the API. ``password_hash`` is an Argon2id hash
    (``$argon2id$...``), never the password; ``role`` is a :data:`hub.operations.context.Role`;
    ``password_changed_at`` changes with the password, so a console session made before it
    can be told from one made after."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(limits.USER_NAME), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(
        String(limits.LANGUAGE), default="en", server_default="en"
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    password_changed_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)

    clients: Mapped[list[UserClient]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class UserClient(Base):
    """A client assigned to a consultant or viewer: the clients they see (and a consultant
    changes). Removing the user or the client removes the row."""

    __tablename__ = "user_clients"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    user: Mapped[User] = relationship(back_populates="clients")
    client: Mapped[Client] = relationship()


class ApiToken(Base):
    """A user's API token. Only ``token_hash`` (SHA-256, hex) of the token is kept, never the
    token; ``prefix`` (its first characters) lets a person recognise it in a list. A revoked
    token (``revoked_at`` set) is refused from that moment; removing the user removes it."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str | None] = mapped_column(String(limits.TOKEN_NAME))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    created_by: Mapped[str] = mapped_column(String(100))
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class AuditEntry(Base):
    """One change a person made, from any front end: who, when, which client, what, and the
    thing before and after (secrets masked). Written in the transaction of the change itself
    (:func:`hub.operations.audit.record`); never updated, never deleted.

    ``client`` is the client's name as a plain string, not a key: the history of a client
    outlives the client (its removal is an entry too). None: a change of no one client's (a
    rotation of the secrets, a user).
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_client_id", "client", "id"),
        Index("ix_audit_log_actor_id", "actor", "id"),
        Index("ix_audit_log_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=_utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    client: Mapped[str | None] = mapped_column(String(limits.CLIENT_NAME))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
