"""The e-conomic REST client: one long-lived HTTP client per (hub client, tokens), paging,
filters in batches, writes with idempotency keys, answers as ``Decimal``-exact JSON.

Retries, ``Retry-After``, timeouts, pool limits and the mapping of statuses to hub errors are
:mod:`hub.toolkit.http`'s; this module adds what is e-conomic's:

* the two token headers (never logged: :mod:`hub.toolkit.http` redacts them);
* collections: ``pagesize=1000`` (e-conomic's maximum) and ``pagination.nextPage`` followed
  until it is absent. A next page on another host is refused, not followed: the tokens go
  with every request;
* ``$in:`` filters, at most 200 values each (e-conomic answers 400 to 201), one request (or
  one run of pages) per batch;
* request bodies written by :mod:`hub.toolkit.wire` (``Decimal`` amounts as exact JSON
  numbers), answers read by it (amounts as ``Decimal``, never float);
* error bodies turned into hub errors by :mod:`hub_economic.errors`.

Clients are kept in a :class:`hub.toolkit.pool.ClientPool`, keyed by the hub client's id and a
digest of base URL and tokens (see :func:`client_for`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx

from hub.errors import InvalidDataError
from hub.toolkit import vendor
from hub.toolkit.api import Call, JsonApiClient, object_list
from hub.toolkit.http import make_client
from hub.toolkit.pool import AttemptCounter, ClientPool, HttpOptions
from hub_economic.errors import raise_for_response
from hub_economic.settings import Config

NAME = "economic"
APP_SECRET_HEADER = "X-AppSecretToken"
AGREEMENT_GRANT_HEADER = "X-AgreementGrantToken"
PAGE_SIZE = 1000  # e-conomic's maximum page size
FILTER_BATCH = 200  # e-conomic's maximum number of values in one $in: filter
#: A collection answer's shape, as an error names it.
COLLECTION = 'a collection ({"collection": [...], "pagination": {...}})'

Json = dict[str, Any]

__all__ = ["NAME", "EconomicClient", "HttpOptions", "Json", "client_for", "configure"]


class EconomicClient(JsonApiClient):
    """One agreement's REST API, for one hub client. Create it with :func:`client_for`."""

    vendor = "e-conomic"
    plugin = NAME

    def __init__(self, config: Config, options: HttpOptions | None = None) -> None:
        options = options or HttpOptions()
        self.base_url = config.base_url
        self._secrets = (config.app_secret_token, config.agreement_grant_token)
        self._origin = _origin(config.base_url)
        self._attempts = AttemptCounter(options.sleep)
        self.http = make_client(
            base_url=config.base_url,
            headers={
                APP_SECRET_HEADER: config.app_secret_token,
                AGREEMENT_GRANT_HEADER: config.agreement_grant_token,
                "Accept": "application/json",
            },
            secret_headers=(APP_SECRET_HEADER, AGREEMENT_GRANT_HEADER),
            timeout=options.timeout,
            transport=options.transport,
            plugin=NAME,
            retry=options.retry,
            sleep=self._attempts,
            # e-conomic's rate limit is the app's, shared by every agreement the app serves.
            rate_key=config.app_secret_token,
        )
        self.closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self.closed = True
        self.http.close()

    # -- requests ----------------------------------------------------------------------------

    def _url(self, path_or_url: str) -> str:
        """A path, or an absolute URL (a next page) on the same origin as ``base_url``."""
        if "://" not in path_or_url:
            return path_or_url
        if _origin(path_or_url) != self._origin:
            raise InvalidDataError(
                f"e-conomic's answer points to {_origin(path_or_url)}, not to {self._origin}"
                " (base_url); not following it with the client's tokens",
                plugin=NAME,
                where=self._where(path_or_url),
            )
        return path_or_url

    def _where(self, url: str) -> str:
        """``url`` as an error may show it: absolute, without query string (it may be long)."""
        absolute = url if "://" in url else f"{self.base_url}{url}"
        return vendor.scrub(absolute.split("?", 1)[0], self._secrets)

    @property
    def secrets(self) -> tuple[str, ...]:
        return self._secrets

    def _exchange(self, call: Call) -> tuple[httpx.Response, int]:
        """Send ``call``, retried where :mod:`hub.toolkit.http` allows."""
        url = self._url(call.path)
        self._attempts.start()
        response = self.http.request(
            call.method,
            url,
            params=call.params,
            json=call.body,
            idempotency_key=call.idempotency_key,
            raise_for_status=False,
        )
        return response, self._attempts.attempts

    def _raise(self, call: Call, response: httpx.Response, attempts: int) -> NoReturn:
        raise_for_response(
            self.http, response, attempts=attempts, secrets=self._secrets, doing=call.doing
        )

    def get(self, path: str, params: Mapping[str, Any] | None = None, **kw: Any) -> Any:
        return self.request("GET", path, params=params, **kw)[1]

    def post(self, path: str, body: Any, *, idempotency_key: str, doing: str) -> Any:
        """POST ``body``; retried on 429/5xx/transport errors since the key makes it safe."""
        _, answer = self.request(
            "POST", path, body=body, idempotency_key=idempotency_key, doing=doing
        )
        return answer

    def collection(self, path: str, params: Mapping[str, Any] | None = None) -> list[Json]:
        """Every item of a collection: first page, then ``pagination.nextPage`` until absent."""
        items: list[Json] = []
        url: str | None = path
        query: Mapping[str, Any] | None = {"pagesize": PAGE_SIZE, **(params or {})}
        seen: set[str] = set()
        while url is not None:
            where = self._where(url)
            body = self.get(url, query)
            page, url = self._page(body, where)
            items += page
            query = None  # the next page's URL carries paging and filter itself
            if url is not None:
                if url in seen:
                    raise InvalidDataError(
                        f"pagination.nextPage repeats {url!r}; stopping instead of looping",
                        plugin=NAME,
                        where=where,
                    )
                seen.add(url)
        return items

    def _page(self, body: Any, where: str) -> tuple[list[Json], str | None]:
        collection = object_list(body, "collection", COLLECTION, plugin=NAME, where=where)
        pagination = body.get("pagination")
        next_page = pagination.get("nextPage") if isinstance(pagination, dict) else None
        if next_page is not None and (not isinstance(next_page, str) or not next_page.strip()):
            raise InvalidDataError(
                f"pagination.nextPage is {next_page!r}, not a URL", plugin=NAME, where=where
            )
        return collection, next_page

    def filtered(
        self,
        path: str,
        field: str,
        numbers: Sequence[int],
        params: Mapping[str, Any] | None = None,
    ) -> list[Json]:
        """Every item whose ``field`` is one of ``numbers``: ``field$in:[...]`` in batches of
        at most 200, each batch read to its last page."""
        items: list[Json] = []
        unique = sorted(set(numbers))
        for start in range(0, len(unique), FILTER_BATCH):
            batch = unique[start : start + FILTER_BATCH]
            condition = f"{field}$in:[{','.join(str(n) for n in batch)}]"
            items += self.collection(path, {**(params or {}), "filter": condition})
        return items


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


# -- the registry of long-lived clients --------------------------------------------------------

_pool: ClientPool[EconomicClient] = ClientPool()
#: Build clients with these options from now on (closing the current ones); returns the old.
configure = _pool.configure
#: Close every client, current and retired (at exit, and on :func:`configure`).
close_clients = _pool.close


def client_for(client_id: int, config: Config) -> EconomicClient:
    """The long-lived client of hub client ``client_id`` for these base URL and tokens.

    Settings changed since the last call (a new token): a new client is made and used from
    now on; the old one is retired (closed by :func:`close_clients`), never closed under a
    call still using it.
    """
    return _pool.get(client_id, config.fingerprint, lambda options: EconomicClient(config, options))
