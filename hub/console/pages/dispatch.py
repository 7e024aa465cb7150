"""Dispatch: a client's plan for a day (what the cycle would send, nothing sent), the letters
waiting (for approval, held back, for the sending window), approving all or some, and holding
one back with a reason: ``hub dispatch plan|list|approve|hold`` on a page."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from hub.clock import parse_date
from hub.console import i18n
from hub.console.deps import Ctx
from hub.console.errors import status_of
from hub.console.filtering import filtered, value
from hub.console.pages.letters import kind_word
from hub.console.pages.overview import seen_clients
from hub.console.rendering import flash, flash_text, language_of, redirect, render, words
from hub.errors import ForbiddenError, InputError, NotFoundError, PluginError
from hub.operations import dispatch

router = APIRouter()

Text = Annotated[str, Form(max_length=2000)]

#: The statuses of a letter a person may approve (a held letter is approved one by one).
APPROVABLE = frozenset({"pending_approval", "held"})
#: The statuses of a letter that may still be held back.
HOLDABLE = frozenset({"pending_approval", "queued", "failed"})


def _page(
    request: Request,
    ctx: Ctx,
    client: str | None,
    on: dt.date | None,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    values: dict[str, object] = {
        "clients": seen_clients(ctx),
        "client": client,
        "day": on,
        "plan": None,
        "waiting": [],
        "may_change": False,
        "approvable": APPROVABLE,
        "holdable": HOLDABLE,
        "kind_word": kind_word(request),
        "error": error,
    }
    if client is not None:
        values["plan"] = dispatch.plan_dispatch(ctx, client, on=on)
        values["waiting"] = dispatch.list_waiting(ctx, client)
        values["may_change"] = ctx.actor.may_change(client)
    return render(request, "dispatch.html", values, status=status)


@router.get("/dispatch")
def dispatch_page(
    request: Request,
    ctx: Ctx,
    client: Annotated[str | None, Query(max_length=200)] = None,
    date: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    """The chosen client's plan for the chosen day (default: its today) and its letters
    waiting; without a client, the choice (the only client a user sees is chosen)."""
    chosen = value(client)
    if chosen is None:
        seen = seen_clients(ctx)
        chosen = seen[0].name if len(seen) == 1 else None
    on = parse_date(date.strip(), what="date") if value(date) and date else None
    try:
        return _page(request, ctx, chosen, on)
    except NotFoundError:
        raise
    except InputError as exc:  # a day before the client's today: the page says why
        return _page(request, ctx, chosen, None, error=str(exc), status=422)


@router.post("/dispatch/filter")
def choose(client: Text = "", date: Text = "") -> Response:
    """The choice of client and day: a redirect to the plan with them in its address."""
    return filtered("/dispatch", {"client": client, "date": date})


def _done(request: Request, result: dispatch.Approved) -> None:
    said = words(request)
    delivery = result.delivery
    text = said(
        "dispatch.approved",
        count=len(result.letters),
        sent=delivery.sent,
        failed=delivery.failed,
    )
    if delivery.waiting:
        opens = delivery.window_opens
        when = i18n.date(opens, language_of(request)) if opens is not None else said("common.none")
        text += " " + said("dispatch.window_waits", count=delivery.waiting, opens=when)
    for error in delivery.errors:
        text += f" {error}"
    flash_text(request, "ok" if not delivery.failed else "error", text)


@router.post("/dispatch/{client}/approve")
def approve(
    request: Request,
    ctx: Ctx,
    client: str,
    letter: Annotated[list[int] | None, Form()] = None,
    every: Text = "",
) -> Response:
    """Approve the letters ticked (``letter``), or every letter waiting for approval (the
    ``every`` button, whatever is ticked); they go out at once within the client's sending
    window."""
    chosen = () if every else tuple(letter or ())
    approve_request = dispatch.ApproveRequest(client, chosen, every=bool(every))
    try:
        result = dispatch.approve_letters(ctx, approve_request)
    except (NotFoundError, ForbiddenError):
        raise
    except (InputError, PluginError) as exc:
        return _page(request, ctx, client, None, error=str(exc), status=status_of(exc).code)
    _done(request, result)
    return redirect(f"/dispatch?client={client}")


@router.post("/dispatch/letters/{letter_id}/hold")
def hold(
    request: Request, ctx: Ctx, letter_id: int, client: Text = "", reason: Text = ""
) -> Response:
    """Hold a letter back with a reason: it is not sent until approved."""
    try:
        held = dispatch.hold_letter(ctx, dispatch.HoldRequest(letter_id, reason.strip()))
    except (NotFoundError, ForbiddenError):
        raise
    except InputError as exc:
        owner = value(client)
        return _page(request, ctx, owner, None, error=str(exc), status=status_of(exc).code)
    flash(request, "ok", "dispatch.held", id=held.id, reason=held.hold_reason or "")
    return redirect(f"/dispatch?client={client.strip()}" if client.strip() else "/dispatch")
