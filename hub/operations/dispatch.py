"""The dispatch plan and its approval (``hub dispatch``; the console calls the same).

``plan_dispatch`` shows what the dunning cycle would send for a client on a day, changing
nothing; ``list_waiting`` the letters made and not out yet; ``approve_letters`` lets letters
waiting for approval (or held back) go, and delivers them at once within the client's sending
window; ``hold_letter`` holds one back with a reason. Seeing needs the actor to see the client
(else :class:`hub.errors.NotFoundError`); a change needs ``ctx.actor.may_change(client)``
(else :class:`hub.errors.ForbiddenError`). See :mod:`hub.dunning.dispatch` for the rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hub.db import tables as t
from hub.dunning import dispatch
from hub.dunning import rules as dunning_rules
from hub.dunning.messages import DeliveryReport
from hub.errors import InputError, NotFoundError
from hub.operations import access
from hub.operations.context import ClientDay, Context
from hub.operations.sync import deliver_messages
from hub.records import Record, made_from

__all__ = [
    "ApproveRequest",
    "Approved",
    "DispatchPlan",
    "HoldRequest",
    "OutboxLetter",
    "PlannedLetter",
    "approve_letters",
    "hold_letter",
    "list_waiting",
    "plan_dispatch",
]


PlannedLetter = dispatch.Planned
"""A letter the cycle would make (:class:`hub.dunning.dispatch.Planned`)."""


@dataclass(frozen=True)
class DispatchPlan:
    """What the cycle would send for ``client`` on ``date``; ``as_dict`` is
    ``hub dispatch plan --json``. ``waiting``: letters made earlier that are not out yet
    (``list_waiting`` shows them); ``failures``: steps whose letter could not be made."""

    client: str
    date: dt.date
    approval: str
    sending_window: str | None
    letters: list[PlannedLetter]
    waiting: int
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "date": self.date,
            "approval": self.approval,
            "sending_window": self.sending_window,
            "letters": [letter.as_dict() for letter in self.letters],
            "waiting": self.waiting,
            "failures": self.failures,
        }


@dataclass(frozen=True)
class OutboxLetter(Record):
    """A letter in the outbox with its status (as listed waiting, held or approved);
    ``as_dict`` is one row of ``hub dispatch list --json``. ``amount`` and ``currency`` are
    None for a letter made before the hub recorded them."""

    id: int
    case_id: int
    customer_number: str
    recipient_name: str
    kind: str
    stage: str
    created_on: dt.date
    fee: Decimal
    fee_currency: str
    amount: Decimal | None
    currency: str | None
    subject: str
    status: str
    last_error: str | None
    held_by: str | None
    hold_reason: str | None
    approved_by: str | None


@dataclass(frozen=True)
class ApproveRequest:
    """``hub dispatch approve``: the client, and the letters to approve (``letters``) or all
    that wait for approval (``every``); exactly one of the two."""

    client: str
    letters: tuple[int, ...] = ()
    every: bool = False


@dataclass(frozen=True)
class Approved:
    """The letters approved, and what the delivery right after did (letters outside the
    client's sending window wait for it: ``delivery.waiting``)."""

    client: str
    letters: list[OutboxLetter]
    delivery: DeliveryReport

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "approved": [letter.as_dict() for letter in self.letters],
            "delivery": {
                "sent": self.delivery.sent,
                "failed": self.delivery.failed,
                "waiting": self.delivery.waiting,
                "window_opens": self.delivery.window_opens,
                "errors": self.delivery.errors,
            },
        }


@dataclass(frozen=True)
class HoldRequest:
    """``hub dispatch hold``: the letter and why it is held back (required)."""

    letter: int
    reason: str


def _waiting_letter(message: t.Message, customer_number: str) -> OutboxLetter:
    return made_from(
        OutboxLetter, message, case_id=message.case_id, customer_number=customer_number
    )


def plan_dispatch(ctx: Context, client: str, *, on: dt.date | None = None) -> DispatchPlan:
    """What the dunning cycle would send for ``client`` on ``on`` (default: its today), from
    the database as it is: each letter's kind, case, customer, fee, channel and amount. Nothing
    is sent, posted or stored; no plugin is called.

    :raises InputError: ``on`` is before the client's today (a plan looks ahead).
    """
    with ctx.db.session() as session:
        day = ctx.client(session, client)
        row = session.get(t.Client, day.id)
        assert row is not None
        rules = session.get(t.ClientDunning, day.id)
        waiting = len(dispatch.waiting(session, row))
    on = day.today if on is None else on
    if on < day.today:
        raise InputError(
            f"the plan's day {on} is before {client}'s today ({day.today}): a plan shows what"
            " the cycle would send on a day to come"
        )
    planned = dispatch.plan(ctx.db, day.id, on, registry=ctx.registry)
    return DispatchPlan(
        client=day.name,
        date=on,
        approval=rules.approval if rules is not None else dunning_rules.APPROVAL_NONE,
        sending_window=rules.sending_window if rules is not None else None,
        letters=planned.letters,
        waiting=waiting,
        failures=list(planned.failures),
    )


def list_waiting(ctx: Context, client: str) -> list[OutboxLetter]:
    """The client's letters made and not out yet, oldest first: waiting for approval, held
    back (with who and why), queued (for the sending window or the next delivery), failing."""
    with ctx.db.session() as session:
        day = ctx.client(session, client)
        row = session.get(t.Client, day.id)
        assert row is not None
        return [_waiting_letter(m, customer) for m, customer in dispatch.waiting(session, row)]


def approve_letters(ctx: Context, request: ApproveRequest) -> Approved:
    """Approve the letters named, or every letter waiting for approval, as ``ctx.actor``
    (each recorded in its case's history), then deliver the client's outbox at once (within
    its sending window; outside it the letters wait for it to open).

    :raises InputError: neither or both of ``letters`` and ``every``; a letter that is not
        the client's, or that is not waiting for approval or held (nothing is approved then).
    :raises ForbiddenError: the actor may not change the client.
    """
    if bool(request.letters) == request.every:
        raise InputError("approve either all the letters waiting (--all) or some (--letter ID)")
    with ctx.db.session() as session:
        day = ctx.client(session, request.client)
        change = access.permit(
            ctx,
            action="dispatch.approve",
            client=day.name,
            subject="every letter waiting" if request.every else _letters(request.letters),
        )
        row = session.get(t.Client, day.id)
        assert row is not None
        approved = dispatch.approve(
            session,
            row,
            None if request.every else request.letters,
            actor=ctx.actor.name,
            today=day.today,
        )
        letters = [_waiting_letter(m, customer) for m, customer in approved]
        if letters:
            change.after = {"approved": [letter.id for letter in letters]}
            change.record(session)
    delivery = deliver_messages(ctx, day) if letters else DeliveryReport()
    return Approved(day.name, _as_now(ctx, letters), delivery)


def _as_now(ctx: Context, letters: list[OutboxLetter]) -> list[OutboxLetter]:
    """The approved letters as they are after the delivery (sent, or still queued)."""
    if not letters:
        return letters
    with ctx.db.session() as session:
        return [
            _waiting_letter(message, letter.customer_number)
            for letter in letters
            if (message := session.get(t.Message, letter.id)) is not None
        ]


def hold_letter(ctx: Context, request: HoldRequest) -> OutboxLetter:
    """Hold letter ``request.letter`` back with ``request.reason``, as ``ctx.actor`` (recorded
    in its case's history): it is not sent until approved (``approve_letters``).

    :raises NotFoundError: there is no such letter, or the actor may not see its client.
    :raises ForbiddenError: the actor may not change its client.
    :raises InputError: no reason; the letter is out, being sent, cancelled or held already.
    """
    with ctx.db.session() as session:
        owner = dispatch.letter_client(session, request.letter)
        if not ctx.actor.may_see(owner.name):
            raise NotFoundError(f"no letter {request.letter} (see `hub dispatch list`)")
        change = access.permit(
            ctx, action="dispatch.hold", client=owner.name, subject=f"letter {request.letter}"
        )
        day: ClientDay = ctx.day_of(owner)
        message, customer = dispatch.hold(
            session, request.letter, request.reason, actor=ctx.actor.name, today=day.today
        )
        change.after = {"status": message.status, "reason": request.reason}
        change.record(session)
        return _waiting_letter(message, customer)


def _letters(ids: tuple[int, ...]) -> str:
    return "letter " + ", ".join(str(i) for i in ids)
