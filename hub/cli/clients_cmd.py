"""``hub clients``: the companies the hub works for, and their plugin settings."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hub import clients
from hub.cli.output import emit_json, say, table
from hub.cli.state import state
from hub.db import tables as t
from hub.dunning import customer_mode

app = typer.Typer(help="Client companies and their plugins.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _summary(client: t.Client) -> dict[str, Any]:
    cp = clients.enabled_plugin(client)
    return {
        "name": client.name,
        "country": client.country,
        "currency": client.currency,
        "timezone": client.timezone,
        "plugin": cp.plugin if cp else None,
    }


def _secret_names(plugin: str) -> frozenset[str]:
    """The settings the installed plugin marks secret now (none if it is not installed)."""
    info = state.registry.infos.get(plugin)
    return info.secret_names if info else frozenset()


@app.command("add")
def add(
    name: str,
    country: Annotated[str, typer.Option("--country", help="DK or NO.")],
    currency: Annotated[str | None, typer.Option(help="Default: DKK for DK, NOK for NO.")] = None,
    timezone: Annotated[str | None, typer.Option(help="Default: the country's.")] = None,
) -> None:
    """Register a client company."""
    with state.db().session() as session:
        client = clients.add_client(session, name, country, currency, timezone)
        say(f"client {client.name} added ({client.country}, {client.currency}, {client.timezone})")


@app.command("list")
def list_(json_out: JsonOption = False) -> None:
    """List clients."""
    with state.db().session() as session:
        rows = [_summary(c) for c in clients.list_clients(session)]
    if json_out:
        emit_json(rows)
        return
    table(
        "Clients",
        ["name", "country", "currency", "timezone", "plugin"],
        [list(r.values()) for r in rows],
    )


@app.command("show")
def show(name: str, json_out: JsonOption = False) -> None:
    """Show a client with its plugins and settings (secrets masked)."""
    with state.db().session() as session:
        client = clients.get_client(session, name)
        data = _summary(client)
        data["plugins"] = [
            {
                "plugin": cp.plugin,
                "enabled": cp.enabled,
                "settings": {
                    s.key: s.value for s in clients.shown_settings(cp, _secret_names(cp.plugin))
                },
            }
            for cp in client.plugins
        ]
    if json_out:
        emit_json(data)
        return
    say(f"{data['name']}: {data['country']}, {data['currency']}, {data['timezone']}")
    for p in data["plugins"]:
        table(
            f"{p['plugin']} ({'enabled' if p['enabled'] else 'disabled'})",
            ["setting", "value"],
            sorted(p["settings"].items()),
        )


@app.command("remove")
def remove(name: str) -> None:
    """Remove a client and what is stored for it (refused while it has open cases)."""
    with state.db().session() as session:
        clients.remove_client(session, name)
    say(f"client {name} removed")


@app.command("enable")
def enable(
    name: str,
    plugin: str,
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="key=value; repeat for more.")
    ] = None,
) -> None:
    """Enable an accounting plugin for a client, with its settings."""
    values = clients.parse_assignments(set_ or [])
    with state.db().session() as session:
        clients.enable_plugin(session, state.registry, state.box, name, plugin, values)
    say(f"plugin {plugin} enabled for {name}")


@app.command("disable")
def disable(name: str, plugin: str) -> None:
    """Disable a client's plugin (its settings are kept)."""
    with state.db().session() as session:
        clients.disable_plugin(session, name, plugin)
    say(f"plugin {plugin} disabled for {name}")


@app.command("set")
def set_(
    name: str,
    assignments: Annotated[list[str], typer.Argument(help="key=value ...")],
    plugin: Annotated[
        str | None,
        typer.Option("--plugin", help="Which enabled plugin (default: the accounting plugin)."),
    ] = None,
) -> None:
    """Change settings of an enabled plugin (checked against its settings schema)."""
    values = clients.parse_assignments(assignments)
    with state.db().session() as session:
        cp = clients.set_settings(session, state.registry, state.box, name, values, plugin)
        plugin = cp.plugin
    say(f"{len(values)} setting(s) of {plugin} changed for {name}")


@app.command("grant")
def grant(
    name: str,
    feature: Annotated[str, typer.Argument(help="customer_reminders")],
) -> None:
    """Grant a client a feature (operators only: users listed in HUB_OPERATORS).

    customer_reminders: the client may switch to one reminder per customer (C2).
    """
    with state.db().session() as session:
        row = customer_mode.grant(session, name, feature)
        by = row.granted_by
    say(f"{feature} granted to {name} by {by}")


@app.command("revoke")
def revoke(name: str, feature: Annotated[str, typer.Argument(help="customer_reminders")]) -> None:
    """Take a feature back (operators only); refused while the client uses it."""
    with state.db().session() as session:
        customer_mode.revoke(session, name, feature)
    say(f"{feature} revoked for {name}")
