"""What the e-conomic plugin tests share besides fixtures: tokens, seeding, the schemas.

A module of its own (not ``conftest``): several plugins' test directories have a conftest, so
importing names from "conftest" would depend on which one was imported last.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub import clients
from hub.amounts import CENT
from hub.clock import Clock
from hub.db.engine import Database
from hub.model import ClientContext
from hub.operations import sync as sync_ops
from hub.operations.clients import client_day
from hub.operations.context import Actor, Context, Services
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from hub.testing.fakes.economic import Agreement, EconomicServer

APP = "app-secret-4f1d9c"
GRANT = "grant-token-8b2e7a"
MakeCtx = Callable[..., ClientContext]

#: e-conomic's published draft-03 schemas, in the project's shared folder beside the repository
#: (or HUB_SHARED_DIR where it lives elsewhere).
SCHEMA_DIR = (
    Path(os.environ.get("HUB_SHARED_DIR") or Path(__file__).resolve().parents[3].parent / "shared")
    / "specs/economic/legacy-schemas"
)
#: Which schema each request the plugin sends must validate against.
REQUEST_SCHEMAS: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"/invoices/drafts"), "invoices.drafts.post.schema.json"),
    ("POST", re.compile(r"/invoices/booked"), "invoices.booked.post.schema.json"),
    (
        "POST",
        re.compile(r"/journals/\d+/vouchers"),
        "journals.journalNumber.vouchers.post.schema.json",
    ),
]


class Sleeps(list[float]):
    """What the HTTP client would have slept between retries (recorded, not slept)."""


def add_invoices(
    ag: Agreement,
    first: int,
    count: int,
    customers: list[int],
    net: Decimal = Decimal("1000.00"),
) -> list[int]:
    """``count`` unpaid invoices numbered from ``first``, round-robin over ``customers``."""
    numbers = []
    for k in range(count):
        number = first + k
        ag.add_invoice(
            booked_invoice_number=number,
            customer_number=customers[k % len(customers)],
            date=dt.date(2026, 1, 1),
            due_date=dt.date(2026, 1, 15),
            net_amount=net,
            vat_amount=(net / 4).quantize(CENT),
        )
        numbers.append(number)
    return numbers


def load_schema(name: str) -> dict[str, Any]:
    """A published schema; some have trailing commas, which JSON does not allow."""
    text = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    text = re.sub(r",(\s*[}\]])", r"\1", text)
    schema: dict[str, Any] = json.loads(text)
    return schema


def enable(
    db: Database, registry: PluginRegistry, box: SecretBox, server: EconomicServer, **extra: str
) -> None:
    with db.session() as session:
        clients.add_client(session, "acme", "DK")
        clients.enable_plugin(
            session,
            registry,
            box,
            "acme",
            "economic",
            {
                "app_secret_token": APP,
                "agreement_grant_token": GRANT,
                "base_url": server.url,
                **extra,
            },
        )


def context(
    db: Database, registry: PluginRegistry, box: SecretBox, today: dt.date | None = None
) -> Context:
    """A run's context, its clock fixed on ``today`` if given (as ``hub --today`` does)."""
    return Context(Services(db, registry, box), Actor("tester"), Clock(fixed=today))


def sync(
    db: Database, registry: PluginRegistry, box: SecretBox, today: dt.date | None = None
) -> sync_ops.SyncReport:
    """The sync step of ``hub sync acme`` (its run recorded), on ``today`` if given."""
    ctx = context(db, registry, box, today)
    return sync_ops.fetch_invoices(ctx, client_day(ctx, "acme"))
