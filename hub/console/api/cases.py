"""``/api/v1/cases``: list, show, start and act on cases (A1–A6, D1, D4), the same operations
as ``hub cases``; a case is answered as ``hub cases show --json`` prints it (each action's
answer is the case after it, with what the action made beside it).

The API asks for no confirmation (the CLI does not either): a request is the decision. What
the operation refuses is answered with its message: 422 (the CLI's exit 2), 403 for a user
who may not change the client, 404 for a case the user may not see.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from hub.amounts import CENT, parse_amount
from hub.clock import parse_date
from hub.console.deps import Ctx
from hub.console.jsonapi import doc, listing, one
from hub.console.paging import Paged, PageParams
from hub.operations import cases, collection

router = APIRouter(tags=["cases"])

#: A case's JSON: ``hub cases show --json`` (its keys: hub/dunning/views.py).
CASE: dict[str, Any] = {
    "type": "object",
    "title": "Case",
    "description": "a case as `hub cases show --json` prints it",
    "additionalProperties": True,
}
#: A row of ``hub cases list --json``.
CASE_ROW: dict[str, Any] = {**CASE, "title": "CaseRow", "description": "`hub cases list --json`"}


def _with(extra: dict[str, Any]) -> dict[str, Any]:
    return {**CASE, "properties": extra}


class NewCaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client: str = Field(max_length=200)
    invoice: str = Field(max_length=200, description="the invoice number, as synced")


class CloseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=64, description="a closing code (A1)")
    reason: str = Field(max_length=200, description="a reason of that code")
    notify: bool = Field(default=False, description="send the closing confirmation")


class PaymentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    amount: str = Field(max_length=32, description='the amount paid, e.g. "250.00"')
    date: str = Field(max_length=32, description="the day paid, YYYY-MM-DD")


class PauseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=2000)
    note: str | None = Field(default=None, max_length=2000)
    resume_on: str | None = Field(default=None, max_length=32, description="YYYY-MM-DD")


class FlowBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: cases.Stage


class WriteOffBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(default="loss_confirmed", max_length=64)
    confirm: bool = Field(
        default=False, description="finish it although the books show the invoice settled"
    )


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(max_length=2000)


@router.get("/cases", responses=doc(CASE_ROW, listed=True))
def case_list(
    ctx: Ctx,
    page: PageParams,
    client: Annotated[str | None, Query(max_length=200)] = None,
    stage: cases.Stage | None = None,
    state: cases.CaseState | None = None,
    customer: Annotated[str | None, Query(max_length=200)] = None,
    overdue: bool = False,
) -> Response:
    """Cases as ``hub cases list --json`` (the same filters), a page at a time."""
    chosen = cases.CaseFilter(client or None, stage, state, customer or None, overdue)
    found = cases.list_cases(ctx, chosen, limit=page.limit, offset=page.offset)
    return listing(Paged(found.rows, found.total, page.limit, page.offset))


@router.post("/cases", status_code=201, responses=doc(CASE, status=201))
def start_case(ctx: Ctx, body: NewCaseBody) -> Response:
    """Start a case for an open invoice (``hub cases start --json``)."""
    return one(cases.start_case(ctx, client=body.client, invoice=body.invoice), status=201)


@router.get("/cases/{case_id}", responses=doc(CASE))
def show_case(ctx: Ctx, case_id: int) -> Response:
    return one(cases.show_case(ctx, case_id))


@router.get("/cases/{case_id}/actions", responses=doc(cases.CaseActions))
def case_actions(ctx: Ctx, case_id: int) -> Response:
    """What the case offers now, and whether the token's owner may change it."""
    return one(cases.case_actions(ctx, case_id))


@router.post("/cases/{case_id}/close", responses=doc(CASE))
def close_case(ctx: Ctx, case_id: int, body: CloseBody) -> Response:
    """A1: close with a code and its reason."""
    request = cases.CloseRequest(case_id, body.code, body.reason, body.notify)
    return one(cases.close_case(ctx, request))


@router.post("/cases/{case_id}/payments", responses=doc(CASE))
def register_payment(ctx: Ctx, case_id: int, body: PaymentBody) -> Response:
    """A2: a payment the books do not show yet; lowers what is pursued, not booked."""
    amount = parse_amount(body.amount, what="amount", minimum=CENT)
    paid_on = parse_date(body.date, what="date")
    return one(cases.register_payment(ctx, cases.PaymentRequest(case_id, amount, paid_on)))


@router.post(
    "/cases/{case_id}/credit-note", responses=doc(_with({"reference": {"type": "string"}}))
)
def credit_note(ctx: Ctx, case_id: int) -> Response:
    """A3: credit the invoice in full in the accounting system and close the case."""
    done = cases.credit_note(ctx, case_id)
    return one({**done.as_dict(), "reference": done.reference})


@router.post("/cases/{case_id}/pause", responses=doc(CASE))
def pause_case(ctx: Ctx, case_id: int, body: PauseBody) -> Response:
    """A4: pause with a reason, optionally until a day it resumes by itself."""
    day = parse_date(body.resume_on, what="resume_on") if body.resume_on else None
    return one(cases.pause_case(ctx, cases.PauseRequest(case_id, body.reason, body.note, day)))


@router.post("/cases/{case_id}/resume", responses=doc(CASE))
def resume_case(ctx: Ctx, case_id: int) -> Response:
    """A4: resume a paused case."""
    return one(cases.resume_case(ctx, case_id))


@router.post("/cases/{case_id}/flow", responses=doc(CASE))
def change_flow(ctx: Ctx, case_id: int, body: FlowBody) -> Response:
    """A5: another stage's flow (to collection: through the collection warning)."""
    return one(cases.change_flow(ctx, case_id, body.to))


@router.post("/cases/{case_id}/restart", responses=doc(CASE))
def restart_flow(ctx: Ctx, case_id: int) -> Response:
    """A6: run the current flow again from its first step."""
    return one(cases.restart_flow(ctx, case_id))


@router.post(
    "/cases/{case_id}/collect",
    responses=doc(
        _with(
            {
                "deadline": {"type": "string", "format": "date"},
                "delivery_failed": {"type": "integer"},
                "delivery_errors": {"type": "array", "items": {"type": "string"}},
            }
        )
    ),
)
def collect(ctx: Ctx, case_id: int) -> Response:
    """D1: the collection warning with the statutory deadline, delivered at once."""
    done = collection.collect(ctx, case_id)
    return one(
        {
            **done.as_dict(),
            "deadline": done.deadline,
            "delivery_failed": done.delivery_failed,
            "delivery_errors": list(done.delivery_errors),
        }
    )


@router.post(
    "/cases/{case_id}/write-off",
    responses=doc(_with({"reference": {"type": "string"}, "posted": {"type": "boolean"}})),
)
def write_off(ctx: Ctx, case_id: int, body: WriteOffBody | None = None) -> Response:
    """D4: post the loss in the books once and close the case as written off; ``posted``
    false: it was written off before and nothing was posted again."""
    chosen = body or WriteOffBody()
    done = collection.write_off(
        ctx, collection.WriteOffRequest(case_id, chosen.reason, chosen.confirm)
    )
    return one({**done.as_dict(), "reference": done.reference, "posted": done.posted})


@router.post("/cases/{case_id}/abandon-posting", responses=doc(CASE))
def abandon_posting(ctx: Ctx, case_id: int, body: ReasonBody) -> Response:
    """Drop an unfinished credit note or write-off, after looking in the books."""
    return one(cases.abandon_posting(ctx, cases.AbandonRequest(case_id, body.reason)))
