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
        say(f"{done.database}: schema upgraded from {done.before or 'empty'} to {done.after}")


@app.command("current", epilog="Example: hub db current")
def current() -> None:
    """Show the schema revision of the database and the one this hub needs."""
    revision = database.current(state.context(check_schema=False))
    say(f"database {revision.database}")
    if revision.current == revision.needed:
        say(f"schema at {revision.needed}, as this hub needs")
    else:
        say(
            f"schema at {revision.current or 'none (empty)'}, this hub needs {revision.needed}:"
            " run `hub db upgrade`"
        )
