"""``hub run --distributed``: many nodes on one PostgreSQL database, on procrastinate.

Every node runs the same command with the same schedule file. The pieces, one job each:

- :mod:`~hub.daemon.distributed.connection`: procrastinate's connection from the hub's URL;
  PostgreSQL only (the queue, locks and heartbeats live there).
- :mod:`~hub.daemon.distributed.app`: the procrastinate app and its two tasks, a job run per
  (job kind, client) and the dispatcher's periodic tick.
- :mod:`~hub.daemon.distributed.dispatcher`: the tick: the schedule file into tasks, dead
  nodes' tasks retried and their runs marked interrupted.
- :mod:`~hub.daemon.distributed.node`: one node: its lease, health port, workers and stop.
- :mod:`~hub.daemon.distributed.runtime`: what the tasks find at hand (the context, the lease,
  the last good schedule file).

Guarantees: never two runs of one (job kind, client) at once across all nodes (procrastinate's
``lock``); a run due while one is queued is coalesced (``queueing_lock``); one tick per period
across all nodes (periodic dedup); a dead node's task is retried elsewhere after
``stalled_seconds`` and its run marked interrupted; clients and schedule changes are picked up
at the next tick without a restart; plain ``hub run`` and the nodes exclude each other.
"""

from hub.daemon.distributed.connection import needs_postgresql
from hub.daemon.distributed.node import Node, run_node

__all__ = ["Node", "needs_postgresql", "run_node"]
