"""Cases: the list (filters, pages), starting one by hand, and a case's page with its invoices,
history, letters and every action a person takes on it (A1–A6, D1, D4), each through the same
operation as ``hub cases``.

An action that posts to the books (a credit note, a write-off) or cannot be undone (closing,
a payment registered, a restart, sending to collection, dropping an unfinished posting) first
shows a confirmation page: the form posts without ``confirmed``, the page repeats what was
typed with ``confirmed=yes`` and a button to do it. A user who may not change the case's client
(a viewer) is refused (403) before being asked. The operation's refusal (the CLI's message) is
shown on the case page above its forms, answered with the error's status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from hub.amounts import CENT, parse_amount
from hub.clock import parse_date
from hub.console import i18n
from hub.console.deps import Ctx
from hub.console.errors import status_of
from hub.console.filtering import filtered, value
from hub.console.pages.letters import kind_word
from hub.console.pages.overview import seen_clients
from hub.console.paging import Paged, PageParams
from hub.console.rendering import flash, flash_text, language_of, redirect, render, words
from hub.errors import ForbiddenError, InputError, PluginError
from hub.operations import cases, collection

router = APIRouter()

#: The write-off reasons (D4) a person chooses from, as ``hub cases write-off --reason``.
WRITE_OFF_REASONS = cases.CLOSING_CODES[cases.CloseCode.WRITTEN_OFF]

#: Every field of the case page's forms, empty (a refused form is shown again as typed).
FORM_FIELDS = (
    "closing",
    "notify",
    "amount",
    "paid_on",
    "reason",
    "note",
    "resume_on",
    "to",
    "settled",
)

Text = Annotated[str, Form(max_length=2000)]
Confirmed = Annotated[str, Form(max_length=3)]


def _money(request: Request, value: Decimal, currency: str) -> str:
    return i18n.amount(value, currency, language_of(request))


def _day(request: Request, value: dt.date) -> str:
    return i18n.date(value, language_of(request))


def word_or(request: Request) -> Callable[[str, str], str]:
    """``word(key, fallback)``: the word for ``key`` in the user's language, or ``fallback``
    (a code the hub may add later, shown as it is rather than failing the page)."""
    said = words(request)

    def word(key: str, fallback: str) -> str:
        try:
            return said(key)
        except KeyError:
            return fallback

    return word


def _currency(ctx: Ctx, case_id: int) -> str:
    return str(cases.show_case(ctx, case_id).detail["currency"])


def _listing_values(ctx: Ctx) -> dict[str, object]:
    return {
        "clients": seen_clients(ctx),
        "stages": [s.value for s in cases.Stage],
        "states": [s.value for s in cases.CaseState],
        "may_start": ctx.actor.role != "viewer",
    }


@router.get("/cases")
def case_list(
    request: Request,
    ctx: Ctx,
    page: PageParams,
    client: Annotated[str | None, Query(max_length=200)] = None,
    stage: cases.Stage | None = None,
    state: cases.CaseState | None = None,
    customer: Annotated[str | None, Query(max_length=200)] = None,
    overdue: bool = False,
) -> Response:
    chosen = cases.CaseFilter(value(client), stage, state, value(customer), overdue)
    found = cases.list_cases(ctx, chosen, limit=page.limit, offset=page.offset)
    values = {
        **_listing_values(ctx),
        "page": Paged(found.rows, found.total, page.limit, page.offset),
        "chosen": chosen,
        "error": None,
        "form": {"client": chosen.client or "", "invoice": ""},
    }
    return render(request, "cases.html", values)


@router.post("/cases/filter")
def filter_cases(
    client: Text = "",
    stage: Text = "",
    state: Text = "",
    customer: Text = "",
    overdue: Text = "",
) -> Response:
    """The filter form: a redirect to the list with the filters in its address."""
    filters = {"client": client, "stage": stage, "state": state, "customer": customer}
    return filtered("/cases", {**filters, "overdue": "true" if overdue else None})


@router.post("/cases")
def start_case(request: Request, ctx: Ctx, client: Text = "", invoice: Text = "") -> Response:
    """Start a case for an open invoice (as ``hub cases start``)."""
    try:
        case = cases.start_case(ctx, client=client.strip(), invoice=invoice.strip())
    except ForbiddenError:
        raise
    except InputError as exc:
        chosen = cases.CaseFilter()
        found = cases.list_cases(ctx, chosen, limit=50)
        values = {
            **_listing_values(ctx),
            "page": Paged(found.rows, found.total, 50, 0),
            "chosen": chosen,
            "error": str(exc),
            "form": {"client": client, "invoice": invoice},
        }
        return render(request, "cases.html", values, status=status_of(exc).code)
    flash(request, "ok", "cases.started", id=case.id, invoice=invoice.strip())
    return redirect(f"/cases/{case.id}")


def _case_page(
    request: Request,
    ctx: Ctx,
    case_id: int,
    *,
    error: str | None = None,
    form: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    values = {
        "case": cases.show_case(ctx, case_id).as_dict(),
        "actions": cases.case_actions(ctx, case_id),
        "write_off_reasons": WRITE_OFF_REASONS,
        "stages": [s.value for s in cases.Stage],
        "error": error,
        "form": {**dict.fromkeys(FORM_FIELDS, ""), **(form or {})},
        "word": word_or(request),
        "kind_word": kind_word(request),
    }
    return render(request, "case.html", values, status=status)


@router.get("/cases/{case_id}")
def case_page(request: Request, ctx: Ctx, case_id: int) -> Response:
    return _case_page(request, ctx, case_id)


def _act(
    request: Request,
    ctx: Ctx,
    case_id: int,
    form: Mapping[str, str],
    run: Callable[[], tuple[str, dict[str, object]] | str],
) -> Response:
    """Run an action; on success a flash (a key and its values, or a text already written)
    and back to the case; refused, the case page again with why, and the form as typed."""
    try:
        done = run()
    except ForbiddenError:
        raise
    except (InputError, PluginError) as exc:
        return _case_page(
            request, ctx, case_id, error=str(exc), form=form, status=status_of(exc).code
        )
    if isinstance(done, str):
        flash_text(request, "ok", done)
    else:
        key, values = done
        flash(request, "ok", key, **values)
    return redirect(f"/cases/{case_id}")


def _confirm(
    request: Request,
    ctx: Ctx,
    case_id: int,
    action: str,
    path: str,
    fields: Mapping[str, str],
    text: str,
) -> Response:
    """The confirmation page of ``action``: what will happen, the values typed (sent again
    as hidden fields with ``confirmed=yes``), a button to do it and a way back."""
    cases.refuse_unless_may_change(ctx, case_id, action)
    values = {
        "case": cases.show_case(ctx, case_id).as_dict(),
        "action": action,
        "path": path,
        "fields": dict(fields),
        "text": text,
    }
    return render(request, "case_confirm.html", values)


def _checked(
    request: Request,
    ctx: Ctx,
    case_id: int,
    form: Mapping[str, str],
    parse: Callable[[], object],
) -> Response | None:
    """Parse what was typed before asking to confirm it: refused, the case page with why. A
    user who may not change the case is refused (403) first, whatever was typed."""
    cases.refuse_unless_may_change(ctx, case_id, "change")
    try:
        parse()
    except InputError as exc:
        return _case_page(request, ctx, case_id, error=str(exc), form=form, status=422)
    return None


def _closing(raw: str) -> tuple[str, str]:
    code, _, reason = raw.partition(":")
    if not code or not reason:
        raise InputError("choose a closing code and a reason (A1)")
    return code, reason


@router.post("/cases/{case_id}/close")
def close_case(
    request: Request,
    ctx: Ctx,
    case_id: int,
    closing: Text = "",
    notify: Text = "",
    confirmed: Confirmed = "",
) -> Response:
    """A1: close with a code and its reason, optionally sending the closing confirmation."""
    form = {"closing": closing, "notify": "yes" if notify else ""}
    refused = _checked(request, ctx, case_id, form, lambda: _closing(closing))
    if refused is not None:
        return refused
    code, reason = _closing(closing)
    word = word_or(request)
    shown = {
        "code": word(f"close_code.{code}", code),
        "reason": word(f"close_reason.{reason}", reason),
    }
    if confirmed != "yes":
        said = words(request)
        text = said("cases.confirm.close", id=case_id, **shown)
        if notify:
            text += " " + said("cases.confirm.notify")
        return _confirm(request, ctx, case_id, "close", "close", form, text)

    def run() -> tuple[str, dict[str, object]]:
        cases.close_case(ctx, cases.CloseRequest(case_id, code, reason, bool(notify)))
        return "cases.done.close", {"id": case_id, **shown}

    return _act(request, ctx, case_id, form, run)


@router.post("/cases/{case_id}/payment")
def register_payment(
    request: Request,
    ctx: Ctx,
    case_id: int,
    amount: Text = "",
    paid_on: Text = "",
    confirmed: Confirmed = "",
) -> Response:
    """A2: a payment the books do not show yet (not booked)."""
    form = {"amount": amount, "paid_on": paid_on}

    def parsed() -> cases.PaymentRequest:
        return cases.PaymentRequest(
            case_id,
            parse_amount(amount.strip(), what="amount", minimum=CENT),
            parse_date(paid_on.strip(), what="paid on"),
        )

    refused = _checked(request, ctx, case_id, form, parsed)
    if refused is not None:
        return refused
    payment = parsed()
    if confirmed != "yes":
        text = words(request)(
            "cases.confirm.payment",
            id=case_id,
            amount=_money(request, payment.amount, _currency(ctx, case_id)),
            day=_day(request, payment.paid_on),
        )
        return _confirm(request, ctx, case_id, "payment", "payment", form, text)

    def run() -> tuple[str, dict[str, object]]:
        done = cases.register_payment(ctx, payment)
        paid = _money(request, payment.amount, str(done.detail["currency"]))
        return "cases.done.payment", {"id": case_id, "amount": paid}

    return _act(request, ctx, case_id, form, run)


@router.post("/cases/{case_id}/credit-note")
def credit_note(request: Request, ctx: Ctx, case_id: int, confirmed: Confirmed = "") -> Response:
    """A3: credit the invoice in full in the accounting system, and close the case."""
    if confirmed != "yes":
        text = words(request)("cases.confirm.credit_note", id=case_id)
        return _confirm(request, ctx, case_id, "credit_note", "credit-note", {}, text)

    def run() -> tuple[str, dict[str, object]]:
        done = cases.credit_note(ctx, case_id)
        return "cases.done.credit_note", {"id": case_id, "reference": done.reference}

    return _act(request, ctx, case_id, {}, run)


@router.post("/cases/{case_id}/pause")
def pause_case(
    request: Request,
    ctx: Ctx,
    case_id: int,
    reason: Text = "",
    note: Text = "",
    resume_on: Text = "",
) -> Response:
    """A4: pause with a reason, optionally until a day it resumes by itself (undone by
    resuming: no confirmation)."""
    form = {"reason": reason, "note": note, "resume_on": resume_on}

    def run() -> tuple[str, dict[str, object]]:
        day = parse_date(resume_on.strip(), what="resume on") if resume_on.strip() else None
        request_ = cases.PauseRequest(case_id, reason.strip(), note.strip() or None, day)
        cases.pause_case(ctx, request_)
        return "cases.done.pause", {"id": case_id}

    return _act(request, ctx, case_id, form, run)


@router.post("/cases/{case_id}/resume")
def resume_case(request: Request, ctx: Ctx, case_id: int) -> Response:
    """A4: resume a paused case by hand."""

    def run() -> tuple[str, dict[str, object]]:
        cases.resume_case(ctx, case_id)
        return "cases.done.resume", {"id": case_id}

    return _act(request, ctx, case_id, {}, run)


@router.post("/cases/{case_id}/flow")
def change_flow(
    request: Request, ctx: Ctx, case_id: int, to: Text = "", confirmed: Confirmed = ""
) -> Response:
    """A5: to another stage's flow; to collection (one way, through the collection warning)
    is confirmed first."""
    form = {"to": to}

    def stage() -> cases.Stage:
        try:
            return cases.Stage(to)
        except ValueError:
            stages = ", ".join(s.value for s in cases.Stage)
            raise InputError(f"flow {to!r} is not one of {stages}") from None

    refused = _checked(request, ctx, case_id, form, stage)
    if refused is not None:
        return refused
    target = stage()
    if target is cases.Stage.COLLECTION and confirmed != "yes":
        text = words(request)("cases.confirm.collect", id=case_id)
        return _confirm(request, ctx, case_id, "change_flow", "flow", form, text)

    def run() -> tuple[str, dict[str, object]]:
        cases.change_flow(ctx, case_id, target)
        return "cases.done.change_flow", {"id": case_id, "flow": target.value}

    return _act(request, ctx, case_id, form, run)


@router.post("/cases/{case_id}/restart")
def restart_flow(request: Request, ctx: Ctx, case_id: int, confirmed: Confirmed = "") -> Response:
    """A6: run the current flow again from its first step."""
    if confirmed != "yes":
        text = words(request)("cases.confirm.restart_flow", id=case_id)
        return _confirm(request, ctx, case_id, "restart_flow", "restart", {}, text)

    def run() -> tuple[str, dict[str, object]]:
        cases.restart_flow(ctx, case_id)
        return "cases.done.restart_flow", {"id": case_id}

    return _act(request, ctx, case_id, {}, run)


@router.post("/cases/{case_id}/collect")
def collect(request: Request, ctx: Ctx, case_id: int, confirmed: Confirmed = "") -> Response:
    """D1: the collection warning with the statutory deadline, delivered at once."""
    if confirmed != "yes":
        text = words(request)("cases.confirm.collect", id=case_id)
        return _confirm(request, ctx, case_id, "collect", "collect", {}, text)

    def run() -> str:
        done = collection.collect(ctx, case_id)
        said = words(request)
        text = said("cases.done.collect", id=case_id, deadline=_day(request, done.deadline))
        if done.delivery_failed:
            text += " " + said("cases.not_delivered", errors="; ".join(done.delivery_errors))
        return text

    return _act(request, ctx, case_id, {}, run)


@router.post("/cases/{case_id}/write-off")
def write_off(
    request: Request,
    ctx: Ctx,
    case_id: int,
    reason: Text = "loss_confirmed",
    settled: Text = "",
    confirmed: Confirmed = "",
) -> Response:
    """D4: post the loss in the books and close the case as written off. ``settled``: finish
    it although the books show the invoice settled meanwhile (``--confirm``)."""
    form = {"reason": reason, "settled": "yes" if settled else ""}
    if confirmed != "yes":
        shown = word_or(request)(f"close_reason.{reason}", reason)
        text = words(request)("cases.confirm.write_off", id=case_id, reason=shown)
        return _confirm(request, ctx, case_id, "write_off", "write-off", form, text)

    def run() -> tuple[str, dict[str, object]]:
        request_ = collection.WriteOffRequest(case_id, reason, confirm=bool(settled))
        done = collection.write_off(ctx, request_)
        key = "cases.done.write_off" if done.posted else "cases.done.write_off_before"
        return key, {"id": case_id, "reference": done.reference}

    return _act(request, ctx, case_id, form, run)


@router.post("/cases/{case_id}/abandon-posting")
def abandon_posting(
    request: Request, ctx: Ctx, case_id: int, reason: Text = "", confirmed: Confirmed = ""
) -> Response:
    """Drop an unfinished credit note or write-off, after a person looked in the books."""
    form = {"reason": reason}
    if confirmed != "yes":
        text = words(request)("cases.confirm.abandon_posting", id=case_id)
        return _confirm(request, ctx, case_id, "abandon_posting", "abandon-posting", form, text)

    def run() -> tuple[str, dict[str, object]]:
        cases.abandon_posting(ctx, cases.AbandonRequest(case_id, reason.strip()))
        return "cases.done.abandon_posting", {"id": case_id}

    return _act(request, ctx, case_id, form, run)
