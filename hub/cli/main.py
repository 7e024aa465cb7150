"""The ``hub`` command: global options, sub-commands, and errors mapped to exit codes.

Exit codes: 0 ok, 1 an operation failed, 2 bad usage or input.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from hub import __version__
from hub.cli.lazy import Lazy, lazy_group
from hub.errors import HubError

#: Every sub-command, in the order ``hub --help`` lists them, and its line there (the first
#: paragraph of its help: ``tests/test_cli_startup.py`` holds the two to each other). A command
#: module is imported only when its command runs (see :mod:`hub.cli.lazy`).
COMMANDS: dict[str, Lazy] = {
    "sync": Lazy(
        "hub.cli.sync_cmd",
        "sync",
        "Fetch the client's invoices and customers (all or nothing), then close, reopen, resume,"
        "\nmove and remind cases as due today, then deliver the messages.",
    ),
    "demo": Lazy(
        "hub.cli.demo_cmd",
        "demo",
        "Run the demo: a Danish CSV client, a Danish e-conomic client and a Norwegian Tripletex"
        "\nclient with recurring invoices, 91 simulated days of the daemon's jobs, on a throw-away"
        "\ndatabase.",
    ),
    "run": Lazy(
        "hub.cli.run_cmd", "run", "Run the scheduled jobs for every client until SIGTERM or SIGINT."
    ),
    "web": Lazy(
        "hub.cli.web_cmd",
        "web",
        "Serve the console and its API (/api/v1) until Ctrl-C or SIGTERM; see docs/console.md.",
    ),
    "plugins": Lazy("hub.cli.plugins_cmd", "app", "Installed accounting plugins."),
    "clients": Lazy("hub.cli.clients_cmd", "app", "Client companies and their plugins."),
    "invoices": Lazy(
        "hub.cli.invoices_cmd", "app", "Invoices mirrored from the accounting system."
    ),
    "db": Lazy("hub.cli.db_cmd", "app", "Database schema."),
    "cases": Lazy("hub.cli.cases_cmd", "app", "Cases: the hub's follow-up of unpaid invoices."),
    "flows": Lazy("hub.cli.flows_cmd", "flows_app", "A client's flows: the steps of each stage."),
    "rules": Lazy("hub.cli.flows_cmd", "rules_app", "A client's dunning rules."),
    "messages": Lazy(
        "hub.cli.messages_cmd", "app", "Letters and e-mails the hub made, and their delivery."
    ),
    "collection": Lazy(
        "hub.cli.collection_cmd", "app", "Collection: customers who still owe after reminders."
    ),
    "dispatch": Lazy(
        "hub.cli.dispatch_cmd",
        "app",
        "The dispatch plan: what the cycle would send, and approving it.",
    ),
    "recurring": Lazy(
        "hub.cli.recurring_cmd",
        "app",
        "Recurring invoice agreements: invoices (or orders) made on a schedule.",
    ),
    "secrets": Lazy(
        "hub.cli.secrets_cmd",
        "app",
        "The key of the secret settings (HUB_SECRET_KEY, HUB_SECRET_KEY_OLD, the key file).",
    ),
    "users": Lazy(
        "hub.cli.users_cmd",
        "app",
        "Users of the console and the API: their roles, clients and passwords.",
    ),
    "tokens": Lazy(
        "hub.cli.tokens_cmd", "app", "API tokens: made for a user, shown once, revoked at once."
    ),
    "runs": Lazy("hub.cli.run_cmd", "runs_app", "The run history: every run of a job."),
    "audit": Lazy("hub.cli.audit_cmd", "app", "The audit log: every change a person made."),
}

app = typer.Typer(
    name="hub",
    help="Receivables hub: follows unpaid invoices from your accounting system.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=lazy_group(COMMANDS),
)


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
            metavar="URL",
            help="Database URL (default: HUB_DATABASE_URL or embedded SQLite). A SQLite file"
            " named here must exist: `hub db upgrade` creates it.",
        ),
    ] = None,
    today: Annotated[
        str | None,
        typer.Option(
            "--today",
            metavar="YYYY-MM-DD",
            help="Act as if today were YYYY-MM-DD (default: HUB_TODAY).",
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            metavar="MOMENT",
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
    from hub import clock
    from hub import logging as hub_logging
    from hub.cli.state import state

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
        from hub.cli.output import err_console

        err_console.print(f"error: {exc}", markup=False)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    finally:
        if (made := sys.modules.get("hub.cli.state")) is not None:  # a command ran
            made.state.close()
    return 0


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    run()
