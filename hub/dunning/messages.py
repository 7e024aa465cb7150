"""The outbox: making a case's letters and e-mails, and delivering them.

A message is rendered and stored in the same transaction as the step that makes it, so a
step is never sent twice nor lost. Delivery comes after the commit, through the client's
delivery plugin (or the file outbox): a failure leaves the message in the outbox, marked
failed with the reason, and every later delivery run tries it again.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from hub import clients
from hub.amounts import ZERO
from hub.config import data_dir, delivery_claim
from hub.db import tables as t
from hub.db.engine import Database
from hub.db.leases import Renewal
from hub.dunning.cases import add_event
from hub.dunning.law import law_for
from hub.dunning.letters import (
    LetterData,
    LetterInvoice,
    dated,
    letter_from_json,
    letter_json,
    letter_language,
    render_letter,
)
from hub.dunning.states import UNSENT, Actor, CaseState, EventKind, MessageStatus, Stage
from hub.dunning.window import window_of
from hub.errors import HubError, NotFoundError
from hub.logging import get_logger
from hub.model import OutgoingMessage
from hub.plugins import ClientPlugin, PluginRegistry
from hub.secrets import SecretBox

DEFAULT_DELIVERY = "file_outbox"

log = get_logger("hub.dunning.messages")


@dataclass(frozen=True)
class MessageParty:
    """What a letter needs to know of the creditor (client) and the customer."""

    creditor_name: str
    payment_details: str | None
    sender_email: str | None
    customer_name: str
    customer_email: str | None
    customer_language: str | None


def party(
    client: t.Client, rules: t.ClientDunning, customer: t.Customer | None, customer_number: str
) -> MessageParty:
    return MessageParty(
        creditor_name=rules.creditor_name or client.name,
        payment_details=rules.payment_details,
        sender_email=rules.sender_email,
        customer_name=customer.name if customer else f"customer {customer_number}",
        customer_email=customer.email if customer else None,
        customer_language=customer.language if customer else None,
    )


def make_message(
    *,
    client: t.Client,
    case: t.Case,
    covering: Sequence[tuple[t.Invoice, Decimal]],
    who: MessageParty,
    kind: str,
    today: dt.date,
    step: int | None,
    fee: Decimal,
    fees_total: Decimal,
    reminder_number: int | None = None,
    deadline: dt.date | None = None,
    closing_reason: str | None = None,
) -> t.Message:
    """Render a letter for the case and return its outbox row.

    ``covering`` lists the invoices the letter is about, each with the amount it pursues
    (after partial payments); a consolidated customer reminder covers several. The row
    records them (:class:`hub.db.tables.MessageInvoice`): the law counts fees per invoice.
    """
    language = letter_language(who.customer_language, client.country)
    letter_kind = "reminder" if kind.startswith("reminder_") else kind
    currency = covering[0][0].currency if covering else client.currency
    data = LetterData(
        kind=letter_kind,
        country=client.country,
        today=today,
        creditor_name=who.creditor_name,
        payment_details=who.payment_details,
        customer_name=who.customer_name,
        customer_number=case.customer_number,
        invoices=tuple(
            LetterInvoice(
                invoice.invoice_number,
                invoice.invoice_date,
                invoice.due_date,
                amount,
                invoice.currency,
            )
            for invoice, amount in covering
        ),
        currency=currency,
        outstanding_total=sum((amount for _, amount in covering), ZERO),
        fee=fee,
        fees_total=fees_total,
        reminder_number=reminder_number,
        deadline=deadline,
        closing_reason=closing_reason,
    )
    letter = render_letter(data, language)
    return t.Message(
        client_id=client.id,
        case_id=case.id,
        kind=kind,
        stage=case.stage,
        round=case.round,
        step=step,
        created_on=today,
        fee=fee,
        fee_currency=law_for(client.country).currency,
        language=letter.language,
        recipient_name=who.customer_name,
        recipient_email=who.customer_email,
        subject=letter.subject,
        body=letter.body,
        status=MessageStatus.QUEUED.value,
        attempts=0,
        amount=data.outstanding_total,
        currency=currency,
        letter=letter_json(data),
        covered=[t.MessageInvoice(invoice_id=invoice.id) for invoice, _ in covering],
    )


@dataclass
class DeliveryReport:
    """What a delivery run did. ``waiting``: letters it left queued because the client's
    sending window is closed, which opens next at ``window_opens`` (the client's time)."""

    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)
    waiting: int = 0
    window_opens: dt.datetime | None = None


def default_outbox_dir(client_name: str) -> Path:
    return data_dir() / "outbox" / client_name


_STILL_SENT_AFTER_CLOSE = ("closing_confirmation",)


#: Not yet out and not being sent: a letter that may still be called off.
_WITHDRAWABLE = (
    MessageStatus.QUEUED,
    MessageStatus.FAILED,
    MessageStatus.PENDING_APPROVAL,
    MessageStatus.HELD,
)


def _cancel_for_closed_cases(session: Session, client_id: int) -> None:
    """A letter not yet out when its case closed must not go out at all (no reminder after the
    customer paid), whether it was queued, failing, waiting for approval or held; only a
    closing confirmation still goes."""
    closed = select(t.Case.id).where(
        t.Case.client_id == client_id, t.Case.state == CaseState.CLOSED
    )
    session.execute(
        update(t.Message)
        .where(
            t.Message.client_id == client_id,
            t.Message.status.in_(_WITHDRAWABLE),
            t.Message.case_id.in_(closed),
            t.Message.kind.not_in(_STILL_SENT_AFTER_CLOSE),
        )
        .values(
            status=MessageStatus.CANCELLED.value,
            last_error="its case was closed before it was delivered",
        )
    )


def withdraw_unsent(
    session: Session, case: t.Case, why: str, actor: str, today: dt.date
) -> list[int]:
    """Call off the case's letters that are not out yet (queued, failing, waiting for approval
    or held), because the case left the step they were made for: the invoice became overdue
    before a friendly reminder went, a person restarted or changed the flow or sent the case
    to collection. They are cancelled with ``why``, never sent, and their fees never charged;
    the case's history says so. A letter a delivery run is sending right now is left to it.
    Returns the letters' ids."""
    withdrawn = list(
        session.scalars(
            update(t.Message)
            .where(
                t.Message.case_id == case.id,
                t.Message.status.in_(_WITHDRAWABLE),
                t.Message.kind.not_in(_STILL_SENT_AFTER_CLOSE),
            )
            .values(status=MessageStatus.CANCELLED.value, last_error=why)
            .returning(t.Message.id)
        )
    )
    if withdrawn:
        add_event(case, EventKind.LETTER_WITHDRAWN, actor, today, why, letters=sorted(withdrawn))
    return sorted(withdrawn)


def unsent_by_case(session: Session, client_id: int) -> set[int]:
    """The client's cases with a letter made and not out yet (:data:`UNSENT`): each waits for
    it before it takes its next step."""
    return set(
        session.scalars(
            select(t.Message.case_id).where(
                t.Message.client_id == client_id, t.Message.status.in_(UNSENT)
            )
        )
    )


def _deliverable(now: dt.datetime) -> Any:
    """Queued, failed, or claimed by a run that must have crashed (a claim older than
    :func:`hub.config.delivery_claim`)."""
    stale = now - dt.timedelta(seconds=delivery_claim())
    return t.Message.status.in_((MessageStatus.QUEUED, MessageStatus.FAILED)) | (
        (t.Message.status == MessageStatus.SENDING) & (t.Message.claimed_at < stale)
    )


def _claim(db: Database, message_ids: list[int], token: str) -> set[int]:
    """Take the messages for this run (``token``), in one statement; those another run has are
    left out (two syncs at once). What a crashed run had claimed is taken again after
    :func:`hub.config.delivery_claim`."""
    now = dt.datetime.now(dt.UTC)
    with db.session() as session:
        claimed = session.scalars(
            update(t.Message)
            .where(t.Message.id.in_(message_ids), _deliverable(now))
            .values(status=MessageStatus.SENDING.value, claimed_at=now, claimed_by=token)
            .returning(t.Message.id)
        )
        return set(claimed)


def _ours(token: str, *message_ids: int) -> Any:
    return (
        t.Message.id.in_(message_ids),
        t.Message.status == MessageStatus.SENDING,
        t.Message.claimed_by == token,
    )


def _renew(db: Database, token: str, message_ids: Sequence[int]) -> set[int]:
    """Renew this run's claims on ``message_ids``; returns those still its own (one taken
    over meanwhile by another run is not)."""
    if not message_ids:
        return set()
    with db.session() as session:
        return set(
            session.scalars(
                update(t.Message)
                .where(*_ours(token, *message_ids))
                .values(claimed_at=dt.datetime.now(dt.UTC))
                .returning(t.Message.id)
            )
        )


@contextmanager
def _holding(db: Database, token: str, held: set[int]) -> Iterator[threading.Lock]:
    """Renew the claims in ``held`` every third of :func:`hub.config.delivery_claim` from a
    thread while the batch is delivered, however long it takes; the caller removes each
    message from ``held`` (under the lock yielded) once its outcome is recorded."""
    lock = threading.Lock()

    def renew() -> bool:
        with lock:
            ids = sorted(held)
        if lost := set(ids) - _renew(db, token, ids):
            log.warning("delivery claims lost to another run", messages=sorted(lost))
        return True  # the others are still ours: keep renewing them

    with Renewal(renew, delivery_claim() / 3, name="delivery-claims"):
        yield lock


def deliver_pending(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    client_id: int,
    today: dt.date,
    now: dt.datetime,
) -> DeliveryReport:
    """Deliver the client's queued and failed messages, each claimed and committed on its own;
    a message sent is recorded as sent on ``today``, the client's day the run acts for.

    ``now`` is the moment in the client's time zone: outside the client's sending window
    nothing is sent and the letters stay queued (:attr:`DeliveryReport.waiting`). Letters
    waiting for approval or held back are not delivered (nor counted there). A letter that goes
    out on a later day than it was made is dated that day, its deadline counted from it, and
    the case's dates that count from the letter (the next step, the fee spacing, the collection
    warning's statutory days) count from it too (:func:`_count_from_sending`).

    Each message is claimed first (status ``sending``, with a token of this run), so two runs
    at once never both send it. The claims are renewed every third of
    :func:`hub.config.delivery_claim` while the batch is delivered, however long it takes,
    and each message's claim is confirmed as this run's right before it is sent: a message
    another run took over (this one stalled longer than the claim) is not sent by this one.
    A claim left by a run that crashed is taken again once it is older than the claim.
    """
    report = DeliveryReport()
    with db.session() as session:
        client = session.get(t.Client, client_id)
        if client is None:
            raise NotFoundError(f"the client (id {client_id}) was removed")
        _cancel_for_closed_cases(session, client.id)
        rows = session.execute(
            select(t.Message, t.Case.customer_number)
            .join(t.Case, t.Case.id == t.Message.case_id)
            .where(t.Message.client_id == client.id, _deliverable(dt.datetime.now(dt.UTC)))
            .order_by(t.Message.id)
        ).all()
        if not rows:
            return report
        pending = [message.id for message, _ in rows]
        rules = session.get(t.ClientDunning, client.id)
        window = window_of(rules.sending_window if rules else None)
        if window is not None and not window.contains(now):
            report.waiting = len(pending)
            report.window_opens = window.next_opening(now)
            log.info(
                "letters wait for the sending window",
                client=client.name,
                letters=len(pending),
                window=window.text,
                opens=report.window_opens.isoformat(),
            )
            return report
        country = client.country
        sender_name = (rules.creditor_name if rules else None) or client.name
        sender_email = rules.sender_email if rules else None
        try:
            ctx = clients.client_context(
                client,
                registry,
                box,
                today=today,
                job="deliver",
                kind="delivery",
                fallback=(DEFAULT_DELIVERY, {"directory": str(default_outbox_dir(client.name))}),
            )
            channel = registry.for_client(ctx)
        except HubError as exc:
            _mark_undeliverable(session, pending, f"no delivery plugin: {exc}")
            report.failed = len(pending)
            report.errors.append(str(exc))
            return report
    token = uuid.uuid4().hex
    held = _claim(db, pending, token)
    with _holding(db, token, held) as lock:
        for message, customer_number in rows:
            if message.id not in held:
                continue
            # Right before it goes out, the claim is confirmed (and renewed) as this run's: a
            # message another run took over meanwhile is never sent by this one too.
            if not _renew(db, token, [message.id]):
                log.warning("message claimed by another run; not sent here", message=message.id)
                with lock:
                    held.discard(message.id)
                continue
            _deliver_one(
                db,
                channel,
                message,
                customer_number,
                today,
                token,
                report,
                sender=(sender_name, sender_email),
                country=country,
            )
            with lock:
                held.discard(message.id)
    return report


def _deliver_one(
    db: Database,
    channel: ClientPlugin,
    message: t.Message,
    customer_number: str,
    today: dt.date,
    token: str,
    report: DeliveryReport,
    *,
    sender: tuple[str, str | None],
    country: str,
) -> None:
    change: dict[str, Any] = {"attempts": message.attempts + 1, "channel": channel.name}
    try:
        subject, body = _written_on(message, today)
        outgoing = OutgoingMessage(
            idempotency_key=f"message:{message.id}",
            kind=message.kind,
            language=message.language,
            customer_number=customer_number,
            recipient_name=message.recipient_name,
            recipient_email=message.recipient_email,
            subject=subject,
            body=body,
            sender_name=sender[0],
            sender_email=sender[1],
        )
        change["reference"] = channel.deliver_message(outgoing)
    except HubError as exc:
        change |= {"status": MessageStatus.FAILED.value, "last_error": str(exc)}
        report.failed += 1
        report.errors.append(f"message {message.id}: {exc}")
    else:
        change |= {
            "status": MessageStatus.SENT.value,
            "last_error": None,
            "sent_at": dt.datetime.now(dt.UTC),
            "sent_on": today,
            "subject": subject,  # as it went out (dated again if it went out later)
            "body": body,
        }
        report.sent += 1
    change |= {"claimed_by": None}
    # Each outcome is committed on its own, right after the channel answered. A message sent
    # is recorded sent even if its claim lapsed meanwhile (the database away for longer than
    # the claim): it did go out. A failure is recorded only while the claim is ours, so it
    # never overwrites what a run that took the message over is doing.
    ours: ColumnElement[bool]
    if change["status"] == MessageStatus.SENT:
        ours = t.Message.status.in_(
            (MessageStatus.SENDING, MessageStatus.QUEUED, MessageStatus.FAILED)
        )
    else:
        ours = (t.Message.status == MessageStatus.SENDING) & (t.Message.claimed_by == token)
    with db.session() as session:
        recorded = session.execute(
            update(t.Message).where(t.Message.id == message.id, ours).values(**change)
        ).rowcount  # type: ignore[attr-defined]
        if recorded and change["status"] == MessageStatus.SENT and today > message.created_on:
            _count_from_sending(session, message, today, country)
    if not recorded:
        log.warning(
            "the message's claim was taken over; its outcome is the other run's",
            message=message.id,
            outcome=change["status"],
        )


def _written_on(message: t.Message, today: dt.date) -> tuple[str, str]:
    """The subject and body of ``message`` as it goes out on ``today``: as made, or, if it
    goes out on a later day, written again dated that day (:func:`hub.dunning.letters.dated`),
    so a deadline it counts from its date gives its days from the day it is sent. A letter
    stored before the hub kept what letters say goes as it was made.

    :raises HubError: the letter cannot be written on that day (it stays in the outbox,
        failed, saying why).
    """
    if message.letter is None or today <= message.created_on:
        return message.subject, message.body
    try:
        letter = render_letter(dated(letter_from_json(message.letter), today), message.language)
    except (ValueError, KeyError, TypeError) as exc:
        raise HubError(f"the letter cannot be dated {today}, the day it goes out: {exc}") from exc
    return letter.subject, letter.body


def _count_from_sending(
    session: Session, message: t.Message, sent_on: dt.date, country: str
) -> None:
    """``message`` went out on ``sent_on``, later than the cycle or a person made it: what
    counts from it counts from that day. A flow step's case counts its next step (and, for a
    fee, the law's spacing and pay-by date) from it, while the case is still at that step; a
    collection warning's statutory days count from it, and the case's deadline moves (its
    history says so)."""
    if message.step is not None and message.step >= 0:
        progress: dict[str, Any] = {"last_step_on": sent_on}
        if message.fee > 0:
            progress["last_fee_on"] = sent_on
        session.execute(
            update(t.Case)
            .where(
                t.Case.id == message.case_id,
                t.Case.stage == message.stage,
                t.Case.round == message.round,
                t.Case.step_index == message.step + 1,
                t.Case.last_step_on < sent_on,
            )
            .values(**progress)
        )
    if message.kind != "collection_warning":
        return
    law = law_for(country)
    deadline = sent_on + dt.timedelta(days=law.collection_warning_days)
    moved = session.execute(
        update(t.Case)
        .where(
            t.Case.id == message.case_id,
            t.Case.stage != Stage.COLLECTION,
            t.Case.collection_deadline < deadline,
        )
        .values(collection_warned_on=sent_on, collection_deadline=deadline)
    ).rowcount  # type: ignore[attr-defined]
    if moved:
        case = session.get(t.Case, message.case_id)
        assert case is not None
        add_event(
            case,
            EventKind.COLLECTION_DEADLINE_MOVED,
            Actor.AUTO,
            sent_on,
            f"the collection warning made on {message.created_on} went out on {sent_on};"
            f" {law.warning_rule} counts its {law.collection_warning_days} days from then",
            letter=message.id,
            deadline=deadline.isoformat(),
        )


def _mark_undeliverable(session: Session, message_ids: list[int], error: str) -> None:
    session.execute(
        update(t.Message)
        .where(t.Message.id.in_(message_ids))
        .values(status=MessageStatus.FAILED.value, last_error=error)
    )
