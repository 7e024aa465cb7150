"""``/api/v1/recurring`` and ``/api/v1/clients/{name}/recurring``: recurring agreements (as
``hub recurring list|show --json``), adding one (``hub recurring add --json``), previewing
terms (``hub recurring preview --json``, in the client's currency) and deactivating one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from hub import clock
from hub.console.deps import Ctx
from hub.console.jsonapi import doc, listing, one
from hub.console.pages.recurring import agreement_of
from hub.console.paging import PageParams
from hub.operations import clients, recurring

router = APIRouter(tags=["recurring"])

_OBJECT: dict[str, Any] = {"type": "object"}
_PLANNED: dict[str, Any] = {"type": "array", "items": {"type": "object"}}


class TermsBody(BaseModel):
    """An agreement's terms, as ``hub recurring add|preview`` takes them."""

    model_config = ConfigDict(extra="forbid")
    every: int
    unit: str = Field(max_length=20, description=", ".join(recurring.UNITS))
    next_invoice_date: str = Field(max_length=20, description="the first invoice date")
    lines: list[str] = Field(
        max_length=100,
        description="'description;quantity;unit price;price factor[;VAT code]'",
    )
    produce: str = Field(default="invoice", max_length=20, description="invoice or order")
    prep_days: int = 0
    agreement_date: str | None = Field(default=None, max_length=20)
    end_date: str | None = Field(default=None, max_length=20)
    max_count: int | None = None
    no_credit_days: bool = False
    payment_days: int = 14

    def terms(self) -> recurring.TermsRequest:
        def day(raw: str | None, what: str) -> Any:
            return None if raw is None else clock.parse_date(raw, what=what)

        return recurring.TermsRequest(
            every=self.every,
            unit=self.unit,
            first_invoice_date=clock.parse_date(self.next_invoice_date, what="next_invoice_date"),
            lines=tuple(self.lines),
            produce=self.produce,
            prep_days=self.prep_days,
            agreement_date=day(self.agreement_date, "agreement_date"),
            end_date=day(self.end_date, "end_date"),
            max_count=self.max_count,
            no_credit_days=self.no_credit_days,
            payment_days=self.payment_days,
        )


class NewAgreementBody(TermsBody):
    customer: str = Field(max_length=100, description="the customer number")
    backdate: bool = False


class DeactivateBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


def _agreements(ctx: Ctx, client: str | None, status: str | None) -> list[Any]:
    return list(recurring.list_agreements(ctx, client, status))


@router.get("/recurring", responses=doc(recurring.AgreementSummary, listed=True))
def all_agreements(
    ctx: Ctx, page: PageParams, status: Annotated[str | None, Query(max_length=20)] = None
) -> Response:
    """``hub recurring list --json``: every agreement of the clients the user may see."""
    return listing(page.of(_agreements(ctx, None, status)))


@router.get("/clients/{name}/recurring", responses=doc(recurring.AgreementSummary, listed=True))
def client_agreements(
    ctx: Ctx,
    name: str,
    page: PageParams,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """``hub recurring list --client NAME --json``."""
    clients.client_day(ctx, name)  # a client the user may not see is not found
    return listing(page.of(_agreements(ctx, name, status)))


@router.post("/clients/{name}/recurring", status_code=201, responses=doc(_OBJECT, status=201))
def add_agreement(ctx: Ctx, name: str, body: NewAgreementBody) -> Response:
    """``hub recurring add --json``: the agreement and its first invoice."""
    clients.client_day(ctx, name)
    request = recurring.AddAgreement(name, body.customer, body.terms(), backdate=body.backdate)
    return one(recurring.add_agreement(ctx, request), status=201)


@router.post("/clients/{name}/recurring/preview", responses=doc(_PLANNED))
def preview(
    ctx: Ctx,
    name: str,
    body: TermsBody,
    count: Annotated[int, Query(ge=1, le=120)] = 12,
) -> Response:
    """``hub recurring preview --json`` in the client's currency: nothing is stored."""
    day = clients.client_day(ctx, name)
    planned = recurring.preview(body.terms(), currency=day.currency, count=count)
    return one(planned.as_list())


@router.get("/clients/{name}/recurring/{agreement_id}", responses=doc(_OBJECT))
def agreement(
    ctx: Ctx,
    name: str,
    agreement_id: int,
    upcoming: Annotated[int, Query(ge=0, le=120)] = 3,
) -> Response:
    """``hub recurring show ID --json``: terms, lines, ``history`` and ``upcoming``."""
    return one(agreement_of(ctx, name, agreement_id, upcoming=upcoming))


@router.post("/clients/{name}/recurring/{agreement_id}/deactivate", responses=doc(_OBJECT))
def deactivate(ctx: Ctx, name: str, agreement_id: int, body: DeactivateBody) -> Response:
    """``hub recurring deactivate --reason``: it makes nothing more; answers the agreement."""
    agreement_of(ctx, name, agreement_id)
    recurring.deactivate(ctx, agreement_id, name, body.reason.strip())
    return one(agreement_of(ctx, name, agreement_id, upcoming=3))
