"""``hub db``: the schema."""

from __future__ import annotations

import typer

from hub.cli.output import say
from hub.cli.state import state
from hub.db import engine

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Bring the database schema to this version of the hub (Alembic migrations)."""
    db = state.db(check_schema=False)
    before, after = engine.upgrade(db.engine)
    if before == after:
        say(f"{db.display_url}: schema already at {after}")
    else:
        say(f"{db.display_url}: schema upgraded from {before or 'empty'} to {after}")


@app.command("current")
def current() -> None:
    """Show the schema revision of the database and the one this hub needs."""
    db = state.db(check_schema=False)
    say(
        f"{db.display_url}: at {engine.current_revision(db.engine) or 'empty'},"
        f" this hub needs {engine.head_revision()}"
    )
