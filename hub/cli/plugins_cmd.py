"""``hub plugins``: what is installed, and a new plugin to start from."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from hub import scaffold
from hub.cli.options import JsonOption
from hub.cli.output import emit_json, say, table
from hub.cli.state import state
from hub.operations.plugins import list_plugins as installed_plugins

app = typer.Typer(
    epilog="Example: hub plugins list", help="Installed accounting plugins.", no_args_is_help=True
)


@app.command("list", epilog="Example: hub plugins list")
def list_plugins(
    json_out: JsonOption = False,
) -> None:
    """List installed plugins, their versions, capabilities and settings, and load errors."""
    installed = installed_plugins(state.registry)
    plugins, errors = installed.plugins, installed.errors
    if json_out:
        emit_json(installed.as_dict())
        return
    table(
        "Plugins",
        ["name", "version", "title", "capabilities"],
        [(p["name"], p["version"], p["title"], ", ".join(p["capabilities"])) for p in plugins],
        wrap=["title", "capabilities"],
    )
    for p in plugins:
        table(
            f"Settings of {p['name']}",
            ["setting", "kind", "description"],
            [(s["name"], _kind(s), _described(s)) for s in p["settings"]],
            wrap=["kind", "description"],
        )
    for e in errors:
        say(f"could not load {e['name']}: {e['error']}")


def _kind(setting: dict[str, Any]) -> str:
    """``string``, ``path, required``, ``string, required, secret``."""
    marks = [m for m in ("required", "secret") if setting[m]]
    return ", ".join([setting["type"], *marks])


def _described(setting: dict[str, Any]) -> str:
    default = setting["default"]
    if default is None or default == "":
        return str(setting["description"])
    shown = str(default).lower() if isinstance(default, bool) else str(default)
    return f"{setting['description']} Default: {shown}."


@app.command("new", epilog="Example: hub plugins new hub_fortnox --directory ~/src")
def new(
    name: Annotated[
        str,
        typer.Argument(help="The plugin's name: lowercase letters, digits and _, e.g. acme."),
    ],
    directory: Annotated[
        Path | None,
        typer.Option(
            "--directory",
            "-d",
            help="Where to write it; must be new or empty (default: ./receivables-hub-NAME).",
        ),
    ] = None,
) -> None:
    """Write a new accounting plugin package for NAME: hooks, an HTTP client, a fake of its
    API, and the conformance kit's tests against that fake, passing as made."""
    names = scaffold.plugin_names(name)
    target = directory if directory is not None else Path(names.distribution)
    made = scaffold.new_plugin(name, target)
    say(f"plugin {name} written to {target}:")
    for path in made:
        say(f"  {path}")
    shown = str(target)
    if not target.is_absolute() and not shown.startswith("."):
        shown = f"./{shown}"  # so that pip takes it for a path
    say(
        "next steps:\n"
        f"  1. install it, with pytest:  pip install -e {shlex.quote(shown + '[test]')}\n"
        f"  2. run the conformance kit against its fake API:  cd {shlex.quote(shown)} && pytest\n"
        f"  3. see it in the hub:  hub plugins list\n"
        f"  4. try it with the hub: start its fake API, which serves demo data in the"
        f" foreground until Ctrl-C:\n"
        f"       python -m {names.package}.fake\n"
        f"     it listens on http://127.0.0.1:{scaffold.DEMO_PORT} and accepts the api_token"
        f" {scaffold.DEMO_TOKEN}; in a second terminal,\n"
        f"     give the hub commands it prints (hub clients add demo ..., hub sync demo)\n"
        f"then replace the fake with the real API, as {Path(shown) / 'README.md'} says"
    )
