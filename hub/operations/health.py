"""What the daemon's ``/healthz`` and ``/metrics`` read from the database: each client's last
successful sync, its open cases by stage and its messages by status (aggregate queries).

The daemon reads every client's (:func:`database_gauges`, :func:`last_successful_syncs`: no
user asks); a person's page reads those of the clients they may see (:func:`health`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hub.clock import as_utc
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning.states import CaseState, MessageStatus, Stage
from hub.operations import access, runs
from hub.operations.context import Context

#: The label values the gauges report, every one even at zero: each stage, each message status.
STAGES: tuple[str, ...] = tuple(stage.value for stage in Stage)
MESSAGE_STATUSES: tuple[str, ...] = tuple(status.value for status in MessageStatus)

#: (client name, a value of the counted column or None for a client with none, rows).
Counted = list[tuple[str, str | None, int]]


@dataclass(frozen=True)
class DatabaseGauges:
    open_cases: Counted  # by stage
    messages: Counted  # by status
    last_syncs: dict[str, dt.datetime | None]


def _last_successful_syncs(
    conn: Connection, seen: sa.ColumnElement[bool]
) -> dict[str, dt.datetime | None]:
    finished = sa.func.max(t.JobRun.finished_at)
    rows = conn.execute(
        sa.select(t.Client.name, finished)
        .select_from(t.Client)
        .outerjoin(
            t.JobRun,
            sa.and_(
                t.JobRun.client_id == t.Client.id,
                t.JobRun.job == runs.JobKind.SYNC,
                # the data was synced
                t.JobRun.outcome.in_((runs.Outcome.OK, runs.Outcome.PARTIAL)),
            ),
        )
        .where(seen)
        .group_by(t.Client.name)
        .order_by(t.Client.name)
    )
    return {name: None if at is None else as_utc(at) for name, at in rows}


def last_successful_syncs(db: Database) -> dict[str, dt.datetime | None]:
    """Every client's name with the end of its last successful sync (None: never synced)."""
    with db.engine.connect() as conn:
        return _last_successful_syncs(conn, sa.true())


def _counts(
    conn: Connection,
    seen: sa.ColumnElement[bool],
    table: sa.FromClause,
    column: str,
    *where: sa.ColumnElement[bool],
) -> Counted:
    """(client name, value of ``column``, rows) of ``table`` (one with ``client_id``) by client
    and value, with each client that has no rows once (value None, 0 rows)."""
    value = table.c[column]
    rows = conn.execute(
        sa.select(t.Client.name, value, sa.func.count(table.c.id))
        .select_from(t.Client)
        .outerjoin(table, sa.and_(table.c.client_id == t.Client.id, *where))
        .where(seen)
        .group_by(t.Client.name, value)
    )
    return [(name, each, int(n)) for name, each, n in rows]


def _gauges(db: Database, seen: sa.ColumnElement[bool]) -> DatabaseGauges:
    with db.engine.connect() as conn:
        return DatabaseGauges(
            open_cases=_counts(
                conn, seen, t.Case.__table__, "stage", t.Case.state != CaseState.CLOSED
            ),
            messages=_counts(conn, seen, t.Message.__table__, "status"),
            last_syncs=_last_successful_syncs(conn, seen),
        )


def database_gauges(db: Database) -> DatabaseGauges:
    """Open cases by stage, messages by status and last successful syncs, of every client."""
    return _gauges(db, sa.true())


def health(ctx: Context) -> DatabaseGauges:
    """:func:`database_gauges` of the clients the acting user may see."""
    return _gauges(ctx.db, access.seen_names(ctx, t.Client.name))
