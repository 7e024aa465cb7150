"""One client's runs and health, as a person looks at them: its run history a page at a time
(the rows of ``hub runs list --json``), the end of its last successful sync, and the latest run
of each job kind."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from hub.clock import as_utc
from hub.db import tables as t
from hub.errors import InputError
from hub.operations import runs
from hub.operations.context import Context

__all__ = ["ClientHealth", "RunHistory", "client_health", "run_history"]


@dataclass(frozen=True)
class RunHistory:
    """A page of a client's runs, newest first: ``items`` as ``hub runs list --json`` prints
    them, from the ``offset``-th of ``total``."""

    items: list[dict[str, Any]]
    total: int


def run_history(
    ctx: Context, client: str, *, job: str | None = None, limit: int = 50, offset: int = 0
) -> RunHistory:
    """The client's runs (of one job kind if ``job``), ``limit`` of them from the
    ``offset``-th, newest first, and how many there are."""
    if offset < 0:
        raise InputError(f"offset {offset} must be 0 or more")
    with ctx.db.session() as session:
        client_id = ctx.client(session, client).id
        counted = select(func.count(t.JobRun.id)).where(t.JobRun.client_id == client_id)
        if job is not None:
            counted = counted.where(t.JobRun.job == job)
        total = session.scalar(counted) or 0
    # list_runs checks the job kind and the limit, and writes each row as --json does
    window = runs.list_runs(ctx, client=client, job=job, limit=min(offset, total) + limit)
    return RunHistory(window[offset:], total)


@dataclass(frozen=True)
class ClientHealth:
    """How a client's jobs are going: when its last successful sync ended (None: never), and
    the latest run of each job kind (``hub runs list --json`` rows; None: never run)."""

    client: str
    last_successful_sync: dt.datetime | None
    latest: dict[str, dict[str, Any] | None]

    @property
    def running(self) -> bool:
        """Whether one of its jobs is running now (or was left running by a process that
        died, until the daemon marks it interrupted)."""
        return any(
            run is not None and run["outcome"] == runs.Outcome.RUNNING
            for run in self.latest.values()
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "client": self.client,
            "last_successful_sync": self.last_successful_sync,
            "running": self.running,
            "latest": self.latest,
        }


def client_health(ctx: Context, client: str) -> ClientHealth:
    """The client's last successful sync (a sync whose data was stored: ``ok`` or ``partial``)
    and the latest run of each job kind."""
    with ctx.db.session() as session:
        day = ctx.client(session, client)
        ended = session.scalar(
            select(func.max(t.JobRun.finished_at)).where(
                t.JobRun.client_id == day.id,
                t.JobRun.job == runs.JobKind.SYNC,
                t.JobRun.outcome.in_((runs.Outcome.OK, runs.Outcome.PARTIAL)),
            )
        )
        latest: dict[str, dict[str, Any] | None] = {}
        for job in runs.JOB_KINDS:
            found = runs.run_rows(session, client_id=day.id, job=job, limit=1)
            latest[job] = found[0] if found else None
    return ClientHealth(day.name, None if ended is None else as_utc(ended), latest)
