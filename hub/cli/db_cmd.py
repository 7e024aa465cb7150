"""``hub db``: the schema."""

from __future__ import annotations

import typer

from hub.cli.output import say
from hub.cli.state import state
from hub.operations import database

app = typer.Typer(epilog="Example: hub db upgrade", help="Database schema.", no_args_is_help=True)


@app.command("upgrade", epilog="Example: hub --db postgresql://hub@localhost/hub db upgrade")
def upgrade() -> None:
    """Bring the database schema to this version of the hub (Alembic migrations); a SQLite
    database named with --db or HUB_DATABASE_URL that does not exist yet is created."""
    done = database.upgrade(state.context(check_schema=False, create=True))
    if done.before == done.after:
        say(f"{done.database}: schema already at {done.after}")
    else:
        before = done.before or "no schema (an empty database)"
        say(f"{done.database}: schema upgraded from {before} to {done.after}")


@app.command("current", epilog="Example: hub db current")
def current() -> None:
    """Show the schema revision of the database and the one this hub needs."""
    revision = database.current(state.context(check_schema=False))
    at = f"at {revision.current}" if revision.current else "no schema yet (an empty database)"
    if not revision.known:
        advice = ": a newer hub upgraded it; upgrade the hub"
    elif revision.behind:
        advice = ": run `hub db upgrade`"
    else:
        advice = ""
    say(f"{revision.database}: {at}, this hub needs {revision.needed}{advice}")
