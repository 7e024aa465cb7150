"""Flows and the law table: lawful defaults, and every unlawful flow refused with its rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hub.dunning.flows import (
    Anchor,
    Flow,
    FlowStep,
    default_flow,
    earliest_send_date,
    parse_step,
    validate_flow,
)
from hub.dunning.law import LAW, LawViolation
from hub.dunning.states import Stage
from hub.errors import InputError

D = Decimal


def reminder(*steps: str) -> Flow:
    return Flow(Stage.REMINDER, tuple(parse_step(s) for s in steps))


@pytest.mark.parametrize("country", ["DK", "NO"])
@pytest.mark.parametrize("stage", list(Stage))
def test_default_flows_are_lawful(country: str, stage: Stage) -> None:
    validate_flow(country, default_flow(country, stage))


def test_dk_default_is_three_reminders_after_each_10_day_deadline_at_100_dkk() -> None:
    steps = default_flow("DK", Stage.REMINDER).steps
    assert [(s.offset_days, s.anchor, s.fee) for s in steps] == [
        (10, Anchor.DUE_DATE, D("100.00")),
        (11, Anchor.PREVIOUS, D("100.00")),
        (11, Anchor.PREVIOUS, D("100.00")),
    ]


def test_no_default_is_two_reminders_from_day_14_at_35_nok_after_the_14_day_deadline() -> None:
    steps = default_flow("NO", Stage.REMINDER).steps
    assert [(s.offset_days, s.fee) for s in steps] == [(14, D("35.00")), (15, D("35.00"))]


def test_dk_fee_above_100_is_refused_naming_renteloven() -> None:
    with pytest.raises(LawViolation, match=r"above the maximum 100.00 DKK: renteloven § 9 b"):
        validate_flow("DK", reminder("10;due_date;reminder;100.01"))


def test_no_fee_above_35_is_refused_naming_inkassoforskriften() -> None:
    with pytest.raises(LawViolation, match="inkassoforskriften § 1-2"):
        validate_flow("NO", reminder("14;due_date;reminder;36.00"))


def test_dk_fourth_fee_is_refused() -> None:
    flow = reminder(*(["10;due_date;reminder;100"] + ["10;previous;reminder;100"] * 3))
    with pytest.raises(LawViolation, match="at most 3 fee-bearing reminders"):
        validate_flow("DK", flow)


def test_dk_fee_reminders_closer_than_10_days_are_refused() -> None:
    with pytest.raises(LawViolation, match="9 day\\(s\\) after the previous fee.*10 days apart"):
        validate_flow("DK", reminder("10;due_date;reminder;100", "9;previous;reminder;100"))
    with pytest.raises(LawViolation, match="10 days apart"):
        validate_flow("DK", reminder("10;due_date;reminder;100", "15;due_date;reminder;100"))


def test_dk_reminder_without_fee_may_come_sooner() -> None:
    validate_flow("DK", reminder("3;due_date;reminder;0", "10;due_date;reminder;100"))


def test_no_fee_before_14_days_after_due_is_refused() -> None:
    with pytest.raises(LawViolation, match="14 days after the due date"):
        validate_flow("NO", reminder("7;due_date;reminder;35"))


def test_no_second_fee_needs_14_days() -> None:
    with pytest.raises(LawViolation, match="missed deadline of 14 days"):
        validate_flow("NO", reminder("14;due_date;reminder;35", "10;previous;reminder;35"))


def test_friendly_reminders_carry_no_fee() -> None:
    flow = Flow(Stage.INVOICE, (FlowStep(-3, Anchor.DUE_DATE, "friendly_reminder", D("10")),))
    with pytest.raises(LawViolation, match="only formal reminders carry a fee"):
        validate_flow("DK", flow)


def test_reminder_before_the_due_date_is_refused() -> None:
    with pytest.raises(InputError, match="after the due date"):
        validate_flow("DK", reminder("-2;due_date;reminder;0"))


def test_template_must_belong_to_the_stage() -> None:
    with pytest.raises(InputError, match="does not belong to the reminder stage"):
        validate_flow("DK", reminder("10;due_date;friendly_reminder;0"))


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("10;due_date;reminder", "offset;anchor;template;fee"),
        ("x;due_date;reminder;0", "whole"),
        ("1;tomorrow;reminder;0", "anchor"),
        ("1;previous;reminder;abc", "not an amount"),
        ("1;previous;reminder;-5", "0 or more"),
        ("1;previous;reminder;0.001", "two decimals"),
        ("1;previous;reminder;1.001", "ambiguous: 1001 if"),
    ],
)
def test_step_text_errors_say_why(text: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        parse_step(text)


def test_a_step_fee_may_be_written_with_a_decimal_comma() -> None:
    assert parse_step("10;previous;reminder;100,00").fee == Decimal("100.00")
    assert parse_step("10;previous;reminder;1.250,50").fee == Decimal("1250.50")


def test_earliest_send_date_keeps_the_law_when_catching_up() -> None:
    law = LAW["DK"]
    due = dt.date(2026, 1, 15)
    planned = dt.date(2026, 1, 25)
    # the previous fee went out 3 days ago: the next fee waits for the 10-day gap
    # the previous fee went out on 1 Feb with a 10-day deadline: the next fee waits until after
    assert earliest_send_date(
        law, Stage.REMINDER, planned, D("100"), due, dt.date(2026, 2, 1), dt.date(2026, 2, 1)
    ) == dt.date(2026, 2, 12)
    # a step without a fee only waits for "one step per case per day"
    assert earliest_send_date(
        law, Stage.REMINDER, planned, D("0"), due, dt.date(2026, 2, 1), dt.date(2026, 2, 1)
    ) == dt.date(2026, 2, 2)
    # a reminder never goes out before the invoice is overdue, fee or not
    assert earliest_send_date(
        law, Stage.REMINDER, dt.date(2026, 1, 10), D("0"), due, None, None
    ) == dt.date(2026, 1, 16)
    # Norway: never a fee before 14 days after the due date
    assert earliest_send_date(
        LAW["NO"], Stage.REMINDER, dt.date(2026, 1, 16), D("35"), due, None, None
    ) == dt.date(2026, 1, 29)


def test_invoice_stage_steps_after_the_due_date_are_refused() -> None:
    flow = Flow(Stage.INVOICE, (FlowStep(2, Anchor.DUE_DATE, "friendly_reminder", D("0")),))
    with pytest.raises(InputError, match="the invoice stage ends at the due date"):
        validate_flow("DK", flow)


@pytest.mark.parametrize("fee", ["NaN", "Infinity", "1e30000"])
def test_a_fee_that_is_not_a_finite_amount_is_refused(fee: str) -> None:
    with pytest.raises(InputError, match="is not an amount"):
        parse_step(f"10;due_date;reminder;{fee}")


@pytest.mark.parametrize(
    ("stage", "step"),
    [
        (Stage.REMINDER, "99999999;due_date;reminder;100"),
        (Stage.REMINDER, "3651;due_date;reminder;0"),
        (Stage.REMINDER, "10;due_date;reminder;0|3651;previous;reminder;0"),
        (Stage.INVOICE, "-3651;due_date;friendly_reminder;0"),
    ],
)
def test_a_step_more_than_ten_years_from_its_anchor_is_refused(stage: Stage, step: str) -> None:
    flow = Flow(stage, tuple(parse_step(s) for s in step.split("|")))
    with pytest.raises(InputError, match=r"days is too far from its anchor: at most 3650 days"):
        validate_flow("DK", flow)


def test_steps_ten_years_from_their_anchor_are_a_flow() -> None:
    validate_flow("DK", reminder("3650;due_date;reminder;100"))
    validate_flow("NO", Flow(Stage.INVOICE, (parse_step("-3650;due_date;friendly_reminder;0"),)))
