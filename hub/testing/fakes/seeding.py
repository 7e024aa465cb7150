"""A fake accounting server seeded for a benchmark or a manual run, as ``python -m
hub.testing.fakes.economic|tripletex`` starts it: the seeding loop over tenants (agreements,
companies), their customers and the series of unpaid invoices every tenant gets, and the
command line both entries share."""

from __future__ import annotations

import argparse
import gc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Generic, Protocol, TypeVar

from hub.testing.fakes.http import FakeHttpServer, serve_until_terminated
from hub.testing.fakes.money import CENT

__all__ = ["SeededInvoice", "Seeder", "Tenant", "command_line", "unpaid_invoices"]

SeededInvoice = tuple[int, int, date, date, Decimal, Decimal]

_NETS = [Decimal(100 + (k * 137) % 9900).quantize(CENT) for k in range(97)]
_VATS = [(n / 4).quantize(CENT) for n in _NETS]
_CREDIT = timedelta(days=14)


def unpaid_invoices(
    count: int, customers: Sequence[int], first_number: int, today: date
) -> Iterator[SeededInvoice]:
    """``count`` unpaid invoices ``(number, customer, issued, due, net, vat)`` numbered from
    ``first_number``, spread round-robin over ``customers``, dated over the 60 days before
    ``today`` with 14 days' credit, nets 100.00-9999.00 plus 25 % VAT."""
    days = [today - timedelta(days=k) for k in range(60)]
    for j in range(count):
        issued = days[j % 60]
        net, vat = _NETS[j % 97], _VATS[j % 97]
        yield first_number + j, customers[j % len(customers)], issued, issued + _CREDIT, net, vat


class Tenant(Protocol):
    """What the seeding loop needs of a fake's tenant: it takes a seeded invoice's fields."""

    def add_invoice(
        self, number: int, customer: int, issued: date, due: date, net: Decimal, vat: Decimal, /
    ) -> object: ...


T = TypeVar("T", bound=Tenant)


class _Served(Protocol):
    @property
    def requests(self) -> Sequence[Any]: ...


Fake = TypeVar("Fake", bound=_Served)


@dataclass(frozen=True)
class Seeder(Generic[Fake, T]):
    """A fake's ``seed(fake, tenants, invoices, *, customers=20, first_invoice_number=10001,
    today=None)``: ``tenants`` tenants made by ``add_tenant(fake, i)`` (``i`` from 1), each
    with ``customers`` customers made by ``add_customer(tenant, c, postal_code, city)`` (``c``
    from 1, the city ``cities[c % len(cities)]``; it returns the customer's number) and
    ``invoices`` unpaid invoices (:func:`unpaid_invoices`, dated before ``today``, by default
    the fake's) spread round-robin over them; the tenants made, in order. ``tenants``,
    ``tenant`` and ``tokens`` name them on :meth:`main`'s command line.

    The garbage collector is paused meanwhile: a seed of 100 000 invoices takes half the time
    without its full scans of the growing heap."""

    add_tenant: Callable[[Fake, int], T]
    add_customer: Callable[[T, int, str, str], int]
    cities: Sequence[tuple[str, str]]
    fake_today: Callable[[Fake], date]
    tenants: str
    tenant: str
    tokens: str

    def __call__(
        self,
        fake: Fake,
        tenants: int,
        invoices: int,
        *,
        customers: int = 20,
        first_invoice_number: int = 10001,
        today: date | None = None,
    ) -> list[T]:
        today = today or self.fake_today(fake)
        collecting = gc.isenabled()
        gc.disable()
        try:
            created = []
            for i in range(1, tenants + 1):
                tenant = self.add_tenant(fake, i)
                numbers = [
                    self.add_customer(tenant, c, *self.cities[c % len(self.cities)])
                    for c in range(1, customers + 1)
                ]
                for invoice in unpaid_invoices(invoices, numbers, first_invoice_number, today):
                    tenant.add_invoice(*invoice)
                created.append(tenant)
            return created
        finally:
            if collecting:
                gc.enable()

    def main(
        self,
        argv: Sequence[str] | None,
        *,
        prog: str,
        description: str,
        fake: Callable[[argparse.Namespace], Fake],
        server: Callable[[Fake, str, int], FakeHttpServer],
        more: Callable[[argparse.ArgumentParser], object] = lambda parser: None,
    ) -> int:
        """A fake's ``python -m`` entry: make the fake from the command line (:func:`command_line`
        with what ``more`` adds), seed it, print the URL, serve until SIGTERM."""
        args = command_line(
            argv,
            prog=prog,
            description=description,
            tenants=self.tenants,
            tenant=self.tenant,
            tokens=self.tokens,
            more=more,
        )
        served = fake(args)
        self(served, getattr(args, self.tenants), args.invoices, customers=args.customers)
        serve_until_terminated(
            server(served, args.host, args.port), served.requests, args.stats_file
        )
        return 0


def command_line(
    argv: Sequence[str] | None,
    *,
    prog: str,
    description: str,
    tenants: str,
    tenant: str,
    tokens: str,
    more: Callable[[argparse.ArgumentParser], object] = lambda parser: None,
) -> argparse.Namespace:
    """The arguments of a fake's ``python -m`` entry: ``--host``, ``--port``, ``--{tenants}``
    (how many, with ``tokens``), ``--invoices`` and ``--customers`` per ``tenant``, what
    ``more`` adds, ``--stats-file``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port (default)")
    parser.add_argument(f"--{tenants}", type=int, default=1, help=f"tokens {tokens}")
    parser.add_argument("--invoices", type=int, default=100, help=f"unpaid invoices per {tenant}")
    parser.add_argument("--customers", type=int, default=20, help=f"customers per {tenant}")
    more(parser)
    parser.add_argument(
        "--stats-file", help="on exit (SIGTERM), write the requests it answered, as JSON, here"
    )
    return parser.parse_args(argv)
