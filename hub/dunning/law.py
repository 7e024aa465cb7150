"""The statutory figures, in one table: a change in the law is a one-line change here.

Sources (docs/rules.md, "The law's limits", explains each figure in plain words):
- Denmark: renteloven § 9 b (reminder fee at most 100 DKK, at most 3 fee-bearing reminders,
  at least 10 days apart, only after the due date); inkassoloven § 10 (collection warning
  deadline at least 10 days).
- Both: a reminder gives a pay-by date (DK 10, NO 14 days), and the next fee-bearing reminder
  is never sent before that date has passed (in Norway § 1-3 requires the missed deadline).
- Norway: inkassoforskriften §§ 1-1, 1-2 (reminder fee 1/20 of the inkassosats 700 = 35 NOK,
  only when the reminder is sent at least 14 days after the due date), § 1-3 (fees per claim: a
  second fee needs a missed deadline of at least 14 days; at most two reminder fees);
  inkassoloven § 9 (collection warning deadline at least 14 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from hub.errors import InputError


@dataclass(frozen=True)
class CountryLaw:
    country: str
    currency: str
    max_reminder_fee: Decimal
    max_fee_reminders: int
    min_days_between_fee_reminders: int
    min_days_after_due_for_fee: int
    reminder_deadline_days: int  # the pay-by date a reminder gives; the next fee waits for it
    collection_warning_days: int
    fee_rule: str  # the statute, named in every refusal
    spacing_rule: str
    count_rule: str
    after_due_rule: str
    warning_rule: str


LAW: dict[str, CountryLaw] = {
    "DK": CountryLaw(
        country="DK",
        currency="DKK",
        max_reminder_fee=Decimal("100.00"),  # renteloven § 9 b stk. 1
        max_fee_reminders=3,  # renteloven § 9 b stk. 2
        min_days_between_fee_reminders=10,  # renteloven § 9 b stk. 2
        min_days_after_due_for_fee=1,  # renteloven § 9 b: only for reminders after the due date
        reminder_deadline_days=10,  # our practice: pay within the 10 days before the next one
        collection_warning_days=10,  # inkassoloven § 10
        fee_rule="renteloven § 9 b stk. 1 (reminder fee at most 100 DKK)",
        spacing_rule="renteloven § 9 b stk. 2 (fee-bearing reminders at least 10 days apart)",
        count_rule="renteloven § 9 b stk. 2 (at most 3 fee-bearing reminders per claim)",
        after_due_rule="renteloven § 9 b (a reminder fee only after the due date)",
        warning_rule="inkassoloven § 10 (collection warning deadline at least 10 days)",
    ),
    "NO": CountryLaw(
        country="NO",
        currency="NOK",
        max_reminder_fee=Decimal("35.00"),  # inkassoforskriften § 1-2: 1/20 of inkassosats 700
        max_fee_reminders=2,  # inkassoforskriften § 1-3
        min_days_between_fee_reminders=14,  # inkassoforskriften § 1-3: missed deadline ≥ 14 days
        min_days_after_due_for_fee=14,  # inkassoforskriften § 1-2: sent ≥ 14 days after due date
        reminder_deadline_days=14,  # inkassoforskriften § 1-2: a reminder gives ≥ 14 days
        collection_warning_days=14,  # inkassoloven § 9
        fee_rule="inkassoforskriften § 1-2 (reminder fee at most 35 NOK, 1/20 of the inkassosats)",
        spacing_rule="inkassoforskriften § 1-3 (a second fee needs a missed deadline of 14 days)",
        count_rule="inkassoforskriften § 1-3 (at most 2 reminder fees per claim)",
        after_due_rule="inkassoforskriften § 1-2 (a fee only when sent 14 days after the due date)",
        warning_rule="inkassoloven § 9 (collection warning deadline at least 14 days)",
    ),
}


class LawViolation(InputError):
    """A flow, fee or action that would break the law; the message names the rule."""


def law_for(country: str) -> CountryLaw:
    try:
        return LAW[country]
    except KeyError:
        raise InputError(f"no law table for country {country!r} (known: DK, NO)") from None
