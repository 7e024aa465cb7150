"""Shared HTTP plumbing for accounting-system plugins (e-conomic, Tripletex, ...).

One :class:`HubHttpClient` wraps one long-lived :class:`httpx.Client` per (client, plugin), with
explicit timeouts and pool limits. Requests are retried with tenacity:

* reads (GET/HEAD) on transport errors (connect errors, timeouts, broken connections), 429 and 5xx;
* writes (POST/PUT/PATCH/DELETE) the same way, but *only* when the caller gives an idempotency key
  (sent as ``Idempotency-Key``); without one a write is tried exactly once, because a write whose
  answer was lost may well have been applied, and posting it again could book it twice.

``Retry-After`` (delta-seconds or an HTTP date) on 429/503, or on a 429 another header the
policy names (:attr:`RetryPolicy.throttle_reset_headers`), is honoured up to
:attr:`RetryPolicy.max_retry_after`; a server asking for more is not waited for at all, the error
is raised at once. Otherwise the wait is exponential backoff with full jitter.

A client made with a ``rate_key`` (the credential the vendor's rate limit belongs to) asks the
process's rate gate (:mod:`hub.toolkit.budget`, when one is installed) before every attempt, and
tells it of a 429's wait, so that every process sharing the credential keeps to one budget and
pauses together. Waiting for the gate is bounded by the job's deadline like everything else.

Every exchange (connect, send, the answer's headers and whole body) has a deadline,
``request_deadline`` (``HUB_HTTP_DEADLINE``, 2 minutes by default): the timeouts bound each read,
so a server trickling its answer a byte at a time would never trip them. With the default
transport each socket operation waits at most until the deadline (see :class:`_DeadlineBackend`),
so the exchange ends at it; passing it counts as a timeout (retried where a timeout is). A job's
deadline (:mod:`hub.toolkit.deadline`, a sync's ``HUB_SYNC_DEADLINE``) bounds every exchange too,
and no retry is started that could not end before it. Either ends in
:class:`~hub.errors.DeadlineError` naming the URL and the deadline.

Final failures become :mod:`hub.errors` types naming plugin, method, path and status. Every attempt
is logged (``hub.toolkit.http``) with method, path (never the query string), status, duration
and attempt;
header values that may be secrets are redacted. Attempts and retries are told to the observers
of :mod:`hub.toolkit.events` (the daemon counts them as ``hub_api_requests_total`` and
``hub_api_retries_total``).
"""

from __future__ import annotations

import email.utils
import functools
import json as jsonlib
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpcore
import httpx
import structlog
import tenacity

from hub import config
from hub.clock import duration_seconds
from hub.errors import (
    AuthError,
    DeadlineError,
    InvalidDataError,
    RemoteRequestError,
    RemoteServerError,
    ThrottledError,
)
from hub.toolkit import budget, deadline, events, wire
from hub.toolkit.closing import Closing

__all__ = [
    "HubHttpClient",
    "RetryPolicy",
    "make_client",
    "parse_retry_after",
    "redact_headers",
    "throttle_wait",
]

log = structlog.get_logger("hub.toolkit.http")

IDEMPOTENCY_HEADER = "Idempotency-Key"
REDACTED = "[redacted]"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
RETRYABLE_TRANSPORT_ERRORS: tuple[type[Exception], ...] = (
    httpx.TimeoutException,  # connect/read/write/pool timeouts
    httpx.NetworkError,  # connect/read/write/close errors
    httpx.RemoteProtocolError,  # server dropped the connection or spoke garbage
)
# Header names containing any of these are never logged with their value.
_SECRET_MARKERS = ("token", "secret", "authorization", "password", "key", "cookie")
_BODY_EXCERPT_CHARS = 200


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry. All durations in seconds.

    ``max_attempts`` counts the first try. ``initial_backoff``/``max_backoff`` bound the jittered
    exponential wait used when the server gives no ``Retry-After``; ``max_retry_after`` is the
    longest ``Retry-After`` we are willing to sleep for inside one call.
    ``throttle_reset_headers`` names headers that, on a 429 without ``Retry-After``, give the
    seconds to wait instead (Tripletex's ``X-Rate-Limit-Reset``). Only on a 429: such headers
    often come on every answer, and the seconds left of a rate window say nothing about when a
    failing server is back.
    """

    max_attempts: int = 5
    initial_backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 60.0
    throttle_reset_headers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.initial_backoff, self.max_backoff, self.max_retry_after) < 0:
            raise ValueError("backoff and retry-after limits must not be negative")


def throttle_wait(response: httpx.Response, policy: RetryPolicy) -> float | None:
    """Seconds the server asks us to wait before trying again: ``Retry-After`` on a 429 or
    503, else on a 429 the policy's ``throttle_reset_headers``; None if it does not say."""
    if response.status_code not in (429, 503):
        return None
    names: tuple[str, ...] = ("Retry-After",)
    if response.status_code == 429:
        names += policy.throttle_reset_headers
    for name in names:
        seconds = parse_retry_after(response.headers.get(name))
        if seconds is not None:
            return seconds
    return None


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP date), or None.

    A date in the past gives 0; an unparseable value gives None (fall back to backoff).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(duration_seconds(value), 0.0)
    except ValueError:
        pass  # not delta-seconds: an HTTP date, or nothing we can read
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" zone: RFC 9110 dates are UTC
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max((when - current).total_seconds(), 0.0)


def _is_secret_header(name: str, secret_names: frozenset[str]) -> bool:
    lowered = name.lower()
    return lowered in secret_names or any(marker in lowered for marker in _SECRET_MARKERS)


def redact_headers(
    headers: Mapping[str, str], secret_headers: Iterable[str] = ()
) -> dict[str, str]:
    """A copy of ``headers`` fit for logs: values of secret-looking headers replaced."""
    secret_names = frozenset(h.lower() for h in secret_headers)
    return {
        name: REDACTED if _is_secret_header(name, secret_names) else value
        for name, value in headers.items()
    }


@dataclass
class _Call:
    """Per-call state shared between the attempt function and tenacity callbacks."""

    method: str
    path: str
    retry_allowed: bool
    attempts: int = 0
    #: The job's deadline, when it stopped the retries (the next attempt could not end in time).
    stopped_by: deadline.Deadline | None = None


# -- the deadline of one exchange ---------------------------------------------------------------


@dataclass
class _Exchange:
    """The deadline of the exchange under way in this thread (``at``, monotonic clock), and
    whether it cut a socket operation's timeout short (then a timeout is the deadline's)."""

    at: float
    bound: bool = False

    def clamp(self, timeout: float | None, error: type[Exception]) -> float:
        left = self.at - time.monotonic()
        if left <= 0:
            self.bound = True
            raise error("the exchange's deadline has passed")
        if timeout is None or left < timeout:
            self.bound = True
            return left
        return timeout


_exchange: ContextVar[_Exchange | None] = ContextVar("hub_http_exchange", default=None)


def _clamp(timeout: float | None, error: type[Exception]) -> float | None:
    exchange = _exchange.get()
    return timeout if exchange is None else exchange.clamp(timeout, error)


@contextmanager
def _exchange_until(at: float) -> Iterator[_Exchange]:
    exchange = _Exchange(at)
    token = _exchange.set(exchange)
    try:
        yield exchange
    finally:
        _exchange.reset(token)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write waits at most until the exchange's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._stream.start_tls(
                ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout)
            )
        )

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's network, each socket operation bounded by the exchange's deadline: a per-read
    timeout alone lets a server that sends a byte every few seconds hold a request forever."""

    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._backend.connect_tcp(
                host, port, _clamp(timeout, httpcore.ConnectTimeout), local_address, socket_options
            )
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._backend.connect_unix_socket(
                path, _clamp(timeout, httpcore.ConnectTimeout), socket_options
            )
        )

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _deadline_transport(*, verify: ssl.SSLContext, limits: httpx.Limits) -> httpx.HTTPTransport:
    """httpx's transport on :class:`_DeadlineBackend`. httpx takes no network backend, so its
    connection pool's is wrapped (``tests/test_http.py`` proves it in effect)."""
    transport = httpx.HTTPTransport(verify=verify, limits=limits)
    pool = transport._pool  # httpx has no public way to set the network backend
    pool._network_backend = _DeadlineBackend(pool._network_backend)
    return transport


class _DeadlinePassed(httpx.TimeoutException):
    """An exchange ran into its deadline; ``job`` is the job's deadline if that was the one."""

    def __init__(
        self, message: str, *, request: httpx.Request, job: deadline.Deadline | None
    ) -> None:
        super().__init__(message, request=request)
        self.job = job


class HubHttpClient(Closing):
    """A long-lived HTTP client for one (client, plugin). Create it with :func:`make_client`.

    Thread-safe as far as :class:`httpx.Client` is: one instance may serve several threads.
    """

    def __init__(
        self,
        client: httpx.Client,
        *,
        plugin: str = "",
        retry: RetryPolicy | None = None,
        secret_headers: Iterable[str] = (),
        sleep: Callable[[float], None] = time.sleep,
        request_deadline: float | None = None,
        rate_key: str | None = None,
    ) -> None:
        self._client = client
        self.plugin = plugin
        #: The key of the rate budget this client draws on (:func:`hub.toolkit.budget.key`:
        #: a digest, never the credential), or None: no gate is asked.
        self.rate_key = rate_key
        self.retry = retry or RetryPolicy()
        #: The most one exchange may take, seconds (None: ``HUB_HTTP_DEADLINE``).
        self.request_deadline = (
            config.http_deadline() if request_deadline is None else request_deadline
        )
        if not self.request_deadline > 0:
            raise ValueError("request_deadline must be above 0 seconds")
        self._secret_headers = frozenset(h.lower() for h in secret_headers)
        self._sleep = sleep
        self._backoff = tenacity.wait_random_exponential(
            multiplier=self.retry.initial_backoff, max=self.retry.max_backoff
        )

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._client.close()

    # -- requests ----------------------------------------------------------------------------

    def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, raise_for_status: bool = True
    ) -> httpx.Response:
        return self.request("GET", path, params=params, raise_for_status=raise_for_status)

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        raise_for_status: bool = True,
    ) -> httpx.Response:
        """Send a request, retrying where safe, and return the final response.

        With ``raise_for_status`` (the default) any final status >= 400 raises a
        :mod:`hub.errors` type; with ``raise_for_status=False`` the final response is returned
        whatever its status (429/5xx are still retried first), so a plugin can map vendor error
        bodies itself and then fall back to :meth:`raise_for_status`. Transport failures always
        raise :class:`~hub.errors.RemoteServerError`; an exchange that passes
        ``request_deadline``, or the job's deadline (:mod:`hub.toolkit.deadline`), raises its
        subclass :class:`~hub.errors.DeadlineError`, and so does a retry the job's deadline
        would not leave time for.
        """
        method = method.upper()
        request_headers = dict(headers or {})
        if idempotency_key is not None:
            request_headers[IDEMPOTENCY_HEADER] = idempotency_key
        call = _Call(
            method=method,
            path=path,
            retry_allowed=method in IDEMPOTENT_METHODS or idempotency_key is not None,
        )
        deadline.check(self._what(method, self._url(path)), plugin=self.plugin or None)

        def attempt() -> httpx.Response:
            self._pass_gate(call)
            call.attempts += 1
            return self._send_once(call, json=json, params=params, headers=request_headers)

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(lambda exc: self._should_retry(call, exc=exc))
            | tenacity.retry_if_result(lambda resp: self._should_retry(call, response=resp)),
            stop=lambda state: self._stop(state, call),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=lambda state: self._log_retry(call, state),
            # When attempts run out, hand back the last outcome (response or transport error)
            # instead of tenacity's RetryError; it is mapped to a hub error below.
            retry_error_callback=lambda state: _outcome(state).result(),
        )
        try:
            response: httpx.Response = retrying(attempt)
        except _DeadlinePassed as exc:
            raise self._deadline_error(call, exc) from exc
        except RETRYABLE_TRANSPORT_ERRORS as exc:
            if call.stopped_by is not None:
                raise self._deadline_error(call, exc) from exc
            raise RemoteServerError(
                f"{self._what(method, _url_path(exc, path))}: no answer from the server after "
                f"{_attempts(call.attempts)}: {type(exc).__name__}: {exc}",
                plugin=self.plugin or None,
            ) from exc
        except httpx.HTTPError as exc:  # not retryable (bad URL, unsupported protocol, ...)
            raise RemoteServerError(
                f"{self._what(method, _url_path(exc, path))}: request failed: "
                f"{type(exc).__name__}: {exc}",
                plugin=self.plugin or None,
            ) from exc
        if call.stopped_by is not None:
            raise self._deadline_error(call, None, response)
        if raise_for_status:
            self.raise_for_status(response, attempts=call.attempts)
        return response

    def _url(self, path: str) -> str:
        """``path`` as a message shows it: absolute, without query string."""
        return str(self._client.base_url.join(path.split("?", 1)[0]))

    def _deadline_error(
        self, call: _Call, exc: Exception | None, response: httpx.Response | None = None
    ) -> DeadlineError:
        """The error for a call a deadline ended: which deadline, the URL, what was last seen."""
        what = self._what(call.method, self._url(call.path))
        attempts = _attempts(call.attempts)
        if isinstance(exc, _DeadlinePassed) and exc.job is None:
            message = (
                f"{what}: no complete answer within the request deadline of "
                f"{self.request_deadline:g} s (HUB_HTTP_DEADLINE) after {attempts}"
            )
        elif isinstance(exc, _DeadlinePassed):
            assert exc.job is not None
            message = f"{what}: {exc.job.describe()} passed during attempt {call.attempts}"
        else:
            job = call.stopped_by
            assert job is not None  # only called with a _DeadlinePassed or after such a stop
            last = (
                f"HTTP {response.status_code}"
                if response is not None
                else f"{type(exc).__name__}: {exc}"
            )
            message = (
                f"{what}: not retrying: {job.describe()} would pass before the next attempt"
                f" (last: {last}, after {attempts})"
            )
        return DeadlineError(message, plugin=self.plugin or None)

    def raise_for_status(self, response: httpx.Response, *, attempts: int = 1) -> None:
        """Raise the :mod:`hub.errors` type for a final response with status >= 400."""
        status = response.status_code
        if status < 400:
            return
        what = self._what(response.request.method, response.request.url.path)
        plugin = self.plugin or None
        if status in (401, 403):
            raise AuthError(
                f"{what}: the server refused the credentials (HTTP {status}); "
                "check the plugin's API tokens",
                plugin=plugin,
            )
        if status == 429:
            retry_after = throttle_wait(response, self.retry)
            if retry_after is not None and retry_after > self.retry.max_retry_after:
                detail = (
                    f"the server asks to wait {retry_after:g} s, more than the "
                    f"{self.retry.max_retry_after:g} s we wait within one call"
                )
            else:
                detail = f"still throttled after {_attempts(attempts)}"
            raise ThrottledError(
                f"{what}: throttled (HTTP 429): {detail}", plugin=plugin, retry_after=retry_after
            )
        if status >= 500:
            raise RemoteServerError(
                f"{what}: server error (HTTP {status}) after {_attempts(attempts)}"
                f"{_excerpt(response)}",
                plugin=plugin,
            )
        raise RemoteRequestError(
            f"{what}: the server rejected the request (HTTP {status}){_excerpt(response)}",
            plugin=plugin,
        )

    def json(self, response: httpx.Response) -> Any:
        """The parsed JSON body of ``response``; InvalidDataError naming the URL if it is not JSON.

        The URL is given without its query string, and nothing of the body is kept in the error.
        """
        try:
            return jsonlib.loads(response.content)
        except (ValueError, UnicodeDecodeError) as exc:
            url = str(response.request.url.copy_with(query=None, fragment=None))
            content_type = response.headers.get("Content-Type", "none")
            raise InvalidDataError(
                f"response is not valid JSON (HTTP {response.status_code}, "
                f"content-type {content_type}, {len(response.content)} bytes)",
                plugin=self.plugin or None,
                where=url,
            ) from exc

    # -- internals ---------------------------------------------------------------------------

    def _what(self, method: str, path: str) -> str:
        return f"{self.plugin or 'http'}: {method} {path}"

    def _pass_gate(self, call: _Call) -> None:
        """Wait until the installed rate gate lets the next attempt go (no gate, or no
        ``rate_key``: at once). A wait the job's deadline would not leave time for raises
        :class:`~hub.errors.DeadlineError` naming the budget, before anything is sent."""
        gate = budget.installed()
        if gate is None or self.rate_key is None:
            return
        job = deadline.current()
        wait_at_most = None if job is None else max(job.remaining(), 0.0)
        if gate.acquire(self.rate_key, wait_at_most=wait_at_most):
            return
        until = job.describe() if job is not None else "the end of the wait"
        raise DeadlineError(
            f"{self._what(call.method, self._url(call.path))}: {gate.describe(self.rate_key)}"
            f" would not allow attempt {call.attempts + 1} before {until} passes",
            plugin=self.plugin or None,
        )

    def _tell_gate(self, response: httpx.Response) -> None:
        """A 429 that says how long to wait pauses every user of the credential."""
        gate = budget.installed()
        if gate is None or self.rate_key is None or response.status_code != 429:
            return
        seconds = throttle_wait(response, self.retry)
        if seconds is not None:
            gate.throttled(self.rate_key, seconds)

    def _send_once(
        self,
        call: _Call,
        *,
        json: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        job = deadline.current()
        at = time.monotonic() + self.request_deadline
        if job is not None and job.at <= at:
            at = job.at
        else:
            job = None  # the exchange's own deadline comes first
        request = self._client.build_request(
            call.method,
            call.path,
            json=json,
            params=params,
            headers=headers,
            timeout=_clamped(self._client.timeout, at - time.monotonic()),
        )
        fields: dict[str, Any] = {
            "plugin": self.plugin,
            "method": call.method,
            "path": request.url.path,  # never the query string: it may carry secrets
            "attempt": call.attempts,
            "headers": self._loggable_headers(headers),
        }
        started = time.perf_counter()
        try:
            with _exchange_until(at) as exchange:
                if at <= time.monotonic():
                    raise _DeadlinePassed("the deadline has passed", request=request, job=job)
                try:
                    response = self._client.send(request)
                except httpx.TimeoutException as exc:
                    # The timeouts were cut to the deadline: a timeout at it is the deadline's.
                    if exchange.bound or time.monotonic() >= at - _DEADLINE_SLACK:
                        raise _DeadlinePassed(str(exc), request=request, job=job) from exc
                    raise
        except httpx.HTTPError as exc:
            events.request_sent(self.plugin, call.method, "error")
            log.warning(
                "http.request",
                **fields,
                status=None,
                error=type(exc).__name__,
                duration_ms=_elapsed_ms(started),
            )
            raise
        events.request_sent(self.plugin, call.method, str(response.status_code))
        self._tell_gate(response)
        level = log.info if response.status_code < 400 else log.warning
        level(
            "http.request",
            **fields,
            status=response.status_code,
            duration_ms=_elapsed_ms(started),
        )
        return response

    def _should_retry(
        self, call: _Call, *, exc: BaseException | None = None, response: Any = None
    ) -> bool:
        if not call.retry_allowed:
            return False
        if isinstance(exc, _DeadlinePassed) and exc.job is not None:
            return False  # the job's time is up: nothing more is tried
        if exc is not None:
            return isinstance(exc, RETRYABLE_TRANSPORT_ERRORS)
        return isinstance(response, httpx.Response) and (
            response.status_code == 429 or response.status_code >= 500
        )

    def _retry_after(self, state: tenacity.RetryCallState) -> float | None:
        outcome = state.outcome
        if outcome is None or outcome.failed:
            return None
        response = outcome.result()
        if not isinstance(response, httpx.Response):
            return None
        return throttle_wait(response, self.retry)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        retry_after = self._retry_after(state)
        if retry_after is not None:
            return retry_after
        return self._backoff(state)

    def _stop(self, state: tenacity.RetryCallState, call: _Call | None = None) -> bool:
        """Stop when attempts run out, or at once if the server asks for a longer wait than we
        are willing to sleep (no point sleeping the cap only to be throttled again)."""
        if state.attempt_number >= self.retry.max_attempts:
            return True
        retry_after = self._retry_after(state)
        if retry_after is not None and retry_after > self.retry.max_retry_after:
            return True
        return self._job_too_short(state, call)

    def _job_too_short(self, state: tenacity.RetryCallState, call: _Call | None) -> bool:
        """Whether the job's deadline would pass while waiting for the next attempt (then the
        call stops now, with a :class:`~hub.errors.DeadlineError`)."""
        job = deadline.current()
        if job is None or job.remaining() > state.upcoming_sleep:
            return False
        if call is not None:
            call.stopped_by = job
        return True

    def _log_retry(self, call: _Call, state: tenacity.RetryCallState) -> None:
        events.retried(self.plugin)
        log.info(
            "http.retry",
            plugin=self.plugin,
            method=call.method,
            path=call.path.split("?", 1)[0],
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep, 3),
        )

    def _loggable_headers(self, headers: Mapping[str, str] | None = None) -> dict[str, str]:
        """The client's default headers (plus ``headers``) with secret values redacted."""
        merged = dict(self._client.headers.items())
        merged.update(headers or {})
        return redact_headers(merged, self._secret_headers)


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """One TLS context (httpx's default trust store) for every client the plugins make.

    Each :class:`httpx.Client` would otherwise load the CA bundle into a context of its own,
    about 0.8 MB a client: an operator's thousands of clients would hold gigabytes of copies.
    """
    return httpx.create_ssl_context()


class _ExactJsonClient(httpx.Client):
    """An :class:`httpx.Client` that writes ``json=`` bodies with :func:`hub.toolkit.wire.dumps`:
    ``Decimal`` amounts as exact JSON numbers, a ``float`` refused. httpx's own encoder is
    :func:`json.dumps`, which cannot write a ``Decimal``."""

    def __init__(self, *, json_content_type: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.json_content_type = json_content_type

    def build_request(
        self, method: str, url: httpx.URL | str, *, json: Any = None, **kwargs: Any
    ) -> httpx.Request:
        if json is None:
            return super().build_request(method, url, **kwargs)
        headers = httpx.Headers(kwargs.pop("headers", None))
        headers["Content-Type"] = self.json_content_type
        return super().build_request(
            method, url, content=wire.dumps(json), headers=headers, **kwargs
        )


def make_client(
    *,
    base_url: str,
    headers: Mapping[str, str] | None = None,
    secret_headers: Iterable[str] = (),
    timeout: float = 30.0,
    transport: httpx.BaseTransport | None = None,
    plugin: str = "",
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
    json_content_type: str = "application/json",
    request_deadline: float | None = None,
    rate_key: str | None = None,
) -> HubHttpClient:
    """Build the long-lived client a plugin keeps for one hub client.

    ``timeout`` bounds reading, writing and waiting for a pooled connection; connecting gets at
    most 10 s of it. ``secret_headers`` names extra headers (beyond anything called
    token/secret/authorization/password/key) whose values must never reach a log. ``sleep`` is
    what waits between retries; tests pass a recorder instead of :func:`time.sleep`.
    ``json=`` bodies are written by :func:`hub.toolkit.wire.dumps` (exact ``Decimal`` amounts)
    and sent as ``json_content_type``. ``transport`` replaces the network (tests); the TLS context
    and pool limits are then the transport's own.
    ``request_deadline`` bounds one exchange, body included (None: ``HUB_HTTP_DEADLINE``, else
    2 minutes); with a ``transport`` of the caller's only as far as the transport honours
    the timeouts it is given, which are cut to what is left of it.
    ``rate_key`` is the credential the vendor's rate limit belongs to (e-conomic: the app
    secret token; Tripletex: the consumer token): with it, every attempt passes the installed
    rate gate (:mod:`hub.toolkit.budget`). Only its digest is kept (:func:`budget.key`).
    """
    ssl_context = shared_ssl_context()
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=5, keepalive_expiry=30)
    if transport is None:
        transport = _deadline_transport(verify=ssl_context, limits=limits)
    client = _ExactJsonClient(
        json_content_type=json_content_type,
        base_url=base_url,
        headers=dict(headers or {}),
        verify=ssl_context,
        timeout=httpx.Timeout(
            connect=min(timeout, 10.0), read=timeout, write=timeout, pool=timeout
        ),
        limits=limits,
        transport=transport,
        follow_redirects=False,
    )
    return HubHttpClient(
        client,
        plugin=plugin,
        retry=retry,
        secret_headers=secret_headers,
        sleep=sleep,
        request_deadline=request_deadline,
        rate_key=None if rate_key is None else budget.key(plugin, rate_key),
    )


def _outcome(state: tenacity.RetryCallState) -> Any:
    assert state.outcome is not None  # tenacity sets it before any callback runs
    return state.outcome


def _url_path(exc: Exception, fallback: str) -> str:
    """The URL path (no query) of the request that failed, or the caller's path without query."""
    if isinstance(exc, httpx.RequestError):
        try:
            return exc.request.url.path
        except RuntimeError:  # httpx raises this when the error carries no request
            pass
    return fallback.split("?", 1)[0]


#: A timeout this close to the deadline is the deadline's (timers are not exact).
_DEADLINE_SLACK = 0.05


def _clamped(timeout: httpx.Timeout, left: float) -> httpx.Timeout:
    """``timeout`` with no part longer than ``left`` seconds (at least a millisecond)."""
    left = max(left, 0.001)

    def cut(value: float | None) -> float:
        return left if value is None else min(value, left)

    return httpx.Timeout(
        connect=cut(timeout.connect),
        read=cut(timeout.read),
        write=cut(timeout.write),
        pool=cut(timeout.pool),
    )


def _attempts(n: int) -> str:
    return f"{n} attempt" if n == 1 else f"{n} attempts"


def _elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def _excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    if not text:
        return ""
    if len(text) > _BODY_EXCERPT_CHARS:
        text = text[:_BODY_EXCERPT_CHARS] + "…"
    return f": {text}"
