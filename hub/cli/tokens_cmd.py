"""``hub tokens``: API tokens of the console's users (shown once when made, kept hashed)."""

from __future__ import annotations

from typing import Annotated

import typer

from hub.cli.options import JsonOption
from hub.cli.output import emit_json, listing, say
from hub.cli.state import state
from hub.cli.users_cmd import when
from hub.operations import users

app = typer.Typer(
    epilog="Example: hub tokens list anna",
    help="API tokens: made for a user, shown once, revoked at once.",
    no_args_is_help=True,
)


@app.command("create", epilog="Example: hub tokens create anna --name reporting")
def create(
    user: str,
    name: Annotated[
        str | None, typer.Option("--name", help="What the token is for (e.g. the script).")
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Make an API token for USER and print it: the only time it is shown."""
    made = users.create_token(state.context(), user, name)
    if json_out:
        emit_json({**made.as_dict(), "token": made.token})
        return
    label = f" ({made.name})" if made.name else ""
    say(f"API token {made.id}{label} for {made.user}:")
    say(made.token)
    say("It will not be shown again: store it now (the hub keeps only its hash).")


@app.command("list", epilog="Example: hub tokens list anna")
def list_(
    user: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
    json_out: JsonOption = False,
) -> None:
    """List API tokens, revoked ones too: each by its prefix, never the token."""
    rows = [tk.as_dict() for tk in users.list_tokens(state.context(), user)]
    if not rows and not json_out:
        say(f"no API tokens{f' of {user}' if user else ''}: make one with `hub tokens create USER`")
        return
    listing(
        "API tokens",
        rows,
        json_out,
        {
            "id": "id",
            "user": "user",
            "name": lambda r: r["name"] or "",
            "prefix": lambda r: f"{r['prefix']}…",
            "created": lambda r: when(r["created_at"]),
            "last used": lambda r: when(r["last_used_at"]),
            "revoked": lambda r: when(r["revoked_at"]),
        },
        right=("id",),
    )


@app.command("revoke", epilog="Example: hub tokens revoke 3")
def revoke(token_id: Annotated[int, typer.Argument(metavar="ID", help="The token's id.")]) -> None:
    """Revoke an API token: refused from this moment."""
    done = users.revoke_token(state.context(), token_id)
    say(f"API token {done.id} ({done.prefix}…) of {done.user} revoked")
