"""``hub demo``: the product end to end on a throw-away database, with no configuration.

For now the demo is CSV-backed: it writes a Danish accounting program's export (semicolons,
decimal commas, Windows-1252, dd.mm.yyyy), registers a client that reads it through the
``generic_csv`` plugin (found through its entry point like any plugin), syncs, lets two
customers pay, and syncs again. Then it switches dunning on and simulates 45 days: cases
start, friendly reminders and lawful reminders go out to the file outbox, a customer pays and
its case closes by itself. Then a Danish client on a fake e-conomic server
(:mod:`hub.demo_economic`) and a Norwegian client with recurring invoices on a fake Tripletex
server (:mod:`hub.demo_tripletex`), both over real HTTP on loopback.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import func, select

from hub import clients, clock
from hub import demo_economic as economic_demo
from hub import demo_tripletex as tripletex_demo
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import rules as dunning_rules
from hub.dunning.cycle import run_cycle
from hub.dunning.messages import deliver_pending
from hub.errors import HubError
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from hub.sync import SyncReport, sync_client

CLIENT = "demo-dk"

# (invoice, customer, customer name, e-mail, days before today it was issued, net amount)
_INVOICES: list[tuple[str, str, str, str, int, str]] = [
    ("10001", "101", "Østergaard & Søn ApS", "bogholderi@oestergaard.dk", 75, "8000.00"),
    ("10002", "102", "Blåbær Café I/S", "kontakt@blaabaer.dk", 62, "1240.00"),
    ("10003", "103", "Ærø Færgeservice A/S", "faktura@aeroe-faerge.dk", 55, "23999.20"),
    ("10004", "101", "Østergaard & Søn ApS", "bogholderi@oestergaard.dk", 44, "412.50"),
    ("10005", "104", "Jørgensen Tømrer", "mail@jorgensen-toemrer.dk", 40, "15600.00"),
    ("10006", "105", "Kähler Design ApS", "info@kahler-design.dk", 33, "999.99"),
    ("10007", "102", "Blåbær Café I/S", "kontakt@blaabaer.dk", 21, "310.40"),
    ("10008", "103", "Ærø Færgeservice A/S", "faktura@aeroe-faerge.dk", 18, "120000.00"),
    ("10009", "104", "Jørgensen Tømrer", "mail@jorgensen-toemrer.dk", 9, "2750.00"),
    ("10010", "105", "Kähler Design ApS", "info@kahler-design.dk", 3, "4400.00"),
]
_PAID_LATER = {"10002", "10005"}
_VAT_RATE = Decimal("0.25")


def _danish_amount(amount: Decimal) -> str:
    whole, _, cents = f"{amount:.2f}".partition(".")
    sign = "-" if whole.startswith("-") else ""
    digits = whole.lstrip("-")
    groups: list[str] = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return f"{sign}{'.'.join(groups)},{cents}"


def write_export(path: Path, today: dt.date, *, paid: set[str]) -> None:
    """Write the demo's open-invoices export as a Danish accounting program would."""
    lines = [
        "Fakturanr;Kundenr;Kundenavn;E-mail;Fakturadato;Forfaldsdato;Valuta;"
        "Netto;Moms;Brutto;Restbeløb"
    ]
    for number, customer, name, email, age, net_text in _INVOICES:
        if number in paid:
            continue
        net = Decimal(net_text)
        vat = (net * _VAT_RATE).quantize(Decimal("0.01"))
        issued = today - dt.timedelta(days=age)
        due = issued + dt.timedelta(days=14)
        lines.append(
            ";".join(
                [
                    number,
                    customer,
                    name,
                    email,
                    issued.strftime("%d.%m.%Y"),
                    due.strftime("%d.%m.%Y"),
                    "DKK",
                    _danish_amount(net),
                    _danish_amount(vat),
                    _danish_amount(net + vat),
                    _danish_amount(net + vat),
                ]
            )
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))


@dataclass
class DemoResult:
    first: SyncReport
    second: SyncReport
    open_invoices: int
    overdue_invoices: int
    overdue_amount: Decimal
    outbox: Path
    database: str
    dunning: DunningSummary
    economic: economic_demo.EconomicSummary
    tripletex: tripletex_demo.TripletexSummary


@dataclass
class DunningSummary:
    """What 45 simulated days of dunning did."""

    days: int
    started: int
    letters: dict[str, int]
    fees: Decimal
    auto_closed: int
    delivered: int


#: The customer who pays (invoice 10003) on this day of the simulated timeline.
_PAYS_ON_DAY = 12
_TIMELINE_DAYS = 45


def _dunning_timeline(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    base: Path,
    export: Path,
    today: dt.date,
    say: Callable[[str], None],
) -> DunningSummary:
    """Let the hub follow the invoices for 45 simulated days, syncing once a day."""
    with db.session() as session:
        client = clients.get_client(session, CLIENT)
        dunning_rules.set_rules(
            session, client, {"auto_start": "true", "payment_details": "Reg.nr. 1234 konto 5678901"}
        )
        clients.enable_plugin(
            session, registry, box, CLIENT, "file_outbox", {"directory": str(base / "letters")}
        )
    say(f"6. Dunning on (automatic start, Danish default flow); {_TIMELINE_DAYS} days simulated:")
    summary = DunningSummary(_TIMELINE_DAYS, 0, {}, Decimal("0.00"), 0, 0)
    paid = set(_PAID_LATER)
    for n in range(1, _TIMELINE_DAYS + 1):
        day = today + dt.timedelta(days=n)
        if n == _PAYS_ON_DAY:
            paid.add("10003")
            write_export(export, today, paid=paid)
        with clock.simulated(day):
            sync_client(db, registry, box, CLIENT)
            cycle = run_cycle(db, CLIENT)
            delivered = deliver_pending(db, registry, box, CLIENT)
        summary.started += cycle.started
        summary.fees += cycle.fees
        summary.auto_closed += cycle.closed
        summary.delivered += delivered.sent
    with db.session() as session:
        for kind, count in session.execute(
            select(t.Message.kind, func.count()).group_by(t.Message.kind).order_by(t.Message.kind)
        ):
            summary.letters[kind] = count
    letters = ", ".join(f"{count} {kind}" for kind, count in summary.letters.items())
    say(f"   {summary.started} cases started; letters: {letters}")
    say(
        f"   reminder fees {_danish_amount(summary.fees)} DKK (at most 100 DKK each, at least"
        " 10 days apart, at most 3 per invoice: renteloven § 9 b; each next reminder only"
        " after the previous one's pay-by date)"
    )
    say(
        f"   {summary.auto_closed} case closed automatically when the books showed it paid (R1);"
        f" {summary.delivered} letters delivered to the file outbox"
    )
    return summary


def run_demo(
    registry: PluginRegistry,
    workdir: Path | None = None,
    say: Callable[[str], None] = print,
) -> DemoResult:
    for plugin, package in (("generic_csv", "generic_csv"), ("file_outbox", "delivery")):
        if plugin not in registry.infos:
            why = registry.errors.get(plugin, "it is not installed")
            raise HubError(
                f"hub demo needs the {plugin} plugin ({why});"
                f" install it: pip install -e plugins/{package}"
            )
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="hub-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    export = base / "open-invoices.csv"
    outbox = base / "outbox"
    url = f"sqlite:///{base / 'demo.sqlite3'}"
    box = SecretBox(Fernet.generate_key())
    db = Database(url)
    try:
        with db.session() as session:
            if session.scalar(select(t.Client.id).where(t.Client.name == CLIENT)) is None:
                clients.add_client(session, CLIENT, "DK")
        today = clock.today("Europe/Copenhagen")
        say(f"Demo workspace: {base}")
        write_export(export, today, paid=set())
        say(
            f"1. A Danish accounting export with {len(_INVOICES)} open invoices: {export.name}"
            " (semicolons, decimal commas, Windows-1252, dd.mm.yyyy)"
        )
        with db.session() as session:
            clients.enable_plugin(
                session,
                registry,
                box,
                CLIENT,
                "generic_csv",
                {
                    "invoices_path": str(export),
                    "outbox_dir": str(outbox),
                },
            )
        say(f"2. Client {CLIENT} (DK) reads it through the generic_csv plugin")
        first = sync_client(db, registry, box, CLIENT)
        say(f"3. First sync: {first.new} new invoices, {first.customers} customers")
        write_export(export, today, paid=_PAID_LATER)
        second = sync_client(db, registry, box, CLIENT)
        say(
            f"4. Two invoices were paid in the books; next sync: {second.settled} settled,"
            f" {second.unchanged} unchanged"
        )
        with db.session() as session:
            client_id = clients.get_client(session, CLIENT).id
            open_filter = (t.Invoice.client_id == client_id) & (t.Invoice.state == "open")
            open_count = session.scalar(select(func.count()).where(open_filter)) or 0
            overdue = open_filter & (t.Invoice.due_date < today)
            overdue_count = session.scalar(select(func.count()).where(overdue)) or 0
            # A sum of a money column is an exact two-decimal Decimal (the column's type).
            amount: Decimal = session.execute(
                select(func.coalesce(func.sum(t.Invoice.outstanding_amount), 0)).where(overdue)
            ).scalar_one()
        say(
            f"5. {open_count} invoices still open, {overdue_count} overdue for"
            f" {_danish_amount(amount)} DKK as of {today.isoformat()}"
        )
        dunning = _dunning_timeline(db, registry, box, base, export, today, say)
        economic = economic_demo.run_economic_demo(
            db, registry, box, str(base / "letters-economic"), say
        )
        say(
            f"   {economic.consolidated} consolidated reminders; the largest debtor sent to"
            f" collection: {economic.in_collection} invoices in collection after the 10-day"
            " warning (inkassoloven § 10), per invoice (C4)"
        )
        say(f"   a lost invoice written off in e-conomic's journal: {economic.write_off_voucher}")
        say(
            f"   {economic.requests} HTTP requests in {economic_demo.DAYS + 1} daily syncs;"
            f" unpaid in e-conomic now: {', '.join(map(str, economic.unpaid_after))}"
        )
        norway = tripletex_demo.run_tripletex_demo(
            db, registry, box, str(base / "letters-tripletex"), say
        )
        invoices = ", ".join(
            f"{date} no. {ref} {_danish_amount(net)}" for date, ref, net in norway.invoices_made
        )
        say(f"   recurring invoices made in Tripletex (net NOK): {invoices}")
        lines = "; ".join(norway.first_invoice_lines)
        say(f"   the first bills the days after the agreement date: {lines}")
        say(
            f"   {norway.orders_made} recurring orders left for a person"
            " (3 000 NOK a quarter, billed monthly)"
        )
        say(
            f"   {norway.reminders} reminders with {_danish_amount(norway.fees)} NOK in fees"
            " (35 NOK each, only 14 days after the due date: inkassoforskriften § 1-2);"
            f" {norway.auto_closed} case closed when its invoice was paid in Tripletex"
        )
        say(f"   {norway.requests} HTTP requests to Tripletex in {tripletex_demo.DAYS + 1} days")
        say(f"Look next: hub --db {url} cases list --client {CLIENT}")
        say(f"           hub --db {url} recurring list")
        say(f"           hub --db {url} collection overview --client {economic_demo.CLIENT}")
        say(f"           hub --db {url} messages list --client {CLIENT}")
        say(f"           the letters: {base / 'letters'}")
        return DemoResult(
            first,
            second,
            open_count,
            overdue_count,
            amount,
            outbox,
            url,
            dunning,
            economic,
            norway,
        )
    finally:
        db.dispose()
