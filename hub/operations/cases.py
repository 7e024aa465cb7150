"""Cases: start one by hand, list and show them, and a person's actions on one (A1–A6), with
the actions a case offers a person now (:func:`case_actions`, what a front end shows).

Each action resolves the case's client once (its ``today`` fixed once), acts as
``ctx.actor`` on that day in one transaction, and returns the case as ``hub cases show``
shows it afterwards. Sending to collection (D1) and writing off (D4) are in
:mod:`hub.operations.collection`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.amounts import ZERO
from hub.clients import enabled_plugin
from hub.db import tables as t
from hub.dunning import actions, postings
from hub.dunning import cases as dunning_cases
from hub.dunning.states import CLOSING_CODES, CaseMode, CaseState, CloseCode, EventKind, Stage
from hub.dunning.views import case_detail, case_rows
from hub.errors import NotFoundError
from hub.model import Capability
from hub.operations import access
from hub.operations.context import ClientDay, Context
from hub.records import Record

__all__ = [
    "ACTIONS",
    "CLOSING_CODES",
    "AbandonRequest",
    "CaseActions",
    "CaseFilter",
    "CaseList",
    "CaseState",
    "CaseView",
    "CloseCode",
    "CloseRequest",
    "CreditNoted",
    "EventKind",
    "PauseRequest",
    "PaymentRequest",
    "Stage",
    "abandon_posting",
    "case_actions",
    "case_day",
    "case_state",
    "change_flow",
    "close_case",
    "credit_note",
    "list_cases",
    "open_case_of",
    "pause_case",
    "register_payment",
    "restart_flow",
    "resume_case",
    "show_case",
    "start_case",
    "view_case",
]


@dataclass(frozen=True)
class CaseView:
    """A case as ``hub cases show`` shows it (keys: :mod:`hub.dunning.views`)."""

    detail: dict[str, Any]

    @property
    def id(self) -> int:
        return int(self.detail["id"])

    @property
    def stage(self) -> str:
        return str(self.detail["stage"])

    @property
    def state(self) -> str:
        return str(self.detail["state"])

    def as_dict(self) -> dict[str, Any]:
        return self.detail


@dataclass(frozen=True)
class CreditNoted(CaseView):
    """A3 done: the case and the credit note's reference in the accounting system."""

    reference: str


@dataclass(frozen=True)
class CaseFilter:
    """Which cases to list. ``customer``: the cases of that customer number; ``overdue``: only
    cases not closed that pursue something past its due date on their client's today (an
    invoice case whose invoice is overdue, a customer case covering overdue invoices)."""

    client: str | None = None
    stage: Stage | None = None
    state: CaseState | None = None
    customer: str | None = None
    overdue: bool = False


@dataclass(frozen=True)
class CaseList:
    """The cases of ``hub cases list``, each a row as :func:`hub.dunning.views.case_rows`:
    ``rows`` from the ``offset``-th of ``total`` matching (all of them without a limit)."""

    rows: list[dict[str, Any]]
    total: int = 0


@dataclass(frozen=True)
class CloseRequest:
    case_id: int
    code: str
    reason: str
    notify: bool = False


@dataclass(frozen=True)
class PaymentRequest:
    case_id: int
    amount: Decimal
    paid_on: dt.date


@dataclass(frozen=True)
class AbandonRequest:
    case_id: int
    reason: str


@dataclass(frozen=True)
class PauseRequest:
    case_id: int
    reason: str
    note: str | None = None
    resume_on: dt.date | None = None


def case_day(ctx: Context, session: Session, case_id: int) -> ClientDay:
    """The client of case ``case_id`` with its today fixed now; NotFoundError if there is no
    such case or the acting user may not see its client (the same message either way)."""
    case = dunning_cases.get_case(session, case_id)
    client = session.get(t.Client, case.client_id)
    assert client is not None
    access.refuse_unseen(ctx, client.name, f"no case {case_id} (see `hub cases list`)")
    return ctx.day_of(client)


def case_state(session: Session, case: t.Case) -> dict[str, Any]:
    """What a person's action changes on a case, as the audit log keeps it before and after
    (None values left out)."""
    state: dict[str, Any] = {
        "stage": case.stage,
        "state": case.state,
        "mode": case.mode,
        "round": case.round,
        "step": case.step_index,
        "pause_reason": case.pause_reason,
        "pause_note": case.pause_note,
        "resume_on": case.resume_on,
        "close_code": case.close_code,
        "close_reason": case.close_reason,
        "paid_in_hub": dunning_cases.payments_by_case(session, [case.id]).get(case.id, ZERO),
        "collection_deadline": case.collection_deadline,
        "credit_note_key": case.credit_note_key,
        "credit_note": case.credit_note_ref,
        "write_off_key": case.write_off_key,
        "write_off": case.write_off_ref,
    }
    return {key: value for key, value in state.items() if value is not None}


def view_case(ctx: Context, case_id: int, day: ClientDay) -> CaseView:
    """The case as it is stored now, on its client's ``day``."""
    with ctx.db.session() as session:
        return CaseView(case_detail(session, dunning_cases.get_case(session, case_id), day.today))


def _act(
    ctx: Context,
    case_id: int,
    what: str,
    action: Callable[[Session, dt.date, str], object],
) -> CaseView:
    """Run ``action(session, today, actor)`` on the case in one transaction, if the acting
    user may, recorded in the audit log as ``what``; the case after."""
    with ctx.db.session() as session:
        day = case_day(ctx, session, case_id)
        with access.changing(
            session, ctx, action=what, client=day.name, subject=f"case {case_id}"
        ) as change:
            case = dunning_cases.lock_case(session, case_id)
            change.before = case_state(session, case)
            action(session, day.today, ctx.actor.name)
            change.after = case_state(session, case)
    return view_case(ctx, case_id, day)


def start_case(ctx: Context, *, client: str, invoice: str) -> CaseView:
    """Start a case for an open invoice (as synced); refused for a client in customer mode,
    whose cases follow customers and start by themselves (C1)."""
    with ctx.db.session() as session:
        owner = access.client_row(ctx, session, client)
        day = ctx.day_of(owner)
        with access.changing(
            session, ctx, action="case.start", client=client, subject=f"invoice {invoice}"
        ) as change:
            case = actions.start_by_hand(session, owner, invoice, day.today, ctx.actor.name)
            change.subject = f"case {case.id}"
            change.after = {"invoice": invoice, **case_state(session, case)}
            case_id = case.id
    return view_case(ctx, case_id, day)


#: How many cases' rows are computed in one query (the ids go in an IN list).
_BATCH = 500


def list_cases(
    ctx: Context, request: CaseFilter, *, limit: int | None = None, offset: int = 0
) -> CaseList:
    """The cases matching the filter, oldest first, of the clients the acting user may see,
    each with its next step on its own client's today; with ``limit``, at most that many from
    the ``offset``-th (``total`` counts them all).

    :raises NotFoundError: ``request.client`` does not exist or the user may not see it.
    """
    days: dict[int, dt.date] = {}

    def today_of(client: t.Client) -> dt.date:
        if client.id not in days:
            days[client.id] = ctx.day_of(client).today
        return days[client.id]

    with ctx.db.session() as session:
        query = (
            select(t.Case.id, t.Case.client_id, t.Case.mode, t.Invoice.due_date)
            .join(t.Client, t.Client.id == t.Case.client_id)
            .outerjoin(t.Invoice, t.Invoice.id == t.Case.invoice_id)
            .order_by(t.Case.id)
        )
        if request.client:
            query = query.where(t.Case.client_id == ctx.client(session, request.client).id)
        query = query.where(access.seen_names(ctx, t.Client.name))
        if request.stage:
            query = query.where(t.Case.stage == request.stage.value)
        if request.state:
            query = query.where(t.Case.state == request.state.value)
        if request.customer is not None:
            query = query.where(t.Case.customer_number == request.customer)
        if request.overdue:
            query = query.where(t.Case.state != CaseState.CLOSED.value)
        found = session.execute(query).all()

        def rows_of(ids: list[int]) -> list[dict[str, Any]]:
            return [
                row
                for start in range(0, len(ids), _BATCH)
                for row in case_rows(session, today_of, case_ids=ids[start : start + _BATCH])
            ]

        end = None if limit is None else offset + limit
        if not request.overdue:
            ids = [case_id for case_id, _, _, _ in found]
            return CaseList(rows_of(ids[offset:end]), len(ids))
        owners = {
            c.id: c
            for c in session.scalars(
                select(t.Client).where(t.Client.id.in_({client_id for _, client_id, _, _ in found}))
            )
        }
        ids = [
            case_id
            for case_id, client_id, mode, due_date in found
            if mode == CaseMode.CUSTOMER
            or (due_date is not None and due_date < today_of(owners[client_id]))
        ]
        rows = [
            row for row in rows_of(ids) if row["outstanding_amount"] > 0 and row["invoice_numbers"]
        ]
    return CaseList(rows[offset:end], len(rows))


def show_case(ctx: Context, case_id: int) -> CaseView:
    """The case with its steps, messages, payments and whole history."""
    with ctx.db.session() as session:
        day = case_day(ctx, session, case_id)
    return view_case(ctx, case_id, day)


def close_case(ctx: Context, request: CloseRequest) -> CaseView:
    """A1: close with a closing code and reason, optionally sending the confirmation."""
    return _act(
        ctx,
        request.case_id,
        "case.close",
        lambda session, today, actor: actions.close(
            session,
            request.case_id,
            request.code,
            request.reason,
            today,
            notify=request.notify,
            actor=actor,
        ),
    )


def register_payment(ctx: Context, request: PaymentRequest) -> CaseView:
    """A2: a payment the books do not show yet; lowers what is pursued, not booked."""
    return _act(
        ctx,
        request.case_id,
        "case.payment",
        lambda session, today, actor: actions.register_payment(
            session, request.case_id, request.amount, request.paid_on, today, actor=actor
        ),
    )


def credit_note(ctx: Context, case_id: int) -> CreditNoted:
    """A3: credit the invoice in full in the accounting system and close the case."""
    with ctx.db.session() as session:
        day = case_day(ctx, session, case_id)
        before = case_state(session, dunning_cases.get_case(session, case_id))
    change = access.permit(
        ctx, action="case.credit_note", client=day.name, subject=f"case {case_id}"
    )
    change.before = before
    case = actions.credit_note(
        ctx.db,
        ctx.registry,
        ctx.box,
        case_id,
        day.today,
        actor=ctx.actor.name,
        on_request=lambda session, case: _requested(change, session, case),
    )
    assert case.credit_note_ref is not None
    return CreditNoted(view_case(ctx, case_id, day).detail, case.credit_note_ref)


def _requested(change: access.Change, session: Session, case: t.Case) -> None:
    """A credit note or write-off asked for: recorded in the transaction that commits the
    request (its key; the posting's outcome follows in the case's history)."""
    change.after = case_state(session, case)
    change.record(session)


def pause_case(ctx: Context, request: PauseRequest) -> CaseView:
    """A4: pause with a reason, optionally until a day it resumes by itself."""
    return _act(
        ctx,
        request.case_id,
        "case.pause",
        lambda session, today, actor: actions.pause(
            session,
            request.case_id,
            request.reason,
            request.note,
            request.resume_on,
            today,
            actor=actor,
        ),
    )


def resume_case(ctx: Context, case_id: int) -> CaseView:
    """A4: resume a paused case by hand."""
    return _act(
        ctx,
        case_id,
        "case.resume",
        lambda session, today, actor: actions.resume(session, case_id, today, actor=actor),
    )


def change_flow(ctx: Context, case_id: int, to: Stage) -> CaseView:
    """A5: move the case to another stage's flow (to collection only through the warning)."""
    return _act(
        ctx,
        case_id,
        "case.change_flow",
        lambda session, today, actor: actions.change_flow(session, case_id, to, today, actor=actor),
    )


def restart_flow(ctx: Context, case_id: int) -> CaseView:
    """A6: run the current flow again from its first step."""
    return _act(
        ctx,
        case_id,
        "case.restart_flow",
        lambda session, today, actor: actions.restart_flow(session, case_id, today, actor=actor),
    )


def open_case_of(
    ctx: Context, client: str, *, customer: str | None = None, invoice: str | None = None
) -> int:
    """The id of the client's newest open case of ``customer`` (a customer case, C1) and/or of
    ``invoice``: how a person finds the case to act on; NotFoundError if there is none."""
    with ctx.db.session() as session:
        owner = access.client_row(ctx, session, client)
        query = select(t.Case.id).where(
            t.Case.client_id == owner.id, t.Case.state != CaseState.CLOSED.value
        )
        if customer is not None:
            query = query.where(
                t.Case.customer_number == customer, t.Case.mode == CaseMode.CUSTOMER
            )
        if invoice is not None:
            query = query.join(t.Invoice, t.Invoice.id == t.Case.invoice_id).where(
                t.Invoice.invoice_number == invoice
            )
        found = session.scalar(query.order_by(t.Case.id.desc()))
    if found is None:
        raise NotFoundError(
            f"client {client!r} has no open case of customer {customer} / invoice {invoice}"
        )
    return found


def abandon_posting(ctx: Context, request: AbandonRequest) -> CaseView:
    """Drop the case's unfinished credit note or write-off after a person looked in the
    books (recorded with the reason); refused while another command is posting it."""
    return _act(
        ctx,
        request.case_id,
        "case.abandon_posting",
        lambda session, today, actor: postings.abandon_posting(
            session, request.case_id, request.reason, today, actor=actor
        ),
    )


#: Every action a person may take on a case, as :func:`case_actions` names them: A1 close,
#: A2 payment, A3 credit_note, A4 pause and resume, A5 change_flow, A6 restart_flow, D1
#: collect, D4 write_off, and abandon_posting (an unfinished credit note or write-off).
ACTIONS = (
    "close",
    "payment",
    "credit_note",
    "pause",
    "resume",
    "change_flow",
    "restart_flow",
    "collect",
    "write_off",
    "abandon_posting",
)


@dataclass(frozen=True)
class CaseActions(Record):
    """What a person may do to case ``case_id`` now: ``may_change`` whether the acting user
    may change its client at all; ``offered`` the actions (of :data:`ACTIONS`) that apply to
    the case as it is, whoever acts (the action itself still checks, and refuses with why);
    ``flows`` the stages its flow may be changed to (A5); ``closing_codes`` the codes and
    their reasons a person may close it with (A1)."""

    case_id: int
    client: str
    may_change: bool
    offered: tuple[str, ...]
    flows: tuple[str, ...]
    closing_codes: dict[str, tuple[str, ...]]

    def offers(self, action: str) -> bool:
        return self.may_change and action in self.offered


def case_actions(ctx: Context, case_id: int) -> CaseActions:
    """The actions case ``case_id`` offers now (see :class:`CaseActions`).

    A credit note (A3) is offered only where the client's accounting plugin can make one, a
    write-off (D4) only where it posts journal lines; a case with an unfinished credit note or
    write-off offers only to finish it or to abandon it; a closed case offers nothing.

    :raises NotFoundError: no such case, or one of a client the acting user may not see.
    """
    with ctx.db.session() as session:
        day = case_day(ctx, session, case_id)
        case = dunning_cases.get_case(session, case_id)
        owner = session.get(t.Client, case.client_id)
        assert owner is not None
        plugin = enabled_plugin(owner)
        info = ctx.registry.infos.get(plugin.plugin) if plugin is not None else None
        can = frozenset(info.capabilities) if info is not None else frozenset()
        offered: list[str] = []
        flows: list[str] = []
        if case.state != CaseState.CLOSED.value:
            if case.write_off_key is not None and case.write_off_ref is None:
                offered = ["write_off", "abandon_posting"]
            elif case.credit_note_key is not None and case.credit_note_ref is None:
                offered = ["credit_note", "abandon_posting"]
            else:
                warned = case.collection_deadline is not None
                in_collection = case.stage == Stage.COLLECTION.value
                offered = ["close", "payment"]
                if Capability.CREDIT_NOTE in can and case.mode == CaseMode.INVOICE:
                    offered.append("credit_note")
                offered.append("resume" if case.state == CaseState.PAUSED.value else "pause")
                if not warned and not in_collection:
                    offered += ["change_flow", "restart_flow", "collect"]
                    if case.mode == CaseMode.CUSTOMER:
                        flows = [Stage.COLLECTION.value]
                    else:
                        flows = [s.value for s in Stage if s.value != case.stage]
                if Capability.JOURNAL in can:
                    offered.append("write_off")
    codes = {
        code.value: reasons
        for code, reasons in CLOSING_CODES.items()
        if code is not CloseCode.WRITTEN_OFF  # D4 closes it so, after posting the loss
    }
    return CaseActions(
        case_id=case_id,
        client=day.name,
        may_change=ctx.actor.may_change(day.name),
        offered=tuple(offered),
        flows=tuple(flows),
        closing_codes=codes,
    )


def refuse_unless_may_change(ctx: Context, case_id: int, action: str) -> CaseActions:
    """The case's actions, if the acting user may change the case's client; else
    :class:`ForbiddenError` naming the user, the case and the action (a front end asks before
    it shows a confirmation, so a viewer is refused before being asked to confirm). Nothing is
    changed or recorded."""
    found = case_actions(ctx, case_id)
    access.permit(ctx, action=f"case.{action}", client=found.client, subject=f"case {case_id}")
    return found
