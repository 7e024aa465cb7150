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

import sys
from collections.abc import Sequence

from hub.testing.fakes.http import FakeHttpServer
from hub.testing.fakes.seeding import Seeder
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


def _add_customer(company: Company, c: int, postal_code: str, city: str) -> int:
    company.add_customer(
        10000 + c,
        f"Kunde {c} AS",
        f"kunde{c}@example.no",
        organization_number=str(920_000_000 + c),
        address=f"Gate {c}",
        postal_code=postal_code,
        city=city,
    )
    return 10000 + c


#: ``seed(fake, companies, invoices, *, customers=20, first_invoice_number=10001, today=None)``:
#: add ``companies`` companies (tokens ``consumer-{i}``/``employee-{i}``, ``i`` from 1,
#: "Firma {i} AS", NOK), each with ``customers`` customers (numbers 10001..) and ``invoices``
#: unpaid invoices (numbers from ``first_invoice_number``) spread round-robin over them, dated
#: over the 60 days before ``today`` with 14 days' credit, 100.00-9999.00 plus 25 % VAT.
seed: Seeder[FakeTripletex, Company] = Seeder(
    lambda fake, i: fake.add_company(f"consumer-{i}", f"employee-{i}", f"Firma {i} AS"),
    _add_customer,
    (("0150", "Oslo"), ("5003", "Bergen"), ("7010", "Trondheim"), ("4006", "Stavanger")),
    lambda fake: fake.today,
    tenants="companies",
    tenant="company",
    tokens="consumer-{i} / employee-{i}",
)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hub.testing.fakes.tripletex``: seed, print the URL, serve until SIGTERM."""
    return seed.main(
        argv,
        prog="python -m hub.testing.fakes.tripletex",
        description=__doc__.split("\n\n")[0],
        fake=lambda args: FakeTripletex(),
        server=TripletexServer,
    )


if __name__ == "__main__":
    sys.exit(main())
