"""``/api/v1/overview/{client}``: the client's open amount by age and cases by stage (the
overview page's numbers); ``/api/v1/collection/{client}``: who owes after the last reminder
(D3, ``hub collection overview --json``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.jsonapi import doc, listing, one, schema_of
from hub.console.paging import PageParams
from hub.operations import collection, overview

router = APIRouter(tags=["overview"])

_OVERVIEW: dict[str, Any] = {
    "type": "object",
    "title": "ClientOverview",
    "required": ["client", "currency", "today", "ages", "stages"],
    "properties": {
        "client": {"type": "string"},
        "currency": {"type": "string"},
        "today": {"type": "string", "format": "date"},
        "ages": {"type": "array", "items": schema_of(overview.AgeBuckets)},
        "stages": {"type": "array", "items": schema_of(overview.StageCount)},
    },
}
_OWING: dict[str, Any] = {
    "type": "object",
    "title": "CustomerOwing",
    "description": "a row of `hub collection overview --json`",
    "additionalProperties": True,
}


@router.get("/overview/{client}", responses=doc(_OVERVIEW))
def client_overview(ctx: Ctx, client: str) -> Response:
    return one(overview.client_overview(ctx, client))


@router.get("/collection/{client}", responses=doc(_OWING, listed=True))
def collection_overview(ctx: Ctx, client: str, page: PageParams) -> Response:
    overview.client_overview(ctx, client)  # a client the user may not see is not found
    return listing(page.of(collection.collection_overview(ctx, client).rows))
