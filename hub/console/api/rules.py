"""``/api/v1/clients/{name}/rules`` and ``/flows``: a client's dunning rules (as ``hub rules
show --json``) and its flows per stage (as ``hub flows show --json``), changed as ``hub rules
set`` and ``hub flows set|reset`` change them; a refusal (the law) is a 422 with its message."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.jsonapi import doc, one
from hub.errors import InputError
from hub.operations import clients, flows

router = APIRouter(tags=["rules and flows"])

_OBJECT: dict[str, Any] = {"type": "object"}


class RulesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rules: dict[str, str] = Field(
        description="rule -> value as `hub rules set` takes it ('' clears where allowed)"
    )


class StepBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    offset_days: int
    anchor: str = Field(max_length=20, description="due_date or previous")
    template: str = Field(max_length=100)
    fee: str = Field(default="0", max_length=40, description='an amount, e.g. "100.00"')


class FlowBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    steps: list[StepBody] = Field(max_length=100)


@router.get("/clients/{name}/rules", responses=doc(_OBJECT))
def rules(ctx: Ctx, name: str) -> Response:
    """``hub rules show NAME --json``: the rules as they apply, with ``why`` for R2."""
    clients.client_day(ctx, name)  # a client the user may not see is not found
    return one(flows.show_rules(ctx, name))


@router.patch("/clients/{name}/rules", responses=doc(_OBJECT))
def set_rules(ctx: Ctx, name: str, body: RulesBody) -> Response:
    """``hub rules set NAME rule=value ...``: all together or none. Answers ``changed`` (how
    many), ``started`` (invoice cases started fresh by a switch back to invoice mode, C3) and
    the ``rules`` as they apply now."""
    clients.client_day(ctx, name)
    if not body.rules:
        raise InputError('no rule given: give them as {"rules": {"auto_start": "true"}}')
    done = flows.set_rules(ctx, name, [f"{rule}={value}" for rule, value in body.rules.items()])
    shown = flows.show_rules(ctx, name).as_dict()
    return one({"changed": done.changed, "started": done.started, "rules": shown})


@router.get("/clients/{name}/flows", responses=doc(_OBJECT))
def flows_of(ctx: Ctx, name: str) -> Response:
    """``hub flows show --client NAME --json``: each stage's flow and the law it is checked
    against."""
    clients.client_day(ctx, name)
    return one(flows.show_flows(ctx, name))


@router.put("/clients/{name}/flows/{stage}", responses=doc(_OBJECT))
def set_flow(ctx: Ctx, name: str, stage: flows.Stage, body: FlowBody) -> Response:
    """``hub flows set``: the stage's steps in order, refused (422, naming the rule) if they
    would break the law; answers the flows as ``GET /clients/{name}/flows``."""
    clients.client_day(ctx, name)
    steps = [f"{s.offset_days};{s.anchor};{s.template};{s.fee}" for s in body.steps]
    flows.set_flow(ctx, name, stage, steps)
    return one(flows.show_flows(ctx, name))


@router.delete("/clients/{name}/flows/{stage}", responses=doc(_OBJECT))
def reset_flow(ctx: Ctx, name: str, stage: flows.Stage) -> Response:
    """``hub flows reset``: the country's default flow for the stage again."""
    clients.client_day(ctx, name)
    flows.reset_flow(ctx, name, stage)
    return one(flows.show_flows(ctx, name))
