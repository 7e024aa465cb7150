"""A fake of Tripletex's REST API v2 (``https://tripletex.no/v2``), for the Tripletex plugin's
tests, the benchmark and ``hub demo``.

Use::

    fake = FakeTripletex(today=date(2026, 2, 1))
    company = fake.add_company("consumer-1", "employee-1", "Firma AS")
    kunde = company.add_customer(10001, "Nordmann AS", "post@nordmann.no")
    company.add_invoice(10001, 10001, date(2026, 1, 1), date(2026, 1, 15), Decimal("1000.00"),
                        Decimal("250.00"))
    with TripletexServer(fake) as server:          # real HTTP on 127.0.0.1, random port
        server.url                                 # "http://127.0.0.1:PORT/v2"

or as a process (``python -m hub.testing.fakes.tripletex --port 8123 --companies 3
--invoices 100``): companies ``i = 1..N`` (tokens ``consumer-{i}`` / ``employee-{i}``); it prints
the URL (ending in ``/v2``) and serves until SIGTERM.

Sources: [SPEC] Tripletex's OpenAPI 3.0.1 spec, API 2.74.00 (``shared/specs/tripletex/
openapi.json``: paths, parameters, schemas and its ``info.description`` on auth, envelopes,
``fields``, rate limiting, error codes); [NOTES] ``shared/reference/norwegian-apis-and-law.md``
§2.1; [CAP] answers of real Tripletex test companies captured in public integration logs
(the "NM i AI 2026" Tripletex task, March 2026: list and single envelopes, customer, order,
invoice, account and VAT type answers, 422 bodies).

What is faithful:

* Paths, parameters and shapes: every answer the tests make validates against [SPEC] with
  openapi-core (:mod:`hub.testing.fakes.tripletex.spec`), with no undeclared property. Field names
  and order as [SPEC]/[CAP]; unset links are ``null``, unset texts ``""``, a normal invoice's
  ``creditedInvoice`` is ``0`` [CAP]; ``url`` is host and path without a scheme
  (``127.0.0.1:PORT/v2/invoice/7``) [CAP]. Dates ``YYYY-MM-DD``; amounts JSON numbers with two
  decimals written from ``Decimal``.
* Envelopes: ``{"value": ...}`` and ``{"fullResultSize", "from", "count", "versionDigest",
  "values"}``; ``count`` is the number returned, ``fullResultSize`` the number of matches,
  ``versionDigest`` the text real answers carry without ``If-None-Match`` [CAP]. Paging by
  ``from``/``count`` (default 0/1000) [SPEC]; ``sorting`` (comma list, ``-`` descending);
  ``fields`` with ``*``, names and nested ``name(...)`` (a link not expanded is ``{id, url}``;
  an unknown name is 400 code 11000 "Illegal field in fields filter: X. X does not match a
  field in the model: InvoiceDTO" [CAP]).
* Auth [SPEC]: ``POST /token/session/:create`` (body) → 201, legacy ``PUT`` (query) → 200,
  ``{"value": SessionToken}``; every other call HTTP Basic, user ``0`` (or the company id) and
  the session token as password; a session is valid while ``today < expirationDate``.
  ``GET /token/session/>whoAmI``, ``DELETE /token/session/{token}`` (204).
* Required parameters: ``GET /invoice`` needs ``invoiceDateFrom`` (inclusive) and
  ``invoiceDateTo`` (exclusive), ``GET /order`` ``orderDateFrom``/``orderDateTo``, ``GET
  /ledger/voucher`` and ``/ledger/posting`` ``dateFrom``/``dateTo``, open posts ``date``
  (exclusive); missing → 422 ``{"status":422,"code":15000,"message":"Validation failed",
  "validationMessages":[{"field":"invoiceDateFrom","message":"Kan ikke være null."}...]}``
  [CAP]. ``invoiceNumber``, ``kid``, ``customerId`` (invoice) are single values ("Equals"),
  ``id``, ``voucherId``, ``customerAccountNumber`` comma lists [SPEC].
* Errors: the ``ApiError`` envelope with ``link`` ``https://tripletex.no/v2-docs/`` and
  ``requestId`` = header ``x-tlx-request-id`` (on every answer) [SPEC, CAP]; codes from
  [SPEC]'s table: 401 3000, 403 9000, 404 6000, 422 15000 (parameters), 16000 (body mapping:
  "Feltet eksisterer ikke i objektet." [CAP]), 17000 (sorting), 18000 (rules, "Validering
  feilet.", developerMessage ``VALIDATION_ERROR`` [CAP]), 22000 (not JSON), 23000 (``count``
  above the maximum), 500 1000. A voucher posting on row 0 and a voucher without postings get
  the captured messages [CAP].
* Rate limiting [SPEC]: every answer carries ``X-Rate-Limit-Limit``, ``-Remaining`` and
  ``-Reset`` (seconds left in the window); 429 for the rest of the window; no ``Retry-After``
  ([NOTES]: Tripletex documents none).
* VAT types: ids, numbers, names, rates of a captured ``GET /ledger/vatType`` (3 høy sats 25 %,
  31 middels 15 %, 32 lav sats 12 % with number "33", 5 and 6 at 0 %, 52, 0, 1, 7) [CAP];
  currencies NOK=1, SEK=2, DKK=3, USD=4, EUR=5, GBP=6, CHF=7 [CAP]. Invoice due dates from an
  order's ``invoicesDueIn`` days (+14 captured) [CAP]; an order's ``preliminaryInvoice`` is
  the id its invoice will get [CAP]; ``Invoice.orders`` links the order [SPEC, CAP].
* ``PUT /invoice/{id}/:createCreditNote?date=`` makes a new invoice (200) that "nullifies the
  given invoice" [SPEC]: ``isCreditNote`` true, negative amounts, ``creditedInvoice`` = the
  original's id [SPEC, CAP]; the original gets ``isCredited`` true [SPEC].

What is chosen (UNVERIFIED against the real API, documented here):

* Error wordings other than those above, and status/code for: an already credited invoice or a
  credit note credited (422 18000, "Fakturaen er allerede kreditert." / "En kreditnota kan
  ikke krediteres."), an order invoiced twice (422 18000 "Ordren er allerede fakturert."), an
  order without lines, unbalanced vouchers (422 18000 "Bilaget er ikke i balanse. ..."), a
  customer account posting without customer, amounts with more than two decimals (refused),
  ``externalVoucherNumber`` over 70 characters, a parameter of the wrong type (422 21000), a
  non-numeric path id (400 12000), ``count`` above ``count_max`` (422 23000), ``to <= from``
  in a date range (422 15000), an expired ``expirationDate`` (422 15000), wrong tokens on
  ``:create`` (401 3000), a company id other than the session's as Basic user (403 9000),
  429 and 405 bodies (code 0; [SPEC] lists none), 405 with ``Allow``.
* Bookkeeping (:mod:`hub.testing.fakes.tripletex.ledger`): an invoice posts customer account
  1500 +gross (naming the invoice), revenue 3000 (3100 for 0 %) -net and VAT (2700/2701/2702)
  -vat per VAT type. The invoice, its credit note and every customer posting naming the
  invoice's number make a close group; its sum is what is open. ``amountOutstanding`` of an
  invoice is the positive part (at most its amount), of a credit note the negative part. A
  partly paid invoice credited: the credit note is for the whole invoice, the original's
  ``amountOutstanding`` becomes 0 and the amount already paid stays open as the credit note's
  negative ``amountOutstanding`` (a credit on the customer). A voucher posting on 1500 that
  names an open invoice of its customer lowers that invoice's outstanding by up to the credit;
  a surplus, or a posting naming no invoice, is an open post of the customer. Open posts
  (``/ledger/posting/openPost?date=``): postings on closeable accounts before ``date`` whose
  group does not sum to zero as of then; they always sum to the customer's balance. A voucher
  posting with a VAT type that has a rate is split (row 0 system posting to the VAT account).
  One voucher number series per year; ``sendToLedger=false`` keeps a voucher out of the ledger.
* Invoices: numbers are the next after the highest; KID = invoice number + MOD10 digit; all
  invoices are charged and approved; no reminders, remits, PDFs or sending (``sendToCustomer``
  and ``sendType`` are accepted and ignored). Order lines: ``count`` and a unit price are
  required, VAT type default 3, net per line = count × price × (1 - discount) rounded half up
  to øre, VAT per line rounded half up; a unit price including VAT is converted at the line.
  Invoicing closes the order (``isClosed``). Prepayment parameters of ``:invoice`` are refused.
* Currencies: fixed rates (``NOK_PER_UNIT``); ``amount*`` in NOK, ``amount*Currency`` in the
  invoice currency. Accounts: a small NS 4102 chart (1500 with ``ledgerType`` CUSTOMER, 1920
  bank, 2400, 2700-2740, 3000, 3100, 3900, 7770, 7830 Tap på fordringer, 8040, 8050).
* Not served (404): everything else, e.g. ``POST /customer``, ``PUT /invoice/{id}/:payment``,
  ``/currency``, ``/address``; such links can only be expanded through ``fields``.
* ``fields``: ``changes`` answers ``[]``; query parameters a filter does not know are ignored.
* Amounts are written with two decimals (``1250.00``); real answers drop trailing zeros
  (``156825``, ``196031.25`` [CAP]): the same JSON numbers. ``POST /order`` answers its lines
  as links; one captured answer had ``"orderLines": []`` there, so a client should not rely on
  that answer's lines.
* Faults: an ``after_processing`` fault answers 500 (``ApiError`` code 1000) after the work is
  done (not a dropped connection); ``malformed`` answers the status (200) with half a body.
* ``Fault.retry_after`` may be a fraction (``X-Rate-Limit-Reset: 0.25``) so that tests stay
  fast; real answers carry whole seconds.

For a client (the plugin), in short:

* An order's invoice: ``Order.preliminaryInvoice.id`` is the id of the invoice that ``PUT
  /order/{id}/:invoice`` makes (announced when the order is created), the order is then
  ``isClosed``; the invoice links back in ``Invoice.orders``. ``Order.reference`` is kept, so
  ``GET /order?orderDateFrom&orderDateTo&customerId`` finds an order made before a lost answer.
* A credit note links its original in ``creditedInvoice`` (the original's id); the original
  only says ``isCredited``. Crediting it again: 422 code 18000, ``validationMessages`` ``[{
  "field": null, "message": "Fakturaen er allerede kreditert."}]``; invoicing an order again:
  the same with "Ordren er allerede fakturert.".
* A voucher is found again by ``GET /ledger/voucher/>externalVoucherNumber?
  externalVoucherNumber=`` (or ``externalVoucherNumber`` in ``GET /ledger/voucher``).
* A customer's balance as of a day: the ``amount`` of ``GET /ledger/posting/openPost?date=<the
  day after>&customerId=`` summed (or ``sumAmount`` of ``GET /ledger/openPost``), or
  ``amountOutstanding`` summed over the customer's invoices (the same unless money is on
  account without naming an invoice).
* Records are changed through the API or :class:`Company`'s methods; invoice answers are
  cached per version, so setting attributes by hand may leave them stale.

Modules: ``tripletex_fake_app`` (the HTTP application), ``_sessions`` (auth), ``_query``
(parameters, paging, envelopes), ``_fields`` (``fields``), ``_render``/``_render_refs``
(shapes), ``_reads``/``_writes``/``_body`` (endpoints), ``_company``/``_ledger``/``_model``
(state and bookkeeping); :mod:`hub.testing.fakes.tripletex.spec` checks exchanges against the spec.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from datetime import date

from hub.testing.fakes.http import FakeHttpServer, serve_until_terminated
from hub.testing.fakes.seeding import command_line, unpaid_invoices
from hub.testing.fakes.tripletex.app import FakeTripletex, Fault, RecordedRequest, Response
from hub.testing.fakes.tripletex.company import Company
from hub.testing.fakes.tripletex.model import ApiError, Customer, Invoice, Order, Posting, Voucher
from hub.testing.fakes.wire import dumps

__all__ = [
    "ApiError",
    "Company",
    "Customer",
    "FakeTripletex",
    "Fault",
    "Invoice",
    "Order",
    "Posting",
    "RecordedRequest",
    "Response",
    "TripletexServer",
    "Voucher",
    "dumps",
    "main",
    "seed",
]


class TripletexServer(FakeHttpServer):
    """A :class:`FakeTripletex` served over real HTTP by a ``ThreadingHTTPServer`` in a daemon
    thread. ``port=0`` picks a free port; :attr:`url` is ``http://127.0.0.1:PORT/v2`` (the
    API's paths are under ``/v2``, as at ``https://tripletex.no/v2``)."""

    def __init__(self, fake: FakeTripletex, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(fake, host, port, name="fake-tripletex", path_prefix="/v2")
        self.fake = fake


_CITIES = (("0150", "Oslo"), ("5003", "Bergen"), ("7010", "Trondheim"), ("4006", "Stavanger"))


def seed(
    fake: FakeTripletex,
    companies: int,
    invoices: int,
    *,
    customers: int = 20,
    first_invoice_number: int = 10001,
    today: date | None = None,
) -> list[Company]:
    """Add ``companies`` companies (tokens ``consumer-{i}``/``employee-{i}``, ``i`` from 1,
    "Firma {i} AS", NOK), each with ``customers`` customers (numbers 10001..) and ``invoices``
    unpaid invoices (numbers from ``first_invoice_number``) spread round-robin over them, dated
    over the 60 days before ``today`` with 14 days' credit, 100.00-9999.00 plus 25 % VAT.

    The garbage collector is paused meanwhile: a seed of 100 000 invoices takes half the time
    without its full scans of the growing heap."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _seed(fake, companies, invoices, customers, first_invoice_number, today)
    finally:
        if collecting:
            gc.enable()


def _seed(
    fake: FakeTripletex,
    companies: int,
    invoices: int,
    customers: int,
    first_invoice_number: int,
    today: date | None,
) -> list[Company]:
    today = today or fake.today
    created = []
    for i in range(1, companies + 1):
        company = fake.add_company(f"consumer-{i}", f"employee-{i}", f"Firma {i} AS")
        for c in range(1, customers + 1):
            postal_code, city = _CITIES[c % len(_CITIES)]
            company.add_customer(
                10000 + c,
                f"Kunde {c} AS",
                f"kunde{c}@example.no",
                organization_number=str(920_000_000 + c),
                address=f"Gate {c}",
                postal_code=postal_code,
                city=city,
            )
        numbers = range(10001, 10001 + customers)
        for invoice in unpaid_invoices(invoices, numbers, first_invoice_number, today):
            company.add_invoice(*invoice)
        created.append(company)
    return created


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hub.testing.fakes.tripletex``: seed, print the URL, serve until SIGTERM."""
    args = command_line(
        argv,
        prog="python -m hub.testing.fakes.tripletex",
        description=__doc__.split("\n\n")[0],
        tenants="companies",
        tenant="company",
        tokens="consumer-{i} / employee-{i}",
    )
    fake = FakeTripletex()
    seed(fake, args.companies, args.invoices, customers=args.customers)
    serve_until_terminated(
        TripletexServer(fake, args.host, args.port), fake.requests, args.stats_file
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
