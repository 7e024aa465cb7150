"""One node of ``hub run --distributed``: its lease, its health port, and its workers.

- **Its lease first**: before a port, the queue or any task, the node takes a lease of its own
  (``"node <host> <pid> <token>"``, :func:`hub.operations.lease.take_node`; refused while a plain
  ``hub run`` holds the database) and renews it every ``heartbeat_seconds``. Its runs record the
  same name as their runner (``runs.act_as("node")``), so the dispatcher can tell the runs of a
  dead node (a lease silent for ``stalled_seconds``) and mark them interrupted, on any host.
- **Shared rate budgets**: right after the lease the node installs the gate of the schedule
  file's ``[limits.*]`` (:func:`hub.operations.rate_budget.install_for`): on PostgreSQL one token
  bucket per vendor credential, drawn on by every node (read at start; a change needs a restart).
- **The health port** (``--http-port``) is bound right after, as the plain daemon's:
  ``/healthz`` is unhealthy once a worker died, the lease is lost or the node is stopping.
- **Workers**: one procrastinate worker per queue (each configured plugin's, ``default`` with
  ``[daemon] max_workers``, and the dispatcher's own with one slot), all in one asyncio loop.
  The jobs are synchronous and run in the loop's default executor, sized to the sum of the
  queues' concurrency (asyncio's own default would cap it at min(32, cpus + 4)). Every worker
  sends procrastinate's heartbeat every ``heartbeat_seconds``.
- **Stopping**: SIGTERM or SIGINT stops taking tasks and waits up to ``stop_timeout`` seconds for
  the running ones (cut to ``stalled_seconds - heartbeat_seconds - 1``: a stopping node beats no
  more, and must be gone before another node would take its runs for a dead node's); exit code
  0. A second signal (or the timeout) abandons them: their runs are recorded ``interrupted`` and
  the process leaves; their tasks stay ``doing`` with this node's
  worker, which no longer beats, so the dispatcher hands them to another node after
  ``stalled_seconds`` (each unit of work is committed on its own and idempotent).
- A node whose lease was taken over (it was taken for dead) stops, exit code 1.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.daemon import health
from hub.daemon.distributed.app import DISPATCH_QUEUE, build_app, release_stalled_tick
from hub.daemon.distributed.connection import describe, needs_postgresql
from hub.daemon.distributed.runtime import KEY, Runtime, log
from hub.daemon.health import HealthServer
from hub.daemon.schedules import DEFAULT_QUEUE, Schedules, warn_unknown_plugins
from hub.operations import lease, rate_budget, runs
from hub.operations.context import Context
from hub.toolkit import budget

__all__ = ["Node", "run_node"]


@dataclass
class Node:
    ctx: Context
    schedules: Schedules
    schedules_file: Path | None = None
    http_host: str = "127.0.0.1"
    http_port: int | None = None
    stop_timeout: float = 30.0
    stop_signal: str | None = None
    _lease: lease.Lease | None = None
    _keeper: lease.Renewal | None = None
    _health: HealthServer | None = None
    _previous_gate: budget.RateGate | None = None
    _workers: list[asyncio.Task[None]] = field(default_factory=list)
    _stop: asyncio.Event | None = None
    _abandon: asyncio.Event | None = None
    _stopping: bool = False
    _loop: asyncio.AbstractEventLoop | None = None

    def queues(self) -> dict[str, int]:
        """Each queue this node works on, with its concurrency."""
        settings = self.schedules.distributed
        return {
            **dict(settings.queues),
            DEFAULT_QUEUE: self.schedules.max_workers,
            DISPATCH_QUEUE: 1,
        }

    def alive(self) -> bool:
        return (
            bool(self._workers)
            and not any(w.done() for w in self._workers)
            and not self._stopping
            and (self._lease is None or self._lease.held())
        )

    def start(self) -> None:
        """Take the node's lease and bind the health port (nothing runs yet).

        :raises lease.DaemonRunning: a plain ``hub run`` holds the database.
        :raises InputError: the health port cannot be bound (the lease given up).
        """
        needs_postgresql(self.ctx.db)
        settings = self.schedules.distributed
        runs.act_as("node")
        try:
            self._lease = lease.take_node(
                self.ctx.db, runs.this_runner(), length=settings.stalled_seconds
            )
        except BaseException:
            runs.act_as("cli")
            raise
        self._keeper = lease.Renewal(
            self._lease.renew,
            settings.heartbeat_seconds,
            name="lease-node",
            on_lost=self._lease_lost,
        ).start()
        try:
            # Shared rate budgets ([limits.*]): every request of this node's tasks passes the
            # gate, which on PostgreSQL is one token bucket per credential for all nodes.
            self._previous_gate = rate_budget.swap_in(self.ctx.db, self.schedules.limits)
            warn_unknown_plugins(self.schedules, self.ctx.registry.names())
            if self.http_port is not None:
                self._health = health.bind(
                    self.ctx, self.alive, self.http_host, self.http_port, "node"
                )
        except BaseException:
            budget.install(self._previous_gate)
            self._give_up_lease()
            runs.act_as("cli")
            raise

    def _lease_lost(self) -> None:
        loop = self._loop
        if loop is not None and self._stop is not None:
            loop.call_soon_threadsafe(self._stop.set)

    def request_stop(self, name: str) -> None:
        assert self._stop is not None and self._abandon is not None
        if self._stop.is_set():
            self._abandon.set()
        self.stop_signal = self.stop_signal or name
        self._stop.set()

    def graceful_seconds(self) -> float:
        """How long a stop waits for the runs in flight: ``stop_timeout``, but never so long
        that another node takes this one for dead while they still run. A stopping worker no
        longer beats (procrastinate ends its heartbeat first), so after ``stalled_seconds`` less
        one ``heartbeat_seconds`` (and a second's margin) its tasks may be run again elsewhere:
        runs still going then are abandoned, and this process leaves, first."""
        settings = self.schedules.distributed
        return max(
            0.0,
            min(self.stop_timeout, settings.stalled_seconds - settings.heartbeat_seconds - 1),
        )

    async def serve(self) -> bool:
        """Run the workers until asked to stop; False when the node found itself unhealthy (a
        worker died, its lease lost). Runs still going after :meth:`graceful_seconds` (or a
        second signal) are abandoned and the process leaves at once (:meth:`stop`, then exit)."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._stop, self._abandon = asyncio.Event(), asyncio.Event()
        queues = self.queues()
        loop.set_default_executor(
            ThreadPoolExecutor(sum(queues.values()) + 4, thread_name_prefix="hub-job")
        )
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop, signal.Signals(sig).name)
        settings = self.schedules.distributed
        graceful = self.graceful_seconds()
        if graceful < self.stop_timeout:
            log.warning(
                "--stop-timeout is cut for this node",
                stop_timeout=self.stop_timeout,
                seconds=graceful,
                why="a stopping node's workers beat no more: past stalled_seconds less"
                " heartbeat_seconds its runs would be taken for a dead node's and run twice",
            )
        runtime = Runtime(self.ctx, self.schedules, self.schedules_file, self._lease)
        app = build_app(self.ctx.db, settings, pool_size=2 * len(queues) + 4)
        async with app.open_async():
            for queue, concurrency in queues.items():
                self._workers.append(
                    asyncio.create_task(
                        app.run_worker_async(
                            queues=[queue],
                            concurrency=concurrency,
                            name=f"hub-{queue}",
                            install_signal_handlers=False,
                            update_heartbeat_interval=settings.heartbeat_seconds,
                            stalled_worker_timeout=settings.stalled_seconds,
                            shutdown_graceful_timeout=graceful,
                            additional_context={KEY: runtime},
                        ),
                        name=f"worker-{queue}",
                    )
                )
            if self._health is not None:
                self._health.start()
                url = f"http://{self.http_host}:{self._health.port}/"
                log.info("health and metrics", url=url)
            log.info(
                "node started",
                database=describe(self.ctx.db),
                schedules=self.schedules.source,
                queues=queues,
                node=self._lease.name if self._lease else None,
            )
            watchdog = asyncio.create_task(release_stalled_tick(app, settings))
            stop = asyncio.create_task(self._stop.wait())
            await asyncio.wait([stop, *self._workers], return_when=asyncio.FIRST_COMPLETED)
            watchdog.cancel()
            healthy = stop.done() and not (self._lease is not None and self._lease.lost)
            if not healthy:
                log.error(
                    "stopping the node",
                    why="its lease was taken over"
                    if self._lease is not None and self._lease.lost
                    else "a worker stopped by itself",
                )
            elif self.stop_signal:
                log.info("stop requested", signal=self.stop_signal)
            self._stopping = True
            for worker in self._workers:
                worker.cancel()  # the worker stops fetching, then waits for its running tasks
            ends: list[asyncio.Future[Any]] = [
                asyncio.gather(*self._workers, return_exceptions=True),
                abandon := asyncio.create_task(self._abandon.wait()),
            ]
            await asyncio.wait(
                ends,
                timeout=graceful + 1,
                return_when=asyncio.FIRST_COMPLETED,
            )
            abandoned = not all(w.done() for w in self._workers)
            abandon.cancel()
            stop.cancel()
            for worker in self._workers:
                if worker.done() and not worker.cancelled() and worker.exception() is not None:
                    exc = worker.exception()
                    log.error("a worker failed", worker=worker.get_name(), error=repr(exc))
            if abandoned:
                # Leave from here: closing the pool, asyncio.run's cancelling of the tasks and
                # its executor's shutdown would each wait for the runs in flight.
                self.stop(abandoned=True)
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(0 if healthy else 1)
        return healthy

    def stop(self, abandoned: bool) -> None:
        """Record the runs left, stop serving health, give the lease up."""
        try:  # ours still "running": abandoned now, or whose end could not be recorded
            runs.abandon_own(self.ctx.db)
        except Exception as exc:
            log.error("could not record the runs left unfinished", error=str(exc))
        if abandoned:
            log.warning("stopped with runs in flight, abandoned safely")
        if self._health is not None:
            self._health.stop()
        budget.install(self._previous_gate)
        self._give_up_lease()
        runs.act_as("cli")
        log.info("node stopped")

    def _give_up_lease(self) -> None:
        lease.give_up(self._lease, self._keeper, "node")


def run_node(node: Node) -> int:
    """Start the node, serve until SIGTERM/SIGINT, stop; the exit code (1: the node found
    itself unhealthy, for the service manager to restart it)."""
    node.start()
    try:
        healthy = asyncio.run(node.serve())
    finally:
        node.stop(abandoned=False)
    return 0 if healthy else 1
