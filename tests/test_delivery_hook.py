"""The deliver_message hook as the core uses it: the outbox, the default channel, retries."""

from __future__ import annotations

import datetime as dt
from email import policy
from email.parser import BytesParser
from pathlib import Path

import sqlalchemy as sa

from hub import clients
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import rules as dunning_rules
from hub.model import Customer
from hub.secrets import SecretBox
from tests.dunning_support import messages, registry_with_outbox, run_day
from tests.helpers import add_client_with_plugin, deliver_pending
from tests.sample_plugins import RecordingPlugin, invoice

DUE = dt.date(2026, 10, 15)


def _client(db: Database, box: SecretBox):  # type: ignore[no-untyped-def]
    ledger = RecordingPlugin("alpha")
    ledger.invoices["1"] = invoice("1", "C1", "1250.00", due_date=DUE)
    ledger.customers["C1"] = Customer("C1", "Ærø Færgeservice", email="f@aeroe.dk", language="da")
    registry = registry_with_outbox(ledger)
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "t"})
    with db.session() as session:
        dunning_rules.set_rules(
            session,
            clients.get_client(session, "acme"),
            {"auto_start": "true", "payment_details": "Reg. 1234 konto 99"},
        )
    return registry


def test_hook_deliver_message(db: Database, box: SecretBox, hub_env: Path) -> None:
    registry = _client(db, box)
    run_day(db, registry, box, "acme", DUE + dt.timedelta(days=10))
    [message] = messages(db)
    assert (message.kind, message.status, message.channel) == ("reminder_1", "sent", "file_outbox")
    written = hub_env / "outbox" / "acme" / message.reference
    email = BytesParser(policy=policy.default).parsebytes(written.read_bytes())
    assert email["To"].addresses[0].addr_spec == "f@aeroe.dk"
    assert "Ærø Færgeservice" in str(email["To"])
    body = email.get_content()
    assert "1.250,00 kr." in body and "Reg. 1234 konto 99" in body and "renteloven § 9 b" in body


def test_a_failed_delivery_is_kept_and_retried(db: Database, box: SecretBox, hub_env: Path) -> None:
    registry = _client(db, box)
    blocker = hub_env / "outbox"
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_text("a file where the outbox directory should be")
    run_day(db, registry, box, "acme", DUE + dt.timedelta(days=10))
    [message] = messages(db)
    assert message.status == "failed" and message.attempts == 1 and message.last_error
    blocker.unlink()
    report = deliver_pending(db, registry, box, "acme")
    assert (report.sent, report.failed) == (1, 0)
    with db.session() as session:
        again = session.scalars(sa.select(t.Message)).one()
    assert (again.status, again.attempts, again.last_error) == ("sent", 2, None)
    assert deliver_pending(db, registry, box, "acme").sent == 0  # nothing left, nothing twice
