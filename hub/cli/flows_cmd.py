"""``hub flows`` and ``hub rules``: a client's flows per stage and its dunning rules."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hub.cli.options import ClientOption, JsonOption
from hub.cli.output import json_or, say, table, text
from hub.cli.state import state
from hub.operations import flows as flow_ops
from hub.operations.flows import Stage

flows_app = typer.Typer(
    epilog="Example: hub flows show --client demo-dk",
    help="A client's flows: the steps of each stage.",
    no_args_is_help=True,
)
rules_app = typer.Typer(
    epilog="Example: hub rules show demo-dk", help="A client's dunning rules.", no_args_is_help=True
)


@flows_app.command("show", epilog="Example: hub flows show --client demo-dk")
def show(client: ClientOption, json_out: JsonOption = False) -> None:
    """Show the client's flows (its own, or the country's lawful default)."""
    data = flow_ops.show_flows(state.context(), client).as_dict()
    json_or(data, json_out, lambda data: _print_flows(client, data))


def _print_flows(client: str, data: dict[str, Any]) -> None:
    for stage, flow in data["flows"].items():
        title = f"{stage} flow of {client}{' (the default)' if flow['default'] else ''}"
        if not flow["steps"]:
            say(f"{title}: no steps")
            continue
        table(
            title,
            ["step", "when", "template", "fee"],
            [
                (n, _when(s["offset_days"], s["anchor"]), s["template"], s["fee"])
                for n, s in enumerate(flow["steps"], 1)
            ],
            right=["fee"],
        )


#: What a step's offset counts from, as the flow's table says it.
_ANCHORS = {"due_date": "the due date", "previous": "the previous step"}


def _when(offset_days: int, anchor: str) -> str:
    """``10 days after the due date``, ``3 days before the due date``, ``on the due date``."""
    base = _ANCHORS.get(anchor, anchor)
    if offset_days == 0:
        return f"on {base}"
    days = abs(offset_days)
    return f"{days} day{'s' if days != 1 else ''} {'after' if offset_days > 0 else 'before'} {base}"


@flows_app.command(
    "set",
    epilog=(
        "Example: hub flows set --client demo-dk --stage reminder"
        ' --step "10;due_date;reminder;100.00" --step "10;previous;reminder;100.00"'
    ),
)
def set_(
    client: ClientOption,
    stage: Annotated[Stage, typer.Option("--stage")],
    step: Annotated[
        list[str], typer.Option("--step", help="offset;anchor;template;fee, repeat in order.")
    ],
) -> None:
    """Replace a stage's flow; refused, naming the rule, if it would break the law."""
    flow = flow_ops.set_flow(state.context(), client, stage, step)
    say(f"{stage.value} flow of {client} set ({len(flow.steps)} steps)")


@flows_app.command("reset", epilog="Example: hub flows reset --client demo-dk --stage reminder")
def reset(client: ClientOption, stage: Annotated[Stage, typer.Option("--stage")]) -> None:
    """Go back to the country's default flow for a stage."""
    flow_ops.reset_flow(state.context(), client, stage)
    say(f"{stage.value} flow of {client} is the default again")


@rules_app.command("show", epilog="Example: hub rules show demo-dk")
def rules_show(name: str, json_out: JsonOption = False) -> None:
    """Show a client's dunning rules as they apply, defaults filled in; for
    auto_close_balance (R2), why it is on or off (--json: under "why")."""
    rules = flow_ops.show_rules(state.context(), name)

    def show(data: dict[str, Any]) -> None:
        table(
            f"Rules of {name}",
            ["rule", "value", "meaning"],
            [
                (k, _value(v) + (f" ({rules.why[k]})" if k in rules.why else ""), rules.meaning(k))
                for k, v in data.items()
                if k != "why"
            ],
            wrap=["value", "meaning"],  # a value may say why it is what it is
        )

    json_or(rules.as_dict(), json_out, show)


def _value(value: Any) -> str:
    """A rule's value as ``hub rules set`` takes it: true/false, a comma list, nothing."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return text(value)


@rules_app.command(
    "set",
    epilog=(
        "Example: hub rules set demo-dk auto_start=true"
        ' payment_details="Reg.nr. 1234 konto 5678901"'
    ),
)
def rules_set(
    name: str, assignments: Annotated[list[str], typer.Argument(help="rule=value ...")]
) -> None:
    """Change rules: auto_close_paid, auto_start, start_date, reminder_mode, ...

    All are changed together or none is. ``reminder_mode`` is applied after the others, so
    ``start_date=... reminder_mode=customer`` works in one command.
    """
    changed = flow_ops.set_rules(state.context(), name, assignments)
    say(f"{changed.changed} rule(s) of {name} changed")
    if changed.started:
        say(f"{changed.started} invoice case(s) started fresh (C3)")
