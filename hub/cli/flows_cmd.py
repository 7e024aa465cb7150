"""``hub flows`` and ``hub rules``: a client's flows per stage and its dunning rules."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hub import clients
from hub.cli.cases_cmd import StageChoice
from hub.cli.output import emit_json, say, table
from hub.cli.state import state
from hub.dunning import customer_mode
from hub.dunning import rules as dunning_rules
from hub.dunning.flows import Flow, parse_step
from hub.dunning.law import law_for
from hub.dunning.states import Stage

flows_app = typer.Typer(help="A client's flows: the steps of each stage.", no_args_is_help=True)
rules_app = typer.Typer(help="A client's dunning rules.", no_args_is_help=True)

ClientOption = Annotated[str, typer.Option("--client", help="Client name.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _flows(name: str) -> dict[str, Any]:
    with state.db().session() as session:
        client = clients.get_client(session, name)
        law = law_for(client.country)
        return {
            "client": client.name,
            "country": client.country,
            "law": {
                "max_reminder_fee": law.max_reminder_fee,
                "currency": law.currency,
                "max_fee_reminders": law.max_fee_reminders,
                "min_days_between_fee_reminders": law.min_days_between_fee_reminders,
                "min_days_after_due_for_fee": law.min_days_after_due_for_fee,
            },
            "flows": {
                stage.value: {
                    "default": dunning_rules.is_default_flow(session, client, stage),
                    "steps": [
                        {
                            "offset_days": s.offset_days,
                            "anchor": s.anchor.value,
                            "template": s.template,
                            "fee": s.fee,
                        }
                        for s in dunning_rules.flow_of(session, client, stage).steps
                    ],
                }
                for stage in Stage
            },
        }


@flows_app.command("show")
def show(client: ClientOption, json_out: JsonOption = False) -> None:
    """Show the client's flows (its own, or the country's lawful default)."""
    data = _flows(client)
    if json_out:
        emit_json(data)
        return
    for stage, flow in data["flows"].items():
        table(
            f"{stage} flow of {client}{' (default)' if flow['default'] else ''}",
            ["step", "offset", "anchor", "template", "fee"],
            [
                (n, s["offset_days"], s["anchor"], s["template"], s["fee"])
                for n, s in enumerate(flow["steps"], 1)
            ],
        )


@flows_app.command("set")
def set_(
    client: ClientOption,
    stage: Annotated[StageChoice, typer.Option("--stage")],
    step: Annotated[
        list[str], typer.Option("--step", help="offset;anchor;template;fee, repeat in order.")
    ],
) -> None:
    """Replace a stage's flow; refused, naming the rule, if it would break the law."""
    flow = Flow(Stage(stage.value), tuple(parse_step(s) for s in step))
    with state.db().session() as session:
        dunning_rules.set_flow(session, clients.get_client(session, client), flow)
    say(f"{stage.value} flow of {client} set ({len(flow.steps)} steps)")


@flows_app.command("reset")
def reset(client: ClientOption, stage: Annotated[StageChoice, typer.Option("--stage")]) -> None:
    """Go back to the country's default flow for a stage."""
    with state.db().session() as session:
        dunning_rules.reset_flow(session, clients.get_client(session, client), Stage(stage.value))
    say(f"{stage.value} flow of {client} is the default again")


@rules_app.command("show")
def rules_show(name: str, json_out: JsonOption = False) -> None:
    """Show a client's dunning rules."""
    with state.db().session() as session:
        data = dunning_rules.rules_as_dict(
            dunning_rules.rules_of(session, clients.get_client(session, name))
        )
    if json_out:
        emit_json(data)
        return
    table(
        f"Rules of {name}",
        ["rule", "value", "meaning"],
        [(k, v, dunning_rules.RULES[k]) for k, v in data.items()],
    )


@rules_app.command("set")
def rules_set(
    name: str, assignments: Annotated[list[str], typer.Argument(help="rule=value ...")]
) -> None:
    """Change rules: auto_close_paid, auto_start, start_date, reminder_mode, ...

    All are changed together or none is. ``reminder_mode`` is applied after the others, so
    ``start_date=... reminder_mode=customer`` works in one command.
    """
    values = clients.parse_assignments(assignments)
    mode = values.pop(dunning_rules.MODE_RULE, None)
    with state.db().session() as session:
        client = clients.get_client(session, name)
        dunning_rules.set_rules(session, client, values)
        started = []
        if mode is not None:
            started = customer_mode.set_mode(
                session,
                state.registry,
                client,
                mode.strip(),
                state.context().clock.today(client.timezone),
                actor=state.context().actor.name,
            )
    say(f"{len(values) + (mode is not None)} rule(s) of {name} changed")
    if started:
        say(f"{len(started)} invoice case(s) started fresh (C3)")
