"""A fake accounting server seeded for a benchmark or a manual run, as ``python -m
hub.testing.fakes.economic|tripletex`` starts it: the series of unpaid invoices every tenant
(agreement, company) gets, and the command line both entries share."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal

from hub.testing.fakes.money import CENT

__all__ = ["SeededInvoice", "command_line", "unpaid_invoices"]

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
