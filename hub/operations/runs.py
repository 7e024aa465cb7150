"""The run history: every run of a job, from its start to its end (``hub runs list``).

Only this module writes it: a job runner's :func:`start` and :func:`finish`, and a sync's own
record (:func:`sync_recorder`), written in the very transaction that stores the synced data.

A run is recorded as ``running`` before its work starts and finished as ``ok`` or ``failed``
with its counts and error. A run whose process died (SIGKILL, a power cut) stays ``running``;
the next daemon on the same host marks it ``interrupted`` once it sees that process is gone. A
run on another host is never judged from here: only its own host can tell whether it is alive.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from hub.clock import as_utc
from hub.db import tables as t
from hub.db.engine import Database
from hub.db.leases import gone_here
from hub.errors import InputError
from hub.operations.access import seen_ids

if TYPE_CHECKING:
    from hub.operations.context import Context
    from hub.sync import RunRecorder, SyncReport


class JobKind(StrEnum):
    """The kinds of job there are (see :mod:`hub.daemon.jobs`)."""

    SYNC = "sync"
    RECURRING = "recurring"
    POSTINGS = "postings"


#: Their names, as plain strings (schedules, job ids and the run history hold these).
JOB_KINDS: tuple[str, ...] = tuple(kind.value for kind in JobKind)


class Outcome(StrEnum):
    """How a run ended (or that it has not yet)."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"  # done, but some of its units failed (a letter, a case, an agreement)
    FAILED = "failed"  # its work failed (a sync that stored nothing)
    INTERRUPTED = "interrupted"


_role = "cli"
# Tells this process from an earlier one with the same host name and pid (a container
# restarted: the same hostname, pid 1 again).
_TOKEN = uuid.uuid4().hex[:12]


def act_as(role: str) -> None:
    """Name what this process is in the runs it records (``daemon``; ``cli`` by default)."""
    global _role
    _role = role


def this_runner() -> str:
    """``"<role> <host> <pid> <token>"``: who records a run, so a dead one can be told from a
    live one."""
    return f"{_role} {socket.gethostname()} {os.getpid()} {_TOKEN}"


def _dead_here(runner: str | None, host: str) -> bool:
    """A runner of this host whose process is gone (an earlier process, if it had our pid)."""
    parts = (runner or "").split(" ")
    if len(parts) not in (3, 4) or parts[1] != host or not parts[2].isdigit():
        return False  # another host's: only it can tell
    pid = int(parts[2])
    if pid == os.getpid():
        return len(parts) == 3 or parts[3] != _TOKEN
    return gone_here(host, pid)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def start(db: Database, job: str, client_id: int | None, today: dt.date | None) -> int:
    """Record that ``job`` starts now for the client's day ``today``; returns the run's id
    (committed)."""
    with db.session() as session:
        run = t.JobRun(
            job=job,
            client_id=client_id,
            started_at=_now(),
            outcome=Outcome.RUNNING.value,
            counts={},
            runner=this_runner(),
            today=today,
        )
        session.add(run)
        session.flush()
        return run.id


def finish(
    db: Database, run_id: int, outcome: str, counts: dict[str, Any], error: str | None
) -> None:
    """Record how the run ended. ``counts`` are merged over what the run recorded so far."""
    with db.session() as session:
        run = session.get(t.JobRun, run_id)
        if run is None:  # the client, and with it nothing else, was removed: nothing to record
            return
        run.counts = {**(run.counts or {}), **counts}
        run.outcome = outcome
        run.error = error
        run.finished_at = _now()


def _job_run(
    client_id: int, started: dt.datetime, outcome: Outcome, report: SyncReport
) -> t.JobRun:
    return t.JobRun(
        job=JobKind.SYNC.value,
        client_id=client_id,
        started_at=started,
        finished_at=_now(),
        outcome=outcome.value,
        counts=report.counts,
        error="; ".join(report.errors) or None,
        runner=this_runner(),
        today=report.today,
    )


def sync_recorder(client_id: int, run_id: int | None = None) -> RunRecorder:
    """How a sync starting now records its run (:data:`hub.sync.RunRecorder`): as a new run,
    or, when a job runner started one (``run_id``), as that run's counts and error, which the
    runner finishes when the rest of its job is done."""
    started = _now()

    def record(session: Session, stored: bool, report: SyncReport) -> None:
        row = _job_run(client_id, started, Outcome.OK if stored else Outcome.FAILED, report)
        run = session.get(t.JobRun, run_id) if run_id is not None else None
        if run is None:
            session.add(row)
            return
        run.counts = row.counts
        run.error = row.error

    return record


def _interrupt(session: Session, where: ColumnElement[bool], why: str) -> list[int]:
    """Mark the runs still ``running`` that ``where`` selects as ``interrupted``, saying why;
    returns their ids."""
    running = t.JobRun.outcome == Outcome.RUNNING
    ids = list(session.scalars(select(t.JobRun.id).where(running, where)))
    if ids:
        session.execute(
            update(t.JobRun)
            .where(t.JobRun.id.in_(ids), running)
            .values(outcome=Outcome.INTERRUPTED.value, finished_at=_now(), error=why)
        )
    return ids


def mark_interrupted(db: Database) -> list[int]:
    """Mark as ``interrupted`` the runs left ``running`` by processes of this host that are
    gone; returns their ids."""
    host = socket.gethostname()
    with db.session() as session:
        rows = session.execute(
            select(t.JobRun.id, t.JobRun.runner).where(t.JobRun.outcome == Outcome.RUNNING)
        ).all()
        dead = [run_id for run_id, runner in rows if _dead_here(runner, host)]
        if not dead:
            return []
        return _interrupt(
            session,
            t.JobRun.id.in_(dead),
            "the process running it ended before it finished (a crash or a kill); what it did"
            " was committed unit by unit, and the next run goes on",
        )


def mark_runners_interrupted(db: Database, runners: list[str]) -> list[int]:
    """Mark as ``interrupted`` the runs left ``running`` by ``runners`` (the nodes of ``hub run
    --distributed`` whose lease went stale: dead, on any host); returns their ids."""
    if not runners:
        return []
    with db.session() as session:
        return _interrupt(
            session,
            t.JobRun.runner.in_(runners),
            "the node running it stopped sending its heartbeat (a crash, a kill, a lost"
            " network); what it did was committed unit by unit, and the task is run again by"
            " another node",
        )


def node_of(runner: str | None) -> str | None:
    """``"host pid"`` of the process that recorded a run (``hub runs list``'s node column)."""
    parts = (runner or "").split(" ")
    return f"{parts[1]} {parts[2]}" if len(parts) >= 3 else None


def abandon_own(db: Database) -> None:
    """Mark this process's runs still going as ``interrupted``: it stops without them."""
    with db.session() as session:
        _interrupt(
            session,
            t.JobRun.runner == this_runner(),
            "the daemon was stopped before it finished; what it did was committed unit by unit,"
            " and the next run goes on",
        )


def latest_runs(db: Database) -> dict[tuple[str, str], tuple[dt.datetime, str]]:
    """(job, client name) -> when its latest run started, and its outcome."""
    with db.session() as session:
        return _latest_runs(session)


def _latest_runs(session: Session) -> dict[tuple[str, str], tuple[dt.datetime, str]]:
    newest = (
        select(func.max(t.JobRun.id))
        .where(t.JobRun.client_id.is_not(None))
        .group_by(t.JobRun.job, t.JobRun.client_id)
    )
    return {
        (job, client): (as_utc(started), outcome)
        for job, client, started, outcome in session.execute(
            select(t.JobRun.job, t.Client.name, t.JobRun.started_at, t.JobRun.outcome)
            .join(t.Client, t.Client.id == t.JobRun.client_id)
            .where(t.JobRun.id.in_(newest))
        )
    }


def run_rows(
    session: Session,
    *,
    client_id: int | None = None,
    job: str | None = None,
    limit: int = 50,
    seen: ColumnElement[bool] | None = None,
) -> list[dict[str, Any]]:
    """The latest runs, newest first, as ``hub runs list --json`` prints them; ``seen``: only
    the runs of the clients a user may see (:func:`hub.operations.access.seen_ids`)."""
    query = (
        select(t.JobRun, t.Client.name)
        .outerjoin(t.Client, t.Client.id == t.JobRun.client_id)
        .order_by(t.JobRun.started_at.desc(), t.JobRun.id.desc())
        .limit(limit)
    )
    if seen is not None:
        query = query.where(seen)
    if client_id is not None:
        query = query.where(t.JobRun.client_id == client_id)
    if job is not None:
        query = query.where(t.JobRun.job == job)
    return [
        {
            "id": run.id,
            "job": run.job,
            "client": name,
            "today": run.today.isoformat() if run.today else None,
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "seconds": _seconds(run.started_at, run.finished_at),
            "outcome": run.outcome,
            "counts": run.counts or {},
            "error": run.error,
            "runner": run.runner,
            "node": node_of(run.runner),
        }
        for run, name in session.execute(query)
    ]


def list_runs(
    ctx: Context, *, client: str | None = None, job: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The latest ``limit`` runs, newest first, of one client and one job kind if given; each
    as ``hub runs list --json`` prints it."""
    if job is not None and job not in JOB_KINDS:
        raise InputError(f"--job: {job!r} is not a job kind; choose one of {', '.join(JOB_KINDS)}")
    if limit < 1:
        raise InputError(f"--limit: {limit} must be 1 or more")
    with ctx.db.session() as session:
        client_id = ctx.client(session, client).id if client else None
        return run_rows(
            session,
            client_id=client_id,
            job=job,
            limit=limit,
            seen=seen_ids(ctx, t.JobRun.client_id),
        )


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat(timespec="seconds")


def _seconds(started: dt.datetime, finished: dt.datetime | None) -> float | None:
    if finished is None:
        return None
    return round((as_utc(finished) - as_utc(started)).total_seconds(), 3)
