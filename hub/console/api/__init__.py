"""The HTTP API under ``/api/v1``, one router per area (``api/<area>.py``); see
docs/console.md. :func:`hub.console.app.make_app` includes every router of :data:`ROUTERS`
under :data:`PREFIX`, behind the API token check; a new area adds its ``router`` here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from hub.console.api import (
    audit,
    cases,
    clients,
    dispatch,
    letters,
    me,
    overview,
    recurring,
    rules,
    runs,
    users,
)

PREFIX = "/api/v1"

ROUTERS: list[APIRouter] = [
    me.router,
    clients.router,
    users.router,
    rules.router,
    recurring.router,
    runs.router,
    overview.router,
    cases.router,
    letters.router,
    dispatch.router,
    audit.router,
]

#: The OpenAPI document, at /api/openapi.json (a token needed, as for the API itself).
DOCUMENT = APIRouter()


@DOCUMENT.get("/openapi.json")
def openapi(request: Request) -> dict[str, Any]:
    document: dict[str, Any] = request.app.state.openapi_document()
    return document
