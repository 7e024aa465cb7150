"""The overview: the clients the user may see."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.rendering import render
from hub.operations import clients

router = APIRouter()


def seen_clients(ctx: Ctx) -> list[clients.ClientSummary]:
    """The clients the acting user may see, by name."""
    return clients.list_clients(ctx)  # the operation shows only those


@router.get("/")
def overview(request: Request, ctx: Ctx) -> Response:
    return render(request, "overview.html", {"clients": seen_clients(ctx)})
