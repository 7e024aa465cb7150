"""``/api/v1/dispatch``: a client's plan for a day (``hub dispatch plan --json``), its letters
waiting (``hub dispatch list --json``, a page at a time), approving all or some (``hub
dispatch approve --json``) and holding one back (``hub dispatch hold --json``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.jsonapi import doc, listing, one
from hub.console.paging import PageParams
from hub.operations import dispatch

router = APIRouter(tags=["dispatch"])

_PLAN: dict[str, Any] = {
    "type": "object",
    "title": "DispatchPlan",
    "description": "`hub dispatch plan --json`",
    "additionalProperties": True,
}
_APPROVED: dict[str, Any] = {
    "type": "object",
    "title": "Approved",
    "description": "`hub dispatch approve --json`: the letters approved and the delivery",
    "additionalProperties": True,
}


class ApproveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    letters: list[int] = Field(default_factory=list, description="the letters to approve")
    all: bool = Field(default=False, description="every letter waiting for approval")


class HoldBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=2000, description="why it is held back (required)")


@router.get("/dispatch/{client}/plan", responses=doc(_PLAN))
def plan(
    ctx: Ctx,
    client: str,
    date: Annotated[dt.date | None, Query(description="The day (default: its today).")] = None,
) -> Response:
    """What the cycle would send on the day; nothing is sent, stored or posted."""
    return one(dispatch.plan_dispatch(ctx, client, on=date))


@router.get("/dispatch/{client}/waiting", responses=doc(dispatch.OutboxLetter, listed=True))
def waiting(ctx: Ctx, client: str, page: PageParams) -> Response:
    """The client's letters made and not out yet."""
    return listing(page.of(dispatch.list_waiting(ctx, client)))


@router.post("/dispatch/{client}/approve", responses=doc(_APPROVED))
def approve(ctx: Ctx, client: str, body: ApproveBody) -> Response:
    """Approve ``letters``, or ``all`` that wait for approval (exactly one of the two); they
    go out at once within the client's sending window."""
    request = dispatch.ApproveRequest(client, tuple(body.letters), every=body.all)
    return one(dispatch.approve_letters(ctx, request))


@router.post("/dispatch/letters/{letter_id}/hold", responses=doc(dispatch.OutboxLetter))
def hold(ctx: Ctx, letter_id: int, body: HoldBody) -> Response:
    """Hold a letter back with a reason: it is not sent until approved."""
    return one(dispatch.hold_letter(ctx, dispatch.HoldRequest(letter_id, body.reason)))
