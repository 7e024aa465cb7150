"""A fake of Tripletex's REST API v2 (``https://tripletex.no/v2``), for the Tripletex plugin's
tests, the benchmark and ``hub demo``.

Serve a :class:`FakeTripletex` with :class:`TripletexServer` (real HTTP on loopback; its URL
ends in ``/v2``), or run it as a process (``python -m hub.testing.fakes.tripletex --port 8123
--companies 3 --invoices 100``, seeded by :func:`seed`);
:mod:`hub.testing.fakes.tripletex.spec` checks exchanges against Tripletex's OpenAPI spec. How
to use it, what is faithful to Tripletex, what is chosen, what a client should know and the
sources [SPEC], [NOTES], [CAP]: ``docs/fakes/tripletex.md``.
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
