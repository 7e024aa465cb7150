"""Prometheus metrics of the daemon.

Counters and histograms of what the process did (job runs, syncs, API requests and retries)
live in prometheus_client's default registry. What the database holds (open cases, the outbox,
the last successful sync of each client) is read on each scrape by :class:`DatabaseCollector`,
with one aggregate query each; it is never registered globally, :func:`render` puts it beside
the default registry for one scrape, so several databases in one process do not clash.

Labels are client names, plugin names, job kinds, stages and statuses: never settings or secrets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from hub.errors import StorageError
from hub.logging import get_logger
from hub.operations import runs
from hub.operations.health import MESSAGE_STATUSES, STAGES, database_gauges
from hub.toolkit import events

if TYPE_CHECKING:
    from hub.db.engine import Database

__all__ = [
    "API_REQUESTS",
    "API_RETRIES",
    "JOB_DURATION",
    "JOB_RUNS",
    "MESSAGE_STATUSES",
    "STAGES",
    "SYNCS",
    "DatabaseCollector",
    "count_api_request",
    "count_api_retry",
    "observe_run",
    "render",
]

log = get_logger("hub.daemon.metrics")

# From a quick postings run (50 ms) to a long sync of a big client (30 min).
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800)

JOB_RUNS = Counter("hub_job_runs", "Job runs finished, by job kind and outcome", ["job", "outcome"])
JOB_DURATION = Histogram(
    "hub_job_duration_seconds",
    "How long job runs took, by job kind",
    ["job"],
    buckets=DURATION_BUCKETS,
)
SYNCS = Counter(
    "hub_syncs",
    "Syncs of a client's accounting plugin, by plugin and outcome",
    ["plugin", "outcome"],
)
API_REQUESTS = Counter(
    "hub_api_requests",
    "HTTP requests sent to accounting APIs, by plugin, method and status ('error': no answer)",
    ["plugin", "method", "status"],
)
API_RETRIES = Counter("hub_api_retries", "HTTP requests retried, by plugin", ["plugin"])


def observe_run(job: str, outcome: str, seconds: float, plugin: str | None = None) -> None:
    """Count one finished job run and its duration; a sync with ``plugin`` also counts in
    ``hub_syncs_total``: ``ok`` when the data was synced (the run ``ok`` or ``partial``: some
    letter or case failed after), else ``failed``."""
    JOB_RUNS.labels(job=job, outcome=outcome).inc()
    JOB_DURATION.labels(job=job).observe(max(seconds, 0.0))
    if job == runs.JobKind.SYNC and plugin is not None:
        synced = outcome in (runs.Outcome.OK, runs.Outcome.PARTIAL)
        SYNCS.labels(
            plugin=plugin, outcome=runs.Outcome.OK if synced else runs.Outcome.FAILED
        ).inc()


@events.on_request
def count_api_request(plugin: str, method: str, status: str) -> None:
    """Count one request sent (``status``: the HTTP status code, or ``error``); registered
    with :mod:`hub.toolkit.events` when this module is imported (the daemon, ``hub run``)."""
    API_REQUESTS.labels(plugin=plugin, method=method, status=status).inc()


@events.on_retry
def count_api_retry(plugin: str) -> None:
    """Count one retry of a request (registered like :func:`count_api_request`)."""
    API_RETRIES.labels(plugin=plugin).inc()


def _gauge(
    name: str,
    doc: str,
    label: str,
    known: tuple[str, ...],
    rows: Iterable[tuple[str, str | None, int]],
) -> GaugeMetricFamily:
    """A gauge by client and ``label``: 0 for each known value a client has none of."""
    values: dict[tuple[str, str], int] = {}
    for client, value, n in rows:
        for each in known:
            values.setdefault((client, each), 0)
        if value is not None:
            values[(client, value)] = n
    family = GaugeMetricFamily(name, doc, labels=["client", label])
    for (client, value), n in sorted(values.items()):
        family.add_metric([client, value], n)
    return family


class DatabaseCollector(Collector):
    """Reads, on each scrape, what the database holds: open cases by stage, messages by status
    and the last successful sync of each client (three aggregate queries). If the database
    fails, only ``hub_database_up 0`` is yielded; a scrape never raises for it."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def describe(self) -> Iterator[Metric]:
        yield GaugeMetricFamily("hub_database_up", "")
        yield GaugeMetricFamily("hub_open_cases", "", labels=["client", "stage"])
        yield GaugeMetricFamily("hub_messages", "", labels=["client", "status"])
        yield GaugeMetricFamily("hub_last_successful_sync_timestamp_seconds", "", labels=["client"])

    def collect(self) -> Iterator[Metric]:
        try:
            families = self._read()
        except (SQLAlchemyError, StorageError, OSError) as exc:
            log.warning("metrics.database_failed", error=f"{type(exc).__name__}: {exc}")
            families = []
            up = 0
        else:
            up = 1
        yield GaugeMetricFamily(
            "hub_database_up", "1 if the database answered this scrape, else 0", value=up
        )
        yield from families

    def _read(self) -> list[Metric]:
        read = database_gauges(self.db)
        cases, messages, syncs = read.open_cases, read.messages, read.last_syncs
        last_sync = GaugeMetricFamily(
            "hub_last_successful_sync_timestamp_seconds",
            "When the client's last successful sync finished (Unix time); absent if never",
            labels=["client"],
        )
        for client, at in syncs.items():
            if at is not None:
                last_sync.add_metric([client], at.timestamp())
        return [
            _gauge(
                "hub_open_cases", "Cases not closed, by client and stage", "stage", STAGES, cases
            ),
            _gauge(
                "hub_messages",
                "Messages in the outbox, by client and status",
                "status",
                MESSAGE_STATUSES,
                messages,
            ),
            last_sync,
        ]


def render(db: Database) -> bytes:
    """The exposition text of one scrape: the process's metrics and what ``db`` holds."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(db))
    return generate_latest(REGISTRY) + generate_latest(registry)
