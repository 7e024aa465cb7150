"""A Danish client on e-conomic through the hub's dunning, over real HTTP against the fake:
sync → reminder → paid in e-conomic → closed by itself (R1); a credit note (A3) and a
write-off (D4) that appear in e-conomic's books exactly once, even when an answer is lost and
the action is run again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa
from economic_support import add_invoices, context, enable

from hub import clients
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import actions
from hub.dunning import rules as dunning_rules
from hub.dunning.write_off import write_off
from hub.errors import HubError
from hub.operations import sync as sync_ops
from hub.operations.clients import client_day
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from hub.testing.fakes.economic import Agreement, EconomicServer, FakeEconomic, Fault

D = Decimal
DUE = dt.date(2026, 1, 15)


def day(n: int) -> dt.date:
    return DUE + dt.timedelta(days=n)


def run_day(db: Database, registry: PluginRegistry, box: SecretBox, on: dt.date) -> None:
    ctx = context(db, registry, box, on)
    client = client_day(ctx, "acme")
    sync_ops.fetch_invoices(ctx, client)
    sync_ops.dunning_cycle(ctx, client)


def cases(db: Database) -> dict[str, t.Case]:
    with db.session() as session:
        rows = session.execute(
            sa.select(t.Invoice.invoice_number, t.Case).join(
                t.Case, t.Case.invoice_id == t.Invoice.id
            )
        ).all()
        return {number: case for number, case in rows}


@pytest.fixture
def followed(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    server: EconomicServer,
    fake: FakeEconomic,
    agreement: Agreement,
) -> FakeEconomic:
    add_invoices(agreement, 5001, 3, [101])
    enable(db, registry, box, server, journal_number="1", product_number="1")
    with db.session() as session:
        dunning_rules.set_rules(session, clients.get_client(session, "acme"), {"auto_start": "1"})
    fake.today = day(10)
    run_day(db, registry, box, day(10))
    return fake


def test_reminded_then_paid_in_e_conomic_then_closed_by_itself(
    db: Database, registry: PluginRegistry, box: SecretBox, followed: FakeEconomic,
    agreement: Agreement,
) -> None:  # fmt: skip
    with db.session() as session:
        kinds = session.scalars(sa.select(t.Message.kind)).all()
    assert kinds == ["reminder_1"] * 3  # due + 10: the Danish default's first reminder
    agreement.pay(5001)
    run_day(db, registry, box, day(11))
    by_invoice = cases(db)
    assert (by_invoice["5001"].state, by_invoice["5001"].close_reason) == (
        "closed",
        "outstanding_zero",
    )
    assert by_invoice["5002"].state == "active"


def test_a_credit_note_appears_once_although_its_answer_was_lost(
    db: Database, registry: PluginRegistry, box: SecretBox, followed: FakeEconomic,
    agreement: Agreement,
) -> None:  # fmt: skip
    case_id = cases(db)["5002"].id
    booked_before = len(agreement.booked)
    # Booked, but every answer lost (3 attempts under the same key): the action fails ...
    followed.fail_next(Fault(status=503, count=3, after_processing=True, method="POST",
                             path_prefix="/invoices/booked"))  # fmt: skip
    with pytest.raises(HubError):
        actions.credit_note(db, registry, box, case_id, day(12), actor="tester")
    actions.credit_note(db, registry, box, case_id, day(12), actor="tester")  # run again
    credit_notes = [inv for inv in agreement.booked.values() if inv.gross_amount < 0]
    assert len(credit_notes) == 1 and len(agreement.booked) == booked_before + 1
    assert credit_notes[0].gross_amount == D("-1250.00")
    assert cases(db)["5002"].close_code == "credited"


def test_a_write_off_appears_once_although_its_answer_was_lost(
    db: Database, registry: PluginRegistry, box: SecretBox, followed: FakeEconomic,
    agreement: Agreement,
) -> None:  # fmt: skip
    case_id = cases(db)["5003"].id
    followed.fail_next(Fault(status=503, count=3, after_processing=True, method="POST",
                             path_prefix="/journals"))  # fmt: skip
    with pytest.raises(HubError):
        write_off(db, registry, box, case_id, "loss_confirmed", day(20), actor="tester")
    _, entry, posted = write_off(
        db, registry, box, case_id, "loss_confirmed", day(20), actor="tester"
    )
    assert posted
    [voucher] = agreement.vouchers
    assert [(line.account, line.amount) for line in entry.lines] == [
        (None, D("-1250.00")),
        ("3720", D("1000.00")),
        ("6902", D("250.00")),
    ]
    assert agreement.booked[5003].remainder == D("1250.00")  # unbooked: nothing moved yet
    agreement.book_journal(1)  # a person books the journal in e-conomic
    assert agreement.booked[5003].remainder == 0  # settled by the voucher (customerInvoice)
    assert voucher is not None and cases(db)["5003"].close_code == "written_off"
    write_off(
        db, registry, box, case_id, "loss_confirmed", day(21), actor="tester"
    )  # once more: nothing
    assert len(agreement.vouchers) == 1
