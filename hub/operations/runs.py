"""The run history: every run of a job, from its start to its end (``hub runs list``).

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
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hub.clock import as_utc
from hub.db import tables as t
from hub.db.engine import Database

#: The kinds of job there are (see :mod:`hub.daemon.jobs`).
JOB_KINDS = ("sync", "recurring", "postings")

RUNNING = "running"
OK = "ok"
PARTIAL = "partial"  # done, but some of its units failed (a letter, a case, an agreement)
FAILED = "failed"  # its work failed (a sync that stored nothing)
INTERRUPTED = "interrupted"
OUTCOMES = (RUNNING, OK, PARTIAL, FAILED, INTERRUPTED)

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
    return not _alive(pid)


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
            outcome=RUNNING,
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to someone else
        return True
    return True


def mark_interrupted(db: Database) -> list[int]:
    """Mark as ``interrupted`` the runs left ``running`` by processes of this host that are
    gone; returns their ids."""
    host = socket.gethostname()
    with db.session() as session:
        rows = session.execute(
            select(t.JobRun.id, t.JobRun.runner).where(t.JobRun.outcome == RUNNING)
        ).all()
        dead = [run_id for run_id, runner in rows if _dead_here(runner, host)]
        if dead:
            session.execute(
                update(t.JobRun)
                .where(t.JobRun.id.in_(dead), t.JobRun.outcome == RUNNING)
                .values(
                    outcome=INTERRUPTED,
                    finished_at=_now(),
                    error="the process running it ended before it finished (a crash or a"
                    " kill); what it did was committed unit by unit, and the next run goes on",
                )
            )
        return dead


def abandon_own(db: Database) -> None:
    """Mark this process's runs still going as ``interrupted``: it stops without them."""
    with db.session() as session:
        session.execute(
            update(t.JobRun)
            .where(t.JobRun.outcome == RUNNING, t.JobRun.runner == this_runner())
            .values(
                outcome=INTERRUPTED,
                finished_at=_now(),
                error="the daemon was stopped before it finished; what it did was committed"
                " unit by unit, and the next run goes on",
            )
        )


def latest_runs(session: Session) -> dict[tuple[str, str], tuple[dt.datetime, str]]:
    """(job, client name) -> when its latest run started, and its outcome."""
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
    session: Session, *, client_id: int | None = None, job: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The latest runs, newest first, as ``hub runs list --json`` prints them."""
    query = (
        select(t.JobRun, t.Client.name)
        .outerjoin(t.Client, t.Client.id == t.JobRun.client_id)
        .order_by(t.JobRun.started_at.desc(), t.JobRun.id.desc())
        .limit(limit)
    )
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
        }
        for run, name in session.execute(query)
    ]


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else as_utc(value).isoformat(timespec="seconds")


def _seconds(started: dt.datetime, finished: dt.datetime | None) -> float | None:
    if finished is None:
        return None
    return round((as_utc(finished) - as_utc(started)).total_seconds(), 3)
