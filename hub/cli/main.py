"""The ``hub`` command: global options, sub-commands, and errors mapped to exit codes.

Exit codes: 0 ok, 1 an operation failed, 2 bad usage or input.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from hub import __version__, clock
from hub import logging as hub_logging
from hub.cli import (
    audit_cmd,
    cases_cmd,
    clients_cmd,
    collection_cmd,
    db_cmd,
    demo_cmd,
    dispatch_cmd,
    flows_cmd,
    invoices_cmd,
    messages_cmd,
    plugins_cmd,
    recurring_cmd,
    run_cmd,
    secrets_cmd,
    sync_cmd,
    tokens_cmd,
    users_cmd,
    web_cmd,
)
from hub.cli.output import err_console
from hub.cli.state import state
from hub.errors import HubError

app = typer.Typer(
    name="hub",
    help="Receivables hub: follows unpaid invoices from your accounting system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(plugins_cmd.app, name="plugins")
app.add_typer(clients_cmd.app, name="clients")
app.add_typer(invoices_cmd.app, name="invoices")
app.add_typer(db_cmd.app, name="db")
app.add_typer(cases_cmd.app, name="cases")
app.add_typer(flows_cmd.flows_app, name="flows")
app.add_typer(flows_cmd.rules_app, name="rules")
app.add_typer(messages_cmd.app, name="messages")
app.add_typer(collection_cmd.app, name="collection")
app.add_typer(dispatch_cmd.app, name="dispatch")
app.add_typer(recurring_cmd.app, name="recurring")
app.add_typer(secrets_cmd.app, name="secrets")
app.add_typer(users_cmd.app, name="users")
app.add_typer(tokens_cmd.app, name="tokens")
app.command("sync")(sync_cmd.sync)
app.command("demo")(demo_cmd.demo)
app.command("run")(run_cmd.run)
app.command("web")(web_cmd.web)
app.add_typer(run_cmd.runs_app, name="runs")
app.add_typer(audit_cmd.app, name="audit")


def _version(value: bool) -> None:
    if value:
        print(f"receivables-hub {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL (default: HUB_DATABASE_URL or embedded SQLite). A SQLite file"
            " named here must exist: `hub db upgrade` creates it.",
        ),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option("--today", help="Act as if today were YYYY-MM-DD (default: HUB_TODAY)."),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            help="Act as if it were this moment, e.g. 2026-10-26T07:30+01:00 (sending"
            " windows; default: HUB_NOW).",
        ),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress.")] = False,
    version: Annotated[
        bool | None, typer.Option("--version", callback=_version, is_eager=True)
    ] = None,
) -> None:
    """Global options come before the command: hub --today 2026-01-31 sync acme."""
    hub_logging.configure(json=False, level="INFO" if verbose else "WARNING")
    state.db_url = db
    state.today = clock.parse_date(today, what="--today") if today else None
    state.now = clock.parse_moment(now, what="--now") if now else None


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (used by the console script and in-process tests).

    Usage errors are typer's own (exit 2); a :class:`HubError` is printed without a traceback
    and exits with its code.
    """
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="hub")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except HubError as exc:
        err_console.print(f"error: {exc}", markup=False)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    finally:
        state.close()
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    run()
