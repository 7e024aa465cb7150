"""``/api/v1/me``: who the token's owner is, and the language of their pages."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from hub.console.deps import Ctx, signed_in
from hub.console.jsonapi import doc, one
from hub.operations import account
from hub.records import Record

router = APIRouter(tags=["me"])


@dataclass(frozen=True)
class Me(Record):
    """The user acting; ``clients`` None: every client (an admin)."""

    name: str
    role: str
    clients: list[str] | None
    language: str


class LanguageBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    language: str = Field(max_length=8, description="da, nb or en")


def _me(request: Request, language: str | None = None) -> Me:
    found = signed_in(request)
    assert found is not None  # the route is behind the token check
    actor = found.actor
    clients = None if actor.clients is None else sorted(actor.clients)
    return Me(actor.name, actor.role, clients, language or found.language)


@router.get("/me", responses=doc(Me))
def me(request: Request, ctx: Ctx) -> Response:
    return one(_me(request))


@router.patch("/me", responses=doc(Me))
def set_language(request: Request, ctx: Ctx, body: LanguageBody) -> Response:
    return one(_me(request, account.set_own_language(ctx, body.language)))
