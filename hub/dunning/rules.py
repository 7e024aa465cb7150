"""A client's dunning rules and flows, as stored, with the country defaults where unset."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from hub.amounts import parse_amount
from hub.db import tables as t
from hub.dunning.flows import Anchor, Flow, FlowStep, default_flow, validate_flow
from hub.dunning.states import Stage
from hub.errors import InputError

#: Rule names for ``hub rules set`` and what each takes.
RULES: dict[str, str] = {
    "auto_close_paid": "true/false: close a case when the invoice is paid or credited (R1)",
    "auto_close_balance": "true/false: close a case when the customer's balance is ≤ 0 (R2)",
    "auto_start": "true/false: start a case for every new open invoice at each sync",
    "start_date": "YYYY-MM-DD: invoices due before it are not pursued automatically ('' clears)",
    "min_amount": "amount: invoices below it are not started automatically ('' clears)",
    "excluded_customers": "comma list of customer numbers never started automatically",
    "creditor_name": "the name letters are signed with (default: the client's name)",
    "payment_details": "how to pay, printed on every letter (bank account, reference)",
    "sender_email": "reply address on e-mails",
}


def rules_of(session: Session, client: t.Client) -> t.ClientDunning:
    """The client's rules, created with the defaults on first use."""
    rules = session.get(t.ClientDunning, client.id)
    if rules is None:
        rules = t.ClientDunning(
            client_id=client.id,
            auto_close_paid=True,
            auto_close_balance=True,
            auto_start=False,
            excluded_customers=[],
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


def set_rules(session: Session, client: t.Client, values: Mapping[str, str]) -> t.ClientDunning:
    rules = rules_of(session, client)
    for name, raw in values.items():
        if name not in RULES:
            raise InputError(f"there is no rule {name!r} (rules: {', '.join(RULES)})")
        value: Any
        if name in ("auto_close_paid", "auto_close_balance", "auto_start"):
            value = _bool(name, raw)
        elif name == "start_date":
            try:
                value = dt.date.fromisoformat(raw.strip()) if raw.strip() else None
            except ValueError:
                raise InputError(f"rule start_date: {raw!r} is not a date YYYY-MM-DD") from None
        elif name == "min_amount":
            value = parse_amount(raw, what="rule min_amount") if raw.strip() else None
        elif name == "excluded_customers":
            value = sorted({c.strip() for c in raw.split(",") if c.strip()})
        else:
            value = raw.strip() or None
        setattr(rules, name, value)
    return rules


def rules_as_dict(rules: t.ClientDunning) -> dict[str, Any]:
    return {name: getattr(rules, name) for name in RULES}


def flow_of(session: Session, client: t.Client, stage: Stage) -> Flow:
    """The client's own flow for ``stage``, or the country's default when it has none."""
    rows = session.scalars(
        select(t.FlowStepRow)
        .where(t.FlowStepRow.client_id == client.id, t.FlowStepRow.stage == stage.value)
        .order_by(t.FlowStepRow.position)
    ).all()
    if not rows:
        return default_flow(client.country, stage)
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
