"""A client's dunning rules and flows, as stored, with the country defaults where unset."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub import clients, limits
from hub.amounts import parse_amount
from hub.clock import parse_date
from hub.db import tables as t
from hub.dunning.flows import Anchor, Flow, FlowStep, default_flow, validate_flow
from hub.dunning.states import CaseMode, Stage
from hub.dunning.window import parse_window
from hub.errors import HubError, InputError
from hub.model import Capability
from hub.plugins import PluginRegistry

#: Rule names for ``hub rules set`` and what each takes.
RULES: dict[str, str] = {
    "auto_close_paid": "true/false: close a case when the invoice is paid or credited (R1)",
    "auto_close_balance": "true/false: close a case when the customer's balance is ≤ 0 (R2);"
    " by default on only where the plugin's balance is the ledger's own ('' clears)",
    "auto_start": "true/false: start a case for every new open invoice at each sync",
    "start_date": "YYYY-MM-DD: invoices due before it are not pursued automatically ('' clears)",
    "min_amount": "amount: invoices below it are not started automatically ('' clears)",
    "excluded_customers": "comma list of customer numbers never started automatically",
    "creditor_name": "the name letters are signed with (default: the client's name)",
    "payment_details": "how to pay, printed on every letter (bank account, reference)",
    "sender_email": "reply address on e-mails",
    "reminder_mode": "invoice or customer: one flow per invoice, or one reminder per customer's"
    " balance (C1; customer needs every requirement of C2)",
    "entry_sync": "true/false: synchronise customer balances (needed by customer mode, C2)",
    "success_fee_percent": "percent of what a collection case collects, recorded when paid"
    " (default 10; D1)",
    "loss_account": "account for the net amount of a loss write-off (default 3720; D4)",
    "output_vat_account": "account for the VAT of a loss write-off (default 6902; D4)",
    "settle_guard_percent": "percent: a sync that would take more than this share of the open"
    " invoices off the open list stops and asks for --confirm-settle (default 50; 100: never;"
    " '' clears)",
    "settle_guard_min": "count: the settle guard stops a sync only when at least this many"
    " invoices would leave the open list (default 3; '' clears)",
    "approval": "none or required: with required the cycle's letters wait as the client's plan"
    " until a person approves them (`hub dispatch approve`); default none",
    "sending_window": "days and hours letters may go out, in the client's time zone, e.g."
    " 'mon-fri 08:00-18:00' ('' clears: any time)",
}
#: The words of the ``approval`` rule: the cycle's letters go at once, or wait for a person.
APPROVAL_NONE = "none"
APPROVAL_REQUIRED = "required"
DEFAULT_SUCCESS_FEE_PERCENT = Decimal("10.00")
#: The settle guard's defaults: a sync stops when it would take more than half of a client's
#: open invoices off the open list, and at least 3 of them. A lost export takes them all; a
#: client with 2 open invoices of which 1 or both are paid is never stopped.
DEFAULT_SETTLE_GUARD_PERCENT = Decimal("50.00")
DEFAULT_SETTLE_GUARD_MIN = 3
#: Rules set through :func:`hub.dunning.customer_mode.set_mode`, which needs the plugins.
MODE_RULE = "reminder_mode"


def rules_of(session: Session, client: t.Client) -> t.ClientDunning:
    """The client's rules, created with the defaults on first use."""
    rules = session.get(t.ClientDunning, client.id)
    if rules is None:
        rules = t.ClientDunning(
            client_id=client.id,
            auto_close_paid=True,
            auto_close_balance=None,  # the plugin's default: see balance_rule
            auto_start=False,
            excluded_customers=[],
            reminder_mode=CaseMode.INVOICE.value,
            entry_sync=True,
            loss_account="3720",
            output_vat_account="6902",
            approval=APPROVAL_NONE,
        )
        session.add(rules)
        session.flush()
    return rules


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"true", "yes", "on", "1"}:
        return True
    if lowered in {"false", "no", "off", "0"}:
        return False
    raise InputError(f"rule {name}: {raw!r} is not true or false")


def _account(name: str, raw: str) -> str:
    account = raw.strip()
    if not account or len(account) > 32 or not account.isalnum():
        raise InputError(f"rule {name}: {raw!r} is not an account number (letters and digits)")
    return account


#: The text rules: the most characters each holds (None: any), and whether it may have
#: several lines (payment details are printed as an indented block on every letter; the
#: creditor's name and the sender address go on one line, or into a mail header).
_TEXTS: dict[str, tuple[int | None, bool]] = {
    "creditor_name": (limits.CREDITOR_NAME, False),
    "payment_details": (None, True),
    "sender_email": (limits.EMAIL, False),
}


def _text(name: str, raw: str) -> str | None:
    """A text rule, stripped ('' clears it); refused if the letters could not print it."""
    value = raw.strip()
    if not value:
        return None
    limit, multiline = _TEXTS[name]
    why = limits.text_problem(value, limit, multiline=multiline)
    if why is not None:
        raise InputError(f"rule {name}: {value[:40]!r} {why}")
    if name == "sender_email" and ("@" not in value or any(c.isspace() for c in value)):
        raise InputError(f"rule sender_email: {value!r} is not an e-mail address")
    return value


def _customers(raw: str) -> list[str]:
    numbers = sorted({c.strip() for c in raw.split(",") if c.strip()})
    for number in numbers:
        why = limits.text_problem(number, limits.CUSTOMER_NUMBER)
        if why is not None:
            raise InputError(f"rule excluded_customers: customer number {number[:40]!r} {why}")
    return numbers


def _percent(name: str, raw: str) -> Decimal:
    value = parse_amount(raw, what=f"rule {name}")
    if not 0 <= value <= 100:
        raise InputError(f"rule {name}: {value} is not a percentage from 0 to 100")
    return value


def _count(name: str, raw: str) -> int:
    try:
        value = int(raw.strip())
    except ValueError:
        raise InputError(f"rule {name}: {raw!r} is not a whole number") from None
    if value < 1:
        raise InputError(f"rule {name}: {value} is less than 1")
    return value


def _approval(raw: str) -> str:
    value = raw.strip().lower()
    if value not in (APPROVAL_NONE, APPROVAL_REQUIRED):
        raise InputError(
            f"rule approval: {raw!r} is not {APPROVAL_NONE} or {APPROVAL_REQUIRED}"
            f" ({APPROVAL_REQUIRED}: the cycle's letters wait for a person's approval)"
        )
    return value


def set_rules(session: Session, client: t.Client, values: Mapping[str, str]) -> t.ClientDunning:
    """Change rules other than ``reminder_mode`` (see :data:`MODE_RULE`); refused, with
    nothing changed, if a value is wrong or would take away what customer mode needs."""
    rules = rules_of(session, client)
    for name, raw in values.items():
        if name not in RULES:
            raise InputError(f"there is no rule {name!r} (rules: {', '.join(RULES)})")
        if name == MODE_RULE:
            raise InputError(f"rule {MODE_RULE} is switched with hub.dunning.customer_mode")
        value: Any
        if name in ("auto_close_paid", "auto_start", "entry_sync"):
            value = _bool(name, raw)
        elif name == "auto_close_balance":
            value = _bool(name, raw) if raw.strip() else None
        elif name == "settle_guard_percent":
            value = _percent(name, raw) if raw.strip() else None
        elif name == "settle_guard_min":
            value = _count(name, raw) if raw.strip() else None
        elif name == "start_date":
            value = parse_date(raw, what="rule start_date") if raw.strip() else None
        elif name == "min_amount":
            value = parse_amount(raw, what="rule min_amount") if raw.strip() else None
        elif name == "excluded_customers":
            value = _customers(raw)
        elif name == "success_fee_percent":
            value = _percent(name, raw)
        elif name in ("loss_account", "output_vat_account"):
            value = _account(name, raw)
        elif name == "approval":
            value = _approval(raw)
        elif name == "sending_window":
            value = parse_window(raw).text if raw.strip() else None
        else:
            value = _text(name, raw)
        setattr(rules, name, value)
    if rules.reminder_mode == CaseMode.CUSTOMER and (
        not rules.entry_sync or rules.start_date is None
    ):
        raise InputError(
            f"client {client.name!r} is in customer mode, which needs entry_sync on and a"
            f" start_date (C2); switch back first (`hub rules set {client.name}"
            " reminder_mode=invoice`)"
        )
    return rules


@dataclass(frozen=True)
class BalanceRule:
    """Whether R2 closes the client's cases, and why, in words for ``hub rules show``."""

    on: bool
    why: str


def balance_rule(rules: t.ClientDunning, plugin: str | None, ledger: bool | None) -> BalanceRule:
    """R2 as it applies to the client: a person's setting, else on only where the client's
    accounting plugin ``plugin`` reports the ledger's own customer balance (``ledger``: it
    declares ``entries_sync``; None: no plugin is enabled or it is not available).

    Seed 000: only e-conomic has a customer balance, so R2 is e-conomic's. Elsewhere (a CSV
    file's balance, Tripletex's open posts) the balance may be summed from the very export
    the hub reads, so a lost row would close cases by R2 too: there R2 stays possible, but a
    person switches it on.
    """
    if not rules.entry_sync and (rules.auto_close_balance or rules.auto_close_balance is None):
        return BalanceRule(False, "off: entry_sync is off, so balances are not synchronised")
    if rules.auto_close_balance is not None:
        word = "on" if rules.auto_close_balance else "off"
        return BalanceRule(rules.auto_close_balance, f"{word}: set for this client")
    if plugin is None or ledger is None:
        return BalanceRule(False, "off by default: no accounting plugin is available")
    if ledger:
        return BalanceRule(
            True,
            f"on by default: plugin {plugin!r} reports the ledger's own customer balance"
            " (entries_sync)",
        )
    return BalanceRule(
        False,
        f"off by default: plugin {plugin!r} does not report the ledger's own customer balance"
        " (no entries_sync); `auto_close_balance=true` switches it on",
    )


def client_balance_rule(
    registry: PluginRegistry | None, client: t.Client, rules: t.ClientDunning
) -> BalanceRule:
    """:func:`balance_rule` for the client's enabled accounting plugin, as ``registry`` knows
    it (None: unknown, so R2 is on only where a person set it)."""
    enabled = clients.enabled_plugin(client)
    if enabled is None or registry is None:
        return balance_rule(rules, enabled.plugin if enabled else None, None)
    try:
        capabilities = registry.info(enabled.plugin).capabilities
    except HubError:
        return balance_rule(rules, enabled.plugin, None)
    return balance_rule(rules, enabled.plugin, Capability.ENTRIES_SYNC in capabilities)


@dataclass(frozen=True)
class SettleGuard:
    """The sync's guard against an export that lost its rows (see :func:`hub.sync.sync_client`).

    A sync stops, storing nothing, when it would take more than ``percent`` % of the client's
    open invoices off the open list (paid, credited, or unknown to the books), and at least
    ``minimum`` of them.
    """

    percent: Decimal
    minimum: int

    def trips(self, leaving: int, open_before: int) -> bool:
        return (
            leaving >= self.minimum
            and open_before > 0
            and Decimal(leaving) * 100 > self.percent * open_before
        )

    def describe(self) -> str:
        return f"settle_guard_percent={self.percent}, settle_guard_min={self.minimum}"


def settle_guard(rules: t.ClientDunning | None) -> SettleGuard:
    """The client's settle guard, with the defaults where unset."""
    percent = rules.settle_guard_percent if rules is not None else None
    minimum = rules.settle_guard_min if rules is not None else None
    return SettleGuard(
        DEFAULT_SETTLE_GUARD_PERCENT if percent is None else percent,
        DEFAULT_SETTLE_GUARD_MIN if minimum is None else minimum,
    )


def rules_as_dict(rules: t.ClientDunning, balance: BalanceRule | None = None) -> dict[str, Any]:
    """The rules with their defaults filled in; ``auto_close_balance`` as it applies when
    ``balance`` is given (else as stored: None for the plugin's default)."""
    shown = {name: getattr(rules, name) for name in RULES}
    if shown["success_fee_percent"] is None:
        shown["success_fee_percent"] = DEFAULT_SUCCESS_FEE_PERCENT
    guard = settle_guard(rules)
    shown["settle_guard_percent"], shown["settle_guard_min"] = guard.percent, guard.minimum
    if balance is not None:
        shown["auto_close_balance"] = balance.on
    return shown


def flow_of(session: Session, client: t.Client, stage: Stage) -> Flow:
    """The client's own flow for ``stage``, or the country's default when it has none."""
    rows = session.scalars(
        select(t.FlowStepRow)
        .where(t.FlowStepRow.client_id == client.id, t.FlowStepRow.stage == stage.value)
        .order_by(t.FlowStepRow.position)
    ).all()
    if not rows:
        return default_flow(client.country, stage)
    far = next((r for r in rows if abs(r.offset_days) > limits.MAX_OFFSET_DAYS), None)
    if far is not None:  # stored before flows were checked for it: its dates cannot be computed
        raise InputError(
            f"client {client.name!r}: step {far.position + 1} of its {stage.value} flow is"
            f" {far.offset_days} days from its anchor (at most {limits.MAX_OFFSET_DAYS}):"
            f" set the flow again (`hub flows set --client {client.name} --stage {stage.value}`)"
            " or reset it"
        )
    return Flow(
        stage,
        tuple(FlowStep(r.offset_days, Anchor(r.anchor), r.template, r.fee) for r in rows),
    )


def is_default_flow(session: Session, client: t.Client, stage: Stage) -> bool:
    return (
        session.scalar(
            select(t.FlowStepRow.id).where(
                t.FlowStepRow.client_id == client.id, t.FlowStepRow.stage == stage.value
            )
        )
        is None
    )


def set_flow(session: Session, client: t.Client, flow: Flow) -> None:
    """Store the client's flow for a stage; refused (nothing stored) if it breaks the law."""
    validate_flow(client.country, flow)
    reset_flow(session, client, flow.stage)
    for position, step in enumerate(flow.steps):
        session.add(
            t.FlowStepRow(
                client_id=client.id,
                stage=flow.stage.value,
                position=position,
                offset_days=step.offset_days,
                anchor=step.anchor.value,
                template=step.template,
                fee=step.fee,
            )
        )


def reset_flow(session: Session, client: t.Client, stage: Stage) -> None:
    session.execute(
        delete(t.FlowStepRow).where(
            t.FlowStepRow.client_id == client.id, t.FlowStepRow.stage == stage.value
        )
    )
