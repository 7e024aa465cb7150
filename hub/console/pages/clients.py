"""Clients: the list, and one client with its plugins (secret settings masked)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.pages.overview import seen_clients
from hub.console.paging import PageParams
from hub.console.rendering import render
from hub.operations import clients

router = APIRouter()


@router.get("/clients")
def client_list(request: Request, ctx: Ctx, page: PageParams) -> Response:
    return render(request, "clients.html", {"page": page.of(seen_clients(ctx))})


@router.get("/clients/{name}")
def client_page(request: Request, ctx: Ctx, name: str) -> Response:
    clients.client_day(ctx, name)  # a client the user may not see is not found
    return render(request, "client.html", {"client": clients.show_client(ctx, name)})
