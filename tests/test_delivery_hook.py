"""The deliver_message hook as the core uses it: the outbox, the default channel, retries."""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import threading
import time
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from hub_delivery import smtp as smtp_plugin

from hub import clients
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import rules as dunning_rules
from hub.model import Customer
from hub.secrets import SecretBox
from tests.dunning_support import messages, registry_with_outbox, run_day
from tests.helpers import add_client_with_plugin, deliver_pending, run_cycle, sync_client
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


# -- a batch longer than the claim -----------------------------------------------------------


class _SlowSmtp:
    """An aiosmtpd handler that takes ``seconds`` to accept each message, recording each."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.received: list[str] = []  # the Message-ID of each message accepted

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(self.seconds)
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content or b"")
        self.received.append(str(parsed["Message-ID"]))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _smtp_client(db: Database, box: SecretBox, port: int, letters: int) -> Any:
    """Client acme with ``letters`` reminders queued for its SMTP server on ``port``."""
    ledger = RecordingPlugin("alpha")
    for i in range(letters):
        number = f"C{i}"
        ledger.invoices[str(i)] = invoice(str(i), number, "1250.00", due_date=DUE)
        ledger.customers[number] = Customer(number, f"Kunde {i}", email=f"k{i}@example.dk")
    registry = registry_with_outbox(ledger)
    registry.register("smtp", smtp_plugin)
    add_client_with_plugin(db, registry, box, "acme", "alpha", {"api_token": "t"})
    with db.session() as session:
        client = clients.get_client(session, "acme")
        dunning_rules.set_rules(session, client, {"auto_start": "true"})
        settings = {
            "host": "127.0.0.1",
            "port": str(port),
            "from_address": "faktura@acme.dk",
            "starttls": "false",
        }
        clients.enable_plugin(session, registry, box, "acme", "smtp", settings)
    day = DUE + dt.timedelta(days=10)
    sync_client(db, registry, box, "acme", day)
    run_cycle(db, "acme", day)
    assert len(messages(db)) == letters
    return registry


def test_a_batch_longer_than_the_claim_is_renewed_and_two_deliverers_send_each_letter_once(
    db_url: str, box: SecretBox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Letters to a slow SMTP server, a batch three times as long as the claim, while a second
    deliverer looks for work every half second: the first run keeps its claims (renewed) and
    every letter goes out exactly once."""
    monkeypatch.setenv("HUB_DELIVERY_CLAIM", "2")
    handler = _SlowSmtp(seconds=1.5)
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    db = Database(db_url)
    others: list[Database] = []
    try:
        registry = _smtp_client(db, box, controller.port, letters=4)
        day = DUE + dt.timedelta(days=10)

        barrier = threading.Barrier(2)
        first_done = threading.Event()
        reports: dict[str, list[Any]] = {"first": [], "second": []}

        def first() -> None:
            own = Database(db_url)
            others.append(own)
            barrier.wait()
            try:
                reports["first"].append(deliver_pending(own, registry, box, "acme", day))
            finally:
                first_done.set()

        def second() -> None:
            own = Database(db_url)
            others.append(own)
            barrier.wait()
            deadline = time.monotonic() + 60
            # the first has claimed the batch (or even sent it already)
            while not (first_done.is_set() or any(m.claimed_by for m in messages(own))):
                assert time.monotonic() < deadline, "the first deliverer never claimed the batch"
                time.sleep(0.02)
            while not first_done.is_set():
                reports["second"].append(deliver_pending(own, registry, box, "acme", day))
                time.sleep(0.5)

        threads = [threading.Thread(target=f) for f in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        controller.stop()
        for other in others:
            other.dispose()
    try:
        sent = messages(db)
    finally:
        db.dispose()
    assert sorted(handler.received) == sorted(set(handler.received)), "a letter went out twice"
    assert len(handler.received) == 4
    assert [(m.status, m.attempts, m.channel) for m in sent] == [("sent", 1, "smtp")] * 4
    assert reports["first"][0].sent == 4
    assert sum(r.sent for r in reports["second"]) == 0


def test_a_letter_whose_claim_another_run_took_over_is_not_sent_by_this_one(
    db: Database, box: SecretBox
) -> None:
    """While the first letter is being sent (slowly), another run takes the second over (this
    one had stalled): this run leaves it to that one and sends only the first."""
    handler = _SlowSmtp(seconds=1.0)
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        registry = _smtp_client(db, box, controller.port, letters=2)
        day = DUE + dt.timedelta(days=10)
        first, second = (m.id for m in messages(db))
        done: list[Any] = []
        run = threading.Thread(
            target=lambda: done.append(deliver_pending(db, registry, box, "acme", day))
        )
        run.start()
        deadline = time.monotonic() + 30
        while not (m := messages(db)) or m[1].status != "sending":  # the batch is claimed
            assert time.monotonic() < deadline
            time.sleep(0.02)
        with db.session() as session:
            session.execute(
                sa.update(t.Message)
                .where(t.Message.id == second)
                .values(claimed_by="another-run", claimed_at=dt.datetime.now(dt.UTC))
            )
        run.join(timeout=60)
    finally:
        controller.stop()
    assert len(handler.received) == 1
    assert done[0].sent == 1
    statuses = {m.id: (m.status, m.claimed_by) for m in messages(db)}
    assert statuses == {first: ("sent", None), second: ("sending", "another-run")}
