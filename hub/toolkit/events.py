"""Who wants to know what the plugins' HTTP clients do: a small observer registry.

:mod:`hub.toolkit.http` tells the observers of every attempt it sends and of every retry it
schedules; it knows nothing of who listens. The daemon's metrics
(:mod:`hub.daemon.metrics`) register their counters here when they are imported, so loading a
plugin never loads the metrics, the database or prometheus_client, and a process that does not
count (a test, a one-off CLI command) pays nothing.

An observer is called in the thread that sent the request; one that fails is logged and
skipped, never failing the request.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

__all__ = ["RequestObserver", "RetryObserver", "on_request", "on_retry", "request_sent", "retried"]

#: ``(plugin, method, status)``: ``status`` is the HTTP status code as text, or ``"error"``
#: when no answer came (transport error).
RequestObserver = Callable[[str, str, str], None]
#: ``(plugin,)``: a request is about to be sent again.
RetryObserver = Callable[[str], None]

log = structlog.get_logger("hub.toolkit.events")

_request_observers: list[RequestObserver] = []
_retry_observers: list[RetryObserver] = []


def on_request(observer: RequestObserver) -> RequestObserver:
    """Call ``observer`` after every attempt sent (registered once however often given)."""
    if observer not in _request_observers:
        _request_observers.append(observer)
    return observer


def on_retry(observer: RetryObserver) -> RetryObserver:
    """Call ``observer`` before every retry (registered once however often given)."""
    if observer not in _retry_observers:
        _retry_observers.append(observer)
    return observer


def request_sent(plugin: str, method: str, status: str) -> None:
    """Tell the observers that one attempt was sent (:mod:`hub.toolkit.http` calls this)."""
    for observer in tuple(_request_observers):
        try:
            observer(plugin, method, status)
        except Exception:  # an observer must never fail a request
            log.warning("http.observer_failed", plugin=plugin, exc_info=True)


def retried(plugin: str) -> None:
    """Tell the observers that a request is retried (:mod:`hub.toolkit.http` calls this)."""
    for observer in tuple(_retry_observers):
        try:
            observer(plugin)
        except Exception:  # an observer must never fail a request
            log.warning("http.observer_failed", plugin=plugin, exc_info=True)
