"""120 days, day by day, of a Danish and a Norwegian client on CSV exports.

Invoices that are paid, partly paid, credited (through the hub) and never paid. Every message,
its day and its fee is checked against the law table and the rules R1–R6.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from pathlib import Path

import pytest

from hub import clients
from hub.db.engine import Database
from hub.dunning import actions
from hub.dunning import rules as dunning_rules
from hub.dunning.law import LAW
from hub.plugins import load_plugins
from hub.secrets import SecretBox
from tests.dunning_support import cases, messages, run_day

D = Decimal
START = dt.date(2026, 1, 5)
HEADER = "Fakturanr;Kundenr;Kundenavn;E-mail;Sprog;Fakturadato;Forfaldsdato;Valuta;Brutto;Restbeløb"


def days_from(start: dt.date, n: int) -> dt.date:
    return start + dt.timedelta(days=n)


class Export:
    """The client's accounting program: the open-invoices export it writes each day."""

    def __init__(self, path: Path, currency: str, language: str) -> None:
        self.path = path
        self.currency = currency
        self.language = language
        self.open: dict[str, tuple[str, dt.date, D, D]] = {}

    def add(self, number: str, customer: str, due: dt.date, gross: str) -> None:
        self.open[number] = (customer, due, D(gross), D(gross))

    def pay(self, number: str, amount: str | None = None) -> None:
        customer, due, gross, rest = self.open[number]
        if amount is None:
            del self.open[number]
        else:
            self.open[number] = (customer, due, gross, rest - D(amount))

    def write(self) -> None:
        lines = [HEADER]
        for number, (customer, due, gross, rest) in self.open.items():
            issued = due - dt.timedelta(days=14)
            lines.append(
                f"{number};{customer};Kunde {customer} Ærø;k{customer}@example.test;"
                f"{self.language};{issued:%d.%m.%Y};{due:%d.%m.%Y};{self.currency};"
                f"{str(gross).replace('.', ',')};{str(rest).replace('.', ',')}"
            )
        self.path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("country", "currency", "language"), [("DK", "DKK", "da"), ("NO", "NOK", "nb")]
)
def test_120_days_of_dunning_follow_the_law(
    db: Database, box: SecretBox, tmp_path: Path, country: str, currency: str, language: str
) -> None:
    law = LAW[country]
    registry = load_plugins()
    export = Export(tmp_path / "open.csv", currency, language)
    due = days_from(START, 10)
    export.add("100", "1", due, "1000.00")  # paid in full on day 25
    export.add("101", "2", due, "2000.00")  # part-paid on day 30, never the rest
    export.add("102", "3", due, "500.00")  # credited through the hub on day 26
    export.add("103", "4", due, "750.00")  # never paid
    export.add("104", "5", days_from(START, 40), "300.00")  # paid just after its due date
    export.write()
    with db.session() as session:
        clients.add_client(session, "client", country)
        clients.enable_plugin(
            session,
            registry,
            box,
            "client",
            "generic_csv",
            {
                "invoices_path": str(export.path),
                "outbox_dir": str(tmp_path / "books"),
            },
        )
        dunning_rules.set_rules(
            session,
            clients.get_client(session, "client"),
            {
                "auto_start": "true",
                "payment_details": "Konto 1234 5678901",
            },
        )

    paid_on: dict[str, dt.date] = {}
    for n in range(120):
        today = days_from(START, n)
        if n == 25:
            export.pay("100")
            paid_on["100"] = today
        if n == 30:
            export.pay("101", "1200.00")
        if n == 26:
            [case] = [c for c in cases(db) if c.customer_number == "3"]
            actions.credit_note(db, registry, box, case.id, today, actor="tester")
        if n == 27:
            export.pay("102")  # the credit note reached the books
        if n == 52:
            export.pay("104")
            paid_on["104"] = today
        export.write()
        run_day(db, registry, box, "client", today)
        again = run_day(db, registry, box, "client", today)  # a repeated sync changes nothing
        assert again.messages == 0 and again.closed == 0

    by_customer = {c.customer_number: c for c in cases(db)}
    sent = {}
    for c in cases(db):
        sent[c.customer_number] = [
            (m.kind, m.created_on, m.fee) for m in messages(db) if m.case_id == c.id
        ]

    # every message was delivered, each exactly once
    assert all(m.status == "sent" for m in messages(db))
    assert len({m.reference for m in messages(db)}) == len(messages(db))

    # the law, on every case
    for customer, msgs in sent.items():
        fee_days = [day for kind, day, fee in msgs if fee > 0]
        assert len(fee_days) <= law.max_fee_reminders, customer
        assert all(fee <= law.max_reminder_fee for _, _, fee in msgs)
        assert all(
            b - a >= dt.timedelta(days=law.min_days_between_fee_reminders)
            for a, b in itertools.pairwise(fee_days)
        ), customer
        case_due = due if customer != "5" else days_from(START, 40)
        assert all(
            d - case_due >= dt.timedelta(days=law.min_days_after_due_for_fee) for d in fee_days
        ), customer
        assert len({day for _, day, _ in msgs}) == len(msgs)  # never two steps on one day
        # a fee never comes before the previous reminder's pay-by date has passed (NO § 1-3)
        assert all(
            b > a + dt.timedelta(days=law.reminder_deadline_days)
            for a, b in itertools.pairwise(fee_days)
        ), customer

    fee = law.max_reminder_fee
    gap = max(law.min_days_between_fee_reminders, law.reminder_deadline_days + 1)
    first = due + dt.timedelta(
        days=max(law.min_days_between_fee_reminders, law.min_days_after_due_for_fee)
    )
    expected_never_paid = [("friendly_reminder", due - dt.timedelta(days=3), D("0.00"))] + [
        (f"reminder_{k + 1}", first + dt.timedelta(days=gap * k), fee)
        for k in range(law.max_fee_reminders)
    ]
    assert sent["4"] == expected_never_paid
    assert sent["2"] == expected_never_paid  # part-paid: still pursued, for the rest
    assert by_customer["2"].state == "active"

    # R1 (and R5: it had a fee): closed the day the export showed it paid
    assert by_customer["1"].state == "closed" and by_customer["1"].closed_on == paid_on["100"]
    assert by_customer["1"].closed_by == "auto"
    assert by_customer["5"].closed_on == paid_on["104"]
    # A3: credited through the plugin (a credit note file in the books' outbox), closed by user
    assert (by_customer["3"].close_code, by_customer["3"].closed_by) == ("credited", "user")
    assert list((tmp_path / "books").glob("creditnote-*.csv"))
    # letters are in the customer's language with the amount still owed after part-payment
    part_paid_last = [m for m in messages(db) if m.case_id == by_customer["2"].id][-1]
    assert part_paid_last.language == language
    assert "800,00" in part_paid_last.body
