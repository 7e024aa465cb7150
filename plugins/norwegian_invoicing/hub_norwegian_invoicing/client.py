"""The Tripletex API v2 client: one long-lived HTTP client and session per (hub client, tokens),
paging, writes tried once (429 excepted), answers as ``Decimal``-exact JSON.

Retries of reads, ``Retry-After``, timeouts, pool limits and the mapping of statuses to hub
errors are :mod:`hub.toolkit.http`'s; this module adds what is Tripletex's:

* **Sessions.** Every call is authenticated with HTTP Basic ``<company_id>:<session token>``.
  The session token comes from ``POST /token/session/:create`` with the consumer and employee
  tokens in the JSON body (never the legacy ``PUT`` with the tokens in the query string: URLs
  end up in logs, proxies and Tripletex's own access logs). See
  :mod:`hub_norwegian_invoicing.session` for the expiration date and renewal. A 401 on a call
  made with an existing session (it expired, or Tripletex dropped it) creates a new session
  once and sends the call again; a 401 on a fresh session is an ``AuthError`` naming the
  settings.
* **Throttling.** Tripletex says how long a 429 lasts in ``X-Rate-Limit-Reset`` (seconds left
  of the rate window), not ``Retry-After``; the retry policy names it
  (:attr:`hub.toolkit.http.RetryPolicy.throttle_reset_headers`), on a 429 only: Tripletex sends
  it on every answer, and on a 5xx the rate window says nothing about when the server is back.
* **Writes** (``POST``/``PUT``) are sent once: Tripletex has no idempotency key, so a write
  whose answer was lost (5xx, broken connection) may have been made, and sending it again
  could make it twice. The error says so; the hub calls again with the same key and the
  plugin's look-up before writing finds what was made. A 429 is the one exception: Tripletex
  throttles before doing anything, so a throttled write is sent again after the wait.
* **Lists**: ``from``/``count`` paging (``count=1000``), read to the end (see :meth:`pages`).
* Request bodies are written by :mod:`hub.toolkit.wire` (``Decimal`` amounts as exact
  JSON numbers), answers read by it (amounts as ``Decimal``, never float); error bodies become
  hub errors in :mod:`hub_norwegian_invoicing.errors`.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx

from hub.errors import InvalidDataError, RemoteServerError
from hub.toolkit import vendor
from hub.toolkit.api import Call, JsonApiClient, object_list
from hub.toolkit.fields import shape
from hub.toolkit.http import RetryPolicy, make_client, throttle_wait
from hub.toolkit.pool import AttemptCounter, ClientPool, HttpOptions
from hub_norwegian_invoicing import session
from hub_norwegian_invoicing.errors import NAME, raise_for_response
from hub_norwegian_invoicing.settings import Config

#: The media type Tripletex's spec declares for request bodies.
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
#: Tripletex's header with the seconds left of the current rate-limit window.
RATE_LIMIT_RESET = "X-Rate-Limit-Reset"

MAX_PAGES = 100_000  # a server that never stops paging is an error, not an endless loop
SESSION_PATH = "/token/session/:create"
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE", "PATCH"})
#: A list answer's shape, as an error names it.
LIST_ANSWER = 'a list answer ({"values": [...], ...})'

Json = dict[str, Any]

__all__ = ["NAME", "HttpOptions", "Json", "TripletexClient", "client_for", "configure"]


@dataclass(frozen=True)
class Page:
    """One page of a list: its records, and ``fullResultSize`` where Tripletex gave one."""

    values: list[Json]
    full_result_size: int | None


class TripletexClient(JsonApiClient):
    """One Tripletex company's API, for one hub client. Create it with :func:`client_for`."""

    vendor = "Tripletex"
    plugin = NAME

    def __init__(self, config: Config, options: HttpOptions | None = None) -> None:
        options = options or HttpOptions()
        self.config = config
        self.base_url = config.base_url
        # Tripletex says how long a 429 lasts in X-Rate-Limit-Reset, not Retry-After: every
        # policy, the tests' fast one too, reads it.
        self.retry = dataclasses.replace(
            options.retry or RetryPolicy(), throttle_reset_headers=(RATE_LIMIT_RESET,)
        )
        self.page_size = options.page_size
        self._real_sleep = options.sleep
        self._attempts = AttemptCounter(options.sleep)
        self._lock = threading.Lock()
        self._session: session.Session | None = None
        #: The latest ``ctx.today`` a hook was called with (the hub may run with a simulated
        #: today); the session's expiration date is reckoned from it and the real date.
        self.today: dt.date | None = None
        self.cache: dict[str, Any] = {}  # per client and settings: account and VAT type ids
        self.http = make_client(
            base_url=config.base_url,
            headers={"Accept": "application/json"},
            timeout=options.timeout,
            transport=options.transport,
            plugin=NAME,
            retry=self.retry,
            sleep=self._attempts,
            json_content_type=JSON_CONTENT_TYPE,
            # Tripletex limits each API consumer (per employee, limits unpublished): the
            # consumer token's budget.
            rate_key=config.consumer_token,
        )
        self.closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self.closed = True
        self.http.close()

    # -- what errors may show -------------------------------------------------------------------

    @property
    def secrets(self) -> tuple[str, ...]:
        current = self._session
        return (*self.config.secrets, *((current.token,) if current else ()))

    def where(self, path: str) -> str:
        """``path`` as an error may show it: absolute, without query string."""
        return vendor.scrub(f"{self.base_url}{path.split('?', 1)[0]}", self.secrets)

    # -- sessions --------------------------------------------------------------------------------

    def _session_token(self) -> tuple[str, bool]:
        """A valid session token, and whether it was made just now."""
        with self._lock:
            today = session.reckoned_today(self.today)
            current = self._session
            if current is not None and not current.renew_due(today):
                return current.token, False
            self._session = self._create_session(today)
            return self._session.token, True

    def _drop_session(self, token: str) -> None:
        with self._lock:
            if self._session is not None and self._session.token == token:
                self._session = None

    def _create_session(self, today: dt.date) -> session.Session:
        expires = session.expiration_date(today)
        body = {
            "consumerToken": self.config.consumer_token,
            "employeeToken": self.config.employee_token,
            "expirationDate": expires.isoformat(),
        }
        response, attempts = self._send_write("POST", SESSION_PATH, body=body, params=None)
        if response.status_code >= 400:
            raise_for_response(
                self.http,
                response,
                attempts=attempts,
                secrets=self.config.secrets,
                doing="creating a Tripletex session",
                session=True,
            )
        answer = self._json(response)
        return session.from_answer(answer, expires, self.where(SESSION_PATH))

    def _authorization(self, token: str) -> dict[str, str]:
        pair = f"{self.config.company_id}:{token}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}

    # -- requests --------------------------------------------------------------------------------

    def _send_write(
        self,
        method: str,
        path: str,
        *,
        body: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[httpx.Response, int]:
        """Send a write once, or again after a 429 (Tripletex throttles before doing anything),
        waiting as long as ``X-Rate-Limit-Reset`` says, within the retry policy."""
        attempts = 0
        while True:
            attempts += 1
            try:
                response = self.http.request(
                    method, path, json=body, params=params, headers=headers, raise_for_status=False
                )
            except RemoteServerError as exc:
                if path == SESSION_PATH:
                    raise
                raise RemoteServerError(
                    f"{exc}. Tripletex may have made this write before the answer was lost;"
                    " calling again with the same idempotency key finds it instead of writing"
                    " twice",
                    plugin=NAME,
                ) from exc
            if response.status_code != 429 or attempts >= self.retry.max_attempts:
                return response, attempts
            wait = throttle_wait(response, self.retry)
            if wait is not None and wait > self.retry.max_retry_after:
                return response, attempts
            self._real_sleep(wait if wait is not None else self.retry.initial_backoff)

    def _send(self, call: Call, token: str) -> tuple[httpx.Response, int]:
        headers = self._authorization(token)
        if call.method in WRITE_METHODS:
            return self._send_write(
                call.method, call.path, body=call.body, params=call.params, headers=headers
            )
        self._attempts.start()
        response = self.http.request(
            call.method,
            call.path,
            params=call.params,
            json=call.body,
            headers=headers,
            raise_for_status=False,
        )
        return response, self._attempts.attempts

    def _exchange(self, call: Call) -> tuple[httpx.Response, int]:
        """Send one authenticated request. A 401 with an existing session makes a new session
        and sends the request once more.

        Tripletex has no idempotency key: a write is found again by the plugin's look-up
        before writing, so a key here is a programming error."""
        if call.idempotency_key is not None:
            raise TypeError("Tripletex takes no idempotency key; look the write up instead")
        token, fresh = self._session_token()
        response, attempts = self._send(call, token)
        if response.status_code == 401 and not fresh:
            self._drop_session(token)
            token, fresh = self._session_token()
            response, attempts = self._send(call, token)
        return response, attempts

    def _raise(self, call: Call, response: httpx.Response, attempts: int) -> NoReturn:
        doing = call.doing
        if response.status_code >= 500 and call.method in WRITE_METHODS:
            doing = (
                f"{doing or 'writing'} (Tripletex may have made this write all the same;"
                " calling again with the same idempotency key finds it)"
            )
        raise_for_response(
            self.http, response, attempts=attempts, secrets=self.secrets, doing=doing
        )

    # -- shapes of answers -----------------------------------------------------------------------

    def value(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        doing: str,
    ) -> Json:
        """The ``value`` object of a ``{"value": {...}}`` answer (one record)."""
        _, answer = self.request(method, path, params=params, body=body, doing=doing)
        record = answer.get("value") if isinstance(answer, dict) else None
        if not isinstance(record, dict):
            raise InvalidDataError(
                f'expected {{"value": {{...}}}}, got {shape(answer)}',
                plugin=NAME,
                where=self.where(path),
            )
        return record

    def pages(self, path: str, params: Mapping[str, Any], *, doing: str) -> Iterator[Page]:
        """The pages of a list (``from``/``count``), each as its ``values``, up to the end.

        The list ends at an empty page, or where ``fullResultSize`` says nothing is left
        (Tripletex documents it as "Indicates whether there are more values available. Note:
        The value is not exact": read as that indicator, not as a count). A page shorter than
        ``count`` alone does not end it: a server may send fewer than asked. Paging is by
        offset: a record that joins or leaves the list while it is read shifts the later ones
        (see the README, "Paging").
        """
        start = 0
        where = self.where(path)
        for _ in range(MAX_PAGES):
            query = {**params, "from": start, "count": self.page_size}
            _, answer = self.request("GET", path, params=query, doing=doing)
            values, full = _list_page(answer, start, where)
            yield Page(values, full)
            start += len(values)
            if not values:
                return
            if full is not None and full <= start:
                return
        raise InvalidDataError(
            f"more than {MAX_PAGES} pages; stopping instead of looping", plugin=NAME, where=where
        )

    def list_all(self, path: str, params: Mapping[str, Any], *, doing: str) -> list[Json]:
        """Every record of a list, all pages."""
        return [record for page in self.pages(path, params, doing=doing) for record in page.values]


def _list_page(answer: Any, start: int, where: str) -> tuple[list[Json], int | None]:
    """(values, fullResultSize) of a list answer, checked."""
    values = object_list(answer, "values", LIST_ANSWER, plugin=NAME, where=where)
    served_from = answer.get("from")
    if isinstance(served_from, int) and not isinstance(served_from, bool) and served_from != start:
        raise InvalidDataError(
            f"asked for records from {start}, Tripletex answered from {served_from}",
            plugin=NAME,
            where=where,
        )
    full = answer.get("fullResultSize")
    return values, full if isinstance(full, int) and not isinstance(full, bool) else None


# -- the registry of long-lived clients --------------------------------------------------------

_pool: ClientPool[TripletexClient] = ClientPool()
#: Build clients with these options from now on (closing the current ones); returns the old.
configure = _pool.configure
#: Close every client, current and retired (at exit, and on :func:`configure`).
close_clients = _pool.close


def client_for(client_id: int, config: Config, today: dt.date | None = None) -> TripletexClient:
    """The long-lived client of hub client ``client_id`` for these tokens, URL and company.

    Settings changed since the last call (a new token): a new client (and session) is made and
    used from now on; the old one is retired (closed by :func:`close_clients`), never closed
    under a call still using it. Its session is kept for the next call (and renewed when due).
    """

    def update(client: TripletexClient) -> None:
        # The settings that are not part of the fingerprint (accounts, VAT code) may change.
        client.config = config
        if today is not None:
            client.today = today

    return _pool.get(
        client_id,
        config.fingerprint,
        lambda options: TripletexClient(config, options),
        update=update,
    )
