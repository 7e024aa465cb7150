"""Loss write-off (D4): post the loss in the books through the plugin, once, and close the case.

The voucher is a customer payment for the amount the case pursues (VAT included) that clears
the customer's receivable, distributed to the client's loss account (default 3720 "Tab på
debitorer – konstateret") for the net part and the output-VAT account (default 6902
"Udgående (salg) moms") for the VAT part. The VAT part is the invoice's VAT share of that
amount, rounded half up to the øre (an invoice written off in full gives exactly its VAT).

Exactly once: the voucher, with its idempotency key ``writeoff:<case>``, is fixed and
committed before the plugin is called; running the command again (after a crash, a timeout,
a kill) posts that same voucher under the same key, which the plugin answers with the same
reference instead of posting again.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import amounts, clients
from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning import coverage, postings
from hub.dunning import rules as dunning_rules
from hub.dunning.actions import record_posting, refuse_if_pending, refuse_unless
from hub.dunning.cases import add_event, lock_case
from hub.dunning.states import CLOSING_CODES, CaseState, CloseCode, EventKind
from hub.errors import InputError
from hub.model import Capability, InvoiceState, JournalEntry, JournalLine
from hub.plugins import PluginRegistry
from hub.secrets import SecretBox


def split_vat(invoice: t.Invoice, amount: Decimal) -> tuple[Decimal, Decimal]:
    """(net, VAT) of ``amount`` at the invoice's VAT share (:func:`hub.amounts.split_vat`)."""
    return amounts.split_vat(amount, gross=invoice.gross_amount, vat=invoice.vat_amount)


def voucher(
    case: t.Case,
    invoice: t.Invoice,
    amount: Decimal,
    rules: t.ClientDunning,
    on: dt.date,
    key: str | None = None,
) -> JournalEntry:
    """The write-off voucher of ``amount`` of the invoice (see the module docstring)."""
    net, vat = split_vat(invoice, amount)
    text = f"Loss write-off, invoice {invoice.invoice_number} (case {case.id})"
    lines = [
        JournalLine(
            amount=-amount,
            text=text,
            customer_number=invoice.customer_number,
            invoice_number=invoice.invoice_number,
        ),
        JournalLine(amount=net, text=text, account=rules.loss_account),
    ]
    if vat:
        lines.append(JournalLine(amount=vat, text=text, account=rules.output_vat_account))
    return JournalEntry(
        idempotency_key=key or f"writeoff:{case.id}",
        date=on,
        currency=invoice.currency,
        text=text,
        lines=tuple(lines),
    )


def _entry_of(case: t.Case, session: Session) -> JournalEntry:
    """The voucher fixed when the write-off was asked for (the event keeps it)."""
    event = session.scalar(
        select(t.CaseEvent)
        .where(t.CaseEvent.case_id == case.id, t.CaseEvent.kind == EventKind.WRITE_OFF_REQUESTED)
        .order_by(t.CaseEvent.id.desc())
    )
    assert event is not None, f"case {case.id} has a write-off key but no request"
    data = event.data
    return JournalEntry(
        idempotency_key=data["key"],
        date=dt.date.fromisoformat(data["date"]),
        currency=data["currency"],
        text=data["text"],
        lines=tuple(
            JournalLine(
                amount=Decimal(line["amount"]),
                text=line["text"],
                account=line.get("account"),
                customer_number=line.get("customer_number"),
                invoice_number=line.get("invoice_number"),
            )
            for line in data["lines"]
        ),
    )


def _refuse(
    session: Session, case: t.Case, invoice: t.Invoice | None, entry_amount: Decimal
) -> t.Invoice:
    if invoice is None:
        raise InputError(
            f"case {case.id} follows customer {case.customer_number}'s balance; a loss is"
            " written off invoice by invoice: send the case to collection (each invoice gets"
            " its own case, C4) or switch the client to invoice mode"
        )
    if invoice.state != InvoiceState.OPEN.value or entry_amount <= 0:
        raise InputError(
            f"case {case.id}: invoice {invoice.invoice_number} is {invoice.state} in the books"
            f" and pursues {entry_amount} {invoice.currency}; there is no loss to write off"
        )
    other = session.scalar(
        select(t.Case).where(
            t.Case.invoice_id == invoice.id, t.Case.id != case.id, t.Case.write_off_key.is_not(None)
        )
    )
    if other is not None:  # one invoice, one write-off, whichever case asked for it
        done = "was written off" if other.write_off_ref else "is being written off (unfinished)"
        raise InputError(
            f"invoice {invoice.invoice_number} {done} in case {other.id}; finish or look at it"
            f" there (`hub cases write-off {other.id}`, `hub cases show {other.id}`)"
        )
    return invoice


def write_off(
    db: Database,
    registry: PluginRegistry,
    box: SecretBox,
    case_id: int,
    reason: str,
    today: dt.date,
    *,
    actor: str,
    confirm: bool = False,
    lease: dt.timedelta = postings.POSTING_LEASE,
    on_request: postings.OnRequest | None = None,
) -> tuple[t.Case, JournalEntry, bool]:
    """D4: post the write-off voucher through the client's plugin and close the case as
    ``written_off``; returns the case, the voucher, and whether this call posted it (False: it
    was written off before, and nothing was posted again).

    Only where the plugin declares ``journal``; refused for a case that is closed, follows a
    customer's balance, or whose invoice pursues nothing or is written off in another case.
    Once asked for, a write-off is finished by running it again. If the books show the
    invoice settled meanwhile, that may be this very voucher (posted, its answer lost) or the
    customer's payment: the hub cannot tell, so it asks for ``confirm`` (``--confirm``) after a
    person looked; the voucher is the same and posted once either way.

    Serialised per case (the case locked while the request is checked and recorded), and
    posted under a lease (:mod:`hub.dunning.postings`): refused while another command posts
    it, or while a credit note is asked for. Refused by the accounting system before anything
    was booked (accounts it lacks, a setting missing), the request is dropped and the case
    goes on; the next write-off is built from the rules as they are then.

    ``on_request``: called in the transaction that commits the request, as it is about to be
    posted (not when the case was written off before: then nothing changes).
    """
    owner = postings.new_owner(actor)
    if reason not in CLOSING_CODES[CloseCode.WRITTEN_OFF]:
        raise InputError(
            f"reason {reason!r} does not go with a write-off; choose one of"
            f" {', '.join(CLOSING_CODES[CloseCode.WRITTEN_OFF])}"
        )
    with db.session() as session:
        case = lock_case(session, case_id)
        if case.write_off_ref is not None:
            return case, _entry_of(case, session), False
        client = session.get(t.Client, case.client_id)
        assert client is not None
        if case.write_off_key is None:
            refuse_unless(case, {CaseState.ACTIVE, CaseState.PAUSED}, "write it off")
            refuse_if_pending(case)  # a credit note asked for: one or the other, never both
        else:
            postings.refuse_if_busy(case)
            invoice = session.get(t.Invoice, case.invoice_id) if case.invoice_id else None
            settled = invoice is None or invoice.state != InvoiceState.OPEN.value
            if settled and not confirm:
                raise InputError(
                    f"case {case.id}: since the write-off was asked for, the books show invoice"
                    f" {invoice.invoice_number if invoice else '?'}"
                    f" {invoice.state if invoice else 'unknown'}: either this voucher was"
                    " posted and its answer lost, or the customer paid. Look in the books, then"
                    " run again with --confirm to finish it (the same voucher, posted once)"
                )
        plugin = registry.for_client(
            clients.client_context(client, registry, box, today=today, job="write_off")
        )
        plugin.require(Capability.JOURNAL, f"a loss write-off for case {case.id}")
        if case.write_off_key is None:
            invoice = session.get(t.Invoice, case.invoice_id) if case.invoice_id else None
            amount = coverage.total(coverage.case_covering(session, case, today))
            invoice = _refuse(session, case, invoice, amount)
            key = postings.next_key(session, case, postings.Posting.WRITE_OFF)
            rules = dunning_rules.rules_of(session, client)
            entry = voucher(case, invoice, amount, rules, today, key)
            case.write_off_key = entry.idempotency_key
            add_event(
                case,
                EventKind.WRITE_OFF_REQUESTED,
                actor,
                today,
                reason,
                key=entry.idempotency_key,
                date=entry.date.isoformat(),
                currency=entry.currency,
                text=entry.text,
                lines=[
                    {
                        "amount": str(line.amount),
                        "text": line.text,
                        "account": line.account,
                        "customer_number": line.customer_number,
                        "invoice_number": line.invoice_number,
                    }
                    for line in entry.lines
                ],
            )
        else:
            entry = _entry_of(case, session)
        postings.take_lease(case, owner, lease)
        if on_request is not None:
            on_request(session, case)
    reference = postings.post_under_lease(
        db,
        case_id,
        postings.Posting.WRITE_OFF,
        owner,
        lease,
        lambda: plugin.post_journal_lines(entry),
        actor=actor,
        today=today,
    )
    case = record_posting(
        db,
        case_id,
        "write_off_ref",
        reference,
        (EventKind.WRITTEN_OFF, reason),
        (CloseCode.WRITTEN_OFF, reason),
        actor,
        today,
        owner=owner,
    )
    return case, entry, True
