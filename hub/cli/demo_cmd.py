"""``hub demo``: the whole product on a throw-away database, no configuration needed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.output import say
from hub.cli.state import state
from hub.demo import run_demo


def demo(
    workdir: Annotated[
        Path | None,
        typer.Option("--workdir", help="Keep the demo's files here (default: a new temp dir)."),
    ] = None,
) -> None:
    """Run the demo: a CSV-exporting Danish client, synced, paid, and synced again."""
    run_demo(state.registry, workdir, say)
