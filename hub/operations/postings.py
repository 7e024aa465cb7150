"""Finish the postings a person asked for that did not finish (the daemon's ``postings`` job).

A credit note (A3) or a loss write-off (D4) whose call to the accounting system did not
finish (a crash, a timeout, the system down) is sent again under its idempotency key, which
the accounting system answers with the same document, never a second one. A write-off whose
invoice the books meanwhile show settled waits for a person (``hub cases write-off
--confirm``), since the hub cannot tell which happened.

A posting another command (or another daemon) is working on, its lease live, is skipped and
counted as ``busy``; one whose lease expired is taken over. One the accounting system refuses
before booking anything is dropped by the domain (``posting_refused`` in the case's history,
the case goes on) and counted as ``dropped``, its refusal kept with the errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from hub.db import tables as t
from hub.dunning import actions
from hub.dunning.postings import PostingBusy, PostingRefused
from hub.dunning.states import EventKind
from hub.dunning.write_off import write_off
from hub.errors import HubError, InputError
from hub.logging import get_logger
from hub.operations import access, runs
from hub.operations.context import ClientDay, Context
from hub.records import NOT_IN_JSON, record_dict


@dataclass(frozen=True)
class UnfinishedPostings:
    """The client's cases with a credit note, and with a write-off (and its reason), asked
    for and not finished."""

    credit_notes: list[int]
    write_offs: list[tuple[int, str]]


@dataclass(frozen=True)
class PostingsResult:
    """How many were finished, wait for a person, were skipped because another is posting
    them now (``busy``), were dropped as refused before anything was booked, or failed again,
    and the failures' and refusals' errors."""

    credit_notes: int
    write_offs: int
    waiting: int
    failed: int
    busy: int = 0
    dropped: int = 0
    errors: tuple[str, ...] = field(default=(), metadata=NOT_IN_JSON)

    def counts(self) -> dict[str, int]:
        """The counts as the run history records them."""
        return record_dict(self)


def unfinished_postings(ctx: Context, client: ClientDay) -> UnfinishedPostings:
    """What is asked for and not finished, by case id."""
    with ctx.db.session() as session:
        credit_notes = list(
            session.scalars(
                select(t.Case.id)
                .where(
                    t.Case.client_id == client.id,
                    t.Case.credit_note_key.is_not(None),
                    t.Case.credit_note_ref.is_(None),
                )
                .order_by(t.Case.id)
            )
        )
        reasons: dict[int, str] = {}  # the reason of each case's latest request
        for case_id, reason in session.execute(
            select(t.Case.id, t.CaseEvent.reason)
            .join(t.CaseEvent, t.CaseEvent.case_id == t.Case.id)
            .where(
                t.Case.client_id == client.id,
                t.Case.write_off_key.is_not(None),
                t.Case.write_off_ref.is_(None),
                t.CaseEvent.kind == EventKind.WRITE_OFF_REQUESTED,
            )
            .order_by(t.Case.id, t.CaseEvent.id)
        ):
            reasons[case_id] = reason or ""
        write_offs = list(reasons.items())
    return UnfinishedPostings(credit_notes, write_offs)


def finish_postings(ctx: Context, client: ClientDay) -> PostingsResult:
    """Send every unfinished credit note and write-off of ``client`` again, on its today.

    One that fails again is counted and its error kept; the others go on. A write-off the
    books show settled is refused by the domain (InputError) and counted as waiting; one being
    posted now (a live lease) is skipped; one refused before booking is dropped.
    """
    # Finishing what a person asked for is automatic work: checked, not in the audit log.
    access.permit(ctx, action="postings.finish", client=client.name, subject="unfinished postings")
    unfinished = unfinished_postings(ctx, client)
    credit_notes = write_offs = waiting = failed = busy = dropped = 0
    errors: list[str] = []
    log = get_logger("hub.operations.postings", client=client.name, job=runs.JobKind.POSTINGS.value)
    for case_id in unfinished.credit_notes:
        try:
            actions.credit_note(
                ctx.db, ctx.registry, ctx.box, case_id, client.today, actor=ctx.actor.name
            )
            credit_notes += 1
        except PostingBusy as exc:
            busy += 1
            log.info("postings: skipped, being posted now", case=case_id, why=str(exc))
        except PostingRefused as exc:
            dropped += 1
            errors.append(f"case {case_id}: credit note: {exc}")
        except HubError as exc:
            failed += 1
            errors.append(f"case {case_id}: credit note: {exc}")
    for case_id, reason in unfinished.write_offs:
        try:
            write_off(
                ctx.db, ctx.registry, ctx.box, case_id, reason, client.today, actor=ctx.actor.name
            )
            write_offs += 1
        except PostingBusy as exc:
            busy += 1
            log.info("postings: skipped, being posted now", case=case_id, why=str(exc))
        except PostingRefused as exc:
            dropped += 1
            errors.append(f"case {case_id}: write-off: {exc}")
        except InputError as exc:  # the books show it settled: a person must look
            waiting += 1
            log.warning("postings: a write-off waits for a person", case=case_id, why=str(exc))
        except HubError as exc:
            failed += 1
            errors.append(f"case {case_id}: write-off: {exc}")
    return PostingsResult(credit_notes, write_offs, waiting, failed, busy, dropped, tuple(errors))
