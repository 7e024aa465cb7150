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

from hub.testing.fakes.economic import model
from hub.testing.fakes.economic.app import (
    EconomicTransport,
    FakeEconomic,
    Fault,
    RecordedRequest,
    Response,
)
from hub.testing.fakes.economic.model import *  # noqa: F403 (its records are the package's)
from hub.testing.fakes.http import FakeHttpServer
from hub.testing.fakes.seeding import Seeder
from hub.testing.fakes.wire import dumps

__all__ = [
    *model.__all__,
    "EconomicServer",
    "EconomicTransport",
    "FakeEconomic",
    "Fault",
    "RecordedRequest",
    "Response",
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


def _add_customer(agreement: model.Agreement, c: int, zip_code: str, city: str) -> int:
    agreement.add_customer(
        c,
        f"Kunde {c} ApS",
        email=f"kunde{c}@example.dk",
        address=f"Vej {c}",
        zip=zip_code,
        city=city,
        country="Danmark",
    )
    return c


#: ``seed(fake, agreements, invoices, *, customers=20, first_invoice_number=10001, today=None)``:
#: add ``agreements`` agreements (tokens ``app-{i}``/``grant-{i}``, ``i`` from 1, company
#: "Firma {i} ApS"), each with ``customers`` customers (numbers 1..) and ``invoices`` unpaid
#: invoices (numbers from ``first_invoice_number``) spread round-robin over them, dated over
#: the 60 days before ``today`` with 14 days' credit, amounts 100.00-9999.00 plus 25 % VAT.
seed: Seeder[FakeEconomic, model.Agreement] = Seeder(
    lambda fake, i: fake.add_agreement(f"app-{i}", f"grant-{i}", f"Firma {i} ApS"),
    _add_customer,
    (("8000", "Aarhus C"), ("2100", "København Ø"), ("5000", "Odense C"), ("0150", "Oslo")),
    FakeEconomic.current_date,
    tenants="agreements",
    tenant="agreement",
    tokens="app-{i} / grant-{i}",
)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hub.testing.fakes.economic``: seed, print the URL, serve until killed."""
    return seed.main(
        argv,
        prog="python -m hub.testing.fakes.economic",
        description=__doc__.split("\n\n")[0],
        fake=lambda args: FakeEconomic(page_size_max=args.page_size_max),
        server=EconomicServer,
        more=lambda parser: parser.add_argument("--page-size-max", type=int, default=1000),
    )


if __name__ == "__main__":
    sys.exit(main())
