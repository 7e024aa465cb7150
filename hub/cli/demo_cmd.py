"""``hub demo``: the whole product on a throw-away database, no configuration needed."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.output import say
from hub.cli.state import state


def demo(
    workdir: Annotated[
        Path | None,
        typer.Option("--workdir", help="Keep the demo's files here (default: a new temp dir)."),
    ] = None,
) -> None:
    """Run the demo: a Danish CSV client, a Danish e-conomic client and a Norwegian Tripletex
    client with recurring invoices, over simulated days, on a throw-away database."""
    # Imported here, not at the top: the demo brings the fake servers, which every other
    # command would otherwise load at start-up for nothing.
    from hub.demo import run_demo

    run_demo(state.registry, workdir, say)
