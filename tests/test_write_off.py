"""Loss write-off (D4): one voucher through the plugin's post_journal_lines, net to the loss
account and VAT to the output-VAT account, exactly once (repeated, failed and retried, killed
and retried), and the case closed as written off. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from hub import clients, hookimpl
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import actions
from hub.dunning import rules as dunning_rules
from hub.dunning.cases import start_case
from hub.dunning.write_off import split_vat, write_off
from hub.errors import CapabilityMissing, InputError, PluginError
from hub.model import ClientContext, Customer, InvoiceState, JournalEntry
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox
from tests.dunning_support import cases, events, registry_with_outbox, run_day
from tests.helpers import add_client_with_plugin
from tests.sample_plugins import RecordingPlugin, invoice

D = Decimal
DUE = dt.date(2026, 10, 15)
TODAY = DUE + dt.timedelta(days=60)


class FlakyJournal(RecordingPlugin):
    """Posts the voucher, then the answer is lost (a timeout) the first ``failures`` times."""

    def __init__(self, name: str, failures: int) -> None:
        super().__init__(name)
        self.failures = failures

    @hookimpl
    def post_journal_lines(self, ctx: ClientContext, entry: JournalEntry) -> str:
        reference = super().post_journal_lines(ctx, entry)
        if self.failures:
            self.failures -= 1
            raise PluginError("alpha: the answer to the voucher was lost (timeout)")
        return reference


@pytest.fixture
def ledger() -> RecordingPlugin:
    plugin = FlakyJournal("alpha", failures=0)
    plugin.invoices["1"] = invoice("1", "C1", "1250.00", due_date=DUE)  # net 1000, VAT 250
    plugin.customers["C1"] = Customer("C1", "Østergaard ApS")
    return plugin


@pytest.fixture
def registry(db: Database, box: SecretBox, ledger: RecordingPlugin) -> PluginRegistry:
    registry = registry_with_outbox(ledger)
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "t"})
    with db.session() as session:
        dunning_rules.set_rules(session, clients.get_client(session, "acme"), {"auto_start": "1"})
    run_day(db, registry, box, "acme", DUE + dt.timedelta(days=1))
    return registry


def posted(ledger: RecordingPlugin) -> list[JournalEntry]:
    return [payload for hook, _, payload in ledger.calls if hook == "post_journal_lines"]


def lines(entry: JournalEntry) -> list[tuple[str | None, str | None, Decimal]]:
    return [(line.account, line.customer_number, line.amount) for line in entry.lines]


def test_D4_write_off_posts_net_to_loss_and_vat_to_output_vat_and_closes(
    db, box, registry, ledger
) -> None:  # type: ignore[no-untyped-def]
    case_id = cases(db)[0].id
    case, entry, did_post = write_off(
        db, registry, box, case_id, "loss_confirmed", TODAY, actor="tester"
    )
    assert did_post
    assert lines(entry) == [
        (None, "C1", D("-1250.00")),  # the customer payment clearing the receivable
        ("3720", None, D("1000.00")),  # Tab på debitorer – konstateret
        ("6902", None, D("250.00")),  # Udgående (salg) moms
    ]
    assert entry.idempotency_key == f"writeoff:{case_id}" and entry.date == TODAY
    [case] = cases(db)
    assert (case.state, case.close_code, case.close_reason) == (
        "closed",
        "written_off",
        "loss_confirmed",
    )
    assert case.write_off_ref == "alpha-1"

    again = write_off(db, registry, box, case_id, "loss_confirmed", TODAY, actor="tester")
    assert again[2] is False and again[1] == entry
    assert len(posted(ledger)) == 1  # repeated: nothing posted twice


def test_D4_accounts_are_the_clients_settings(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    with db.session() as session:
        client = clients.get_client(session, "acme")
        dunning_rules.set_rules(
            session, client, {"loss_account": "3730", "output_vat_account": "6903"}
        )
        with pytest.raises(InputError, match="not an account number"):
            dunning_rules.set_rules(session, client, {"loss_account": "37 20"})
    _, entry, _ = write_off(
        db, registry, box, cases(db)[0].id, "loss_confirmed", TODAY, actor="tester"
    )
    assert [line.account for line in entry.lines] == [None, "3730", "6903"]


def test_D4_a_part_paid_invoice_writes_off_what_is_pursued_with_its_vat_share(
    db, box, registry, ledger
) -> None:  # type: ignore[no-untyped-def]
    ledger.invoices["1"] = invoice(
        "1", "C1", "1250.00", due_date=DUE, outstanding_amount=D("625.00")
    )
    run_day(db, registry, box, "acme", DUE + dt.timedelta(days=2))
    case_id = cases(db)[0].id
    with db.session() as session:  # a payment the books do not show yet (A2)
        actions.register_payment(session, case_id, D("100.33"), TODAY, TODAY, actor="tester")
    _, entry, _ = write_off(
        db, registry, box, case_id, "amount_too_small_to_pursue", TODAY, actor="tester"
    )
    # 524.67 of which VAT 524.67 × 250 / 1250 = 104.934 → 104.93; net 419.74
    assert lines(entry) == [
        (None, "C1", D("-524.67")),
        ("3720", None, D("419.74")),
        ("6902", None, D("104.93")),
    ]


def test_D4_split_vat_is_exact_to_the_ore() -> None:
    inv = invoice("9", gross="100.00")  # VAT 20.00
    assert split_vat(inv, D("100.00")) == (D("80.00"), D("20.00"))
    assert split_vat(inv, D("0.03")) == (D("0.02"), D("0.01"))  # 0.006 → 0.01 half up
    for amount in (D("0.01"), D("33.33"), D("99.99")):
        net, vat = split_vat(inv, amount)
        assert net + vat == amount


def test_D4_a_lost_answer_is_retried_with_the_same_voucher(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    ledger.failures = 1
    case_id = cases(db)[0].id
    with pytest.raises(PluginError, match="lost"):
        write_off(db, registry, box, case_id, "loss_confirmed", TODAY, actor="tester")
    [case] = cases(db)
    assert case.state == "active" and case.write_off_key == f"writeoff:{case_id}"
    # The books now show the invoice paid by the voucher; the sync closes the case (R1) ...
    del ledger.invoices["1"]
    ledger.settled["1"] = InvoiceState.PAID
    run_day(db, registry, box, "acme", TODAY + dt.timedelta(days=1))
    assert cases(db)[0].close_code == "paid_in_accounting"
    # ... the retry cannot tell our voucher from the customer's payment: a person looks ...
    with pytest.raises(InputError, match="either this voucher was posted"):
        write_off(
            db,
            registry,
            box,
            case_id,
            "loss_confirmed",
            TODAY + dt.timedelta(days=1),
            actor="tester",
        )
    # ... and confirms: the same write-off is finished, same key, same voucher.
    _, entry, did_post = write_off(
        db,
        registry,
        box,
        case_id,
        "loss_confirmed",
        TODAY + dt.timedelta(days=1),
        confirm=True,
        actor="tester",
    )
    assert did_post
    first, second = posted(ledger)
    assert first == second == entry and entry.date == TODAY
    assert set(ledger.writes) == {f"writeoff:{case_id}"}  # one voucher in the books
    assert cases(db)[0].write_off_ref == "alpha-1"
    assert [e["kind"] for e in events(db, case_id)].count("write_off_requested") == 1


def test_D4_refusals_change_nothing(db, box, registry, ledger) -> None:  # type: ignore[no-untyped-def]
    case_id = cases(db)[0].id
    with pytest.raises(InputError, match="reason 'because'"):
        write_off(db, registry, box, case_id, "because", TODAY, actor="tester")
    with db.session() as session, pytest.raises(InputError, match="hub cases write-off"):
        actions.close(
            session, case_id, "written_off", "loss_confirmed", TODAY, notify=False, actor="tester"
        )
    assert cases(db)[0].write_off_key is None
    with db.session() as session:
        actions.close(
            session,
            case_id,
            "dispute",
            "customer_disputes_claim",
            TODAY,
            notify=False,
            actor="tester",
        )
    with pytest.raises(InputError, match="is closed"):
        write_off(db, registry, box, case_id, "loss_confirmed", TODAY, actor="tester")
    assert posted(ledger) == []


def test_D4_killed_while_posting_then_retried_posts_once(
    db_url: str, hub_env: Path, tmp_path: Path
) -> None:
    """A real kill: the process posting the write-off (to the CSV plugin's outbox) is killed
    with SIGKILL right after the voucher is written; `hub cases write-off` run again finishes
    the write-off, and the books hold one voucher."""
    export = tmp_path / "open.csv"
    export.write_text(
        "Fakturanr;Kundenr;Kundenavn;Fakturadato;Forfaldsdato;Valuta;Netto;Moms;Brutto\n"
        "1;10;Østergaard ApS;01.01.2026;15.01.2026;DKK;1.000,00;250,00;1.250,00\n",
        encoding="utf-8",
    )
    books = tmp_path / "books"
    env = {**os.environ, "HUB_DATA_DIR": str(hub_env), "HUB_DATABASE_URL": db_url}

    def hub(*args: str) -> subprocess.CompletedProcess[str]:
        out = subprocess.run(
            [sys.executable, "-m", "hub.cli.main", "--today", "2026-03-01", *args],
            capture_output=True, text=True, env=env, timeout=60, check=False,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        return out

    hub("clients", "add", "dk", "--country", "DK")
    hub("clients", "enable", "dk", "generic_csv", "--set", f"invoices_path={export}",
        "--set", f"outbox_dir={books}")  # fmt: skip
    hub("sync", "dk")
    hub("cases", "start", "--client", "dk", "--invoice", "1")
    killer = textwrap.dedent(
        """
        import datetime, os, signal
        from generic_csv import plugin as csv_plugin
        from hub.cli.state import state
        from hub.dunning.write_off import write_off

        write_file = csv_plugin._write

        def write_then_die(*args):
            write_file(*args)
            os.kill(os.getpid(), signal.SIGKILL)  # the voucher is written; the hub never knows

        csv_plugin._write = write_then_die
        write_off(state.db(), state.registry, state.box, 1, "loss_confirmed",
                  datetime.date(2026, 3, 1), actor="tester")
        """
    )
    child = subprocess.run(
        [sys.executable, "-c", killer], env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert child.returncode == -9, child.stderr
    assert len(list(books.glob("voucher-*.csv"))) == 1
    shown = hub("cases", "show", "1", "--json").stdout
    assert '"state": "active"' in shown  # killed before the hub recorded the outcome

    out = hub("cases", "write-off", "1")
    assert "written off" in out.stdout
    [voucher] = list(books.glob("voucher-*.csv"))  # the retry did not post a second one
    text = voucher.read_text(encoding="utf-8")
    assert "3720" in text and "6902" in text and "1000.00" in text and "250.00" in text
    again = hub("cases", "write-off", "1")
    assert "nothing posted again" in again.stdout
    assert len(list(books.glob("voucher-*.csv"))) == 1


def test_D4_needs_a_plugin_that_posts_vouchers(db, box) -> None:  # type: ignore[no-untyped-def]
    books = RecordingPlugin("plain", capabilities=frozenset({"customer_balance"}))
    books.invoices["1"] = invoice("1", "C1", "1250.00", due_date=DUE)
    registry = registry_with_outbox(books)
    add_client_with_plugin(db, registry, box, "acme", "plain", {"api_token": "t"})
    with db.session() as session:
        dunning_rules.set_rules(session, clients.get_client(session, "acme"), {"auto_start": "1"})
    run_day(db, registry, box, "acme", DUE + dt.timedelta(days=1))
    with pytest.raises(CapabilityMissing, match="journal"):
        write_off(db, registry, box, cases(db)[0].id, "loss_confirmed", TODAY, actor="tester")
    assert posted(books) == [] and cases(db)[0].write_off_key is None


def test_D4_an_unfinished_write_off_blocks_other_actions_and_second_write_offs(
    db, box, registry, ledger
) -> None:  # type: ignore[no-untyped-def]
    ledger.failures = 1
    case_id = cases(db)[0].id
    with pytest.raises(PluginError):
        write_off(db, registry, box, case_id, "loss_confirmed", TODAY, actor="tester")
    with db.session() as session, pytest.raises(InputError, match="write-off was asked for"):
        actions.close(session, case_id, "other", "other", TODAY, notify=False, actor="tester")
    with db.session() as session, pytest.raises(InputError, match="write-off was asked for"):
        actions.send_to_collection(session, case_id, TODAY, actor="tester")
    report = run_day(db, registry, box, "acme", TODAY + dt.timedelta(days=30))
    assert report.messages == 0  # no reminder on a claim being written off
    # R1 closes it (the voucher cleared it); a new case on the same invoice cannot write off again
    del ledger.invoices["1"]
    ledger.settled["1"] = InvoiceState.PAID
    run_day(db, registry, box, "acme", TODAY + dt.timedelta(days=31))
    ledger.settled.pop("1")
    ledger.invoices["1"] = invoice("1", "C1", "1250.00", due_date=DUE)  # reopened in the books
    run_day(db, registry, box, "acme", TODAY + dt.timedelta(days=32))
    with db.session() as session:
        client = clients.get_client(session, "acme")
        row = session.scalar(sa.select(t.Invoice).where(t.Invoice.invoice_number == "1"))
        second = start_case(session, client, row, TODAY, "karen", "user")
        session.flush()
        second_id = second.id
    with pytest.raises(
        InputError, match=f"is being written off \\(unfinished\\) in case {case_id}"
    ):
        write_off(
            db,
            registry,
            box,
            second_id,
            "loss_confirmed",
            TODAY + dt.timedelta(days=32),
            actor="tester",
        )
    assert len(posted(ledger)) == 1
