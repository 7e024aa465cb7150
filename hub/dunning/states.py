"""The words of a case's life: its stage, its state, who closed it and why."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    INVOICE = "invoice"  # before/at the due date: friendly reminders, no fee
    REMINDER = "reminder"  # overdue: formal reminders, lawful fees
    COLLECTION = "collection"  # handed to collection; one way, never auto-closed (R6)


class CaseState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    CLOSED = "closed"


class Actor(StrEnum):
    AUTO = "auto"
    USER = "user"


#: Closing codes (A1) and, per code, the detailed reasons a person may choose. The codes
#: marked automatic are set by the hub itself (R1, R2) and cannot be chosen by hand.
CLOSING_CODES: dict[str, tuple[str, ...]] = {
    "paid": ("paid_to_us", "paid_after_agreement", "registered_payment"),
    "credited": ("credit_note_issued", "invoice_was_wrong"),
    "dispute": ("customer_disputes_claim", "complaint_about_goods_or_service"),
    "settled": ("set_off_against_our_debt", "settled_outside_the_hub"),
    "error": ("wrong_customer", "duplicate_case", "started_by_mistake"),
    "written_off": ("loss_confirmed", "amount_too_small_to_pursue"),
    "other": ("other",),
}
AUTOMATIC_CLOSING_CODES: dict[str, tuple[str, ...]] = {
    "paid_in_accounting": ("outstanding_zero", "customer_balance_zero"),  # R1, R2
    "mode_changed": ("to_customer_mode", "to_invoice_mode"),  # C3
    "sent_to_collection": ("per_invoice_collection",),  # C4: a customer case's invoices
}
