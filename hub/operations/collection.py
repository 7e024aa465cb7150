"""Collection: send a case to collection (D1), write a loss off (D4), the overview (D3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hub.db import tables as t
from hub.dunning import actions, overview
from hub.dunning import write_off as write_offs
from hub.dunning.cases import lock_case
from hub.model import JournalEntry
from hub.operations import access
from hub.operations.cases import CaseView, case_day, case_state, view_case
from hub.operations.context import Context
from hub.operations.sync import deliver_messages


@dataclass(frozen=True)
class Collecting(CaseView):
    """D1 done: the warning made, and whether it went out at once.

    ``deadline``: collection starts the day after, unless paid. ``delivery_errors``: why the
    warning (or another queued letter of the client) is not delivered yet; collection waits.
    """

    deadline: dt.date
    delivery_failed: int
    delivery_errors: tuple[str, ...]


@dataclass(frozen=True)
class WriteOffRequest:
    case_id: int
    reason: str = "loss_confirmed"
    confirm: bool = False


@dataclass(frozen=True)
class WrittenOff(CaseView):
    """D4 done: the voucher's reference, the voucher, and whether this call posted it (False:
    it was written off before and nothing was posted again)."""

    reference: str
    entry: JournalEntry
    posted: bool


@dataclass(frozen=True)
class CollectionOverview:
    """The customers who owe after the last reminder, as
    :func:`hub.dunning.overview.collection_overview` lists them."""

    client: str
    rows: list[dict[str, Any]]


def collect(ctx: Context, case_id: int) -> Collecting:
    """D1: make the collection warning with the statutory deadline and deliver it at once
    (with the client's other queued letters): the statutory days count from the day it goes
    out. Unpaid, the case enters collection the day after the deadline."""
    with ctx.db.session() as session:
        day = case_day(ctx, session, case_id)
        with access.changing(
            session, ctx, action="case.collect", client=day.name, subject=f"case {case_id}"
        ) as change:
            change.before = case_state(session, lock_case(session, case_id))
            case = actions.send_to_collection(session, case_id, day.today, actor=ctx.actor.name)
            change.after = case_state(session, case)
        deadline = case.collection_deadline
        assert deadline is not None
    delivery = deliver_messages(ctx, day)
    return Collecting(
        view_case(ctx, case_id, day).detail,
        deadline,
        delivery.failed,
        tuple(delivery.errors),
    )


def write_off(ctx: Context, request: WriteOffRequest) -> WrittenOff:
    """D4: post the loss in the books through the client's plugin, once, and close the case
    as written off; running it again after a failure posts the same voucher under the same
    key. ``confirm``: finish it although the books show the invoice settled meanwhile."""
    with ctx.db.session() as session:
        day = case_day(ctx, session, request.case_id)
        change = access.permit(
            ctx, action="case.write_off", client=day.name, subject=f"case {request.case_id}"
        )
        change.before = case_state(session, session.get_one(t.Case, request.case_id))

    def requested(session: Session, case: t.Case) -> None:
        change.after = {**case_state(session, case), "reason": request.reason}
        change.record(session)

    case, entry, posted = write_offs.write_off(
        ctx.db,
        ctx.registry,
        ctx.box,
        request.case_id,
        request.reason,
        day.today,
        actor=ctx.actor.name,
        confirm=request.confirm,
        on_request=requested,
    )
    assert case.write_off_ref is not None
    return WrittenOff(
        view_case(ctx, request.case_id, day).detail, case.write_off_ref, entry, posted
    )


def collection_overview(ctx: Context, client: str) -> CollectionOverview:
    """D3: who still owes after the last reminder, and the unpaid invoices that make it up."""
    with ctx.db.session() as session:
        owner = access.client_row(ctx, session, client)
        rows = overview.collection_overview(session, owner, ctx.day_of(owner).today)
    return CollectionOverview(client, rows)
