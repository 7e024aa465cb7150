"""What the fake accounting servers' HTTP applications share: the answer record, the request
log and the fault queue (:class:`FakeApplication`, which serves a request around an injected
fault), routing by path pattern and method, token buckets for rate limiting. Each vendor's wire
format (headers, error bodies) stays in its fake."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from hub.testing.fakes.faults import HOLD_LIMIT, Fault, FaultQueue
from hub.toolkit.wire import loads

__all__ = [
    "JSON_TYPE",
    "FakeApplication",
    "RateBuckets",
    "Response",
    "Routes",
    "json_answer",
    "parse_body",
]

H = TypeVar("H")
JSON_TYPE = "application/json; charset=utf-8"


@dataclass(frozen=True)
class Response:
    """An answer as the transports send it."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return loads(self.body)


def parse_body(body: bytes) -> tuple[Any, bool]:
    """A request body parsed (numbers with a fraction as ``Decimal``; ``None`` when empty) and
    whether it was JSON at all."""
    if not body:
        return None, True
    try:
        return loads(body), True
    except (ValueError, UnicodeDecodeError):
        return None, False


class _Recorded(Protocol):
    @property
    def method(self) -> str: ...
    @property
    def path(self) -> str: ...

    fault: Any  # the fault that met it, if any


Rec = TypeVar("Rec", bound=_Recorded)
F = TypeVar("F", bound=Fault)


class FakeApplication(Generic[Rec, F]):
    """The part of a fake's HTTP application that is no vendor's: one lock around all state,
    the requests received (faulted and rejected ones too) in arrival order, the faults queued
    for the next ones, the rate-limit buckets (``rate_limit`` tokens a key and ``rate_window``
    seconds; ``None``: nothing enforced). ``fault_path`` maps a fault's ``path_prefix`` to the
    path recorded (Tripletex drops ``/v2``). A fake names the header that carries the request
    id (``request_id_header``) and writes its rate-limit headers (:meth:`_rate_headers`)."""

    request_id_header: ClassVar[str]

    def __init__(
        self,
        fault_path: Callable[[str], str] = lambda path: path,
        *,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
    ) -> None:
        self.lock = threading.RLock()
        self.requests: list[Rec] = []
        self._faults: FaultQueue[F] = FaultQueue(self.lock, fault_path)
        self._buckets = RateBuckets()
        self.rate_limit = rate_limit
        self.rate_window = rate_window

    def clear_faults(self) -> None:
        self._faults.clear()

    def requests_to(self, path: str, method: str | None = None) -> list[Rec]:
        """Recorded requests for exactly ``path`` (as recorded) and ``method``, if given."""
        with self.lock:
            return [
                r
                for r in self.requests
                if r.path == path and (method is None or r.method == method.upper())
            ]

    def _throttled(self, key: str, cost: int = 1) -> str | None:
        """The seconds to wait (at least 1) when ``cost`` more tokens would overdraw ``key``'s
        enforced bucket; ``None`` when they fit or no limit is enforced."""
        if self.rate_limit is None:
            return None
        start, used = self._buckets.window(key, self.rate_window)
        if used + cost <= self.rate_limit:
            return None
        return RateBuckets.retry_after(start, self.rate_window)

    def _rate_headers(self, headers: Mapping[str, str], remaining: int | None) -> dict[str, str]:
        """The rate-limit headers of the answer to a request with ``headers``, its cost spent
        from its key's bucket; ``remaining``: what to report as left instead (if the vendor
        reports it)."""
        raise NotImplementedError

    def _respond(
        self,
        status: int,
        body: bytes,
        rid: str,
        headers: Mapping[str, str],
        extra: Mapping[str, str] | None = None,
        *,
        remaining: int | None = None,
    ) -> Response:
        """A JSON answer: the request id, the rate-limit headers, then ``extra``."""
        with self.lock:
            rate = self._rate_headers(headers, remaining)
        return json_answer(status, body, {self.request_id_header: rid}, rate, extra or {})

    def _serve(
        self,
        record: Rec,
        process: Callable[[], Response],
        fault_answer: Callable[[F, bytes], Response],
    ) -> Response:
        """Record the request and answer it, around the first fault queued for it (if any):
        ``process()`` does the work under the lock, ``fault_answer(fault, body)`` is the fault's
        answer (``body``: the real answer's when the work was done first, else ``b""``)."""
        with self.lock:
            self.requests.append(record)
            fault = record.fault = self._faults.take(record.method, record.path)
        if fault is None:
            with self.lock:
                return process()
        if fault.delay > 0:
            time.sleep(fault.delay)
        if fault.hold is not None:
            fault.hold.wait(HOLD_LIMIT)
        if fault.replaces_answer and not fault.after_processing:
            return fault_answer(fault, b"")
        with self.lock:
            response = process()
        if fault.replaces_answer:
            response = fault_answer(fault, response.body)
        if fault.delay_after > 0:
            time.sleep(fault.delay_after)
        return response


def json_answer(status: int, body: bytes, *headers: Mapping[str, str]) -> Response:
    """An answer with a JSON body (also an empty one) and these headers, in this order."""
    out = {"Content-Type": JSON_TYPE}
    for more in headers:
        out.update(more)
    return Response(status, out, body)


class Routes(Generic[H]):
    """Handlers by path pattern (a regular expression matching the whole path; its groups are
    the path parameters) and method. The vendor's errors for an unknown path and a method not
    allowed come from ``not_found(path)`` and ``not_allowed(method, path, allowed)``."""

    def __init__(
        self,
        table: Sequence[tuple[str, Mapping[str, H]]],
        not_found: Callable[[str], Exception],
        not_allowed: Callable[[str, str, list[str]], Exception],
    ) -> None:
        self._table = [(re.compile(pattern), methods) for pattern, methods in table]
        self._not_found = not_found
        self._not_allowed = not_allowed

    def find(self, method: str, path: str) -> tuple[H, tuple[str, ...]]:
        """The handler of ``method`` on ``path`` and the path parameters."""
        for pattern, methods in self._table:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            handler = methods.get(method)
            if handler is None:
                raise self._not_allowed(method, path, sorted(methods))
            return handler, match.groups()
        raise self._not_found(path)


class RateBuckets:
    """A token bucket per key (an agreement, an employee): what was used in the window that
    started when; a window restarts when it is over."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, int]] = {}

    def window(self, key: str, seconds: float) -> tuple[float, int]:
        """(window start, tokens used) of ``key``'s bucket."""
        now = time.monotonic()
        start, used = self._buckets.get(key, (now, 0))
        if now - start >= seconds:
            start, used = now, 0
        self._buckets[key] = (start, used)
        return start, used

    def spend(self, key: str, seconds: float, cost: int = 1) -> tuple[float, int]:
        """(window start, tokens used) after spending ``cost`` tokens of ``key``'s bucket."""
        start, used = self.window(key, seconds)
        self._buckets[key] = (start, used + cost)
        return start, used + cost

    @staticmethod
    def seconds_left(start: float, seconds: float) -> int:
        """Whole seconds until the window that started at ``start`` is over (at least 0)."""
        return max(0, math.ceil(seconds - (time.monotonic() - start)))

    @staticmethod
    def retry_after(start: float, seconds: float) -> str:
        """The seconds to wait (at least 1) before the window that started at ``start`` ends."""
        return str(max(1, RateBuckets.seconds_left(start, seconds)))
