"""A fake of e-conomic's REST API (``https://restapi.e-conomic.com``, "legacy REST"), for the
e-conomic plugin's tests, the benchmark and ``hub demo``.

Serve a :class:`FakeEconomic` with :class:`EconomicServer` (real HTTP on loopback) or its
in-process transport, or run it as a process (``python -m hub.testing.fakes.economic --port 8123
--agreements 500 --invoices 400``, seeded by :func:`seed`). How to use it, what is faithful to
e-conomic, what is simplified, the endpoints served and the sources [S1]...[S7]:
``docs/fakes/economic.md``.
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
