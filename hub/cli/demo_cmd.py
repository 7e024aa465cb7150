"""``hub demo``: the whole product on a throw-away database, no configuration needed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.output import console, say
from hub.cli.state import state
from hub.errors import InputError


@contextmanager
def progress_bar(total: int) -> Iterator[Callable[[dt.date], None]]:
    """A progress bar over the simulated days, on a terminal; elsewhere (a pipe, a file, CI)
    nothing, so the output stays plain lines."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("days"),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        task = bar.add_task("simulating", total=total)
        yield lambda day: bar.update(task, advance=1, description=f"simulated to {day}")


#: What ``hub demo --help`` ends with (see :class:`hub.cli.lazy.Lazy`).
EPILOG = "Example: hub demo --workdir /tmp/hub-demo --serve"


def demo(
    workdir: Annotated[
        Path | None,
        typer.Option(
            "--workdir",
            help="Keep the demo's files here, a new or empty directory (default: a new temp dir).",
        ),
    ] = None,
    serve: Annotated[
        bool,
        typer.Option(
            "--serve",
            help="Then serve the console on the demo's database, with a user `demo` whose"
            " password is printed, until Ctrl-C.",
        ),
    ] = False,
    host: Annotated[str, typer.Option("--host", help="Address for --serve.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port for --serve (0: any free).")] = 8080,
) -> None:
    """Run the demo: a Danish CSV client, a Danish e-conomic client and a Norwegian Tripletex
    client with recurring invoices, 91 simulated days of the daemon's jobs, on a throw-away
    database."""
    # Imported here, not at the top: the demo brings the fake servers, which every other
    # command would otherwise load at start-up for nothing.
    from hub.demo import run_demo

    if not 0 <= port <= 65535:
        raise InputError(f"--port: {port} is not a port (0-65535)")
    result = run_demo(state.registry, workdir, say, progress_bar)
    if serve:
        from hub.demo import console as demo_console

        demo_console.serve(result, state.registry, say, host, port)
