"""A fake of e-conomic's REST API (``https://restapi.e-conomic.com``, "legacy REST"), for the
e-conomic plugin's tests, the benchmark and ``hub demo``.

Use::

    fake = FakeEconomic()
    ag = fake.add_agreement(app_secret_token="app-1", agreement_grant_token="grant-1",
                            company_name="Acme ApS")
    ag.add_customer(customer_number=101, name="Østergaard ApS", email="a@example.dk")
    ag.add_invoice(5001, 101, date(2026, 1, 1), date(2026, 1, 15), Decimal("1000.00"),
                   Decimal("250.00"))
    with EconomicServer(fake) as server:            # real HTTP on 127.0.0.1, random port
        httpx.get(server.url + "/invoices/unpaid", headers=...)
    httpx.Client(transport=fake.transport(), base_url="https://restapi.e-conomic.com")

or as a process (``python -m hub.testing.fakes.economic --port 8123 --agreements 500
--invoices 400``): agreements ``i = 1..N`` with tokens ``app-{i}`` / ``grant-{i}``, each with
``M`` unpaid invoices spread over its customers; it prints the URL and serves until killed.

What is faithful (the sources are those of ``shared/reference/economic-rest-api.md``):

* Auth: ``X-AppSecretToken`` + ``X-AgreementGrantToken`` select the agreement; missing, unknown,
  mismatched or revoked tokens answer 401, a role without access 403 [S1 status codes; S6]. The
  body says which token is wrong.
* Shapes: every GET body validates against e-conomic's published draft-03 schemas [S2
  ``specs/legacy``] (tested); field names, nesting, ``self`` links, the omission of false
  booleans and unset properties [S1 "Implementation specifics"], ``lastUpdated`` as a timestamp
  [S2], ``/invoices/unpaid|overdue|not-due|paid`` items without ``exchangeRate`` and
  ``grossAmountInBaseCurrency`` (as their schemas), lines only on a single booked invoice [S2].
  Amounts are JSON numbers with two decimals, written from ``Decimal`` (never ``float``).
* Collections: ``skippages``/``pagesize`` (default 20, max 1000; more is 400 ``E04810``),
  ``pagination`` with ``maxPageSizeAllowed``, ``skipPages``, ``pageSize``, ``results``,
  ``resultsWithoutFilter``, ``firstPage``, ``nextPage`` (only when there is one), ``lastPage``
  [S3 fixtures, S7]; ``skippages`` past the end is an empty ``collection`` [S2]. Page links carry
  ``filter``/``sort`` and point at the host the request was sent to.
* ``filter``: e-conomic's whole grammar (see :mod:`hub.testing.fakes.economic.query`) on the
  properties the schemas mark filterable; anything else is a 400 with ``errors`` and
  ``allowedFilteringFields`` like the live capture in [S2]. ``sort`` on sortable properties.
* Writes: ``POST /invoices/drafts`` validated like its schema (required ``currency, customer,
  date, layout, paymentTerms, recipient.name, recipient.vatZone``; a line with a quantity needs
  a product; at most two decimals; ``null`` rejected) with e-conomic's annotated 400 errors
  [S1]; the server prices the lines (quantity x price, discount, VAT of the recipient's zone)
  [S2]; negative lines make a credit note [S5 apiforum 1209]. ``POST /invoices/booked`` books a
  draft, which disappears [S2]. ``POST /journals/{n}/vouchers`` answers 201 with an *array* of
  vouchers [S2, S3]. Creates answer 201 with ``Location`` [S1, S2].
* ``Idempotency-Key`` on POST/PUT/PATCH/DELETE: the same key and path within an hour replays the
  first answer (status, body, ``Location``) with ``X-ResultFromCache: true`` and changes nothing;
  the key on another path is a 400 ``URLChanged`` [S2; S5 restdocs].
* Every answer carries ``X-CallCost``, ``X-RateLimiting: token-limit-10000-per-60-seconds:
  used/limit`` [S2 live capture] and ``X-RequestId``; error bodies have ``message``,
  ``developerHint``, ``logId``, ``httpStatusCode``, ``logTime`` [S1, S3] and ``errorCode`` where
  one is known.
* Unknown path: 404 with the body of a real 404 [S3]; unknown resource: 404 ``E06000`` [S2];
  wrong method: 405 with ``Allow``; a body that is not JSON: 415 / 400.

What is simplified or chosen (UNVERIFIED against the real API, documented here instead):

* Journals: a posted voucher stays unbooked in its journal, listed by ``GET /journals/{n}/
  entries`` and changing nothing else, as in e-conomic, until a person books the journal in
  e-conomic's UI: ``Agreement.book_journal(n)`` plays that person and moves the journal's
  vouchers to the ledger (``/accounting-years/{year}/entries``). Booked, a ``customerPayments``
  entry for a customer lowers
  the customer's balance by the amount received; when it names ``customerInvoice`` (an invoice
  of that customer), that invoice's remainder drops by up to the amount and any excess stays an
  open credit on the customer. Money received is a *positive* amount by default (e-conomic's
  own example [S1 ``_journals.md``] and [S3] post positive amounts; the sign is UNVERIFIED);
  ``FakeEconomic(payment_sign=-1)`` flips it. ``manualCustomerInvoices`` raise the balance;
  ``financeVouchers`` are only recorded; supplier entries answer 501.
* Credit notes: e-conomic has no link from a credit note to the invoice it credits [S5
  apiforum 1209]. The fake matches a booked credit note (negative gross) with the open invoice
  of the same customer and currency that its ``references.other`` or ``notes.heading`` /
  ``textLine1`` / ``textLine2`` names as "invoice 5001", "faktura 5001", "faktura nr. 5001"
  (case-insensitive): that invoice's remainder drops by up to the credited amount and the credit
  note keeps the rest as a negative remainder. Unmatched, the whole credit stays open on the
  customer. Either way the customer's balance drops by the credit note's gross amount.
* ``balance`` is the sum of the customer's open items (invoice remainders, open payments and
  credits) in base currency; ``dueAmount`` the same over items due by ``today``. ``/invoices/
  unpaid`` lists booked invoices with remainder > 0 (open credit notes, with a negative
  remainder, are not listed), ``overdue`` those past ``dueDate``, ``not-due`` the others,
  ``paid`` those with remainder 0.
* A collection's ``self`` is its bare URL, as in a real answer [S3 fixtures] (S1 says it
  carries the query).
* Exchange rates are fixed (``DKK_PER_100``); VAT is the agreement's rate (25 %) in VAT zone 1
  (domestic), 0 elsewhere; products, layouts, payment terms and journals are small fixed sets
  (``Agreement.products`` ...) that tests may extend. Booked invoices get the next free number.
* Error codes for auth (``E00100``...) are the fake's own: no source names the real ones.
  429/5xx bodies are e-conomic-shaped without an ``errorCode``.
* Endpoints: ``GET /self``, ``/customers[/{n}]``, ``/invoices/booked[/{n}]``,
  ``/invoices/unpaid|overdue|not-due|paid``, ``/invoices/drafts[/{n}]``, ``/journals[/{n}]``,
  ``/accounting-years/{year}/entries``; ``POST /invoices/drafts``, ``/invoices/booked``,
  ``/journals/{n}/vouchers``; ``DELETE /invoices/drafts/{n}``. Nothing else (no PUT, no PDFs,
  no totals).

Sources: [S1] e-conomic/slate REST docs (2019); [S2] Pogoe/EConomic.NET schemas and
``docs/legacy-api-verification.md`` (live, 2026); [S3] traels-it/economic-rest fixtures; [S5]
e-conomic's own pages (restdocs, apiforum); [S6] integrator write-ups; [S7] Airbyte's connector.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import date

from hub.testing.fakes.economic.app import (
    EconomicTransport,
    FakeEconomic,
    Fault,
    RecordedRequest,
    Response,
)
from hub.testing.fakes.economic.model import (
    Agreement,
    ApiError,
    BookedInvoice,
    Customer,
    DraftInvoice,
    LedgerEntry,
    Voucher,
)
from hub.testing.fakes.http import FakeHttpServer, serve_until_terminated
from hub.testing.fakes.seeding import command_line, unpaid_invoices
from hub.testing.fakes.wire import dumps

__all__ = [
    "Agreement",
    "ApiError",
    "BookedInvoice",
    "Customer",
    "DraftInvoice",
    "EconomicServer",
    "EconomicTransport",
    "FakeEconomic",
    "Fault",
    "LedgerEntry",
    "RecordedRequest",
    "Response",
    "Voucher",
    "dumps",
    "main",
    "seed",
]


class EconomicServer(FakeHttpServer):
    """A :class:`FakeEconomic` served over real HTTP by a ``ThreadingHTTPServer`` in a daemon
    thread. ``port=0`` picks a free port; :attr:`url` is ``http://127.0.0.1:PORT``."""

    def __init__(self, fake: FakeEconomic, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__(fake, host, port, name="fake-economic")
        self.fake = fake


_CITIES = (("8000", "Aarhus C"), ("2100", "København Ø"), ("5000", "Odense C"), ("0150", "Oslo"))


def seed(
    fake: FakeEconomic,
    agreements: int,
    invoices: int,
    *,
    customers: int = 20,
    first_invoice_number: int = 10001,
    today: date | None = None,
) -> list[Agreement]:
    """Add ``agreements`` agreements (tokens ``app-{i}``/``grant-{i}``, ``i`` from 1, company
    "Firma {i} ApS"), each with ``customers`` customers (numbers 1..) and ``invoices`` unpaid
    invoices (numbers from ``first_invoice_number``) spread round-robin over them, dated over
    the 60 days before ``today`` with 14 days' credit, amounts 100.00-9999.00 plus 25 % VAT."""
    today = today or fake.current_date()
    created = []
    for i in range(1, agreements + 1):
        agreement = fake.add_agreement(f"app-{i}", f"grant-{i}", f"Firma {i} ApS")
        for c in range(1, customers + 1):
            zip_code, city = _CITIES[c % len(_CITIES)]
            agreement.add_customer(
                c,
                f"Kunde {c} ApS",
                email=f"kunde{c}@example.dk",
                address=f"Vej {c}",
                zip=zip_code,
                city=city,
                country="Danmark",
            )
        numbers = range(1, customers + 1)
        for invoice in unpaid_invoices(invoices, numbers, first_invoice_number, today):
            agreement.add_invoice(*invoice)
        created.append(agreement)
    return created


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hub.testing.fakes.economic``: seed, print the URL, serve until killed."""
    args = command_line(
        argv,
        prog="python -m hub.testing.fakes.economic",
        description=__doc__.split("\n\n")[0],
        tenants="agreements",
        tenant="agreement",
        tokens="app-{i} / grant-{i}",
        more=lambda parser: parser.add_argument("--page-size-max", type=int, default=1000),
    )
    fake = FakeEconomic(page_size_max=args.page_size_max)
    seed(fake, args.agreements, args.invoices, customers=args.customers)
    serve_until_terminated(
        EconomicServer(fake, args.host, args.port), fake.requests, args.stats_file
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
