"""Recurring invoice agreements (seed 004): every agreement the user may see; a client's
agreements with a form to add one (and preview its first invoices first); an agreement's page
with what it has made and its upcoming invoices; deactivating one, with a reason."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from hub import clock
from hub.console.deps import Ctx
from hub.console.forms import NOT_THE_INPUT, FormValues
from hub.console.paging import PageParams
from hub.console.rendering import flash, redirect, render, words
from hub.errors import InputError, NotFoundError
from hub.operations import clients, forms, recurring

router = APIRouter()

#: The fields of an agreement line's row ``N`` (``line.N.description``, ...); the add form
#: has :data:`LINE_ROWS` rows, a row left blank is no line.
LINE_FIELDS = ("description", "quantity", "unit_price", "price_factor", "vat_code")
LINE_ROWS = 4
MAX_LINES = 100
#: How many planned invoices a preview shows, and an agreement's page by default.
PREVIEW_COUNT = 12
UPCOMING = 6
STATUSES = ("active", "inactive")

_BLANK_TERMS = {
    "customer": "",
    "every": "1",
    "unit": "month",
    "produce": "invoice",
    "first_invoice_date": "",
    "prep_days": "0",
    "agreement_date": "",
    "end_date": "",
    "max_count": "",
    "no_credit_days": "",
    "payment_days": "14",
    "backdate": "",
}


@router.get("/recurring")
def all_agreements(
    request: Request,
    ctx: Ctx,
    page: PageParams,
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Every agreement of the clients the user may see (``hub recurring list``)."""
    chosen = status or None
    found = recurring.list_agreements(ctx, None, chosen)  # only the clients the user may see
    values = {"page": page.of(found), "status": chosen, "statuses": STATUSES}
    return render(request, "recurring.html", values)


def _whole(raw: str, what: str, *, optional: bool = False) -> int | None:
    text = raw.strip()
    if not text and optional:
        return None
    try:
        return int(text)
    except ValueError:
        raise InputError(f"{what}: {raw!r} is not a whole number") from None


def _date(raw: str, what: str) -> Any:
    return clock.parse_date(raw, what=what) if raw.strip() else None


def line_rows(form: dict[str, str]) -> list[dict[str, str]]:
    """The line rows of the form as typed."""
    rows = []
    for n in range(MAX_LINES):
        if f"line.{n}.description" not in form:
            break
        rows.append({f: form.get(f"line.{n}.{f}", "").strip() for f in LINE_FIELDS})
    return rows


def terms_from(form: dict[str, str], rows: list[dict[str, str]]) -> recurring.TermsRequest:
    """The terms typed in the add form, as ``hub recurring add`` takes them (the lines as
    ``description;quantity;unit price;price factor[;VAT code]``).

    :raises InputError: a number or a date that is not one, naming the field.
    """
    first = form.get("first_invoice_date", "")
    if not first.strip():
        raise InputError("next invoice date: give the first invoice date (YYYY-MM-DD)")
    lines = [
        ";".join(row[f] for f in LINE_FIELDS)
        for row in rows
        if row["description"] or row["quantity"] or row["unit_price"]
    ]
    return recurring.TermsRequest(
        every=_whole(form.get("every", ""), "every") or 0,
        unit=form.get("unit", "").strip(),
        first_invoice_date=clock.parse_date(first, what="next invoice date"),
        lines=tuple(lines),
        produce=form.get("produce", "invoice").strip(),
        prep_days=_whole(form.get("prep_days", "0") or "0", "preparation days") or 0,
        agreement_date=_date(form.get("agreement_date", ""), "agreement date"),
        end_date=_date(form.get("end_date", ""), "end date"),
        max_count=_whole(form.get("max_count", ""), "maximum count", optional=True),
        no_credit_days=bool(form.get("no_credit_days")),
        payment_days=_whole(form.get("payment_days", "14") or "14", "payment days") or 0,
    )


def _client_agreements(
    request: Request,
    ctx: Ctx,
    name: str,
    page: PageParams,
    *,
    form: dict[str, str] | None = None,
    rows: list[dict[str, str]] | None = None,
    error: str | None = None,
    preview: recurring.AgreementPlan | None = None,
    status: int = 200,
) -> Response:
    day = clients.client_day(ctx, name)  # a client the user may not see is not found
    blank_row = {f: "" for f in LINE_FIELDS} | {"price_factor": "fixed"}
    values = {
        "name": day.name,
        "currency": day.currency,
        "page": page.of(recurring.list_agreements(ctx, name)),
        "form": form or dict(_BLANK_TERMS),
        "rows": rows or [dict(blank_row) for _ in range(LINE_ROWS)],
        "error": error,
        "preview": preview,
        "units": recurring.UNITS,
        "produces": forms.PRODUCES,
        "factors": recurring.PRICE_FACTORS,
    }
    return render(request, "client_recurring.html", values, status=status)


@router.get("/clients/{name}/recurring")
def client_agreements(request: Request, ctx: Ctx, name: str, page: PageParams) -> Response:
    return _client_agreements(request, ctx, name, page)


@router.post("/clients/{name}/recurring")
def add_agreement(
    request: Request, ctx: Ctx, name: str, page: PageParams, form: FormValues
) -> Response:
    """``hub recurring add`` (``action=add``) or ``hub recurring preview`` in the client's
    currency (``action=preview``: nothing stored); a refusal is shown above the form, which
    keeps what was typed."""
    day = clients.client_day(ctx, name)
    typed = {key: form.get(key, "") for key in _BLANK_TERMS}
    rows = line_rows(form)
    try:
        terms = terms_from(form, rows)
        if form.get("action") == "preview":
            planned = recurring.preview(terms, currency=day.currency, count=PREVIEW_COUNT)
            return _client_agreements(
                request, ctx, name, page, form=typed, rows=rows, preview=planned
            )
        request_ = recurring.AddAgreement(
            name, typed["customer"].strip(), terms, backdate=bool(typed["backdate"])
        )
        added = recurring.add_agreement(ctx, request_)
    except NOT_THE_INPUT:
        raise
    except InputError as exc:
        return _client_agreements(
            request, ctx, name, page, form=typed, rows=rows, error=str(exc), status=422
        )
    flash(request, "ok", "recurring.added", id=added.summary.id)
    return redirect(f"/clients/{name}/recurring/{added.summary.id}")


def agreement_of(
    ctx: Ctx, name: str, agreement_id: int, *, upcoming: int = UPCOMING
) -> recurring.AgreementView:
    """The agreement ``agreement_id`` of client ``name`` (not found if it is another
    client's)."""
    clients.client_day(ctx, name)  # a client the user may not see is not found
    view = recurring.show_agreement(ctx, agreement_id, upcoming=upcoming)
    if view.summary.client != name:
        raise NotFoundError(
            f"recurring agreement {agreement_id} is not an agreement of client {name!r}"
        )
    return view


@router.get("/clients/{name}/recurring/{agreement_id}")
def agreement_page(
    request: Request,
    ctx: Ctx,
    name: str,
    agreement_id: int,
    upcoming: Annotated[int, Query(ge=0, le=120)] = UPCOMING,
) -> Response:
    """An agreement: its terms and lines, what it made, its next ``upcoming`` invoices."""
    view = agreement_of(ctx, name, agreement_id, upcoming=upcoming)
    values = {"name": name, "view": view, "error": None, "reason": ""}
    return render(request, "agreement.html", values)


@router.post("/clients/{name}/recurring/{agreement_id}/deactivate")
def deactivate(
    request: Request,
    ctx: Ctx,
    name: str,
    agreement_id: int,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """``hub recurring deactivate --reason``: a reason is required here."""
    view = agreement_of(ctx, name, agreement_id)
    try:
        if not reason.strip():
            raise InputError(words(request)("recurring.reason_needed"))
        recurring.deactivate(ctx, agreement_id, name, reason.strip())
    except NOT_THE_INPUT:
        raise
    except InputError as exc:
        values = {"name": name, "view": view, "error": str(exc), "reason": reason}
        return render(request, "agreement.html", values, status=422)
    flash(request, "ok", "recurring.deactivated", id=agreement_id)
    return redirect(f"/clients/{name}/recurring/{agreement_id}")
