"""Tripletex's rate-limit header, made readable for :mod:`hub.http`.

Tripletex answers a throttled request with HTTP 429 and ``X-Rate-Limit-Reset``: the seconds
left of the current rate-limit period (with ``X-Rate-Limit-Limit`` and
``X-Rate-Limit-Remaining``), not the standard ``Retry-After``. :mod:`hub.http` waits for
``Retry-After`` only (up to its policy's ``max_retry_after``) and otherwise backs off
exponentially, which against Tripletex means retrying before the period is over and being
throttled again.

:class:`RateLimitTransport` wraps the real transport: on a 429 without ``Retry-After`` it adds
``Retry-After`` with the value of ``X-Rate-Limit-Reset``. Only on a 429: Tripletex sends the
rate-limit headers on every answer, and on a 503 the seconds left of the rate window say
nothing about when the server is back (the usual backoff applies). From then on
:mod:`hub.http` does the rest: it waits that long before retrying a read, gives up at once when
the wait is longer than a call may take, and puts the wait in the ``ThrottledError``. The
plugin's own retries of writes read the same header (:func:`retry_after`).

This is a workaround inside the plugin: ``hub.http`` has no way for a plugin to name another
header to read; see the README ("Throttling").
"""

from __future__ import annotations

import httpx

from hub.http import parse_retry_after

RATE_LIMIT_RESET = "X-Rate-Limit-Reset"
RETRY_AFTER = "Retry-After"
THROTTLED = 429


class RateLimitTransport(httpx.BaseTransport):
    """An httpx transport that adds ``Retry-After`` from ``X-Rate-Limit-Reset`` on a 429."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self._inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if response.status_code == THROTTLED and RETRY_AFTER not in response.headers:
            reset = response.headers.get(RATE_LIMIT_RESET)
            if reset is not None and parse_retry_after(reset) is not None:
                response.headers[RETRY_AFTER] = reset.strip()
        return response

    def close(self) -> None:
        self._inner.close()


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait before sending a throttled request again, from ``Retry-After`` or
    ``X-Rate-Limit-Reset`` (None: not a 429, or no readable wait)."""
    if response.status_code != THROTTLED:
        return None
    for header in (RETRY_AFTER, RATE_LIMIT_RESET):
        seconds = parse_retry_after(response.headers.get(header))
        if seconds is not None:
            return seconds
    return None
