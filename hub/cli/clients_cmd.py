"""``hub clients``: the companies the hub works for, and their plugin settings."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from hub.cli.options import JsonOption
from hub.cli.output import emit_json, err_console, json_or, listing, say, table
from hub.cli.state import state
from hub.errors import InputError
from hub.operations import clients
from hub.operations import plugins as plugin_ops

app = typer.Typer(
    epilog="Example: hub clients show demo-dk",
    help="Client companies and their plugins.",
    no_args_is_help=True,
)


@app.command("add", epilog="Example: hub clients add acme --country DK")
def add(
    name: str,
    country: Annotated[str, typer.Option("--country", help="DK or NO.")],
    currency: Annotated[str | None, typer.Option(help="Default: DKK for DK, NOK for NO.")] = None,
    timezone: Annotated[str | None, typer.Option(help="Default: the country's.")] = None,
) -> None:
    """Register a client company."""
    client = clients.add_client(
        state.context(), name, country, currency=currency, timezone=timezone
    )
    say(f"client {client.name} added ({client.country}, {client.currency}, {client.timezone})")


@app.command("list", epilog="Example: hub clients list")
def list_(json_out: JsonOption = False) -> None:
    """List clients."""
    columns = ("name", "country", "currency", "timezone", "plugin")
    rows = [c.as_dict() for c in clients.list_clients(state.context())]
    listing("Clients", rows, json_out, {c: c for c in columns}, empty="no clients")


@app.command("show", epilog="Example: hub clients show demo-dk")
def show(name: str, json_out: JsonOption = False) -> None:
    """Show a client with its plugins and settings (secrets masked)."""
    json_or(clients.show_client(state.context(), name).as_dict(), json_out, _print_client)


def _print_client(data: dict[str, Any]) -> None:
    say(f"{data['name']}: {data['country']}, {data['currency']}, {data['timezone']}")
    for p in data["plugins"]:
        table(
            f"{p['plugin']} ({'enabled' if p['enabled'] else 'disabled'})",
            ["setting", "value"],
            sorted(p["settings"].items()),
            wrap=("value",),
        )


@app.command("remove", epilog="Example: hub clients remove acme")
def remove(name: str) -> None:
    """Remove a client and what is stored for it (refused while it has open cases)."""
    clients.remove_client(state.context(), name)
    say(f"client {name} removed")


SecretFileOption = Annotated[
    list[str] | None,
    typer.Option(
        "--secret-file",
        metavar="KEY=PATH",
        help="Read setting KEY from the file PATH (one trailing line break removed); repeat"
        " for more. For secrets: a value on the command line is visible to other users.",
    ),
]
SecretStdinOption = Annotated[
    str | None,
    typer.Option(
        "--secret-stdin",
        metavar="KEY",
        help="Read setting KEY from standard input (one trailing line break removed).",
    ),
]
SecretPromptOption = Annotated[
    list[str] | None,
    typer.Option(
        "--secret-prompt",
        metavar="KEY",
        help="Ask for setting KEY without showing what is typed (twice); repeat for more.",
    ),
]


def _settings(
    assignments: list[str],
    secret_files: list[str],
    secret_stdin: str | None,
    secret_prompts: list[str],
) -> dict[str, str]:
    """The settings given as key=value, read from files, standard input or a hidden prompt.

    A value read or typed is never shown, not even in an error.
    """
    from_files: dict[str, str] = {}
    for pair in secret_files:
        key, sep, path = pair.partition("=")
        if not sep or not key.strip() or not path.strip():
            raise InputError(f"--secret-file {pair!r}: give it as KEY=PATH")
        from_files[key.strip()] = clients.read_secret_file(key.strip(), path.strip())
    from_stdin: dict[str, str] = {}
    if secret_stdin is not None:
        if sys.stdin.isatty():
            err_console.print(
                f"{secret_stdin}: reading standard input up to Ctrl-D"
                " (shown as typed; --secret-prompt hides it)",
                markup=False,
            )
        value = clients.strip_line_break(sys.stdin.read())
        if not value:
            raise InputError(f"--secret-stdin {secret_stdin}: standard input was empty")
        from_stdin[secret_stdin.strip()] = value
    prompted = {
        key.strip(): typer.prompt(key.strip(), hide_input=True, confirmation_prompt=True)
        for key in secret_prompts
    }
    return clients.merge_settings(
        clients.parse_assignments(assignments), from_files, from_stdin, prompted
    )


@app.command(
    "enable",
    epilog=(
        "Example: hub clients enable acme generic_csv"
        " --set invoices_path=/data/acme/open-invoices.csv"
        " --set outbox_dir=/data/acme/outbox"
    ),
)
def enable(
    name: str,
    plugin: str,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="KEY=VALUE",
            help="key=value; repeat for more. Give secrets with --secret-file, --secret-stdin"
            " or --secret-prompt instead: a command line is visible to other users (ps).",
        ),
    ] = None,
    secret_file: SecretFileOption = None,
    secret_stdin: SecretStdinOption = None,
    secret_prompt: SecretPromptOption = None,
) -> None:
    """Enable a plugin for a client, with its settings."""
    values = _settings(set_ or [], secret_file or [], secret_stdin, secret_prompt or [])
    clients.enable_plugin(state.context(), name, plugin, values)
    say(f"plugin {plugin} enabled for {name}")


@app.command("disable", epilog="Example: hub clients disable acme smtp")
def disable(name: str, plugin: str) -> None:
    """Disable a client's plugin (its settings are kept)."""
    clients.disable_plugin(state.context(), name, plugin)
    say(f"plugin {plugin} disabled for {name}")


@app.command("set", epilog="Example: hub clients set acme --secret-prompt api_token")
def set_(
    name: str,
    assignments: Annotated[
        list[str] | None,
        typer.Argument(
            help="key=value ... (secrets: use --secret-file, --secret-stdin or --secret-prompt)"
        ),
    ] = None,
    plugin: Annotated[
        str | None,
        typer.Option("--plugin", help="Which enabled plugin (default: the accounting plugin)."),
    ] = None,
    secret_file: SecretFileOption = None,
    secret_stdin: SecretStdinOption = None,
    secret_prompt: SecretPromptOption = None,
) -> None:
    """Change settings of an enabled plugin (checked against its settings schema)."""
    values = _settings(assignments or [], secret_file or [], secret_stdin, secret_prompt or [])
    if not values:
        raise InputError(
            "no setting given: give key=value, --secret-file, --secret-stdin or --secret-prompt"
        )
    changed = clients.set_settings(state.context(), name, values, plugin=plugin)
    say(f"{len(values)} setting(s) of {changed} changed for {name}")


@app.command("grant", epilog="Example: hub clients grant acme customer_reminders")
def grant(
    name: str,
    feature: Annotated[str, typer.Argument(help="customer_reminders")],
) -> None:
    """Grant a client a feature (operators only: users listed in HUB_OPERATORS).

    customer_reminders: the client may switch to one reminder per customer (C2).
    """
    by = clients.grant_feature(state.context(), name, feature)
    say(f"{feature} granted to {name} by {by}")


@app.command("revoke", epilog="Example: hub clients revoke acme customer_reminders")
def revoke(name: str, feature: Annotated[str, typer.Argument(help="customer_reminders")]) -> None:
    """Take a feature back (operators only); refused while the client uses it."""
    clients.revoke_feature(state.context(), name, feature)
    say(f"{feature} revoked for {name}")


@app.command("check", epilog="Example: hub clients check demo-economic")
def check(
    name: str,
    plugin: Annotated[
        str | None,
        typer.Option("--plugin", help="Which enabled plugin (default: the accounting plugin)."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Test the connection to the client's accounting system: its plugin is called once,
    read-only, with the stored settings (the open invoices are fetched, nothing is stored).
    Exits 1 if the plugin failed, saying why."""
    result = plugin_ops.check_connection(state.context(), name, plugin)
    if json_out:
        emit_json(result.as_dict())
    elif result.ok:
        say(f"plugin {result.plugin} of {name} connected: {result.open_invoices} open invoice(s)")
    else:
        err_console.print(f"plugin {result.plugin} of {name} failed: {result.error}", markup=False)
    if not result.ok:
        raise typer.Exit(1)
