"""``hub plugins``: what is installed."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hub.cli.output import emit_json, say, table
from hub.cli.state import state

app = typer.Typer(help="Installed accounting plugins.", no_args_is_help=True)


@app.command("list")
def list_plugins(
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List installed plugins, their versions, capabilities and settings, and load errors."""
    registry = state.registry
    plugins: list[dict[str, Any]] = [
        {
            "name": info.name,
            "title": info.title,
            "version": info.version,
            "capabilities": sorted(info.capabilities),
            "settings": [s.as_dict() for s in info.settings],
        }
        for info in (registry.infos[n] for n in registry.names())
    ]
    errors = [{"name": n, "error": e} for n, e in sorted(registry.errors.items())]
    if json_out:
        emit_json({"plugins": plugins, "errors": errors})
        return
    table(
        "Plugins",
        ["name", "version", "title", "capabilities"],
        [(p["name"], p["version"], p["title"], ", ".join(p["capabilities"])) for p in plugins],
    )
    for p in plugins:
        table(
            f"Settings of {p['name']}",
            ["setting", "type", "required", "secret", "default", "description"],
            [
                (
                    s["name"],
                    s["type"],
                    "yes" if s["required"] else "",
                    "yes" if s["secret"] else "",
                    s["default"],
                    s["description"],
                )
                for s in p["settings"]
            ],
        )
    for e in errors:
        say(f"could not load {e['name']}: {e['error']}")
