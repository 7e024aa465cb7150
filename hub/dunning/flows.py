"""Flows: the ordered steps of a stage, each country's lawful default, and the law check.

A step has an offset in days from an anchor (the invoice's due date, or the day the previous
step was sent; for a stage's first step "previous" means the day the case entered the stage),
a message template and a fee. A flow that would break the law is refused when it is
configured, naming the statute (:mod:`hub.dunning.law`). The daily cycle enforces the same law
again when it sends (see :func:`earliest_send_date`), so neither catching up after missed days
nor restarting a flow can make an unlawful fee.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from hub.amounts import ZERO, parse_amount
from hub.dunning.law import CountryLaw, LawViolation, law_for
from hub.dunning.states import Stage
from hub.errors import InputError
from hub.limits import MAX_OFFSET_DAYS


class Anchor(StrEnum):
    DUE_DATE = "due_date"
    PREVIOUS = "previous"


#: The message template a step may use in each stage. A reminder step of template
#: ``collection_warning`` is "reminder N with collection warning" (D2): it must be the flow's
#: last step, and the case enters collection after its deadline. The collection stage has
#: no steps: a case gets there only through the collection warning (D1).
STAGE_TEMPLATES: dict[Stage, frozenset[str]] = {
    Stage.INVOICE: frozenset({"friendly_reminder"}),
    Stage.REMINDER: frozenset({"reminder", "collection_warning"}),
    Stage.COLLECTION: frozenset(),
}


@dataclass(frozen=True)
class FlowStep:
    offset_days: int
    anchor: Anchor
    template: str
    fee: Decimal

    def describe(self) -> str:
        """The ``offset;anchor;template;fee`` text that :func:`parse_step` reads back."""
        return f"{self.offset_days};{self.anchor.value};{self.template};{self.fee}"


@dataclass(frozen=True)
class Flow:
    stage: Stage
    steps: tuple[FlowStep, ...]


def parse_step(text: str) -> FlowStep:
    """Read ``offset;anchor;template;fee`` (e.g. ``10;previous;reminder;100.00``)."""
    parts = [p.strip() for p in text.split(";")]
    if len(parts) != 4:
        raise InputError(f"step {text!r}: write offset;anchor;template;fee")
    offset, anchor, template, fee = parts
    try:
        offset_days = int(offset)
    except ValueError:
        raise InputError(
            f"step {text!r}: offset {offset!r} is not a whole number of days"
        ) from None
    try:
        anchor_value = Anchor(anchor)
    except ValueError:
        raise InputError(f"step {text!r}: anchor must be due_date or previous") from None
    fee_value = parse_amount(fee, what=f"step {text!r}: fee")
    return FlowStep(offset_days, anchor_value, template, fee_value)


def default_flow(country: str, stage: Stage) -> Flow:
    """The lawful default of each country and stage.

    Invoice stage: one friendly reminder 3 days before the due date. Reminder stage: Denmark
    three reminders at 100 DKK, the first 10 days after the due date, each next one the day after
    the previous one's 10-day deadline; Norway two reminders at 35 NOK, the first 14 days after
    the due date, the second the day after the first one's 14-day deadline. Collection stage:
    no steps of its own here (the collection warning comes with collection).
    """
    law = law_for(country)
    if stage is Stage.INVOICE:
        return Flow(stage, (FlowStep(-3, Anchor.DUE_DATE, "friendly_reminder", ZERO),))
    if stage is Stage.REMINDER:
        gap = max(law.min_days_between_fee_reminders, law.reminder_deadline_days + 1)
        first = max(law.min_days_between_fee_reminders, law.min_days_after_due_for_fee)
        steps = [FlowStep(first, Anchor.DUE_DATE, "reminder", law.max_reminder_fee)]
        steps += [
            FlowStep(gap, Anchor.PREVIOUS, "reminder", law.max_reminder_fee)
            for _ in range(law.max_fee_reminders - 1)
        ]
        return Flow(stage, tuple(steps))
    return Flow(stage, ())


def _planned_offsets(flow: Flow) -> list[int | None]:
    """Each step's planned day relative to the due date, where it can be known in advance.

    A ``previous``-anchored first step of the reminder stage starts when the case becomes
    overdue, i.e. at the earliest the day after the due date; for the invoice stage the plan
    assumes the invoice was issued 30 days before its due date (the longest usual terms).
    """
    days: list[int | None] = []
    previous: int | None = {Stage.REMINDER: 1, Stage.INVOICE: -30}.get(flow.stage)
    for step in flow.steps:
        if step.anchor is Anchor.DUE_DATE:
            day: int | None = step.offset_days
        else:
            day = None if previous is None else previous + step.offset_days
        days.append(day)
        previous = day
    return days


def validate_flow(country: str, flow: Flow) -> None:
    """Refuse a flow that would break the law or cannot work, naming the rule.

    :raises LawViolation: a fee above the maximum, too many fee-bearing steps, fee-bearing
        steps closer than the minimum gap, a fee before the law allows one, a fee outside the
        reminder stage.
    :raises InputError: a template that does not belong to the stage, a step that goes
        backwards, an offset of more than :data:`~hub.limits.MAX_OFFSET_DAYS` days.
    """
    law = law_for(country)
    allowed = STAGE_TEMPLATES[flow.stage]
    if flow.stage is Stage.COLLECTION and flow.steps:
        raise InputError(
            "the collection stage has no steps: a case enters it after its collection warning,"
            " sent by `hub cases collect` or as the last reminder step (template"
            " collection_warning; D1, D2)"
        )
    for n, step in enumerate(flow.steps, 1):
        if abs(step.offset_days) > MAX_OFFSET_DAYS:
            # Beyond this a step is a typo, and its date could not even be computed.
            raise InputError(
                f"{flow.stage} step {n}: an offset of {step.offset_days} days is too far from"
                f" its anchor: at most {MAX_OFFSET_DAYS} days (ten years) either way"
            )
        if step.template not in allowed:
            raise InputError(
                f"{flow.stage} step {n}: template {step.template!r} does not belong to the"
                f" {flow.stage} stage (use {', '.join(sorted(allowed))})"
            )
        if step.template == "collection_warning" and n != len(flow.steps):
            raise InputError(
                f"{flow.stage} step {n}: a reminder with collection warning must be the last"
                " step (the case enters collection after its deadline; D2)"
            )
        if step.anchor is Anchor.PREVIOUS and step.offset_days < (1 if n > 1 else 0):
            raise InputError(
                f"{flow.stage} step {n}: a step after the previous one needs an offset of at"
                " least 1 day"
            )
        if step.fee and flow.stage is not Stage.REMINDER:
            raise LawViolation(
                f"{flow.stage} step {n}: a fee of {step.fee} {law.currency} is not allowed:"
                f" only formal reminders carry a fee ({law.fee_rule})"
            )
        if step.fee > law.max_reminder_fee:
            raise LawViolation(
                f"{flow.stage} step {n}: fee {step.fee} {law.currency} is above the maximum"
                f" {law.max_reminder_fee} {law.currency}: {law.fee_rule}"
            )
    if flow.stage is Stage.INVOICE:
        for n, day in enumerate(_planned_offsets(flow), 1):
            if day is not None and day > 0:
                raise InputError(
                    f"invoice step {n} falls {day} day(s) after the due date: the invoice stage"
                    " ends at the due date (put overdue reminders in the reminder flow)"
                )
    _check_reminder_timing(law, flow)


def _check_reminder_timing(law: CountryLaw, flow: Flow) -> None:
    if flow.stage is not Stage.REMINDER:
        return
    fee_steps = [n for n, s in enumerate(flow.steps, 1) if s.fee > 0]
    if len(fee_steps) > law.max_fee_reminders:
        raise LawViolation(
            f"reminder flow has {len(fee_steps)} fee-bearing steps: {law.count_rule}"
        )
    days = _planned_offsets(flow)
    last_fee_day: int | None = None
    previous_day: int | None = None
    for n, (step, day) in enumerate(zip(flow.steps, days, strict=True), 1):
        if day is not None and previous_day is not None and day <= previous_day:
            raise InputError(
                f"reminder step {n} falls on day {day} after the due date, not after step"
                f" {n - 1} (day {previous_day})"
            )
        if day is not None and day < 1:
            raise InputError(
                f"reminder step {n} falls on day {day}: reminders are for overdue invoices,"
                " after the due date"
            )
        if step.fee > 0:
            if day is not None and day < law.min_days_after_due_for_fee:
                raise LawViolation(
                    f"reminder step {n} carries a fee {day} day(s) after the due date:"
                    f" {law.after_due_rule}"
                )
            gap = _gap(flow, n - 1, day, last_fee_day)
            if gap is not None and gap < law.min_days_between_fee_reminders:
                raise LawViolation(
                    f"reminder step {n} carries a fee {gap} day(s) after the previous fee:"
                    f" {law.spacing_rule}"
                )
            last_fee_day = day if day is not None else last_fee_day
        previous_day = day if day is not None else previous_day


def _gap(flow: Flow, index: int, day: int | None, last_fee_day: int | None) -> int | None:
    """Days between this fee step and the previous fee step, where the plan fixes it."""
    if last_fee_day is not None and day is not None:
        return day - last_fee_day
    # previous-anchored chains: sum the offsets back to the previous fee step
    total = 0
    for j in range(index, 0, -1):
        step = flow.steps[j]
        if step.anchor is not Anchor.PREVIOUS:
            return None
        total += step.offset_days
        if flow.steps[j - 1].fee > 0:
            return total
    return None


def earliest_send_date(
    law: CountryLaw,
    stage: Stage,
    planned: dt.date,
    fee: Decimal,
    due_date: dt.date,
    last_step_on: dt.date | None,
    last_fee_on: dt.date | None,
) -> dt.date:
    """The day a step may go out: its planned day, pushed later where the law or the catch-up
    policy requires. At most one step per case per day; a reminder never before the invoice is
    overdue; a fee-bearing step never before the law allows a fee (after the due date, at the
    minimum gap after the previous fee, and after the previous fee's pay-by date)."""
    day = planned
    if last_step_on is not None:
        day = max(day, last_step_on + dt.timedelta(days=1))
    if stage is Stage.REMINDER:
        day = max(day, due_date + dt.timedelta(days=1))
    if fee > 0:
        day = max(day, due_date + dt.timedelta(days=law.min_days_after_due_for_fee))
        if last_fee_on is not None:
            wait = max(law.min_days_between_fee_reminders, law.reminder_deadline_days + 1)
            day = max(day, last_fee_on + dt.timedelta(days=wait))
    return day
