"""What a front end needs to offer a client's rules and flows as forms: each rule's kind of
value and its value as a person types it, and the choices a flow step has (anchors, each
stage's templates). The changes themselves are :mod:`hub.operations.flows`'
``set_rules``, ``set_flow`` and ``reset_flow``, which check them (and the law).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final, Literal

from hub import clients
from hub.dunning import rules as dunning_rules
from hub.dunning.flows import STAGE_TEMPLATES, Anchor
from hub.dunning.states import CaseMode, Stage
from hub.operations.context import Context
from hub.records import Record
from hub.recurring.schedule import PRODUCES

__all__ = [
    "ANCHORS",
    "MODES",
    "PRODUCES",
    "RULE_KINDS",
    "RuleField",
    "RuleKind",
    "rule_fields",
    "stage_templates",
]

RuleKind = Literal["boolean", "optional_boolean", "mode", "date", "text", "multiline"]

#: How each rule's value is typed: ``boolean`` true/false; ``optional_boolean`` true, false
#: or empty (the default); ``mode`` one of :data:`MODES`; ``date`` YYYY-MM-DD or empty;
#: ``multiline`` text of several lines; ``text`` anything else (numbers, amounts, lists),
#: checked by ``set_rules``. Every rule of :data:`hub.dunning.rules.RULES` has one.
RULE_KINDS: Final[dict[str, RuleKind]] = {
    "auto_close_paid": "boolean",
    "auto_close_balance": "optional_boolean",
    "auto_start": "boolean",
    "start_date": "date",
    "min_amount": "text",
    "excluded_customers": "text",
    "creditor_name": "text",
    "payment_details": "multiline",
    "sender_email": "text",
    "reminder_mode": "mode",
    "entry_sync": "boolean",
    "success_fee_percent": "text",
    "loss_account": "text",
    "output_vat_account": "text",
    "settle_guard_percent": "text",
    "settle_guard_min": "text",
}

#: The reminder modes (C1): one flow per invoice, or one reminder per customer's balance.
MODES: Final[tuple[str, ...]] = tuple(mode.value for mode in CaseMode)
#: What a flow step's offset counts from.
ANCHORS: Final[tuple[str, ...]] = tuple(anchor.value for anchor in Anchor)


def stage_templates() -> dict[str, tuple[str, ...]]:
    """Each stage's message templates, in stage order, the collection warning last (it may
    only be a flow's last step); the collection stage has none: it has no steps of its own."""
    return {
        stage.value: tuple(
            sorted(STAGE_TEMPLATES[stage], key=lambda name: (name == "collection_warning", name))
        )
        for stage in Stage
    }


@dataclass(frozen=True)
class RuleField(Record):
    """A rule as a form shows it: ``value`` as a person types it (empty: not set, the
    default applies), what it means, and, for a rule whose default depends on the client
    (R2), whether it applies now and why."""

    name: str
    kind: RuleKind
    value: str
    meaning: str
    why: str | None


def _typed(value: Any) -> str:
    """A rule's stored value as a person types it (what ``set_rules`` reads back)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.date | Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def rule_fields(ctx: Context, client: str) -> list[RuleField]:
    """The client's rules as stored (a default filled in where the rule has a fixed one), in
    the order of ``hub rules set``'s list, each with its kind and meaning."""
    with ctx.db.session() as session:
        ctx.client(session, client)  # a client the user may not see is not found
        row = clients.get_client(session, client)
        rules = dunning_rules.rules_of(session, row)
        stored = dunning_rules.rules_as_dict(rules)
        balance = dunning_rules.client_balance_rule(ctx.registry, row, rules)
        return [
            RuleField(
                name=name,
                kind=RULE_KINDS.get(name, "text"),
                value=_typed(stored[name]),
                meaning=meaning,
                why=balance.why if name == "auto_close_balance" else None,
            )
            for name, meaning in dunning_rules.RULES.items()
        ]
