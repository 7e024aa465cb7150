"""The dispatch plan: what the cycle would send on a day, and a person's approval of it.

:func:`plan` runs the cycle itself (:func:`hub.dunning.cycle.decide`, the same decisions, no
second copy of the rules) in a unit of work that is always rolled back: it shows the letters
the cycle would make on that day, changes nothing in the database and calls no plugin, so
nothing reaches the books or a delivery channel.

With the client's rule ``approval=required`` the cycle's letters wait (``pending_approval``)
until a person approves them (:func:`approve`), all or some; a person may hold one back with
a reason (:func:`hold`): it is not sent until approved later. While a case's letter waits or
is held the case takes no further step, its fee is not charged, and what counts from the
letter (the next step, the law's fee spacing and pay-by date, a collection warning's
statutory days) counts from the day it actually goes out (:mod:`hub.dunning.messages`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hub import clients, limits
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning.cases import add_event
from hub.dunning.cycle import CycleReport, decide
from hub.dunning.messages import DEFAULT_DELIVERY
from hub.dunning.states import UNSENT, CaseState, EventKind, MessageStatus
from hub.errors import InputError, NotFoundError, StorageError
from hub.plugins import PluginRegistry
from hub.records import Record

#: What a person may approve: a letter waiting for approval, or one held back.
APPROVABLE = (MessageStatus.PENDING_APPROVAL, MessageStatus.HELD)
#: What a person may hold back: a letter not out yet that no delivery run is sending.
HOLDABLE = (MessageStatus.PENDING_APPROVAL, MessageStatus.QUEUED, MessageStatus.FAILED)


@dataclass(frozen=True)
class Planned(Record):
    """One letter the cycle would make; ``as_dict`` is one of ``hub dispatch plan --json``'s
    ``letters``. ``case_id`` None: a case the cycle would start that day. ``channel``: the
    delivery plugin it would go through. ``status``: what it would be (``queued``, or
    ``pending_approval`` where the client's letters need approval). ``fee_waived``: why the
    step's fee would be left off (the rule), if it would."""

    case_id: int | None
    customer_number: str
    customer_name: str
    kind: str
    stage: str
    invoice_numbers: tuple[str, ...]
    fee: Decimal
    fee_currency: str
    amount: Decimal
    currency: str
    channel: str
    status: str
    fee_waived: str | None


@dataclass(frozen=True)
class Plan:
    """What the cycle would do on ``day``: the letters, and the steps that would fail."""

    day: dt.date
    letters: list[Planned]
    failures: list[dict[str, object]]


def channel_of(client: t.Client) -> str:
    """The delivery channel the client's letters go through (its delivery plugin, or the
    file outbox)."""
    enabled = clients.enabled_plugin(client, "delivery")
    return enabled.plugin if enabled is not None else DEFAULT_DELIVERY


def plan(
    db: Database, client_id: int, day: dt.date, *, registry: PluginRegistry | None = None
) -> Plan:
    """The letters the cycle would make for the client on ``day``, from the database as it is
    now (a sync that day may find more paid, or new invoices), without changing anything."""
    with Session(db.engine, expire_on_commit=False) as session:
        try:
            known = set(session.scalars(select(t.Case.id).where(t.Case.client_id == client_id)))
            client = session.get(t.Client, client_id)
            assert client is not None
            channel = channel_of(client)
            report, made = decide(session, client_id, day, registry=registry)
            waived = _by_case(report, EventKind.FEE_WAIVED)
            letters = [
                Planned(
                    case_id=each.case.id if each.case.id in known else None,
                    customer_number=each.case.customer_number,
                    customer_name=each.message.recipient_name,
                    kind=each.message.kind,
                    stage=each.message.stage,
                    invoice_numbers=each.invoice_numbers,
                    fee=each.message.fee,
                    fee_currency=each.message.fee_currency,
                    amount=each.message.amount if each.message.amount is not None else Decimal(0),
                    currency=each.message.currency or "",
                    channel=channel,
                    status=each.message.status,
                    fee_waived=waived.get(each.case.id),
                )
                for each in made
            ]
            failures: list[dict[str, object]] = [
                {
                    "case": entry["case"] if entry["case"] in known else None,
                    "kind": entry.get("kind"),
                    "reason": entry.get("reason"),
                }
                for entry in report.entries
                if entry["action"] == EventKind.STEP_FAILED
            ]
            return Plan(day, letters, failures)
        except DBAPIError as exc:  # e.g. a cycle wrote the same letter meanwhile
            raise StorageError(
                f"the plan for {day} could not be made ({type(exc.orig).__name__}); nothing"
                " was changed: try again"
            ) from exc
        finally:
            session.rollback()


def _by_case(report: CycleReport, action: EventKind) -> dict[int, str]:
    return {
        entry["case"]: str(entry.get("reason"))
        for entry in report.entries
        if entry["action"] == action
    }


def waiting(session: Session, client: t.Client) -> list[tuple[t.Message, str]]:
    """The client's letters made and not out yet, oldest first, each with its customer number:
    waiting for approval, held back, queued (for the sending window or the next delivery),
    failing or being sent. A letter of a closed case is left out: it will never go (a closing
    confirmation does)."""
    rows = session.execute(
        select(t.Message, t.Case.customer_number, t.Case.state)
        .join(t.Case, t.Case.id == t.Message.case_id)
        .where(t.Message.client_id == client.id, t.Message.status.in_(UNSENT))
        .order_by(t.Message.id)
    ).all()
    return [
        (message, customer)
        for message, customer, state in rows
        if state != CaseState.CLOSED or message.kind == "closing_confirmation"
    ]


def _letters_of(session: Session, client: t.Client, ids: Sequence[int]) -> list[t.Message]:
    found = {
        m.id: m
        for m in session.scalars(
            select(t.Message).where(t.Message.id.in_(ids), t.Message.client_id == client.id)
        )
    }
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFoundError(
            f"client {client.name!r} has no letter {', '.join(map(str, missing))}"
            f" (see `hub dispatch list --client {client.name}`)"
        )
    return [found[i] for i in dict.fromkeys(ids)]


def _why_not(message: t.Message, allowed: Sequence[MessageStatus], action: str) -> str | None:
    """Why ``message`` cannot be approved or held (``action``), or None if it can."""
    status = MessageStatus(message.status)
    if status in allowed:
        return None
    detail = {
        MessageStatus.SENT: f"went out on {message.sent_on}",
        MessageStatus.SENDING: "is being sent right now",
        MessageStatus.CANCELLED: f"was cancelled ({message.last_error or 'its case closed'})",
        MessageStatus.HELD: f"is held already (by {message.held_by}: {message.hold_reason})",
        MessageStatus.QUEUED: "is queued to go out (nothing to approve)",
        MessageStatus.FAILED: "is queued to go out again (nothing to approve)",
        MessageStatus.PENDING_APPROVAL: "waits for approval",
    }[status]
    return f"letter {message.id} {detail}: it cannot be {action}"


def approve(
    session: Session,
    client: t.Client,
    letter_ids: Sequence[int] | None,
    *,
    actor: str,
    today: dt.date,
) -> list[tuple[t.Message, str]]:
    """Let letters go: ``letter_ids`` (each waiting for approval or held back), or, with None,
    every letter of the client waiting for approval (a held letter stays held until a person
    names it). All or nothing: a letter that cannot be approved refuses the whole request,
    naming it and why. Each approval is in its case's history. Returns the letters approved
    (now queued: the next delivery sends them, within the client's sending window), each with
    its customer number."""
    if letter_ids is None:
        letters = [
            message
            for message, _ in waiting(session, client)
            if message.status == MessageStatus.PENDING_APPROVAL
        ]
    else:
        if not letter_ids:
            raise InputError("name the letters to approve, or approve them all")
        letters = _letters_of(session, client, letter_ids)
        problems = [why for m in letters if (why := _why_not(m, APPROVABLE, "approved"))]
        if problems:
            raise InputError("; ".join(problems))
    if not letters:
        return []
    cases = {
        c.id: c
        for c in session.scalars(select(t.Case).where(t.Case.id.in_({m.case_id for m in letters})))
    }
    closed = [
        f"letter {m.id}: its case {m.case_id} is closed, so it will not go out"
        for m in letters
        if cases[m.case_id].state == CaseState.CLOSED and m.kind != "closing_confirmation"
    ]
    if closed:
        raise InputError("; ".join(closed))
    ids = [m.id for m in letters]
    approved = set(
        session.scalars(
            update(t.Message)
            .where(t.Message.id.in_(ids), t.Message.status.in_(APPROVABLE))
            .values(
                status=MessageStatus.QUEUED.value,
                approved_by=actor,
                approved_at=dt.datetime.now(dt.UTC),
            )
            .returning(t.Message.id)
        )
    )
    if approved != set(ids):
        raise InputError(
            f"letter {', '.join(str(i) for i in ids if i not in approved)} changed meanwhile"
            " (sent, cancelled or approved by someone else); nothing was approved"
        )
    for message in letters:
        session.refresh(message)
        add_event(
            cases[message.case_id],
            EventKind.LETTER_APPROVED,
            actor,
            today,
            None,
            letter=message.id,
            kind=message.kind,
            fee=str(message.fee),
        )
    return [(m, cases[m.case_id].customer_number) for m in letters]


def letter_client(session: Session, letter_id: int) -> t.Client:
    """The client whose letter ``letter_id`` is; :class:`NotFoundError` if there is none."""
    client = session.scalar(
        select(t.Client)
        .join(t.Message, t.Message.client_id == t.Client.id)
        .where(t.Message.id == letter_id)
    )
    if client is None:
        raise NotFoundError(f"no letter {letter_id} (see `hub dispatch list`)")
    return client


def hold(
    session: Session, letter_id: int, reason: str, *, actor: str, today: dt.date
) -> tuple[t.Message, str]:
    """Hold a letter back (waiting for approval, queued or failing) with ``reason``: it is not
    sent until a person approves it (:func:`approve`), and its case waits for it. Refused
    without a reason, or for a letter that is out, being sent, cancelled or held already.
    Returns the letter and its customer number."""
    reason = reason.strip()
    if not reason:
        raise InputError(f"letter {letter_id}: holding a letter back needs a reason (--reason)")
    why = limits.text_problem(reason, multiline=True)
    if why is not None:
        raise InputError(f"letter {letter_id}: the reason {why}")
    message = session.get(t.Message, letter_id, populate_existing=True)
    if message is None:
        raise NotFoundError(f"no letter {letter_id} (see `hub dispatch list`)")
    problem = _why_not(message, HOLDABLE, "held")
    if problem is not None:
        raise InputError(problem)
    held = session.execute(
        update(t.Message)
        .where(t.Message.id == letter_id, t.Message.status == message.status)
        .values(
            status=MessageStatus.HELD.value,
            held_by=actor,
            held_at=dt.datetime.now(dt.UTC),
            hold_reason=reason,
        )
    ).rowcount  # type: ignore[attr-defined]
    if not held:
        raise InputError(f"letter {letter_id} changed meanwhile (sent or cancelled); not held")
    session.refresh(message)
    case = session.get(t.Case, message.case_id)
    assert case is not None
    add_event(
        case, EventKind.LETTER_HELD, actor, today, reason, letter=message.id, kind=message.kind
    )
    return message, case.customer_number
