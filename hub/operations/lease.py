"""One daemon per database: the lease the running ``hub run`` holds on its database.

APScheduler 3 keeps its jobs in the hub's database but cannot share them between processes:
two daemons on one database would each run every job. So a daemon first *takes* the lease (a
row of ``daemon_leases``, committed), before it binds a port, looks at the run history or runs
anything, and renews its heartbeat every third of the lease's length while it runs
(:func:`keeper`). A second ``hub run`` finds the lease held and is refused with
:class:`DaemonRunning`, naming the holder's host and pid.

A lease is taken over when its daemon is known to be gone: on the same host at once, once its
process is seen gone (a crash, SIGKILL); from another host only once its heartbeat is older than
the lease's length (:func:`hub.config.daemon_lease`). A daemon that cannot renew in time (the
database away, the process frozen) stops starting runs; one whose lease was taken over stops.

Many nodes (``hub run --distributed``, :mod:`hub.daemon.distributed`) coordinate their work
through procrastinate instead, and each holds a lease of its own, ``"node <host> <pid>
<token>"`` (:func:`take_node`): the two modes exclude each other. A node refuses to start while
a live plain daemon holds ``scheduler``; a plain ``hub run`` refuses while any live node lease
exists (:func:`take` names one node and how many). A node lease whose heartbeat is older than
the node's ``stalled_seconds`` is a dead node's: the dispatcher marks its runs interrupted and
drops it (:func:`dead_nodes`, :func:`drop`).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.config import daemon_lease
from hub.db import tables as t
from hub.db.engine import Database
from hub.db.leases import Renewal, gone_here
from hub.errors import HubError, StorageError
from hub.logging import get_logger

__all__ = [
    "NODE_PREFIX",
    "SCHEDULER",
    "DaemonRunning",
    "Lease",
    "Renewal",
    "dead_nodes",
    "drop",
    "give_up",
    "keeper",
    "live_nodes",
    "take",
    "take_node",
]

#: The lease ``hub run`` takes: the one scheduler of a database.
SCHEDULER = "scheduler"
#: The leases of ``hub run --distributed``'s nodes are named ``"node <host> <pid> <token>"``,
#: the runner their runs record (:func:`hub.operations.runs.this_runner`).
NODE_PREFIX = "node "
#: How long a start waits for another start on the same database (PostgreSQL), seconds.
_STARTS_WAIT_SECONDS = 30

log = get_logger("hub.operations.lease")


class DaemonRunning(HubError):
    """Another daemon holds the database's lease (exit code 1)."""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass
class Lease:
    """The lease this process holds: ``holder`` is ``"<host> <pid> <token>"``, a token of this
    take, so two daemons in one process are told apart too."""

    db: Database
    name: str
    holder: str
    length: float  # seconds
    # time.monotonic() when the lease was last known ours (taken or renewed)
    confirmed: float = field(default_factory=time.monotonic)
    lost: bool = False

    def held(self) -> bool:
        """Still ours, as far as this process can tell: not taken over, and confirmed within
        its length (a daemon that could not renew for that long may have been taken over)."""
        return not self.lost and time.monotonic() - self.confirmed < self.length

    def renew(self) -> bool:
        """Renew the heartbeat; False (and :attr:`lost`) when the lease is no longer ours.

        :raises StorageError: the database did not answer; the lease may still be ours.
        """
        asked = time.monotonic()
        with self.db.session() as session:
            renewed = session.execute(
                update(t.DaemonLease)
                .where(t.DaemonLease.name == self.name, t.DaemonLease.holder == self.holder)
                .values(heartbeat_at=_now())
            ).rowcount  # type: ignore[attr-defined]
        if renewed:
            self.confirmed = asked
        else:
            self.lost = True
        return bool(renewed)

    def release(self) -> None:
        """Give the lease up (a daemon stopping); the next ``hub run`` takes it at once."""
        with self.db.session() as session:
            session.execute(
                delete(t.DaemonLease).where(
                    t.DaemonLease.name == self.name, t.DaemonLease.holder == self.holder
                )
            )
        self.lost = True


def _refusal(row: t.DaemonLease, length: float) -> DaemonRunning:
    beat = int((_now() - _aware(row.heartbeat_at)).total_seconds())
    return DaemonRunning(
        f"another daemon already runs the jobs of this database: hub run on host {row.host},"
        f" pid {row.pid}, started {_aware(row.started_at).isoformat(timespec='seconds')},"
        f" last heartbeat {beat} s ago. Two daemons on one database would run every job twice;"
        f" stop that one first (one that crashed is taken over once its heartbeat is older than"
        f" {length:g} s, HUB_DAEMON_LEASE; on its own host as soon as its process is gone)"
    )


def _gone(row: t.DaemonLease, host: str) -> bool:
    """The holder is a process of this host that no longer runs."""
    if len(row.holder.split(" ")) != 3:
        return False
    if row.pid == os.getpid():  # a restarted container reusing our pid, or a take of ours
        return False
    return row.host == host and gone_here(row.host, row.pid)


def _one_start_at_a_time(session: Session) -> None:
    """Serialize the starts of daemons and nodes on this database until ``session`` ends.

    A start looks at the leases and then claims its own: two starting at the same moment (a
    plain ``hub run`` and a node) could each see the other's lease absent. On PostgreSQL a
    transaction-level advisory lock makes look-and-claim one step; on SQLite the claim's write
    lock does (and there is no distributed mode there).

    The lock is the hub's schema's (advisory locks belong to a whole PostgreSQL database, which
    may hold several hubs, each in a schema of its own), and a start waits for it at most
    ``_STARTS_WAIT_SECONDS``: a start stuck behind another fails, saying so, rather than hang.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{_STARTS_WAIT_SECONDS}s'"))
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('hub starts in ' || current_schema()))")
        )


def take(db: Database, name: str = SCHEDULER, *, length: float | None = None) -> Lease:
    """Take the lease ``name`` for this process, committed, or refuse.

    :raises DaemonRunning: another live daemon holds it, or (for the scheduler's lease) a node
        of ``hub run --distributed`` runs on this database (the message names host and pid).
    """
    seconds = daemon_lease() if length is None else length
    host = socket.gethostname()
    holder = f"{host} {os.getpid()} {uuid.uuid4().hex[:12]}"
    for _ in range(5):  # a race lost (a row made or taken meanwhile) is looked at again
        now = _now()
        asked = time.monotonic()
        try:
            with db.session() as session:
                _one_start_at_a_time(session)
                if name == SCHEDULER:
                    nodes = _live(_nodes(session), seconds)
                    if nodes:
                        raise _nodes_refusal(nodes, seconds)
                row = session.get(t.DaemonLease, name)
                if row is None:
                    session.add(
                        t.DaemonLease(
                            name=name,
                            holder=holder,
                            host=host,
                            pid=os.getpid(),
                            started_at=now,
                            heartbeat_at=now,
                        )
                    )
                    session.flush()
                    return Lease(db, name, holder, seconds, confirmed=asked)
                stale = _aware(row.heartbeat_at) < now - dt.timedelta(seconds=seconds)
                if not stale and not _gone(row, host):
                    raise _refusal(row, seconds)
                condition = (
                    t.DaemonLease.holder == row.holder
                    if not stale
                    else t.DaemonLease.heartbeat_at < now - dt.timedelta(seconds=seconds)
                )
                taken = session.execute(
                    update(t.DaemonLease)
                    .execution_options(synchronize_session=False)
                    .where(t.DaemonLease.name == name, condition)
                    .values(
                        holder=holder, host=host, pid=os.getpid(), started_at=now, heartbeat_at=now
                    )
                ).rowcount  # type: ignore[attr-defined]
                if not taken:
                    continue
                log.warning(
                    "daemon lease taken over from a daemon that is gone",
                    host=row.host,
                    pid=row.pid,
                    heartbeat=_aware(row.heartbeat_at).isoformat(timespec="seconds"),
                )
                return Lease(db, name, holder, seconds, confirmed=asked)
        except StorageError as exc:
            if isinstance(exc.__cause__, IntegrityError):  # another took it first
                continue
            raise
    raise StorageError(f"the daemon lease {name!r} kept changing while it was taken; try again")


def keeper(lease: Lease, on_lost: Callable[[], None]) -> Renewal:
    """The renewal of the daemon's lease every third of its length, calling ``on_lost`` once
    if the lease turns out to be another daemon's; :meth:`~hub.db.leases.Renewal.start` it."""
    return Renewal(lease.renew, lease.length / 3, name=f"lease-{lease.name}", on_lost=on_lost)


def give_up(held: Lease | None, renewal: Renewal | None, what: str) -> None:
    """Stop renewing ``held`` and release it, unless it was lost (a daemon or node stopping, or
    failing to start). A release that fails is logged, naming ``what`` (``"daemon"``,
    ``"node"``), not raised: the lease lapses by itself."""
    if renewal is not None:
        renewal.stop()
    if held is not None and not held.lost:
        try:
            held.release()
        except Exception as exc:  # it lapses by itself
            log.error(f"could not give the {what} lease up", lease=held.name, error=str(exc))


# -- the nodes of hub run --distributed ----------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A node lease as stored."""

    name: str
    host: str
    pid: int
    heartbeat_at: dt.datetime


def _nodes(session: Session) -> list[Node]:
    rows = session.scalars(
        select(t.DaemonLease).where(t.DaemonLease.name.startswith(NODE_PREFIX))
    ).all()
    return [Node(r.name, r.host, r.pid, _aware(r.heartbeat_at)) for r in rows]


def _live(nodes: list[Node], length: float) -> list[Node]:
    since = _now() - dt.timedelta(seconds=length)
    return sorted(
        (n for n in nodes if n.heartbeat_at >= since and not gone_here(n.host, n.pid)),
        key=lambda n: n.heartbeat_at,
    )


def live_nodes(db: Database, length: float) -> list[Node]:
    """The nodes whose heartbeat is younger than ``length`` seconds and that are not seen gone
    on this host, oldest heartbeat first."""
    with db.session() as session:
        return _live(_nodes(session), length)


def dead_nodes(db: Database, length: float) -> list[Node]:
    """The node leases of nodes that are gone: a heartbeat older than ``length`` seconds, or a
    process of this host that no longer runs."""
    since = _now() - dt.timedelta(seconds=length)
    with db.session() as session:
        nodes = _nodes(session)
    return [n for n in nodes if n.heartbeat_at < since or gone_here(n.host, n.pid)]


def drop(db: Database, names: list[str]) -> None:
    """Remove the leases ``names`` (of dead nodes, once their runs are marked interrupted)."""
    if names:
        with db.session() as session:
            session.execute(delete(t.DaemonLease).where(t.DaemonLease.name.in_(names)))


def _nodes_refusal(nodes: list[Node], length: float) -> DaemonRunning:
    node = nodes[-1]
    beat = int((_now() - node.heartbeat_at).total_seconds())
    others = f" and {len(nodes) - 1} other node(s)" if len(nodes) > 1 else ""
    return DaemonRunning(
        f"hub run --distributed runs the jobs of this database: a node on host {node.host},"
        f" pid {node.pid} (last heartbeat {beat} s ago){others}. A plain hub run beside them"
        " would run every job a second time; stop the nodes first, or start this one with"
        f" --distributed too (a node that died is no longer counted once its heartbeat is older"
        f" than {length:g} s)"
    )


def take_node(db: Database, holder: str, *, length: float) -> Lease:
    """Take this node's lease, named ``holder`` (``"node <host> <pid> <token>"``, the runner
    its runs record), committed; renew it with :func:`keeper`.

    :raises DaemonRunning: a live plain ``hub run`` holds the database (naming its host and
        pid): its APScheduler would run every job beside the nodes.
    """
    now = _now()
    host = socket.gethostname()
    asked = time.monotonic()
    with db.session() as session:
        _one_start_at_a_time(session)
        row = session.get(t.DaemonLease, SCHEDULER)
        scheduler_length = daemon_lease()
        if row is not None and not (
            _aware(row.heartbeat_at) < now - dt.timedelta(seconds=scheduler_length)
            or _gone(row, host)
        ):
            refusal = _refusal(row, scheduler_length)
            raise DaemonRunning(
                f"{refusal}. hub run --distributed does not start beside a plain hub run"
            )
        session.add(
            t.DaemonLease(
                name=holder,
                holder=holder.removeprefix(NODE_PREFIX),
                host=host,
                pid=os.getpid(),
                started_at=now,
                heartbeat_at=now,
            )
        )
    return Lease(db, holder, holder.removeprefix(NODE_PREFIX), length, confirmed=asked)
