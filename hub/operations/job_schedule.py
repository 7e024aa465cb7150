"""The dispatcher's state of ``hub run --distributed``: when each (job kind, client) is next
due, and the schedule that time was computed from.

Only the dispatcher's tick (:mod:`hub.daemon.distributed.dispatcher`) reads and writes it, one
tick at a time across all nodes (its procrastinate lock). A row is keyed by the client's name,
as the schedule file names clients; the rows of clients gone are dropped by the tick.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from hub.clock import as_utc
from hub.db import tables as t
from hub.db.engine import Database

#: (job kind, client name)
JobKey = tuple[str, str]


@dataclass(frozen=True)
class Due:
    """When a job is next due, and the fingerprint of the schedule that said so."""

    at: dt.datetime
    fingerprint: str


def load(db: Database) -> dict[JobKey, Due]:
    """Every (job kind, client)'s stored next due time."""
    with db.session() as session:
        return {
            (row.job, row.client): Due(as_utc(row.next_due_at), row.fingerprint)
            for row in session.scalars(select(t.JobSchedule))
        }


def save(db: Database, changed: Mapping[JobKey, Due], dropped: Iterable[JobKey] = ()) -> None:
    """Store the changed due times and drop the rows of jobs no longer planned, in one unit."""
    gone = list(dropped)
    with db.session() as session:
        if gone:
            session.execute(
                delete(t.JobSchedule).where(
                    tuple_(t.JobSchedule.job, t.JobSchedule.client).in_(gone)
                )
            )
        rows = [
            {"job": job, "client": client, "next_due_at": due.at, "fingerprint": due.fingerprint}
            for (job, client), due in changed.items()
        ]
        if rows and session.get_bind().dialect.name == "postgresql":
            # One statement for all (the first tick of 10,000 clients writes 30,000 rows).
            upsert = pg_insert(t.JobSchedule)
            session.execute(
                upsert.on_conflict_do_update(
                    index_elements=[t.JobSchedule.job, t.JobSchedule.client],
                    set_={
                        "next_due_at": upsert.excluded.next_due_at,
                        "fingerprint": upsert.excluded.fingerprint,
                    },
                ),
                rows,
            )
            return
        for row in rows:
            session.merge(t.JobSchedule(**row))


def due_again(db: Database, job: str, client: str) -> None:
    """Make ``job`` for ``client`` due at once: the next tick queues it again (on any node).
    For a task a node received but may not run (its lease late: it may be taken for dead)."""
    with db.session() as session:
        session.execute(
            update(t.JobSchedule)
            .where(t.JobSchedule.job == job, t.JobSchedule.client == client)
            .values(next_due_at=dt.datetime.now(dt.UTC))
        )
