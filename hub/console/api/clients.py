"""``/api/v1/clients``: the clients the token's owner may see (as ``hub clients list
--json``), and one client with its plugins (as ``hub clients show --json``, secrets masked)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.jsonapi import doc, listing, one, with_fields
from hub.console.pages.overview import seen_clients
from hub.console.paging import PageParams
from hub.operations import clients

router = APIRouter(tags=["clients"])


@router.get("/clients", responses=doc(clients.ClientSummary, listed=True))
def client_list(ctx: Ctx, page: PageParams) -> Response:
    return listing(page.of(seen_clients(ctx)))


_DETAILS = with_fields(clients.ClientSummary, plugins=list[clients.PluginSettings])


@router.get("/clients/{name}", responses=doc(_DETAILS))
def client(ctx: Ctx, name: str) -> Response:
    clients.client_day(ctx, name)  # a client the user may not see is not found
    return one(clients.show_client(ctx, name))
