"""The e-conomic part of ``hub demo``: a Danish client on e-conomic, in customer mode.

The fake e-conomic server (:mod:`hub.testing.fakes.economic`) runs on loopback and the hub talks
to it over real HTTP through the ``economic`` plugin, exactly as it would to
restapi.e-conomic.com. One reminder per customer on its overdue balance (C1). On the timeline:
a payment lowers the next reminder's total (day 12); a person sends the largest debtor to
collection (day 14: the collection warning, its 10 days, then collection invoice by invoice,
C4); on day 30 a person writes one of its invoices off while e-conomic is down for maintenance,
so the write-off is recorded as requested and waits until the daemon's ``postings`` job
finishes it with the same voucher (D4); the client's bookkeeper (played by the demo) books the
journal the next day, which settles the invoice in e-conomic; on day 60 the collection agency
collects the other invoice, and the hub records its success fee (D1) without closing the case
(R6).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from hub.amounts import CENT
from hub.daemon.jobs import JobResult
from hub.demo.served import ServedScenario, ServedStory
from hub.demo.text import amount
from hub.demo.timeline import START
from hub.errors import HubError
from hub.operations import cases, clients, collection, flows
from hub.operations.context import Context
from hub.operations.runs import JobKind
from hub.testing.fakes.economic import Agreement, EconomicServer, FakeEconomic, Fault

CLIENT = "demo-economic"
D = Decimal
#: (invoice, customer, net, due date as days from START)
INVOICES = (
    (20001, 101, "8000.00", -5),
    (20002, 101, "2400.00", 3),
    (20003, 102, "1200.00", -2),
    (20004, 102, "640.00", 6),
    (20005, 103, "96.00", -4),
)
CUSTOMERS = {101: "Fjordside Byg A/S", 102: "Lindholm Café ApS", 103: "Ærø Kajak I/S"}
PAYS = (12, 20004)  # on day 12 the café pays its newer invoice
COLLECT = (14, 101)  # on day 14 the builder is sent to collection
WRITE_OFF = (30, 20002)  # on day 30 one of the builder's invoices, in collection, is lost
COLLECTED = (60, 20001)  # on day 60 the collection agency collects the other one


@dataclass
class EconomicStory(ServedStory):
    """What the e-conomic client's timeline did that the summary does not tell."""

    write_off_error: str = ""
    write_off_voucher: list[tuple[str, Decimal]] = field(default_factory=list)  # account, amount
    vouchers_posted: int = 0
    unpaid_after: list[int] = field(default_factory=list)


def _seed(fake: FakeEconomic) -> Agreement:
    agreement = fake.add_agreement(
        app_secret_token="demo-app", agreement_grant_token="demo-grant", company_name="Demo A/S"
    )
    for number, name in CUSTOMERS.items():
        agreement.add_customer(
            customer_number=number, name=name, email=f"{number}@example.dk", currency="DKK"
        )
    for invoice, customer, net, due in INVOICES:
        agreement.add_invoice(
            booked_invoice_number=invoice,
            customer_number=customer,
            date=START - dt.timedelta(days=30),
            due_date=START + dt.timedelta(days=due),
            net_amount=D(net),
            vat_amount=(D(net) / 4).quantize(CENT),
            currency="DKK",
        )
    return agreement


def _setup(ctx: Context, url: str, letters: str) -> None:
    clients.add_client(ctx, CLIENT, "DK")
    values = {
        "app_secret_token": "demo-app",
        "agreement_grant_token": "demo-grant",
        "base_url": url,
        "journal_number": "1",
    }
    clients.enable_plugin(ctx, CLIENT, "economic", values)
    clients.enable_plugin(ctx, CLIENT, "file_outbox", {"directory": letters})
    # The demo's actor is an operator: it grants customer reminders (C2) as
    # `hub clients grant demo-economic customer_reminders` does, then switches to them (C3).
    clients.grant_feature(ctx, CLIENT, clients.CUSTOMER_REMINDERS)
    flows.set_rules(
        ctx,
        CLIENT,
        [
            "start_date=2026-01-01",
            "payment_details=Reg.nr. 1234 konto 5678901",
            "reminder_mode=customer",
        ],
    )


@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    """Keep ``logger``'s warnings in: the demo stages this failure and tells it on the
    timeline, and the hub's warning about it would only break into the story."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


class EconomicScenario(ServedScenario):
    client = CLIENT
    fake: FakeEconomic
    story: EconomicStory
    jobs = (JobKind.SYNC, JobKind.POSTINGS)

    def __init__(self, base: Path) -> None:
        super().__init__(base)
        self.fake = FakeEconomic(today=START)
        self.agreement = _seed(self.fake)
        self.story = EconomicStory()
        self._written_off: int | None = None  # the case a person writes off

    def server(self) -> EconomicServer:
        return EconomicServer(self.fake)

    def setup(self, ctx: Context, url: str) -> str:
        _setup(ctx, url, str(self.letters))
        return (
            f"DK, on e-conomic (a fake server on {url}, real HTTP) through the economic"
            " plugin, in customer mode: one reminder per customer on its overdue balance (C1)"
        )

    def morning(self, ctx: Context, n: int, day: dt.date) -> list[str]:
        self.fake.today = day
        if n == PAYS[0]:
            self.agreement.pay(PAYS[1])
            return [f"{CUSTOMERS[102]} pays invoice {PAYS[1]} in e-conomic"]
        if n == COLLECT[0]:
            collection.collect(ctx, cases.open_case_of(ctx, CLIENT, customer=str(COLLECT[1])))
            return [
                f"a person sends {CUSTOMERS[COLLECT[1]]} to collection (hub cases collect): a"
                " collection warning with 10 days to pay (inkassoloven § 10)"
            ]
        if n == WRITE_OFF[0]:
            return [self._write_off(ctx)]
        if n == WRITE_OFF[0] + 1:
            # The demo plays the client's bookkeeper: the write-off voucher waits unbooked in
            # journal 1 until a person books the journal in e-conomic (legacy REST cannot);
            # booking it settles the written-off invoice there.
            self.agreement.book_journal(1)
            return [f"the bookkeeper books journal 1 in e-conomic: invoice {WRITE_OFF[1]} settled"]
        if n == COLLECTED[0]:
            self.agreement.pay(COLLECTED[1])
            return [f"the collection agency collects invoice {COLLECTED[1]}: paid in e-conomic"]
        return []

    def _write_off(self, ctx: Context) -> str:
        """A person writes the lost invoice off while e-conomic is down for maintenance: 503
        with a Retry-After of an hour, more than the hub waits within one call."""
        self.fake.fail_next(Fault(status=503, retry_after=3600, path_prefix="/journals"))
        case_id = self._written_off = cases.open_case_of(ctx, CLIENT, invoice=str(WRITE_OFF[1]))
        said = f"a person writes invoice {WRITE_OFF[1]} off (hub cases write-off {case_id})"
        try:
            with _quiet("hub.toolkit.http"):
                collection.write_off(ctx, collection.WriteOffRequest(case_id, "loss_confirmed"))
        except HubError as exc:
            self.story.write_off_error = str(exc)
            return (
                f"{said}, but e-conomic is down for maintenance (HTTP 503, back in an hour):"
                " the hub records the write-off as requested, for the postings job to finish"
            )
        return said

    def after(self, ctx: Context, n: int, day: dt.date, result: JobResult) -> list[str]:
        if result.job != JobKind.POSTINGS or not result.counts.get("write_offs"):
            return []
        assert self._written_off is not None, "the postings job finished a requested write-off"
        events = cases.show_case(ctx, self._written_off).detail["events"]
        [data] = [e["data"] for e in events if e["kind"] == cases.EventKind.WRITE_OFF_REQUESTED]
        self.story.write_off_voucher = [
            (line["account"] or f"customer {line['customer_number']}", D(line["amount"]))
            for line in data["lines"]
        ]
        self.story.vouchers_posted = len(self.agreement.vouchers)
        lines = ", ".join(
            f"{who if who.startswith('customer') else f'account {who}'} {amount(sum_, 'DKK')}"
            for who, sum_ in self.story.write_off_voucher
        )
        return [
            f"the write-off's voucher, as requested, in e-conomic's journal 1: {lines}"
            f" (key {data['key']})"
        ]

    def finish(self) -> None:
        """Note what the fake e-conomic saw (while its server is still up)."""
        super().finish()
        self.story.vouchers_posted = len(self.agreement.vouchers)
        self.story.unpaid_after = sorted(
            number for number, inv in self.agreement.booked.items() if inv.remainder > 0
        )
