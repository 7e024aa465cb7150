"""Shared rate budgets: the rate gates the daemons install (:mod:`hub.toolkit.budget`).

A budget (``[limits.<plugin>]`` in the schedule file: ``requests`` per ``seconds``) holds for
each credential of that plugin: every hub client, thread, process and node using one
e-conomic app (or one Tripletex consumer) draws on one token bucket, keyed
``"<plugin>:<16 hex digits of the credential's SHA-256>"`` (:func:`hub.toolkit.budget.key`;
the credential is never stored or logged). The bucket holds at most :attr:`Budget.burst` tokens
and gains the rest of the budget evenly over ``seconds`` (so no window of ``seconds`` sees
more than ``requests``); each attempt of a request takes one; a 429 that says how
long to wait pauses the key everywhere and empties its bucket, which refills from the end of
the pause.

A 429 pauses a key whose plugin has no budget too: the pause is recorded all the same (its
row's, or bucket's, ``paused_until``) and every process sharing the gate waits it out, but such
a key takes no token (on PostgreSQL, one short ``SELECT`` of ``paused_until`` a request; no row,
no pause).

* :class:`PostgresGate`: the bucket is a row of ``rate_buckets``, taken from in one statement
  (the row locked, refilled, decremented, and the answer read back, in one short transaction),
  on the database's clock, so every node on the database shares it.
* :class:`MemoryGate`: the bucket in this process's memory (SQLite: one process runs jobs).

:func:`install_for` picks the one for the database and installs it; both daemons call it at
start, after taking their lease. A plugin without a budget is let through at once unless a
429 paused its key.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

import sqlalchemy as sa

from hub.clock import exact_seconds, runtime_seconds
from hub.db.engine import Database
from hub.logging import get_logger
from hub.toolkit import budget
from hub.toolkit.budget import Budget, RateGate

__all__ = ["Budget", "MemoryGate", "PostgresGate", "install_for", "swap_in"]

log = get_logger("hub.operations.rate_budget")

#: Up to this share of a wait is added at random, so waiters of one key do not all wake at once.
_JITTER = 0.1
_SHORTEST_WAIT = 1e-3  # seconds
_NONE = Decimal(0)


def refilled(tokens: Decimal, elapsed: Decimal, limit: Budget) -> Decimal:
    """The tokens of a bucket that held ``tokens`` ``elapsed`` seconds ago (never more than
    the budget's burst; time running backwards adds nothing)."""
    return min(Decimal(limit.burst), tokens + max(elapsed, _NONE) * limit.rate)


def wait_for_token(level: Decimal, paused_for: Decimal, limit: Budget) -> float:
    """Seconds, as the runtime counts them, until a bucket at ``level`` tokens, paused for
    ``paused_for`` more seconds, has a whole token to give (a millisecond at the least: the
    token is not there yet)."""
    return max(runtime_seconds(max(paused_for, (1 - level) / limit.rate)), _SHORTEST_WAIT)


class _Gate:
    """What both gates share: the budgets by plugin, waiting, and messages. A subclass says how
    to :meth:`take` a token (the seconds to wait instead, when there is none)."""

    def __init__(
        self, limits: Mapping[str, Budget], *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.limits: Mapping[str, Budget] = MappingProxyType(dict(limits))
        self._sleep = sleep

    def budget_of(self, key: str) -> Budget | None:
        return self.limits.get(budget.plugin_of(key))

    def take(self, key: str, limit: Budget) -> float:
        """Take a token of ``key``'s bucket: 0 when taken, else the seconds until one may be
        (nothing taken)."""
        raise NotImplementedError

    def paused_for(self, key: str) -> float:
        """Seconds left of a pause a 429 set on ``key`` (0: none); takes nothing. What a key
        without a budget waits for."""
        raise NotImplementedError

    def acquire(self, key: str, *, wait_at_most: float | None = None) -> bool:
        limit = self.budget_of(key)
        give_up = None if wait_at_most is None else time.monotonic() + wait_at_most
        while True:
            wait = self.paused_for(key) if limit is None else self.take(key, limit)
            if wait <= 0:
                return True
            if give_up is not None and time.monotonic() + wait > give_up:
                return False
            wait *= 1 + random.uniform(0, _JITTER)
            if give_up is not None:
                wait = min(wait, max(give_up - time.monotonic(), 0.0))
            self._sleep(wait)

    def describe(self, key: str) -> str:
        limit = self.budget_of(key)
        if limit is None:
            return f"the pause a 429 set on {key} (no rate budget)"
        return f"the rate budget {key} ({limit.describe()})"


@dataclass
class _Bucket:
    tokens: Decimal
    updated_at: Decimal  # on the gate's clock, exactly
    paused_until: Decimal | None = None


class MemoryGate(_Gate):
    """Token buckets in this process's memory: shared by its threads, not with other
    processes. ``clock`` (seconds, :func:`time.monotonic` by default) and ``sleep`` are for
    tests."""

    def __init__(
        self,
        limits: Mapping[str, Budget],
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(limits, sleep=sleep)
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def _now(self) -> Decimal:
        return exact_seconds(self._clock())

    def take(self, key: str, limit: Budget) -> float:
        with self._lock:
            now = self._now()
            bucket = self._buckets.setdefault(key, _Bucket(Decimal(limit.burst), now))
            level = refilled(bucket.tokens, now - bucket.updated_at, limit)
            paused_for = _NONE if bucket.paused_until is None else bucket.paused_until - now
            if level >= 1 and paused_for <= 0:
                bucket.tokens, bucket.updated_at = level - 1, max(bucket.updated_at, now)
                return 0.0
            return wait_for_token(level, paused_for, limit)

    def paused_for(self, key: str) -> float:
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None or bucket.paused_until is None:
                return 0.0
            return runtime_seconds(max(bucket.paused_until - self._now(), _NONE))

    def throttled(self, key: str, seconds: float) -> None:
        with self._lock:
            until = self._now() + max(exact_seconds(seconds), _NONE)
            bucket = self._buckets.setdefault(key, _Bucket(_NONE, until))
            bucket.paused_until = max(bucket.paused_until or until, until)
            bucket.tokens, bucket.updated_at = _NONE, max(bucket.updated_at, until)
        log.warning("rate budget paused", key=key, seconds=round(seconds, 3))


# One statement, one short transaction: lock the key's row, refill it to now, take a token if
# there is one and no pause is on, and say what was found. ``:now`` NULL: the database's clock
# (the same for every node); tests pass a time.
_TAKE = sa.text(
    """
    WITH n AS (SELECT COALESCE(CAST(:now AS timestamptz), statement_timestamp()) AS t),
    cur AS (
        SELECT b.key, n.t, b.paused_until,
               LEAST(CAST(:cap AS numeric),
                     b.tokens + GREATEST(0, EXTRACT(EPOCH FROM (n.t - b.updated_at)))
                                * CAST(:rate AS numeric)) AS level
        FROM rate_buckets b CROSS JOIN n
        WHERE b.key = :key
        FOR UPDATE OF b
    ),
    taken AS (
        UPDATE rate_buckets b
        SET tokens = cur.level - 1, updated_at = GREATEST(b.updated_at, cur.t)
        FROM cur
        WHERE b.key = cur.key AND cur.level >= 1
              AND (cur.paused_until IS NULL OR cur.paused_until <= cur.t)
        RETURNING b.key
    )
    SELECT cur.level,
           COALESCE(EXTRACT(EPOCH FROM (cur.paused_until - cur.t)), 0),
           EXISTS (SELECT 1 FROM taken)
    FROM cur
    """
)

_CREATE = sa.text(
    """
    INSERT INTO rate_buckets (key, tokens, updated_at, paused_until)
    VALUES (:key, :cap, COALESCE(CAST(:now AS timestamptz), statement_timestamp()), NULL)
    ON CONFLICT (key) DO NOTHING
    """
)

# A 429 asked for ``:seconds``: pause the key until then (a longer pause already set stays) and
# empty its bucket, which refills from the end of the pause.
_THROTTLED = sa.text(
    """
    WITH n AS (SELECT COALESCE(CAST(:now AS timestamptz), statement_timestamp())
                      + CAST(:seconds AS numeric) * INTERVAL '1 second' AS until)
    INSERT INTO rate_buckets AS b (key, tokens, updated_at, paused_until)
    SELECT :key, 0, n.until, n.until FROM n
    ON CONFLICT (key) DO UPDATE
    SET paused_until = GREATEST(COALESCE(b.paused_until, excluded.paused_until),
                                excluded.paused_until),
        tokens = 0,
        updated_at = GREATEST(b.updated_at, excluded.updated_at)
    """
)

# A key without a budget: the seconds left of its pause, if a 429 set one (no row: none).
_PAUSED_FOR = sa.text(
    """
    SELECT EXTRACT(EPOCH FROM (paused_until
                               - COALESCE(CAST(:now AS timestamptz), statement_timestamp())))
    FROM rate_buckets
    WHERE key = :key AND paused_until IS NOT NULL
    """
)


class PostgresGate(_Gate):
    """Token buckets in PostgreSQL's ``rate_buckets``: one budget per key for every process and
    node on the database. Each :meth:`take` is one statement in autocommit (a short
    transaction holding the key's row lock only while it runs). ``clock`` (None: the
    database's) is for tests."""

    def __init__(
        self,
        db: Database,
        limits: Mapping[str, Budget],
        *,
        clock: Callable[[], dt.datetime] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(limits, sleep=sleep)
        if db.engine.dialect.name != "postgresql":
            raise ValueError("PostgresGate needs a PostgreSQL database")
        self._engine = db.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._clock = clock

    def _now(self) -> dt.datetime | None:
        return None if self._clock is None else self._clock()

    def take(self, key: str, limit: Budget) -> float:
        params = {"key": key, "cap": limit.burst, "rate": limit.rate, "now": self._now()}
        with self._engine.connect() as conn:
            row = conn.execute(_TAKE, params).one_or_none()
            if row is None:  # the key's first request on this database
                conn.execute(_CREATE, params)
                row = conn.execute(_TAKE, params).one()
        level, paused_for, taken = Decimal(row[0]), Decimal(row[1]), bool(row[2])
        if taken:
            return 0.0
        return wait_for_token(level, paused_for, limit)

    def paused_for(self, key: str) -> float:
        with self._engine.connect() as conn:
            left = conn.execute(_PAUSED_FOR, {"key": key, "now": self._now()}).scalar_one_or_none()
        return 0.0 if left is None else runtime_seconds(max(Decimal(left), _NONE))

    def throttled(self, key: str, seconds: float) -> None:
        with self._engine.connect() as conn:
            pause = max(exact_seconds(seconds), _NONE)
            conn.execute(_THROTTLED, {"key": key, "seconds": pause, "now": self._now()})
        log.warning("rate budget paused", key=key, seconds=round(seconds, 3))

    def bucket(self, key: str) -> tuple[Decimal, dt.datetime, dt.datetime | None] | None:
        """(tokens, updated_at, paused_until) as stored for ``key``, or None (for tests and
        diagnosis)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT tokens, updated_at, paused_until FROM rate_buckets WHERE key = :key"
                ),
                {"key": key},
            ).one_or_none()
        return None if row is None else (Decimal(row[0]), row[1], row[2])


def install_for(db: Database, limits: Mapping[str, Budget]) -> RateGate:
    """Install the gate for ``db`` (PostgreSQL: shared by every node; else in this process)
    with the schedule file's ``[limits.*]`` budgets, and return it."""
    gate: RateGate
    if db.engine.dialect.name == "postgresql":
        gate = PostgresGate(db, limits)
        where = "shared in the database"
    else:
        gate = MemoryGate(limits)
        where = "in this process"
    budget.install(gate)
    log.info(
        "rate budgets installed",
        where=where,
        budgets={plugin: limit.describe() for plugin, limit in sorted(limits.items())} or "none",
    )
    return gate


def swap_in(db: Database, limits: Mapping[str, Budget]) -> RateGate | None:
    """What a daemon does at start: :func:`install_for` in place of the process's gate, which
    it returns for the daemon to put back when it stops or its start fails
    (``budget.install(replaced)``). Should the install fail, the replaced gate is back."""
    replaced = budget.install(None)
    try:
        install_for(db, limits)
    except BaseException:
        budget.install(replaced)
        raise
    return replaced
