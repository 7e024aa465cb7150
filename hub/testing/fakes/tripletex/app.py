"""The HTTP application of the fake Tripletex API v2: :class:`FakeTripletex` (state, sessions,
auth, faults, rate-limit headers, routing). Import it from :mod:`hub.testing.fakes.tripletex`;
``docs/fakes/tripletex.md`` says what is faithful and what is chosen.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from hub.testing.fakes.app import (
    FakeApplication,
    RateBuckets,
    Response,
    Routes,
    parse_body,
)
from hub.testing.fakes.faults import Fault as _Fault
from hub.testing.fakes.faults import seconds_text
from hub.testing.fakes.tenants import Tenants
from hub.testing.fakes.tripletex.company import Company
from hub.testing.fakes.tripletex.model import ApiError, Session
from hub.testing.fakes.tripletex.query import Call, Result
from hub.testing.fakes.tripletex.reads import (
    get_account,
    get_accounts,
    get_customer,
    get_customers,
    get_invoice,
    get_invoices,
    get_ledger_open_post,
    get_open_posts,
    get_order,
    get_orders,
    get_posting,
    get_postings,
    get_vat_type,
    get_vat_types,
    get_voucher,
    get_vouchers,
    get_vouchers_by_external_number,
    get_who_am_i,
)
from hub.testing.fakes.tripletex.sessions import Sessions
from hub.testing.fakes.tripletex.writes import (
    post_order,
    post_voucher,
    put_credit_note,
    put_order_invoice,
)
from hub.testing.fakes.wire import dumps

__all__ = ["FakeTripletex", "Fault", "RecordedRequest", "Response"]

SESSION_CREATE = "/token/session/:create"
DEFAULT_RATE_LIMIT = 10_000  # reported (never enforced) when no rate_limit is set
MALFORMED = b'{"fullResultSize":1,"from":0,"count":1,"versionDigest":null,"values":[{"id":'

Handler = Callable[[Call], Result]
#: The body of a fault's answer by status: the spec's code for it (0: none listed) and message.
FAULT_ANSWERS = {
    400: (4000, "Bad request."),
    401: (3000, "Unauthorized"),
    403: (9000, "Forbidden"),
    404: (6000, "Object not found"),
    409: (8000, "Revision conflict."),
    422: (18000, "Validering feilet."),
    500: (1000, "Internal error."),
    502: (1000, "Bad gateway."),
    503: (1000, "Service unavailable."),
    504: (1000, "Gateway timeout."),
}


class Fault(_Fault):
    """A failure for the next ``count`` requests that match ``path_prefix`` (the API path below
    ``/v2``, e.g. ``"/invoice"``; ``None``: any) and ``method`` (``None``: any):

    * ``status``: answer it with an ``ApiError`` body (429 carries ``X-Rate-Limit-Reset`` =
      ``retry_after`` seconds, default 1; no ``Retry-After``, which Tripletex does not send);
    * ``malformed``: answer ``status`` (default 200) with a cut-off JSON body;
    * ``after_processing``: do the work first (state changes), *then* answer with the fault
      (default 500): an answer lost on its way back;
    * ``delay``: sleep this many seconds before answering;
    * ``delay_after``: do the work, then sleep this many seconds before answering: the write
      is made and its answer not yet sent (a crash test kills the client in that window);
    * ``hold``: wait until the test sets this event before answering (in-process fakes).
    """

    @property
    def replaces_answer(self) -> bool:
        return self.status is not None or self.malformed or self.after_processing


@dataclass(eq=False)
class RecordedRequest:
    """One request the fake received (faulted and rejected ones too), in arrival order.
    ``path`` is the API path below ``/v2`` (``"/invoice"``); ``url_path`` the path as sent."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    url_path: str = ""
    json: Any = None  # parsed body (fractions as Decimal) or None
    response: Response | None = None
    request_id: str = ""
    fault: Fault | None = None

    @property
    def status(self) -> int:
        return self.response.status if self.response is not None else 0


class FakeTripletex(FakeApplication[RecordedRequest, Fault]):
    """All state of a fake Tripletex API v2, thread-safe (one lock around the model).

    * ``today``: the fake's clock (session expiry, ``seed``); a settable attribute, default
      the real date;
    * ``count_max``: the largest ``count`` a list accepts (more is a 422, code 23000);
    * ``rate_limit``/``rate_window``: requests per employee and window; ``None`` reports a limit
      of 10 000 in the ``X-Rate-Limit-*`` headers and never throttles, a number enforces it
      (429 for the rest of the window).
    """

    request_id_header = "x-tlx-request-id"

    def __init__(
        self,
        today: date | None = None,
        count_max: int = 1000,
        *,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
    ) -> None:
        super().__init__(_api_path, rate_limit=rate_limit, rate_window=rate_window)
        self._today = today
        self.count_max = count_max
        self._tenants: Tenants[Company] = Tenants(self.lock, "employee token")
        self.companies: list[Company] = self._tenants.all
        self._ids = itertools.count(1_000_001)
        self._by_id: dict[int, Company] = {}
        self._sessions = Sessions(
            lambda: self.today, self.next_id, self._by_id, self._tenants.by_token
        )
        self.sessions: dict[str, Session] = self._sessions.tokens

    # --- the clock and set-up ------------------------------------------------------------------

    @property
    def today(self) -> date:
        return self._today or date.today()

    @today.setter
    def today(self, value: date | None) -> None:
        self._today = value

    def next_id(self) -> int:
        return next(self._ids)

    def add_company(
        self,
        consumer_token: str,
        employee_token: str,
        name: str = "Firma AS",
        currency: str = "NOK",
    ) -> Company:
        """A company whose employee token (with ``consumer_token``) opens sessions."""
        with self.lock:
            company = self._tenants.add(
                employee_token,
                lambda: Company(
                    lock=self.lock,
                    next_id=self.next_id,
                    today=lambda: self.today,
                    company_id=self.next_id(),
                    employee_id=self.next_id(),
                    consumer_token=consumer_token,
                    employee_token=employee_token,
                    name=name,
                    currency=currency,
                ),
            )
            self._by_id[company.id] = company
            return company

    def company(self, employee_token: str) -> Company:
        return self._tenants.by_token[employee_token]

    def session_for(self, company: Company, expiration: date | None = None) -> str:
        """A session token for ``company`` without HTTP (test set-up); valid until
        ``expiration`` (default: a year after ``today``)."""
        with self.lock:
            return self._sessions.new(company, expiration or self.today.replace(year=9999)).token

    def fault(self, fault: Fault) -> None:
        """Queue ``fault`` for the next ``fault.count`` matching requests (first queued first)."""
        self._faults.add(fault)

    def expire_sessions(self) -> None:
        """Every session token becomes invalid (401): the client must create a new one."""
        with self.lock:
            self._sessions.expire_all()

    # --- serving -------------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, base_url: str
    ) -> Response:
        """Answer one request; ``target`` is path and query as sent, ``base_url`` the origin it
        was addressed to (``http://host:port``), whose host goes into the ``url`` of records."""
        method = method.upper()
        split = urlsplit(target)
        url_path = unquote(split.path)
        api_path = _api_path(url_path).rstrip("/") or "/"
        query = parse_qs(split.query, keep_blank_values=True)
        lower = {k.lower(): v for k, v in headers.items()}
        parsed, body_ok = parse_body(body.strip())
        rid = str(uuid.uuid4())
        record = RecordedRequest(
            method, api_path, query, lower, body, url_path, parsed, request_id=rid
        )
        host = urlsplit(base_url).netloc or base_url

        def process() -> Response:
            return self._process(
                method, api_path, url_path, query, lower, parsed, body_ok, host, rid
            )

        def fault_answer(fault: Fault, real_body: bytes) -> Response:
            return self._fault_response(fault, rid, lower, real_body)

        response = self._serve(record, process, fault_answer)
        record.response = response
        return response

    def _fault_response(
        self, fault: Fault, rid: str, headers: Mapping[str, str], real_body: bytes
    ) -> Response:
        if fault.malformed:
            body = real_body[: len(real_body) // 2] if len(real_body) > 8 else MALFORMED
            return self._respond(fault.status or 200, body, rid, headers)
        status = fault.status or 500
        if status == 429:
            reset = seconds_text(1.0 if fault.retry_after is None else fault.retry_after)
            error = ApiError(429, 0, "Too many requests.", headers={"X-Rate-Limit-Reset": reset})
            return self._error(error, rid, headers, remaining=0)
        code, message = FAULT_ANSWERS.get(status, (1000 if status >= 500 else 0, "Request failed."))
        return self._error(ApiError(status, code, message), rid, headers)

    # --- rate limiting and answers -------------------------------------------------------------

    def _rate_headers(self, headers: Mapping[str, str], remaining: int | None) -> dict[str, str]:
        """The ``X-Rate-Limit-*`` headers of an answer (which counts as one request of the
        employee's)."""
        key = self._sessions.employee_token(headers)
        start, used = self._buckets.spend(key, self.rate_window)
        limit = self.rate_limit or DEFAULT_RATE_LIMIT
        left = RateBuckets.seconds_left(start, self.rate_window)
        return {
            "X-Rate-Limit-Limit": str(limit),
            "X-Rate-Limit-Remaining": str(max(0, limit - used) if remaining is None else remaining),
            "X-Rate-Limit-Reset": str(left),
        }

    def _error(
        self,
        error: ApiError,
        rid: str,
        headers: Mapping[str, str],
        *,
        remaining: int | None = None,
    ) -> Response:
        body = dumps(error.body(rid)).encode("utf-8")
        return self._respond(error.status, body, rid, headers, error.headers, remaining=remaining)

    # --- processing ----------------------------------------------------------------------------

    def _process(
        self,
        method: str,
        api_path: str,
        url_path: str,
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        parsed: Any,
        body_ok: bool,
        host: str,
        rid: str,
    ) -> Response:
        try:
            if not (url_path == "/v2" or url_path.startswith("/v2/")):
                raise ApiError(
                    404,
                    6000,
                    "Object not found",
                    developer_message=f"No API at {url_path}: Tripletex's paths are under /v2.",
                )
            if not body_ok:
                raise ApiError(
                    422, 22000, "Invalid JSON", developer_message="The body is not JSON."
                )
            if api_path == SESSION_CREATE and method in ("POST", "PUT"):
                result = self._sessions.create(method, query, parsed, host)
                return self._respond(result.status, result.body.encode(), rid, headers)
            company, session = self._sessions.authenticate(headers)
            throttled = self._throttled(session.employee_token)
            if throttled is not None:
                raise ApiError(
                    429, 0, "Too many requests.", headers={"X-Rate-Limit-Reset": throttled}
                )
            handler, params = _ROUTES.find(method, api_path)
            if "(" in (query.get("fields") or [""])[0]:
                company.materialize()  # an expansion may reach a pending invoice's voucher
            call = Call(
                method=method,
                path=api_path,
                params=params,
                query=query,
                json=parsed,
                body_ok=body_ok,
                host=host,
                today=self.today,
                count_max=self.count_max,
                company=company,
            )
            if handler is _delete_session:
                self._sessions.delete(company, params[0])
                return self._respond(204, b"", rid, headers)
            result = handler(call)
            return self._respond(result.status, result.body.encode(), rid, headers)
        except ApiError as error:
            return self._error(error, rid, headers)


def _delete_session(call: Call) -> Result:  # routed; handled by FakeTripletex itself
    raise AssertionError("handled in FakeTripletex._process")


def _api_path(path: str) -> str:
    """A path below ``/v2`` as the API names it (``/v2/invoice`` -> ``/invoice``)."""
    return path[3:] if path.startswith("/v2/") else path


def _not_found(path: str) -> ApiError:
    return ApiError(
        404,
        6000,
        "Object not found",
        developer_message=f"The fake Tripletex does not serve {path} "
        "(see hub.testing.fakes.tripletex for its endpoints).",
    )


def _not_allowed(method: str, path: str, methods: list[str]) -> ApiError:
    allowed = ", ".join(methods)
    return ApiError(
        405,
        0,
        "Method not allowed",
        developer_message=f"{method} is not allowed on {path}; allowed: {allowed}.",
        headers={"Allow": allowed},
    )


_ROUTES: Routes[Handler] = Routes(
    [
        (r"/token/session/>whoAmI", {"GET": get_who_am_i}),
        (r"/token/session/([^/]+)", {"DELETE": _delete_session}),
        (r"/customer", {"GET": get_customers}),
        (r"/customer/([^/]+)", {"GET": get_customer}),
        (r"/invoice", {"GET": get_invoices}),
        (r"/invoice/([^/]+)", {"GET": get_invoice}),
        (r"/invoice/([^/]+)/:createCreditNote", {"PUT": put_credit_note}),
        (r"/order", {"GET": get_orders, "POST": post_order}),
        (r"/order/([^/]+)", {"GET": get_order}),
        (r"/order/([^/]+)/:invoice", {"PUT": put_order_invoice}),
        (r"/ledger/vatType", {"GET": get_vat_types}),
        (r"/ledger/vatType/([^/]+)", {"GET": get_vat_type}),
        (r"/ledger/account", {"GET": get_accounts}),
        (r"/ledger/account/([^/]+)", {"GET": get_account}),
        (r"/ledger/voucher", {"GET": get_vouchers, "POST": post_voucher}),
        (r"/ledger/voucher/>externalVoucherNumber", {"GET": get_vouchers_by_external_number}),
        (r"/ledger/voucher/([^/]+)", {"GET": get_voucher}),
        (r"/ledger/posting", {"GET": get_postings}),
        (r"/ledger/posting/openPost", {"GET": get_open_posts}),
        (r"/ledger/posting/([^/]+)", {"GET": get_posting}),
        (r"/ledger/openPost", {"GET": get_ledger_open_post}),
    ],
    _not_found,
    _not_allowed,
)
