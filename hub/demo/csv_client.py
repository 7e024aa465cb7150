"""The CSV part of ``hub demo``: a Danish client whose accounting program exports a file.

The export is written as a Danish program would (semicolons, decimal commas, Windows-1252,
dd.mm.yyyy) and read through the ``generic_csv`` plugin; letters go to the ``file_outbox``.
Dunning starts automatically with the Danish default flow. On the timeline the file changes as
the books do: two customers pay on day 2, one more on day 12, two new invoices appear on day
40 and one of them is paid on its due date. A paid invoice leaves the export, and its case
closes by itself (R1).
"""

from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from hub.amounts import CENT, ZERO
from hub.daemon.jobs import JobResult
from hub.demo.text import amount, danish_amount, plural
from hub.demo.timeline import START, Scenario
from hub.operations import clients, flows, invoices
from hub.operations.context import Context
from hub.operations.runs import JobKind

CLIENT = "demo-dk"
D = Decimal
VAT_RATE = D("0.25")
TERMS_DAYS = 14


@dataclass(frozen=True)
class CsvInvoice:
    number: str
    customer: str
    issued: int  # days from START (negative: before the timeline)
    net: Decimal
    paid_on: int | None = None  # the day it leaves the export, paid

    @property
    def gross(self) -> Decimal:
        return self.net + (self.net * VAT_RATE).quantize(CENT)


CUSTOMERS = {
    "101": ("Østergaard & Søn ApS", "bogholderi@oestergaard.dk"),
    "102": ("Blåbær Café I/S", "kontakt@blaabaer.dk"),
    "103": ("Ærø Færgeservice A/S", "faktura@aeroe-faerge.dk"),
    "104": ("Jørgensen Tømrer", "mail@jorgensen-toemrer.dk"),
    "105": ("Kähler Design ApS", "info@kahler-design.dk"),
}
INVOICES = (
    CsvInvoice("10001", "101", -75, D("8000.00")),
    CsvInvoice("10002", "102", -62, D("1240.00"), paid_on=2),
    CsvInvoice("10003", "103", -55, D("23999.20"), paid_on=12),
    CsvInvoice("10004", "101", -44, D("412.50")),
    CsvInvoice("10005", "104", -40, D("15600.00"), paid_on=2),
    CsvInvoice("10006", "105", -33, D("999.99")),
    CsvInvoice("10007", "102", -21, D("310.40")),
    CsvInvoice("10008", "103", -18, D("120000.00")),
    CsvInvoice("10009", "104", -9, D("2750.00")),
    CsvInvoice("10010", "105", -3, D("4400.00")),
    CsvInvoice("10011", "101", 40, D("5200.00"), paid_on=40 + TERMS_DAYS),
    CsvInvoice("10012", "104", 40, D("1875.00")),
)


def listed_on(n: int) -> list[CsvInvoice]:
    """The invoices the export lists on day ``n``: issued by then and not yet paid."""
    return [inv for inv in INVOICES if inv.issued <= n and (inv.paid_on is None or inv.paid_on > n)]


def write_export(path: Path, n: int) -> list[CsvInvoice]:
    """Write the open-invoices export of day ``n`` as a Danish accounting program would."""
    lines = [
        "Fakturanr;Kundenr;Kundenavn;E-mail;Fakturadato;Forfaldsdato;Valuta;"
        "Netto;Moms;Brutto;Restbeløb"
    ]
    listed = listed_on(n)
    for inv in listed:
        name, email = CUSTOMERS[inv.customer]
        issued = START + dt.timedelta(days=inv.issued)
        due = issued + dt.timedelta(days=TERMS_DAYS)
        gross = inv.gross
        lines.append(
            ";".join(
                [
                    inv.number,
                    inv.customer,
                    name,
                    email,
                    issued.strftime("%d.%m.%Y"),
                    due.strftime("%d.%m.%Y"),
                    "DKK",
                    danish_amount(inv.net),
                    danish_amount(gross - inv.net),
                    danish_amount(gross),
                    danish_amount(gross),
                ]
            )
        )
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return listed


@dataclass
class CsvStory:
    """What happened to the CSV client that the summary does not tell."""

    first_sync: dict[str, int] = field(default_factory=dict)
    after_payments: dict[str, int] = field(default_factory=dict)
    open_invoices: int = 0
    overdue_invoices: int = 0
    overdue_amount: Decimal = field(default_factory=lambda: ZERO)


class CsvScenario(Scenario):
    client = CLIENT
    jobs = (JobKind.SYNC,)

    def __init__(self, base: Path) -> None:
        self.export = base / "open-invoices.csv"
        self.letters = base / "letters" / CLIENT
        self.story = CsvStory()
        self._listed: set[str] = set()

    def start(self, ctx: Context, stack: ExitStack) -> list[str]:
        self._listed = {inv.number for inv in write_export(self.export, 0)}
        clients.add_client(ctx, CLIENT, "DK")
        clients.enable_plugin(
            ctx,
            CLIENT,
            "generic_csv",
            {"invoices_path": str(self.export), "outbox_dir": str(self.export.parent / "outbox")},
        )
        clients.enable_plugin(ctx, CLIENT, "file_outbox", {"directory": str(self.letters)})
        flows.set_rules(
            ctx, CLIENT, ["auto_start=true", "payment_details=Reg.nr. 1234 konto 5678901"]
        )
        return [
            f"DK, a Danish accounting export with {len(self._listed)} open invoices"
            f" ({self.export.name}: semicolons, decimal commas, Windows-1252, dd.mm.yyyy) read"
            " through the generic_csv plugin; cases start by themselves, Danish default flow;"
            " letters to a file outbox"
        ]

    def morning(self, ctx: Context, n: int, day: dt.date) -> list[str]:
        listed = {inv.number for inv in listed_on(n)}
        if listed == self._listed:
            return []
        write_export(self.export, n)
        paid, new = sorted(self._listed - listed), sorted(listed - self._listed)
        self._listed = listed
        said = []
        if paid:
            said.append(f"paid in the books, gone from the export: {', '.join(paid)}")
        if new:
            said.append(f"new in the export: {', '.join(new)}")
        return ["; ".join(said)]

    def after(self, ctx: Context, n: int, day: dt.date, result: JobResult) -> list[str]:
        if n == 0:
            self.story.first_sync = dict(result.counts)
        if n != min(inv.paid_on for inv in INVOICES if inv.paid_on is not None):
            return []
        self.story.after_payments = dict(result.counts)
        open_ = invoices.list_invoices(ctx, CLIENT, open_only=True)
        overdue = [inv.outstanding_amount for inv in open_ if inv.due_date < day]
        self.story.open_invoices = len(open_)
        self.story.overdue_invoices = len(overdue)
        self.story.overdue_amount = sum(overdue, D("0.00"))
        return [
            f"{plural(self.story.open_invoices, 'invoice')} still open,"
            f" {self.story.overdue_invoices} overdue for {amount(self.story.overdue_amount, 'DKK')}"
        ]
