"""What every benchmark shares: run the same measurement on SQLite and on PostgreSQL.

PostgreSQL is ``HUB_TEST_POSTGRES_URL`` or the local default; each run gets a schema of its
own, dropped afterwards. Where no server answers, the PostgreSQL half is skipped and says why.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet

from hub import clients
from hub import logging as hub_logging
from hub.clock import Clock
from hub.db.engine import Database, create_engine, upgrade
from hub.operations import sync as sync_ops
from hub.operations.clients import client_day
from hub.operations.context import Actor, ClientDay, Context, Services
from hub.plugins import PluginRegistry, load_plugins
from hub.secrets import SecretBox

PG = os.environ.get("HUB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

Run = Callable[[str, str, Path], None]  # (label, database URL, work dir)
CLIENT = "bench"


def write_due_export(path: Path, n: int, customers: int = 500) -> None:
    """A CSV export of ``n`` open invoices over ``customers`` customers, all due 15.01.2026."""
    lines = [
        "invoice_number;customer_number;customer_name;customer_email;invoice_date;"
        "due_date;currency;gross_amount"
    ]
    for i in range(n):
        c = i % customers
        lines.append(
            f"{i + 1};{c};Kunde {c} ÆØÅ;k{c}@example.dk;01.01.2026;15.01.2026;DKK;"
            f"{1000 + i % 777},50"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def context(
    db: Database, registry: PluginRegistry, box: SecretBox, today: dt.date | None = None
) -> Context:
    """A run's context, its clock fixed on ``today`` if given (``hub --today``)."""
    return Context(Services(db, registry, box), Actor("bench"), Clock(fixed=today))


def day_of(
    db: Database, registry: PluginRegistry, box: SecretBox, name: str, today: dt.date | None = None
) -> tuple[Context, ClientDay]:
    """The context and the client ``name`` resolved once, its today fixed."""
    ctx = context(db, registry, box, today)
    return ctx, client_day(ctx, name)


def sync(
    db: Database, registry: PluginRegistry, box: SecretBox, name: str, today: dt.date | None = None
) -> sync_ops.SyncReport:
    """The sync step of ``hub sync`` (its run recorded)."""
    return sync_ops.fetch_invoices(*day_of(db, registry, box, name, today))


def timed(fn: Callable[[], object]) -> float:
    """Seconds ``fn`` took."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def csv_client(url: str, export: Path, books: Path) -> tuple[Database, PluginRegistry, SecretBox]:
    """A Danish client "bench" reading ``export`` through the installed generic_csv plugin."""
    registry = load_plugins()
    if "generic_csv" not in registry.infos:
        raise SystemExit("generic_csv is not installed: pip install -e plugins/generic_csv")
    box = SecretBox(Fernet.generate_key())
    db = Database(url)
    with db.session() as session:
        clients.add_client(session, CLIENT, "DK")
        clients.enable_plugin(
            session,
            registry,
            box,
            CLIENT,
            "generic_csv",
            {"invoices_path": str(export), "outbox_dir": str(books)},
        )
    return db, registry, box


def each_database(run: Run, work: Path, *, postgres: bool = True) -> None:
    run("SQLite", f"sqlite:///{work / 'bench.sqlite3'}", work)
    if not postgres:
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(PG)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        print(f"PostgreSQL: skipped, no server at {PG}: {exc.orig}")
        return
    url = (
        sa.engine.make_url(PG)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )
    try:
        engine = create_engine(url)
        upgrade(engine)
        engine.dispose()
        run("PostgreSQL", url, work)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def bench_main(
    doc: str, run: Callable[[str, str, int, Path], None], *, default: int, quick: int
) -> None:
    """The command line every benchmark has: ``[--invoices N] [--quick] [--no-postgres]``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--invoices", type=int, default=default)
    parser.add_argument("--quick", action="store_true", help=f"{quick:,} invoices, for CI")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    hub_logging.configure(level="WARNING")
    n = quick if args.quick else args.invoices
    with tempfile.TemporaryDirectory() as tmp:
        each_database(
            lambda label, url, work: run(label, url, n, work),
            Path(tmp),
            postgres=not args.no_postgres,
        )
