"""``hub run``: the daemon; ``hub runs list``: what it (and ``hub sync``) did."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from hub import logging as hub_logging
from hub.cli.options import JsonOption, SomeClientOption
from hub.cli.output import emit_json, err_console, say, table
from hub.cli.state import state
from hub.errors import InputError
from hub.operations import runs

runs_app = typer.Typer(
    epilog="Example: hub runs list --client demo-dk --limit 10",
    help="The run history: every run of a job.",
    no_args_is_help=True,
)


#: What ``hub run --help`` ends with (see :class:`hub.cli.lazy.Lazy`).
EPILOG = "Example: hub run --schedules /etc/hub/schedules.toml --http-port 9100"


def run(
    schedules_file: Annotated[
        Path | None,
        typer.Option(
            "--schedules",
            help="Schedule file (TOML); default: the packaged schedules/default.toml.",
        ),
    ] = None,
    http_port: Annotated[
        int | None,
        typer.Option(
            "--http-port",
            help="Serve /healthz, /metrics and the console (pages and /api/v1, as `hub web`)"
            " on this port (0: any free); bound before any job runs, a port in use stops the"
            " start.",
        ),
    ] = None,
    http_host: Annotated[
        str, typer.Option("--http-host", help="Address for --http-port.")
    ] = "127.0.0.1",
    stop_timeout: Annotated[
        float,
        typer.Option(
            "--stop-timeout", help="Seconds to wait for runs in flight on SIGTERM/SIGINT."
        ),
    ] = 30.0,
    log_format: Annotated[
        str,
        typer.Option(
            "--log-format",
            help="json (one object per line, for a log collector), console (a line a person"
            " reads) or auto: console on a terminal, json otherwise.",
        ),
    ] = "auto",
    check: Annotated[
        bool, typer.Option("--check", help="Check the schedule file, print the jobs, and exit.")
    ] = False,
    show_default: Annotated[
        bool, typer.Option("--show-default", help="Print the packaged schedule file and exit.")
    ] = False,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed",
            help="Be one node of many on one PostgreSQL database (every node runs the same"
            " command and schedule file): the jobs go through a shared queue, each client's"
            " job runs on one node at a time.",
        ),
    ] = False,
) -> None:
    """Run the scheduled jobs for every client until SIGTERM or SIGINT.

    One daemon per database: a second one is refused (exit 1), naming the running one. With
    --distributed, any number of nodes share the database's work instead.
    """
    # Imported when needed: the jobs and the scheduler are heavy.
    from hub.daemon import scheduler as daemon
    from hub.daemon import schedules

    if show_default:
        print(schedules.default_text(), end="")
        return

    if log_format not in ("json", "console", "auto"):
        raise InputError(f"--log-format: {log_format!r} is not json, console or auto")
    if http_port is not None and not 0 <= http_port <= 65535:
        raise InputError(f"--http-port: {http_port} is not a port (0-65535)")
    if stop_timeout < 0:
        raise InputError(f"--stop-timeout: {stop_timeout:g} must not be negative")
    loaded = schedules.load(schedules_file)
    ctx = state.context()  # the daemon's one context: every job run asks it for its day
    if distributed:
        from hub.daemon import distributed as nodes

        nodes.needs_postgresql(ctx.db)
    planned = daemon.plan(ctx, loaded)
    if check:
        # A warning, not an error: the plugin may be installed later, or on another host.
        for warning in schedules.unknown_plugin_warnings(loaded, ctx.registry.names()):
            err_console.print(f"warning: {warning}", markup=False)
        table(
            f"Jobs from {loaded.source}",
            ["job", "client", "trigger", "time zone"],
            [
                (p.job, p.client, p.trigger.describe(), p.trigger.timezone or p.timezone)
                for p in planned
            ],
        )
        return
    if log_format == "auto":
        log_format = "console" if sys.stderr.isatty() else "json"
    hub_logging.configure(json=log_format == "json", level="INFO")
    # The scheduler's own lines ("Added job", "Running job", "executed successfully") say
    # again what the hub's "job done" lines say; its warnings (a missed run) still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("procrastinate").setLevel(logging.WARNING)
    if distributed:
        node = nodes.Node(
            ctx,
            loaded,
            schedules_file,
            http_host=http_host,
            http_port=http_port,
            stop_timeout=stop_timeout,
        )
        raise typer.Exit(nodes.run_node(node))
    the_daemon = daemon.Daemon(
        ctx, loaded, http_host=http_host, http_port=http_port, stop_timeout=stop_timeout
    )
    raise typer.Exit(daemon.run_until_stopped(the_daemon))


@runs_app.command("list", epilog="Example: hub runs list --client demo-dk --job sync")
def list_(
    client: SomeClientOption = None,
    job: Annotated[str | None, typer.Option("--job", help="Job kind.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="How many, newest first.")] = 50,
    json_out: JsonOption = False,
) -> None:
    """The latest runs: job, client, start, end, outcome, the node (host pid) that ran it,
    counts, error."""
    rows = runs.list_runs(state.context(), client=client, job=job, limit=limit)
    if json_out:
        emit_json(rows)
        return
    if not rows:
        say("no runs recorded")
        return
    columns = [
        "id",
        "job",
        "client",
        "day",
        "started",
        "seconds",
        "outcome",
        "node",
        "counts",
        "error",
    ]
    if client is not None:
        columns.remove("client")  # said in the title
    table(
        f"Runs of {client}" if client else "Runs",
        columns,
        [
            [
                r["id"],
                r["job"],
                *([] if client is not None else [r["client"] or ""]),
                r["today"] or "",
                _minute(r["started_at"]),
                "" if r["seconds"] is None else f"{r['seconds']:.1f}",
                r["outcome"],
                r["node"] or "",
                ", ".join(f"{k} {v}" for k, v in r["counts"].items() if v),
                r["error"] or "",
            ]
            for r in rows
        ],
        right=("seconds",),
        wrap=("counts", "error"),
        optional=("seconds", "day", "node"),
    )


def _minute(started_at: str) -> str:
    """``2026-12-07T23:46:05.123+00:00`` as ``2026-12-07 23:46`` (the JSON keeps it whole)."""
    return started_at[:16].replace("T", " ")
