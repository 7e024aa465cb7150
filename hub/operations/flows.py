"""A client's flows per stage and its dunning rules: show, set, reset (``hub flows``,
``hub rules``).

A flow is checked against the country's law when it is set (:mod:`hub.dunning.flows`);
``reminder_mode`` is switched through :func:`hub.dunning.customer_mode.set_mode` (C1–C3), for
the client's today and by the acting user.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hub import clients
from hub.db import tables as t
from hub.dunning import customer_mode
from hub.dunning import rules as dunning_rules
from hub.dunning.flows import Flow, parse_step
from hub.dunning.law import CountryLaw, law_for
from hub.dunning.states import Stage
from hub.operations import access
from hub.operations.audit import jsonable
from hub.operations.context import Context

__all__ = [
    "FlowsView",
    "RulesChanged",
    "RulesView",
    "Stage",
    "reset_flow",
    "set_flow",
    "set_rules",
    "show_flows",
    "show_rules",
]


@dataclass(frozen=True)
class FlowsView:
    """A client's flow for every stage (its own, or the country's lawful default) and the law
    they are checked against."""

    client: str
    country: str
    law: CountryLaw
    flows: Mapping[Stage, Flow]
    defaults: frozenset[Stage]  # the stages whose flow is the country's default

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "country": self.country,
            "law": {
                "max_reminder_fee": self.law.max_reminder_fee,
                "currency": self.law.currency,
                "max_fee_reminders": self.law.max_fee_reminders,
                "min_days_between_fee_reminders": self.law.min_days_between_fee_reminders,
                "min_days_after_due_for_fee": self.law.min_days_after_due_for_fee,
            },
            "flows": {
                stage.value: {
                    "default": stage in self.defaults,
                    "steps": [
                        {
                            "offset_days": s.offset_days,
                            "anchor": s.anchor.value,
                            "template": s.template,
                            "fee": s.fee,
                        }
                        for s in flow.steps
                    ],
                }
                for stage, flow in self.flows.items()
            },
        }


def show_flows(ctx: Context, client: str) -> FlowsView:
    with ctx.db.session() as session:
        row = access.client_row(ctx, session, client)
        return FlowsView(
            client=row.name,
            country=row.country,
            law=law_for(row.country),
            flows={stage: dunning_rules.flow_of(session, row, stage) for stage in Stage},
            defaults=frozenset(
                stage for stage in Stage if dunning_rules.is_default_flow(session, row, stage)
            ),
        )


def _steps(flow: Flow) -> list[str]:
    """A flow's steps as ``hub flows set --step`` takes them."""
    return [f"{s.offset_days};{s.anchor.value};{s.template};{s.fee}" for s in flow.steps]


def _flow_state(session: Session, row: t.Client, stage: Stage) -> dict[str, Any]:
    """A stage's flow as the audit log keeps it: its steps, and whether it is the default."""
    return {
        "default": dunning_rules.is_default_flow(session, row, stage),
        "steps": _steps(dunning_rules.flow_of(session, row, stage)),
    }


def set_flow(ctx: Context, client: str, stage: Stage, steps: Sequence[str]) -> Flow:
    """Replace a stage's flow with ``steps`` (each ``offset;anchor;template;fee``); refused,
    naming the rule, if it would break the law (nothing is stored then)."""
    flow = Flow(stage, tuple(parse_step(s) for s in steps))
    with ctx.db.session() as session:
        row = access.client_row(ctx, session, client)
        with access.changing(
            session,
            ctx,
            action="flow.set",
            client=client,
            subject=f"{stage.value} flow",
            before=_flow_state(session, row, stage),
        ) as change:
            dunning_rules.set_flow(session, row, flow)
            change.after = {"default": False, "steps": _steps(flow)}
    return flow


def reset_flow(ctx: Context, client: str, stage: Stage) -> None:
    """Go back to the country's default flow for ``stage``."""
    with ctx.db.session() as session:
        row = access.client_row(ctx, session, client)
        with access.changing(
            session,
            ctx,
            action="flow.reset",
            client=client,
            subject=f"{stage.value} flow",
            before=_flow_state(session, row, stage),
        ) as change:
            dunning_rules.reset_flow(session, row, stage)
            change.after = _flow_state(session, row, stage)


@dataclass(frozen=True)
class RulesView:
    """A client's dunning rules as they apply (defaults filled in), each with what it means;
    ``why``: for a rule whose default depends on the client (R2 follows its plugin), why it
    is on or off."""

    values: Mapping[str, Any]
    why: Mapping[str, str]

    @staticmethod
    def meaning(rule: str) -> str:
        return dunning_rules.RULES[rule]

    def as_dict(self) -> dict[str, Any]:
        return {**self.values, "why": dict(self.why)}


def show_rules(ctx: Context, client: str) -> RulesView:
    with ctx.db.session() as session:
        row = access.client_row(ctx, session, client)
        rules = dunning_rules.rules_of(session, row)
        balance = dunning_rules.client_balance_rule(ctx.registry, row, rules)
        return RulesView(
            dunning_rules.rules_as_dict(rules, balance), {"auto_close_balance": balance.why}
        )


@dataclass(frozen=True)
class RulesChanged:
    changed: int  # rules changed
    started: int  # invoice cases started fresh by a switch back to invoice mode (C3)


def set_rules(ctx: Context, client: str, assignments: Sequence[str]) -> RulesChanged:
    """Change rules given as ``rule=value``: all together or none.

    ``reminder_mode`` is applied after the others, so ``start_date=... reminder_mode=customer``
    works in one call; switching it is a migration (C3) for the client's today, by the acting
    user.
    """
    values = clients.parse_assignments(assignments)
    mode = values.pop(dunning_rules.MODE_RULE, None)
    with ctx.db.session() as session:
        row = access.client_row(ctx, session, client)
        change = access.permit(ctx, action="rules.set", client=client, subject="rules")
        change.before = jsonable(dunning_rules.rules_as_dict(dunning_rules.rules_of(session, row)))
        dunning_rules.set_rules(session, row, values)
        started = []
        if mode is not None:
            started = customer_mode.set_mode(
                session,
                ctx.registry,
                row,
                mode.strip(),
                ctx.day_of(row).today,
                actor=ctx.actor.name,
            )
        change.after = dunning_rules.rules_as_dict(dunning_rules.rules_of(session, row))
        if started:
            change.after = {**change.after, "cases_started": len(started)}
        change.record(session)
    return RulesChanged(changed=len(values) + (mode is not None), started=len(started))
