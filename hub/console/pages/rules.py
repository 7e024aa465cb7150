"""A client's dunning rules and its flows, shown and changed as ``hub rules set`` and
``hub flows set|reset`` change them. A refusal (a rule's value, the law) is shown next to the
field it is about, in the form as the user typed it."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.forms import NOT_THE_INPUT, FormValues, named_fields, step_refused
from hub.console.rendering import flash, redirect, render, words
from hub.errors import InputError
from hub.operations import clients, flows, forms

router = APIRouter()

#: A rule's field in the rules form: ``rule:<name>``.
RULE = "rule:"
#: The fields of a flow step's row ``N``: ``offset.N``, ``anchor.N``, ``template.N``,
#: ``fee.N``; the form has the flow's steps and :data:`BLANK_ROWS` empty rows for more.
STEP_FIELDS = ("offset", "anchor", "template", "fee")
BLANK_ROWS = 2
MAX_ROWS = 50
_RULE_NAMED = re.compile(r"rule (\w+)\b")


def _rules_page(
    request: Request,
    ctx: Ctx,
    name: str,
    *,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    day = clients.client_day(ctx, name)  # a client the user may not see is not found
    values = {
        "name": day.name,
        "fields": forms.rule_fields(ctx, name),
        "modes": forms.MODES,
        "typed": typed or {},
        "errors": errors or {},
        "prefix": RULE,
    }
    return render(request, "rules.html", values, status=status)


@router.get("/clients/{name}/rules")
def rules_page(request: Request, ctx: Ctx, name: str) -> Response:
    return _rules_page(request, ctx, name)


def rule_refused(message: str, changed: list[str]) -> list[str]:
    """The rules a refusal of ``hub rules set`` is about, of those ``changed``: the rule it
    names first (``rule start_date: ...``), the reminder mode for a switch refused, else every
    changed rule it names; none when it names none of them."""
    first = _RULE_NAMED.match(message)
    if first is not None and first.group(1) in changed:
        return [first.group(1)]
    if message.startswith("customer reminders") and "reminder_mode" in changed:
        return ["reminder_mode"]
    return named_fields(message, changed)


@router.post("/clients/{name}/rules")
def set_rules(request: Request, ctx: Ctx, name: str, form: FormValues) -> Response:
    """Set the rules whose value the form changes (all together or none, as ``hub rules
    set``); a rule not in the form, or left as it was, is not touched."""
    clients.client_day(ctx, name)
    typed: dict[str, str] = {}
    changed: dict[str, str] = {}
    for field in forms.rule_fields(ctx, name):
        raw = form.get(RULE + field.name)
        if raw is None:
            continue
        typed[field.name] = raw
        if raw.strip() != field.value.strip():
            changed[field.name] = raw.strip()
    if not changed:
        flash(request, "ok", "rules.nothing_changed")
        return redirect(f"/clients/{name}/rules")
    try:
        done = flows.set_rules(ctx, name, [f"{rule}={value}" for rule, value in changed.items()])
    except NOT_THE_INPUT:
        raise
    except InputError as exc:
        said = str(exc)
        where = rule_refused(said, list(changed)) or ["_form"]
        errors = dict.fromkeys(where, said)
        return _rules_page(request, ctx, name, typed=typed, errors=errors, status=422)
    flash(request, "ok", "rules.saved", count=done.changed)
    if done.started:
        flash(request, "ok", "rules.cases_started", count=done.started)
    return redirect(f"/clients/{name}/rules")


def _rows_of(steps: list[dict[str, Any]], templates: tuple[str, ...]) -> list[dict[str, str]]:
    """A flow's steps as rows of the form, and :data:`BLANK_ROWS` empty rows for more."""
    rows = [
        {
            "offset": str(s["offset_days"]),
            "anchor": s["anchor"],
            "template": s["template"],
            "fee": str(s["fee"]),
        }
        for s in steps
    ]
    if not templates:  # a stage without steps (collection) has no rows to fill
        return rows
    blank = {"offset": "", "anchor": forms.ANCHORS[0], "template": templates[0], "fee": ""}
    return rows + [dict(blank) for _ in range(BLANK_ROWS)]


def _flows_page(
    request: Request,
    ctx: Ctx,
    name: str,
    *,
    stage: str | None = None,
    rows: list[dict[str, str]] | None = None,
    errors: dict[int, dict[str, str]] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The flows of every stage; the stage ``stage`` with ``rows`` as typed and the refusal
    (``errors`` by row and field, or ``error`` for the flow as a whole)."""
    clients.client_day(ctx, name)
    view = flows.show_flows(ctx, name)
    shown = view.as_dict()
    templates = forms.stage_templates()
    stages = []
    for code, flow in shown["flows"].items():
        mine = code == stage
        shown_rows = _rows_of(flow["steps"], templates[code])
        stages.append(
            {
                "stage": code,
                "default": flow["default"],
                "templates": templates[code],
                "rows": rows if mine and rows is not None else shown_rows,
                "errors": (errors or {}) if mine else {},
                "error": error if mine else None,
            }
        )
    values = {"name": view.client, "law": view.law, "stages": stages, "anchors": forms.ANCHORS}
    return render(request, "flows.html", values, status=status)


@router.get("/clients/{name}/flows")
def flows_page(request: Request, ctx: Ctx, name: str) -> Response:
    return _flows_page(request, ctx, name)


def typed_rows(form: dict[str, str]) -> list[dict[str, str]]:
    """The step rows of a flow form as typed (``offset.0``, ``anchor.0``, ...)."""
    rows = []
    for n in range(MAX_ROWS):
        if f"offset.{n}" not in form:
            break
        rows.append({field: form.get(f"{field}.{n}", "").strip() for field in STEP_FIELDS})
    return rows


def _stage_said(request: Request, stage: flows.Stage) -> str:
    return words(request)(f"flows.stage.{stage.value}")


@router.post("/clients/{name}/flows/{stage}")
def set_flow(
    request: Request, ctx: Ctx, name: str, stage: flows.Stage, form: FormValues
) -> Response:
    """``hub flows set``: the stage's flow becomes the rows with an offset or a fee (an empty
    fee is no fee); refused, naming the rule, if it would break the law."""
    clients.client_day(ctx, name)
    rows = typed_rows(form)
    kept = [n for n, row in enumerate(rows) if row["offset"] or row["fee"]]
    steps = [
        f"{rows[n]['offset']};{rows[n]['anchor']};{rows[n]['template']};{rows[n]['fee'] or '0'}"
        for n in kept
    ]
    try:
        flows.set_flow(ctx, name, stage, steps)
    except NOT_THE_INPUT:
        raise
    except InputError as exc:
        said = str(exc)
        where = step_refused(said, steps)
        if where.row is None:
            return _flows_page(
                request, ctx, name, stage=stage.value, rows=rows, error=said, status=422
            )
        errors = {kept[where.row]: {where.field or "row": said}}
        return _flows_page(
            request, ctx, name, stage=stage.value, rows=rows, errors=errors, status=422
        )
    flash(request, "ok", "flows.saved", stage=_stage_said(request, stage), count=len(steps))
    return redirect(f"/clients/{name}/flows")


@router.post("/clients/{name}/flows/{stage}/reset")
def reset_flow(request: Request, ctx: Ctx, name: str, stage: flows.Stage) -> Response:
    """``hub flows reset``: the country's lawful default again."""
    clients.client_day(ctx, name)
    flows.reset_flow(ctx, name, stage)
    flash(request, "ok", "flows.reset", stage=_stage_said(request, stage))
    return redirect(f"/clients/{name}/flows")
