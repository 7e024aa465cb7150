"""The words of a case's life: its mode, stage and state, what happened to it (its events),
who closed it and why, and the status of the messages it sent."""

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


class CaseMode(StrEnum):
    """What a case pursues (C1): one invoice, or a customer's overdue balance. A client's
    ``reminder_mode`` rule holds the same words."""

    INVOICE = "invoice"
    CUSTOMER = "customer"


class EventKind(StrEnum):
    """The ``kind`` of an entry in a case's history (and of the cycle report's actions)."""

    STARTED = "started"
    STAGE_CHANGED = "stage_changed"
    FLOW_RESTARTED = "flow_restarted"
    STEP_SENT = "step_sent"
    STEP_FAILED = "step_failed"
    FEE_WAIVED = "fee_waived"
    PAYMENT = "payment"
    PAUSED = "paused"
    RESUMED = "resumed"
    PAID_IN_ACCOUNTING = "paid_in_accounting"  # R6: a case in collection, marked for a person
    REOPENED_IN_ACCOUNTING = "reopened_in_accounting"
    COLLECTION_WARNING_SENT = "collection_warning_sent"
    COLLECTION_STARTED = "collection_started"
    SUCCESS_FEE = "success_fee"
    CREDIT_NOTE_REQUESTED = "credit_note_requested"
    CREDIT_NOTE_CREATED = "credit_note_created"
    WRITE_OFF_REQUESTED = "write_off_requested"
    WRITTEN_OFF = "written_off"
    POSTING_REFUSED = "posting_refused"  # refused before anything was booked: dropped
    POSTING_ABANDONED = "posting_abandoned"  # a person dropped an unfinished posting
    CLOSED = "closed"
    REOPENED = "reopened"  # closed by R1, its invoice open again in the books
    LETTER_APPROVED = "letter_approved"  # a person let a letter of the plan go
    LETTER_HELD = "letter_held"  # a person held a letter back, with a reason
    LETTER_WITHDRAWN = "letter_withdrawn"  # a letter not yet sent that the case left behind
    # the collection warning went out later than it was made: its days count from then
    COLLECTION_DEADLINE_MOVED = "collection_deadline_moved"


class CloseCode(StrEnum):
    """Why a case was closed: a person's codes (A1), then the hub's own (R1, R2, C3, C4)."""

    PAID = "paid"
    CREDITED = "credited"
    DISPUTE = "dispute"
    SETTLED = "settled"
    ERROR = "error"
    WRITTEN_OFF = "written_off"
    OTHER = "other"
    PAID_IN_ACCOUNTING = "paid_in_accounting"
    MODE_CHANGED = "mode_changed"
    SENT_TO_COLLECTION = "sent_to_collection"


class MessageStatus(StrEnum):
    """Where a message is in the outbox: waiting for a person's approval (the client's
    ``approval`` rule) or held back by one, queued, being sent (claimed), sent, failed (to be
    retried), or cancelled (its case closed, or left its step, before it went)."""

    PENDING_APPROVAL = "pending_approval"
    HELD = "held"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


#: A letter made and not yet out: its case waits for it before it takes its next step.
UNSENT: tuple[MessageStatus, ...] = (
    MessageStatus.PENDING_APPROVAL,
    MessageStatus.HELD,
    MessageStatus.QUEUED,
    MessageStatus.SENDING,
    MessageStatus.FAILED,
)


#: Closing codes (A1) and, per code, the detailed reasons a person may choose. The codes
#: marked automatic are set by the hub itself (R1, R2) and cannot be chosen by hand.
CLOSING_CODES: dict[CloseCode, tuple[str, ...]] = {
    CloseCode.PAID: ("paid_to_us", "paid_after_agreement", "registered_payment"),
    CloseCode.CREDITED: ("credit_note_issued", "invoice_was_wrong"),
    CloseCode.DISPUTE: ("customer_disputes_claim", "complaint_about_goods_or_service"),
    CloseCode.SETTLED: ("set_off_against_our_debt", "settled_outside_the_hub"),
    CloseCode.ERROR: ("wrong_customer", "duplicate_case", "started_by_mistake"),
    CloseCode.WRITTEN_OFF: ("loss_confirmed", "amount_too_small_to_pursue"),
    CloseCode.OTHER: ("other",),
}
AUTOMATIC_CLOSING_CODES: dict[CloseCode, tuple[str, ...]] = {
    CloseCode.PAID_IN_ACCOUNTING: ("outstanding_zero", "customer_balance_zero"),  # R1, R2
    CloseCode.MODE_CHANGED: ("to_customer_mode", "to_invoice_mode"),  # C3
    CloseCode.SENT_TO_COLLECTION: ("per_invoice_collection",),  # C4: a customer case's invoices
}
