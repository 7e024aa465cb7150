"""The HTTP application of the fake e-conomic server: :class:`FakeEconomic` (state, auth,
faults, idempotency, rate-limit headers, routing) and the in-process httpx transport. Import
them from :mod:`hub.testing.fakes.economic`; ``docs/fakes/economic.md`` says what is faithful,
what is simplified, and the sources [S1]...[S7].
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from hub.testing.fakes.app import (
    FakeApplication,
    Response,
    Routes,
    parse_body,
)
from hub.testing.fakes.economic.model import Agreement, ApiError, Request, Result
from hub.testing.fakes.economic.reads import (
    NOT_FOUND_HINT,
    get_booked,
    get_booked_one,
    get_customer,
    get_customers,
    get_draft,
    get_drafts,
    get_entries,
    get_journal,
    get_journal_entries,
    get_journals,
    get_self,
    get_status,
    named,
)
from hub.testing.fakes.economic.vouchers import create_vouchers
from hub.testing.fakes.economic.writes import book_invoice, create_draft, delete_draft
from hub.testing.fakes.faults import Fault as _Fault
from hub.testing.fakes.faults import seconds_text
from hub.testing.fakes.tenants import Tenants
from hub.testing.fakes.wire import dumps

__all__ = ["EconomicTransport", "FakeEconomic", "Fault", "RecordedRequest", "Response"]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# e-conomic documents no error codes for these; the fake's own, so that tests can tell them
# apart (UNVERIFIED: the real API's codes for auth and throttling are not in any source).
AUTH_CODES = {
    "missing_app": "E00100",
    "invalid_app": "E00110",
    "missing_grant": "E00200",
    "invalid_grant": "E00210",
    "revoked_grant": "E00220",
    "forbidden": "E00300",
}


class Fault(_Fault):
    """A failure to inject into the next matching request(s) (:meth:`FakeEconomic.fail_next`).

    * ``status``: answer this status with an e-conomic error body (429 adds ``Retry-After``
      when ``retry_after`` is given, in whole seconds if it is whole);
    * ``delay``: sleep this many seconds before answering (alone: a slow but normal answer);
    * ``malformed``: answer ``status`` (default 200) with a body that is not JSON (truncated);
    * ``count``: how many matching requests it applies to; ``path_prefix``/``method``: which
      requests match (``None``: all);
    * ``after_processing``: process the request first (state changes, idempotency keys are
      stored) and *then* answer with the fault, like an answer lost on the way back;
    * ``delay_after``: sleep this many seconds after processing, before answering: the write
      is done and its answer not yet sent (a crash test kills the client in that window);
    * ``hold``: wait until the test sets this event before answering (in-process fakes).
    """


@dataclass(eq=False)
class RecordedRequest:
    """One request the fake received (also faulted and rejected ones), in arrival order."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    json: Any  # parsed body (numbers with a fraction as Decimal) or None
    body: bytes = b""
    status: int = 0  # the status answered
    replayed: bool = False  # answered from the Idempotency-Key cache
    fault: Fault | None = None
    request_id: str = ""
    #: When it arrived (:func:`time.monotonic`, the fake's process).
    at: float = 0.0


@dataclass
class _Cached:
    method: str
    path: str
    at: float
    response: Response


Handler = Callable[[Agreement, Request], Result]


# --- the application ----------------------------------------------------------------------------


class FakeEconomic(FakeApplication[RecordedRequest, Fault]):
    """All state of a fake e-conomic REST API (``restapi.e-conomic.com``), thread-safe.

    Serve it with :class:`~hub.testing.fakes.economic.EconomicServer` (real HTTP) or
    :meth:`transport` (in-process). Options:

    * ``page_size_max``: largest ``pagesize`` (e-conomic: 1000); ``default_page_size`` (20);
    * ``base_url``: host written into ``self``/paging links; default: the request's own origin,
      so following ``nextPage`` reaches the fake;
    * ``today``: the date used for ``/invoices/overdue|not-due`` and ``dueAmount`` (settable
      attribute; default ``date.today()``);
    * ``rate_limit``/``rate_window``/``call_cost``: the token bucket reported in
      ``X-RateLimiting``/``X-CallCost`` on every answer; ``rate_limit=None`` reports a limit of
      10000 and never throttles, a number enforces it (429 with ``Retry-After``);
    * ``rate_limit_per``: whose bucket a request draws on: ``"agreement"`` (its
      ``X-AgreementGrantToken``; the default) or ``"app"`` (its ``X-AppSecretToken``: one budget
      for every agreement of an app); :attr:`request_times` keeps each bucket's arrival times
      (:func:`time.monotonic`), so tests can count the requests of a window;
    * ``payment_sign``: the sign of a ``customerPayments`` amount that is money received: ``1``
      (a positive amount pays, as in e-conomic's own example [S1] and [S3]) or ``-1``;
    * ``idempotency_ttl``: how long an ``Idempotency-Key`` answer is replayed (one hour [S2]).
    """

    request_id_header = "X-RequestId"

    def __init__(
        self,
        *,
        page_size_max: int = 1000,
        default_page_size: int = 20,
        base_url: str | None = None,
        today: date | None = None,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        call_cost: int = 1,
        payment_sign: int = 1,
        idempotency_ttl: float = 3600.0,
        rate_limit_per: str = "agreement",
    ) -> None:
        if payment_sign not in (1, -1):
            raise ValueError("payment_sign must be 1 or -1")
        if rate_limit_per not in ("agreement", "app"):
            raise ValueError('rate_limit_per must be "agreement" or "app"')
        self.rate_limit_per = rate_limit_per
        #: Arrival times (:func:`time.monotonic`) of the requests drawing on each bucket, by its
        #: key (the agreement grant token or the app secret token, see ``rate_limit_per``).
        self.request_times: dict[str, list[float]] = {}
        super().__init__(rate_limit=rate_limit, rate_window=rate_window)
        self.page_size_max = page_size_max
        self.default_page_size = default_page_size
        self.base_url = base_url.rstrip("/") if base_url else None
        self.today: date | None = today
        self.call_cost = call_cost
        self.payment_sign = payment_sign
        self.idempotency_ttl = idempotency_ttl
        self._tenants: Tenants[Agreement] = Tenants(self.lock, "agreement grant token")
        self.agreements: list[Agreement] = self._tenants.all
        self._idempotent: dict[tuple[str, str], _Cached] = {}
        self._apps: set[str] = set()

    # --- set-up -------------------------------------------------------------------------------

    def current_date(self) -> date:
        return self.today or date.today()

    def add_agreement(
        self,
        app_secret_token: str,
        agreement_grant_token: str,
        company_name: str = "Fake Company ApS",
        *,
        base_currency: str = "DKK",
        vat_rate: Decimal = Decimal("0.25"),
        role: str = "SuperUser",
    ) -> Agreement:
        """An agreement reachable with this token pair (``role="Bookkeeping"`` gets 403 on
        customers, as a real app without the SuperUser role [S6])."""
        with self.lock:
            agreement = self._tenants.add(
                agreement_grant_token,
                lambda: Agreement(
                    lock=self.lock,
                    today=self.current_date,
                    app_secret_token=app_secret_token,
                    agreement_grant_token=agreement_grant_token,
                    company_name=company_name,
                    agreement_number=1_000_001 + len(self.agreements),
                    base_currency=base_currency,
                    vat_rate=vat_rate,
                    role=role,
                ),
            )
            self._apps.add(app_secret_token)
            return agreement

    def agreement(self, agreement_grant_token: str) -> Agreement:
        return self._tenants.by_token[agreement_grant_token]

    def fail_next(self, fault: Fault) -> None:
        """Queue ``fault`` for the next ``fault.count`` matching requests (first queued first)."""
        self._faults.add(fault)

    def transport(self) -> httpx.BaseTransport:
        """An httpx transport that serves this fake in-process (no sockets)."""
        return EconomicTransport(self)

    # --- serving ------------------------------------------------------------------------------

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, base: str
    ) -> Response:
        """Answer one request. ``target`` is path and query as sent; ``base`` the origin the
        request was addressed to (used for links unless ``base_url`` was given)."""
        method = method.upper()
        split = urlsplit(target)
        path = unquote(split.path).rstrip("/") or "/"
        pairs = parse_qsl(split.query, keep_blank_values=True)
        lower_headers = {k.lower(): v for k, v in headers.items()}
        parsed, body_ok = parse_body(body)
        rid = secrets.token_hex(8)
        record = RecordedRequest(
            method, path, dict(pairs), lower_headers, parsed, body, request_id=rid
        )
        record.at = time.monotonic()
        with self.lock:
            self.request_times.setdefault(self._bucket_key(lower_headers), []).append(record.at)

        def process() -> Response:
            request = Request(
                method=method,
                path=path,
                params=(),
                query={k.lower(): v for k, v in pairs},
                json=parsed,
                base=self.base_url or base.rstrip("/"),
                today=self.current_date(),
                page_size_max=self.page_size_max,
                default_page_size=self.default_page_size,
                payment_sign=self.payment_sign,
            )
            return self._process(request, lower_headers, body, body_ok, rid, record)

        def fault_answer(fault: Fault, real_body: bytes) -> Response:
            return self._fault_response(fault, rid, lower_headers)

        response = self._serve(record, process, fault_answer)
        record.status = response.status
        return response

    def _fault_response(self, fault: Fault, rid: str, headers: Mapping[str, str]) -> Response:
        extra: dict[str, str] = {}
        if fault.retry_after is not None:
            extra["Retry-After"] = seconds_text(fault.retry_after)
        if fault.malformed:
            body = b'{"collection":[{"bookedInvoiceNumber":1,"date":"20'
            return self._respond(fault.status or 200, body, rid, headers, extra)
        status = fault.status or 500
        messages = {
            429: ("Too many requests.", "The rate limit is exceeded. Wait and try again."),
            500: ("An unexpected error occurred.", "Try again, or contact api@e-conomic.com."),
            502: ("Bad gateway.", "Try again later."),
            503: ("Service unavailable.", "The service is temporarily unavailable."),
            504: ("Gateway timeout.", "Try again later."),
        }
        message, hint = messages.get(status, ("Request failed.", "Try again later."))
        return self._error(
            ApiError(status, {"message": message, "developerHint": hint}, extra), rid, headers
        )

    def _bucket_key(self, headers: Mapping[str, str]) -> str:
        """The key of the bucket a request with ``headers`` (lower-case names) draws on."""
        if self.rate_limit_per == "app":
            return headers.get("x-appsecrettoken", "")
        return headers.get("x-agreementgranttoken", "")

    def _rate_headers(self, headers: Mapping[str, str], remaining: int | None) -> dict[str, str]:
        """``X-CallCost`` and ``X-RateLimiting`` (the agreement's or the app's bucket;
        e-conomic reports no remaining count, so ``remaining`` plays no part)."""
        key = self._bucket_key(headers)
        _, used = self._buckets.spend(key, self.rate_window, self.call_cost)
        limit = self.rate_limit or 10000
        window = int(self.rate_window)
        return {
            "X-CallCost": str(self.call_cost),
            "X-RateLimiting": f"token-limit-{limit}-per-{window}-seconds: {used}/{limit}",
        }

    def _error(self, error: ApiError, rid: str, headers: Mapping[str, str]) -> Response:
        body: dict[str, object] = {"message": error.body.get("message", "")}
        if "errorCode" in error.body:
            body["errorCode"] = error.body["errorCode"]
        body["developerHint"] = error.body.get("developerHint", "")
        body["logId"] = f"{rid}-CPH"
        body["httpStatusCode"] = error.status
        body["logTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        body.update({k: v for k, v in error.body.items() if k not in body})
        return self._respond(error.status, dumps(body).encode("utf-8"), rid, headers, error.headers)

    def _process(
        self,
        request: Request,
        headers: Mapping[str, str],
        body: bytes,
        body_ok: bool,
        rid: str,
        record: RecordedRequest,
    ) -> Response:
        try:
            agreement = self._authenticate(headers)
            retry_after = self._throttled(self._bucket_key(headers), self.call_cost)
            if retry_after is not None:
                raise ApiError(
                    429,
                    {
                        "message": "Too many requests.",
                        "developerHint": f"The {self.rate_limit_per}'s token bucket is empty;"
                        " wait for Retry-After seconds.",
                    },
                    {"Retry-After": retry_after},
                )
            handler, request.params = _ROUTES.find(request.method, request.path)
            if agreement.role != "SuperUser" and request.path.startswith("/customers"):
                raise ApiError(
                    403,
                    {
                        "message": "Forbidden. The app's role does not give access to customers.",
                        "errorCode": AUTH_CODES["forbidden"],
                        "developerHint": "The grant was issued for a role without access to this "
                        "resource; ask for the SuperUser role.",
                    },
                )
            if request.method in WRITE_METHODS and body:
                content_type = headers.get("content-type", "")
                if "json" not in content_type.lower():
                    raise ApiError(
                        415,
                        {
                            "message": "Unsupported media type.",
                            "developerHint": "Send JSON with Content-Type: application/json.",
                        },
                    )
                if not body_ok:
                    raise ApiError(
                        400,
                        {
                            "message": "The request body is not valid JSON.",
                            "developerHint": "Send a JSON document.",
                        },
                    )
            key = headers.get("idempotency-key")
            if key and request.method in WRITE_METHODS:
                return self._idempotent_call(agreement, handler, request, key, rid, headers, record)
            result = handler(agreement, request)
            return self._respond(result.status, result.body.encode(), rid, headers, result.headers)
        except ApiError as error:
            return self._error(error, rid, headers)

    def _idempotent_call(
        self,
        agreement: Agreement,
        handler: Handler,
        request: Request,
        key: str,
        rid: str,
        headers: Mapping[str, str],
        record: RecordedRequest,
    ) -> Response:
        slot = (agreement.agreement_grant_token, key)
        cached = self._idempotent.get(slot)
        now = time.monotonic()
        if cached is not None and now - cached.at < self.idempotency_ttl:
            if (cached.method, cached.path) != (request.method, request.path):
                raise ApiError(
                    400,
                    {
                        "message": "The Idempotency-Key was used for another request.",
                        "errorCode": "URLChanged",
                        "developerHint": "Use a new Idempotency-Key for every distinct request.",
                    },
                )
            record.replayed = True
            replay = self._respond(
                cached.response.status,
                cached.response.body,
                rid,
                headers,
                {**_location(cached.response), "X-ResultFromCache": "true"},
            )
            return replay
        try:
            result = handler(agreement, request)
            response = self._respond(
                result.status, result.body.encode(), rid, headers, result.headers
            )
        except ApiError as error:
            response = self._error(error, rid, headers)
        if response.status < 500:
            self._idempotent[slot] = _Cached(request.method, request.path, now, response)
        return response

    def _authenticate(self, headers: Mapping[str, str]) -> Agreement:
        hint = (
            "Send the app's X-AppSecretToken and the agreement's X-AgreementGrantToken headers "
            "(see https://www.e-conomic.com/developer/connect); to try the API, append "
            "?demo=true to the URL."
        )
        app = headers.get("x-appsecrettoken")
        grant = headers.get("x-agreementgranttoken")
        if not app:
            problem = ("missing_app", "The X-AppSecretToken header is missing.")
        elif app not in self._apps:
            problem = ("invalid_app", "The X-AppSecretToken is not valid.")
        elif not grant:
            problem = ("missing_grant", "The X-AgreementGrantToken header is missing.")
        else:
            agreement = self._tenants.by_token.get(grant)
            if agreement is None or agreement.app_secret_token != app:
                problem = ("invalid_grant", "The X-AgreementGrantToken is not valid for this app.")
            elif agreement.revoked:
                problem = ("revoked_grant", "The agreement has revoked the grant for this app.")
            else:
                return agreement
        return self._unauthorized(problem, hint)

    @staticmethod
    def _unauthorized(problem: tuple[str, str], hint: str) -> Agreement:
        raise ApiError(
            401,
            {"message": problem[1], "errorCode": AUTH_CODES[problem[0]], "developerHint": hint},
        )


def _post_draft(ag: Agreement, request: Request) -> Result:
    return create_draft(ag, request.json, request.base)


def _post_booked(ag: Agreement, request: Request) -> Result:
    return book_invoice(ag, request.json, request.base)


def _delete_draft(ag: Agreement, request: Request) -> Result:
    draft = named(ag.drafts, request)
    return delete_draft(ag, draft.draft_invoice_number, request.base)


def _post_vouchers(ag: Agreement, request: Request) -> Result:
    journal = named(ag.journals, request)
    return create_vouchers(ag, journal, request.json, request.base, request.payment_sign)


def _not_implemented(ag: Agreement, request: Request) -> Result:
    raise ApiError(
        501,
        {
            "message": f"{request.method} {request.path} is not implemented by the fake.",
            "developerHint": "See hub.testing.fakes.economic for the endpoints it serves.",
        },
    )


def _not_found(path: str) -> ApiError:
    return ApiError(404, {"message": "Resource not found.", "developerHint": NOT_FOUND_HINT})


def _not_allowed(method: str, path: str, allowed: list[str]) -> ApiError:
    return ApiError(
        405,
        {
            "message": f"The HTTP method {method} is not allowed on {path}.",
            "developerHint": f"Allowed: {', '.join(allowed)}.",
        },
        {"Allow": ", ".join(allowed)},
    )


_ROUTES: Routes[Handler] = Routes(
    [
        (r"/self", {"GET": get_self}),
        (r"/customers", {"GET": get_customers}),
        (r"/customers/([^/]+)", {"GET": get_customer}),
        (r"/invoices/booked", {"GET": get_booked, "POST": _post_booked}),
        (r"/invoices/booked/([^/]+)", {"GET": get_booked_one}),
        (r"/invoices/(unpaid|overdue|not-due|paid)", {"GET": get_status}),
        (r"/invoices/drafts", {"GET": get_drafts, "POST": _post_draft}),
        (r"/invoices/drafts/([^/]+)", {"GET": get_draft, "DELETE": _delete_draft}),
        (r"/journals", {"GET": get_journals}),
        (r"/journals/([^/]+)", {"GET": get_journal}),
        (r"/journals/([^/]+)/vouchers", {"GET": _not_implemented, "POST": _post_vouchers}),
        (r"/journals/([^/]+)/entries", {"GET": get_journal_entries}),
        (r"/accounting-years/([^/]+)/entries", {"GET": get_entries}),
    ],
    _not_found,
    _not_allowed,
)


def _location(response: Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k == "Location"}


class EconomicTransport(httpx.BaseTransport):
    """Serves a :class:`FakeEconomic` to an ``httpx.Client`` in-process."""

    def __init__(self, fake: FakeEconomic) -> None:
        self.fake = fake

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        target = request.url.raw_path.decode("ascii")
        base = f"{request.url.scheme}://{request.url.netloc.decode('ascii')}"
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers.raw}
        answer = self.fake.handle(request.method, target, headers, body, base)
        return httpx.Response(answer.status, headers=answer.headers, content=answer.body)
