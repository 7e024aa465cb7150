"""The values that cross the plugin boundary.

Every value here is a frozen dataclass that checks itself on construction, so a plugin that
returns a float amount, a string date or a currency that is not ISO 4217 fails loudly at the
boundary, naming the field, instead of corrupting a case later. Money is always
:class:`decimal.Decimal` and every amount travels with its currency (on the record that holds it);
dates are :class:`datetime.date`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from hub import limits
from hub.amounts import plain_decimal
from hub.errors import InvalidDataError
from hub.records import Record

_CURRENCY = re.compile(r"[A-Z]{3}")


class Capability(StrEnum):
    """What a plugin may declare in :class:`SystemInfo`, each naming the hook it promises.

    The core offers an action only when the client's plugin declares the capability it needs;
    a plugin that declares one without implementing its hook is refused at load
    (:mod:`hub.plugins`). Members are strings, so a plugin may declare ``"journal"`` as well as
    ``Capability.JOURNAL``.
    """

    CUSTOMER_BALANCE = "customer_balance"
    CREDIT_NOTE = "credit_note"
    JOURNAL = "journal"
    CREATE_INVOICE = "create_invoice"  # create_invoice with kind="invoice"
    CREATE_ORDER = "create_order"  # create_invoice with kind="order"
    ENTRIES_SYNC = "entries_sync"  # ledger entries are synchronised (customer mode, C2)
    DELIVER = "deliver"  # a delivery plugin: e-mail, letters, files

    @property
    def hook(self) -> str | None:
        """The hook this capability promises; ``None`` for a mode of the core (entries_sync)."""
        return _CAPABILITY_HOOKS[self]


_CAPABILITY_HOOKS: dict[Capability, str | None] = {
    Capability.CUSTOMER_BALANCE: "fetch_customer_balance",
    Capability.CREDIT_NOTE: "create_credit_note",
    Capability.JOURNAL: "post_journal_lines",
    Capability.CREATE_INVOICE: "create_invoice",
    Capability.CREATE_ORDER: "create_invoice",
    Capability.ENTRIES_SYNC: None,
    Capability.DELIVER: "deliver_message",
}

#: Every capability's name (what :class:`SystemInfo` checks a declaration against).
CAPABILITIES: frozenset[str] = frozenset(c.value for c in Capability)

#: What a plugin is for. A client enables at most one plugin of each kind.
PLUGIN_KINDS: frozenset[str] = frozenset({"accounting", "delivery"})

#: Types a plugin setting may have. Values arrive as strings (CLI, files) and are parsed by
#: :meth:`SettingSpec.parse`.
SETTING_TYPES: frozenset[str] = frozenset(
    {"string", "integer", "boolean", "decimal", "path", "url"}
)


def _fail(record: object, name: str, reason: str) -> InvalidDataError:
    return InvalidDataError(f"{type(record).__name__}.{name}: {reason}")


def _check_money(record: object, name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise _fail(record, name, f"must be a Decimal, not {type(value).__name__} ({value!r})")
    if not value.is_finite():
        raise _fail(record, name, f"must be a finite amount, not {value}")


def _check_currency(record: object, value: object) -> None:
    if not isinstance(value, str) or not _CURRENCY.fullmatch(value):
        raise _fail(record, "currency", f"must be an ISO 4217 code like 'DKK', not {value!r}")


def _check_date(record: object, name: str, value: object) -> None:
    # datetime is a subclass of date; a timestamp where a day is meant is a bug.
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise _fail(
            record, name, f"must be a datetime.date, not {type(value).__name__} ({value!r})"
        )
    why = limits.date_problem(value)
    if why is not None:
        raise _fail(record, name, why)


def _check_text(record: object, name: str, value: object, *, optional: bool = False) -> None:
    if value is None and optional:
        return
    if not isinstance(value, str) or not value.strip():
        raise _fail(record, name, f"must be a non-empty string, not {value!r}")


def _check_stored(
    record: object,
    name: str,
    limit: int | None,
    *,
    of: tuple[str, object],
    multiline: bool = False,
) -> None:
    """Refuse a text the database cannot store: longer than its column (``limit``, from
    :mod:`hub.limits`, the tables' own lengths) or holding control characters. ``of`` is
    (what, number) of the record, named in the message (``invoice '5001'``), since the field
    alone does not say which; it is formatted only on a refusal (this is on the sync's hot
    path)."""
    value = getattr(record, name)
    if value is None:
        return
    why = limits.text_problem(value, limit, multiline=multiline)
    if why is not None:
        kind, number = of
        shown = (
            repr(number[:40]) + "..."
            if isinstance(number, str) and len(number) > 40
            else (repr(number))
        )
        raise _fail(record, name, f"{why} ({kind} {shown})")


@dataclass(frozen=True)
class SettingSpec(Record):
    """One setting a plugin accepts, as shown by ``hub plugins list`` and checked by the CLI.

    ``secret`` settings (API tokens, passwords) are encrypted at rest, masked when shown and
    never logged.
    """

    name: str
    type: str = "string"
    required: bool = False
    secret: bool = False
    default: str | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if self.type not in SETTING_TYPES:
            raise _fail(self, "type", f"must be one of {sorted(SETTING_TYPES)}, not {self.type!r}")
        _check_text(self, "name", self.name)

    def parse(self, raw: str) -> str:
        """Check ``raw`` against the type; return it normalised. Raises ``ValueError`` with why."""
        value = raw.strip()
        if self.type == "integer":
            if not re.fullmatch(r"-?\d+", value):
                raise ValueError(f"must be a whole number, not {raw!r}")
            return str(int(value))
        if self.type == "boolean":
            lowered = value.lower()
            if lowered in {"true", "yes", "1", "on"}:
                return "true"
            if lowered in {"false", "no", "0", "off"}:
                return "false"
            raise ValueError(f"must be true or false, not {raw!r}")
        if self.type == "decimal":
            try:
                number = plain_decimal(value)
            except ValueError as exc:
                why = f"must be a decimal number like 12.50, not {raw!r} ({exc})"
                raise ValueError(why) from None
            return str(number)
        if self.type == "url":
            if not re.fullmatch(r"https?://[^\s/]+(?:/\S*)?", value):
                raise ValueError(f"must be an http(s) URL, not {raw!r}")
            return value.rstrip("/")
        if not value:
            raise ValueError("must not be empty")
        return value


@dataclass(frozen=True)
class SystemInfo:
    """What a plugin is and can do: returned by the ``system_info`` hook."""

    name: str
    title: str
    version: str
    capabilities: frozenset[str] = frozenset()
    settings: tuple[SettingSpec, ...] = ()
    kind: str = "accounting"

    def __post_init__(self) -> None:
        _check_text(self, "name", self.name)
        if self.kind not in PLUGIN_KINDS:
            raise _fail(self, "kind", f"must be one of {sorted(PLUGIN_KINDS)}, not {self.kind!r}")
        unknown = set(self.capabilities) - CAPABILITIES
        if unknown:
            raise _fail(
                self, "capabilities", f"unknown {sorted(unknown)}; known: {sorted(CAPABILITIES)}"
            )
        names = [s.name for s in self.settings]
        if len(names) != len(set(names)):
            raise _fail(self, "settings", f"names repeat: {names}")

    def setting(self, name: str) -> SettingSpec | None:
        return next((s for s in self.settings if s.name == name), None)

    @property
    def secret_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.settings if s.secret)


class InvoiceState(StrEnum):
    """State of an invoice as the accounting system reports it."""

    OPEN = "open"  # outstanding amount > 0
    PAID = "paid"  # settled by payments
    CREDITED = "credited"  # settled by a credit note
    UNKNOWN = "unknown"  # the accounting system does not know the invoice number


@dataclass(frozen=True)
class Invoice:
    """A booked, open invoice as the accounting system has it.

    ``gross_amount = net_amount + vat_amount`` is checked. ``outstanding_amount`` is what the
    customer still owes on it (gross less payments and credits).
    """

    invoice_number: str
    customer_number: str
    invoice_date: dt.date
    due_date: dt.date
    currency: str
    net_amount: Decimal
    vat_amount: Decimal
    gross_amount: Decimal
    outstanding_amount: Decimal
    customer_name: str | None = None

    def __post_init__(self) -> None:
        _check_text(self, "invoice_number", self.invoice_number)
        _check_text(self, "customer_number", self.customer_number)
        of = ("invoice", self.invoice_number)
        _check_stored(self, "invoice_number", limits.INVOICE_NUMBER, of=of)
        _check_stored(self, "customer_number", limits.CUSTOMER_NUMBER, of=of)
        # Stored as the customer's name where the plugin has no customer records of its own.
        _check_stored(self, "customer_name", limits.CUSTOMER_NAME, of=of)
        _check_date(self, "invoice_date", self.invoice_date)
        _check_date(self, "due_date", self.due_date)
        _check_currency(self, self.currency)
        for name in ("net_amount", "vat_amount", "gross_amount", "outstanding_amount"):
            _check_money(self, name, getattr(self, name))
        if self.net_amount + self.vat_amount != self.gross_amount:
            raise _fail(
                self,
                "gross_amount",
                f"{self.gross_amount} is not net {self.net_amount} + VAT {self.vat_amount}"
                f" (invoice {self.invoice_number})",
            )
        if self.due_date < self.invoice_date:
            raise _fail(
                self, "due_date", f"{self.due_date} is before the invoice date {self.invoice_date}"
            )


@dataclass(frozen=True)
class InvoiceStatus:
    """Outstanding amount and state of one invoice. ``outstanding_amount`` is None when UNKNOWN."""

    invoice_number: str
    state: InvoiceState
    outstanding_amount: Decimal | None
    currency: str | None

    def __post_init__(self) -> None:
        _check_text(self, "invoice_number", self.invoice_number)
        _check_stored(
            self,
            "invoice_number",
            limits.INVOICE_NUMBER,
            of=("status of invoice", self.invoice_number),
        )
        if not isinstance(self.state, InvoiceState):
            raise _fail(self, "state", f"must be an InvoiceState, not {self.state!r}")
        if self.state is InvoiceState.UNKNOWN:
            return
        _check_money(self, "outstanding_amount", self.outstanding_amount)
        _check_currency(self, self.currency)


@dataclass(frozen=True)
class CustomerBalance:
    """A customer's total outstanding balance across invoices (may be ≤ 0: credit)."""

    customer_number: str
    balance: Decimal
    currency: str

    def __post_init__(self) -> None:
        _check_text(self, "customer_number", self.customer_number)
        _check_stored(
            self,
            "customer_number",
            limits.CUSTOMER_NUMBER,
            of=("balance of customer", self.customer_number),
        )
        _check_money(self, "balance", self.balance)
        _check_currency(self, self.currency)


@dataclass(frozen=True)
class Customer:
    """Contact data for letters. ``language`` is an ISO 639-1 code (da, nb, en) or None."""

    customer_number: str
    name: str
    email: str | None = None
    address: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    language: str | None = None

    def __post_init__(self) -> None:
        _check_text(self, "customer_number", self.customer_number)
        _check_text(self, "name", self.name)
        of = ("customer", self.customer_number)
        _check_stored(self, "customer_number", limits.CUSTOMER_NUMBER, of=of)
        _check_stored(self, "name", limits.CUSTOMER_NAME, of=of)
        _check_stored(self, "email", limits.EMAIL, of=of)
        _check_stored(self, "address", None, of=of, multiline=True)  # a Text column
        _check_stored(self, "postal_code", limits.POSTAL_CODE, of=of)
        _check_stored(self, "city", limits.CITY, of=of)
        _check_stored(self, "country", limits.COUNTRY_NAME, of=of)
        _check_stored(self, "language", limits.LANGUAGE, of=of)
        if self.email is not None and "@" not in self.email:
            raise _fail(self, "email", f"{self.email!r} is not an e-mail address")


@dataclass(frozen=True)
class CreditNoteRequest:
    """Credit an invoice in full (or ``amount`` of it, gross). ``idempotency_key`` is unique."""

    idempotency_key: str
    invoice_number: str
    customer_number: str
    date: dt.date
    currency: str
    amount: Decimal
    reason: str

    def __post_init__(self) -> None:
        _check_text(self, "idempotency_key", self.idempotency_key)
        _check_text(self, "invoice_number", self.invoice_number)
        _check_text(self, "customer_number", self.customer_number)
        _check_date(self, "date", self.date)
        _check_currency(self, self.currency)
        _check_money(self, "amount", self.amount)
        if self.amount <= 0:
            raise _fail(
                self, "amount", f"must be positive (the amount credited), not {self.amount}"
            )


@dataclass(frozen=True)
class JournalLine:
    """One line of a voucher. ``amount`` is signed: debit positive, credit negative.

    A line posts either to a ledger ``account`` or to a customer's receivable
    (``customer_number``), never both. A customer line may name the ``invoice_number`` it
    settles (a write-off does), so the accounting system can match it to that invoice.
    """

    amount: Decimal
    text: str
    account: str | None = None
    customer_number: str | None = None
    invoice_number: str | None = None  # a customer line: the invoice it settles, if one

    def __post_init__(self) -> None:
        _check_money(self, "amount", self.amount)
        if (self.account is None) == (self.customer_number is None):
            raise _fail(self, "account", "give exactly one of account and customer_number")
        if self.invoice_number is not None and self.customer_number is None:
            raise _fail(self, "invoice_number", "only a customer line settles an invoice")


@dataclass(frozen=True)
class JournalEntry:
    """A balanced voucher (the lines sum to zero) posted once under ``idempotency_key``."""

    idempotency_key: str
    date: dt.date
    currency: str
    text: str
    lines: tuple[JournalLine, ...]

    def __post_init__(self) -> None:
        _check_text(self, "idempotency_key", self.idempotency_key)
        _check_date(self, "date", self.date)
        _check_currency(self, self.currency)
        if len(self.lines) < 2:
            raise _fail(self, "lines", "a voucher needs at least two lines")
        total = sum((line.amount for line in self.lines), Decimal(0))
        if total != 0:
            raise _fail(self, "lines", f"do not balance: they sum to {total}, not 0")


@dataclass(frozen=True)
class DraftLine:
    """One line of an invoice to create. ``unit_price`` is net, in the draft's currency."""

    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_code: str | None = None

    def __post_init__(self) -> None:
        _check_text(self, "description", self.description)
        _check_money(self, "quantity", self.quantity)
        _check_money(self, "unit_price", self.unit_price)

    @property
    def net_amount(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class InvoiceDraft:
    """An invoice (or an order, which waits for a person) for the plugin to create once."""

    idempotency_key: str
    kind: str  # "invoice" or "order"
    customer_number: str
    invoice_date: dt.date
    due_date: dt.date
    currency: str
    lines: tuple[DraftLine, ...]
    text: str | None = None

    def __post_init__(self) -> None:
        _check_text(self, "idempotency_key", self.idempotency_key)
        if self.kind not in ("invoice", "order"):
            raise _fail(self, "kind", f"must be 'invoice' or 'order', not {self.kind!r}")
        _check_text(self, "customer_number", self.customer_number)
        _check_date(self, "invoice_date", self.invoice_date)
        _check_date(self, "due_date", self.due_date)
        _check_currency(self, self.currency)
        if not self.lines:
            raise _fail(self, "lines", "an invoice needs at least one line")


@dataclass(frozen=True)
class OutgoingMessage:
    """A letter or e-mail to a customer, rendered by the core, for a delivery plugin to send.

    ``idempotency_key`` is unique per message (``message:<id>``): delivering the same key twice
    must send once where the channel allows it (a file outbox does; SMTP cannot take a message
    back, so an SMTP plugin sets the Message-ID from the key so that receivers can drop a
    duplicate). ``kind`` says what it is (``friendly_reminder``, ``reminder_1``,
    ``closing_confirmation``, ...). ``recipient_email`` may be None: a letter for paper.
    """

    idempotency_key: str
    kind: str
    language: str
    customer_number: str
    recipient_name: str
    recipient_email: str | None
    subject: str
    body: str
    sender_name: str
    sender_email: str | None = None

    def __post_init__(self) -> None:
        for name in (
            "idempotency_key",
            "kind",
            "language",
            "customer_number",
            "recipient_name",
            "subject",
            "body",
            "sender_name",
        ):
            _check_text(self, name, getattr(self, name))


class PluginSettings(Mapping[str, str]):
    """A client's settings for one plugin, decrypted. Its ``repr`` masks the secrets.

    A ``ClientContext`` is the only way a plugin sees its settings, and it may well end up in a
    log line or a traceback: this mapping makes sure a secret never does.
    """

    def __init__(self, values: Mapping[str, str], secret_names: frozenset[str] = frozenset()):
        self._values = dict(values)
        self._secret_names = secret_names

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Any:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def masked(self) -> dict[str, str]:
        return {k: ("********" if k in self._secret_names else v) for k, v in self._values.items()}

    def __repr__(self) -> str:
        return f"PluginSettings({self.masked()!r})"

    __str__ = __repr__


@dataclass(frozen=True)
class ClientContext:
    """Everything a plugin knows about the client it is called for.

    The core builds one per (client, plugin) call; it carries only that client's settings for
    that plugin. ``today`` is the client's today (its time zone, or the simulated ``--today``).
    ``log`` is a structlog logger bound to ``client`` and ``plugin``.

    ``notes``: what the plugin passed over on purpose and the user must hear of, one sentence
    each naming where (``invoices.csv:14: skipped the total row 'I alt'``). A sync names them
    in its report (``SyncReport.notes``), so nothing the plugin leaves out is left out silently.
    """

    client_id: int
    client_name: str
    plugin: str
    country: str
    currency: str
    timezone: str
    today: dt.date
    settings: PluginSettings
    log: Any = field(repr=False, compare=False, default=None)
    notes: list[str] = field(repr=False, compare=False, default_factory=list)
