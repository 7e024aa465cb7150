"""A sync through the hub: ``hub.operations.sync.fetch_invoices`` with the economic plugin from
its entry point, a client enabled with the fake's URL, a real SQLite database."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
import sqlalchemy as sa
from economic_support import GRANT, add_invoices, enable, sync

from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import AuthError
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from hub.sync import SyncFailed
from hub.testing.fakes.economic import Agreement, EconomicServer, FakeEconomic

D = Decimal


def stored(db: Database) -> dict[str, t.Invoice]:
    with db.session() as session:
        return {i.invoice_number: i for i in session.scalars(sa.select(t.Invoice))}


def test_a_sync_stores_invoices_customers_and_balances(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    server: EconomicServer,
    fake: FakeEconomic,
    agreement: Agreement,
) -> None:
    """N open invoices over K customers: ceil(N / 1000) pages + ceil(K / 200) customer
    requests (customers and balances both), and the states of invoices that left the list:
    ceil(S / 200)."""
    for number in range(1000, 1248):  # K = 250 customers with invoices
        agreement.add_customer(customer_number=number, name=f"Kunde {number}")
    customers = [*range(1000, 1248), 101, 102]
    add_invoices(agreement, 10001, 1500, customers)  # N = 1500
    enable(db, registry, box, server)

    report = sync(db, registry, box)

    assert (report.new, report.customers, report.balances) == (1500, 250, 250)
    assert report.errors == [] and report.missing_customers == []
    invoices = stored(db)
    assert invoices["10001"].gross_amount == D("1250.00")
    assert invoices["10250"].currency == "EUR"  # the 250th invoice: customer 102
    assert len(fake.requests) == math.ceil(1500 / 1000) + math.ceil(250 / 200)  # 2 + 2 = 4

    # Paid and partly paid in e-conomic; the next sync asks for the states of the S = 201
    # invoices that left the open list, in ceil(201 / 200) = 2 requests.
    for number in range(10001, 10202):
        agreement.pay(number)
    agreement.pay(10202, amount=D("250.00"))
    fake.requests.clear()

    report = sync(db, registry, box)

    assert (report.settled, report.updated, report.unknown) == (201, 1, 0)
    invoices = stored(db)
    assert invoices["10001"].state == "paid" and invoices["10001"].outstanding_amount == 0
    assert invoices["10202"].outstanding_amount == D("1000.00")
    assert len(fake.requests) == 2 + 2 + 2  # pages + states + customers
    with db.session() as session:
        balances = {
            c.customer_number: (c.balance, c.balance_currency)
            for c in session.scalars(sa.select(t.Customer))
        }
    # customer 1000 has every 250th invoice (6 of 1250.00), one of them paid now
    assert balances["1000"] == (D("6250.00"), "DKK")


def test_a_refused_token_fails_the_sync_and_stores_nothing(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    server: EconomicServer,
    agreement: Agreement,
) -> None:
    add_invoices(agreement, 5001, 2, [101])
    enable(db, registry, box, server)
    agreement.revoke()
    with pytest.raises(SyncFailed) as caught:
        sync(db, registry, box)
    assert isinstance(caught.value.__cause__, AuthError)
    assert "agreement_grant_token" in str(caught.value) and GRANT not in str(caught.value)
    assert stored(db) == {}
