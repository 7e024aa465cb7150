"""``/api/v1/clients/{name}/runs``, ``/health`` and ``/sync``: a client's run history (the
rows of ``hub runs list --json``), its health (last successful sync, latest run of each job)
and a sync run now (``hub sync NAME --json``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.jsonapi import doc, listing, one
from hub.console.pages.runs import sync_outcome
from hub.console.paging import Paged, PageParams
from hub.operations import client_health, clients

router = APIRouter(tags=["runs"])

_OBJECT: dict[str, Any] = {"type": "object"}


class SyncBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirm_settle: bool = Field(
        default=False,
        description="store this sync although it trips the client's settle guard (once)",
    )


@router.get("/clients/{name}/runs", responses=doc(_OBJECT, listed=True))
def client_runs(
    ctx: Ctx,
    name: str,
    page: PageParams,
    job: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """``hub runs list --client NAME [--job] --json``, a page at a time, newest first."""
    history = client_health.run_history(ctx, name, job=job, limit=page.limit, offset=page.offset)
    return listing(Paged(history.items, history.total, page.limit, page.offset))


@router.get("/clients/{name}/health", responses=doc(_OBJECT))
def health(ctx: Ctx, name: str) -> Response:
    """The client's last successful sync, whether a job runs now, the latest run of each
    job kind."""
    return one(client_health.client_health(ctx, name))


@router.post("/clients/{name}/sync", responses=doc(_OBJECT))
def run_sync(ctx: Ctx, name: str, body: SyncBody | None = None) -> Response:
    """``hub sync NAME --json``: the sync, the dunning cycle and delivery, now. The run's
    ``outcome`` (``ok``, ``partial``, ``failed``) is in the answer, also when the sync stored
    nothing (a plugin's failure, the settle guard): the run was made and recorded. A sync
    that cannot start (no such client, not allowed) is an error."""
    clients.client_day(ctx, name)
    outcome = sync_outcome(ctx, name, body.confirm_settle if body else False)
    return one(outcome.report)
