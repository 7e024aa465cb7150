"""Runs and health: each client's last successful sync and latest runs; a client's run
history, and "run sync now" (``hub sync``: the sync, the dunning cycle, delivery), whose
result is shown."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.pages.overview import seen_clients
from hub.console.paging import Paged, PageParams
from hub.console.rendering import render
from hub.operations import client_health, clients, runs
from hub.operations import sync as sync_ops

router = APIRouter()


def iso(text: str) -> dt.date:
    """A day or a moment of the run history (``hub runs list --json`` writes them ISO) as a
    date or a datetime, for the page to write as the user's language does."""
    return dt.datetime.fromisoformat(text) if "T" in text else dt.date.fromisoformat(text)


@router.get("/runs")
def runs_overview(request: Request, ctx: Ctx, page: PageParams) -> Response:
    """Every client the user may see with its health: last successful sync, latest runs."""
    shown = page.of(seen_clients(ctx))
    health = [client_health.client_health(ctx, c.name) for c in shown.items]
    values = {"page": shown, "health": health, "jobs": runs.JOB_KINDS, "iso": iso}
    return render(request, "runs.html", values)


@router.get("/clients/{name}/runs")
def client_runs(
    request: Request,
    ctx: Ctx,
    name: str,
    page: PageParams,
    job: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The client's health, the "run sync now" button, and its run history (one job kind
    with ``?job=``)."""
    day = clients.client_day(ctx, name)  # a client the user may not see is not found
    history = client_health.run_history(
        ctx, name, job=job or None, limit=page.limit, offset=page.offset
    )
    values = {
        "name": day.name,
        "health": client_health.client_health(ctx, name),
        "page": Paged(history.items, history.total, page.limit, page.offset),
        "job": job or None,
        "jobs": runs.JOB_KINDS,
        "iso": iso,
    }
    return render(request, "client_runs.html", values)


@dataclass(frozen=True)
class SyncOutcome:
    """What ``hub sync NAME [--confirm-settle]`` did: ``report`` as ``hub sync --json`` prints
    it (also when the sync stored nothing: then with ``outcome`` failed); ``failure``: why it
    failed, as the CLI says it after ``error:``; ``guarded``: it was the client's settle guard
    that stopped it (a person may then confirm it)."""

    report: dict[str, Any]
    failure: str | None = None
    guarded: bool = False


def sync_outcome(ctx: Ctx, name: str, confirm_settle: bool) -> SyncOutcome:
    try:
        result = sync_ops.sync(ctx, sync_ops.SyncRequest(name, confirm_settle=confirm_settle))
    except sync_ops.SyncFailed as exc:
        report = {**exc.report.as_dict(), "outcome": runs.Outcome.FAILED.value}
        guarded = isinstance(exc.__cause__, sync_ops.SettleGuardTripped)
        return SyncOutcome(report, str(exc), guarded)
    return SyncOutcome(result.as_dict(), result.error)


@router.post("/clients/{name}/sync")
def run_sync(
    request: Request,
    ctx: Ctx,
    name: str,
    confirm_settle: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """Run the sync for the client now, as ``hub sync`` does, and show what it did."""
    day = clients.client_day(ctx, name)
    values = {"name": day.name, "outcome": sync_outcome(ctx, name, bool(confirm_settle))}
    return render(request, "sync_result.html", values)
