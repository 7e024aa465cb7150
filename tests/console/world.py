"""Data for the console's case, letter and overview tests, arranged through the operations as
the shell's admin would: invoices in client acme's books (the fixture's recording plugin
``ledger``), synced, and cases started by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hub.model import Customer
from hub.operations import cases
from hub.operations import sync as sync_ops
from hub.operations.clients import client_day
from tests.console.conftest import TODAY, Console
from tests.sample_plugins import RecordingPlugin, invoice


def ledger(console: Console) -> RecordingPlugin:
    """Client acme's accounting system (the fixture's plugin, kept in the registry)."""
    plugin = console.admin.registry.pm.get_plugin("ledger")
    assert isinstance(plugin, RecordingPlugin)
    return plugin


def book(
    console: Console,
    number: str,
    *,
    customer: str = "C1",
    gross: str = "1250.00",
    days_overdue: int = 30,
    currency: str = "DKK",
) -> None:
    """An open invoice in acme's books, due ``days_overdue`` days before the fixture's today."""
    due = TODAY - dt.timedelta(days=days_overdue)
    ledger(console).invoices[number] = invoice(
        number,
        customer,
        gross,
        invoice_date=due - dt.timedelta(days=14),
        due_date=due,
        currency=currency,
    )


def name_customer(console: Console, number: str, name: str) -> None:
    ledger(console).customers[number] = Customer(number, name, email=f"{number}@example.dk")


def sync(console: Console) -> None:
    """acme's invoices fetched into the hub (the sync step of ``hub sync``)."""
    sync_ops.fetch_invoices(console.admin, client_day(console.admin, "acme"))


def start(console: Console, invoice_number: str) -> int:
    return cases.start_case(console.admin, client="acme", invoice=invoice_number).id


def three_cases(console: Console) -> tuple[int, int, int]:
    """Cases of acme: 1001 (customer C1, 45 days overdue), 1002 (C2, not due for 10 days) and
    1003 (C2, 5 days overdue)."""
    book(console, "1001", customer="C1", gross="1250.00", days_overdue=45)
    book(console, "1002", customer="C2", gross="300.00", days_overdue=-10)
    book(console, "1003", customer="C2", gross="80.50", days_overdue=5)
    name_customer(console, "C1", "Østergaard ApS")
    name_customer(console, "C2", "Blåbær I/S")
    sync(console)
    return start(console, "1001"), start(console, "1002"), start(console, "1003")


def amount(text: str) -> Decimal:
    return Decimal(text)
