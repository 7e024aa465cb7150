"""``hub users``: who may log in to the console and the API, their role and their clients.

A password is read from standard input (``--password-stdin``) or asked twice at a hidden
prompt, never taken from the command line, where other users of the machine could see it.
"""

from __future__ import annotations

import datetime as dt
import getpass
import sys
from typing import Annotated, Any

import typer

from hub.cli.options import JsonOption
from hub.cli.output import json_or, listing, say, table
from hub.cli.state import state
from hub.errors import InputError
from hub.operations import clients, users

app = typer.Typer(
    epilog="Example: hub users list",
    help="Users of the console and the API: their roles, clients and passwords.",
    no_args_is_help=True,
)

RoleOption = Annotated[
    str,
    typer.Option(
        "--role",
        help="admin (everything), consultant (sees and changes the clients assigned) or viewer"
        " (sees the clients assigned, changes nothing).",
    ),
]
ClientsOption = Annotated[
    str | None,
    typer.Option(
        "--clients",
        metavar="A,B",
        help='The clients a consultant or viewer sees, comma-separated ("" for none).',
    ),
]
LanguageOption = Annotated[
    str | None, typer.Option("--language", help="The console's language: da, nb or en.")
]
PasswordStdinOption = Annotated[
    bool,
    typer.Option(
        "--password-stdin",
        help="Read the password from standard input (one trailing line break removed)"
        " instead of asking for it.",
    ),
]


def read_password(from_stdin: bool, name: str) -> str:
    """The password for ``name``: standard input, or typed twice at a hidden prompt. Never
    shown, not even in an error."""
    if from_stdin:
        password = clients.strip_line_break(sys.stdin.read())
        if not password:
            raise InputError("--password-stdin: standard input was empty")
        return password
    if not sys.stdin.isatty():
        raise InputError(
            "standard input is not a terminal, so the password cannot be asked for: give it on"
            " standard input with --password-stdin"
        )
    first = getpass.getpass(f"Password for {name}: ")
    second = getpass.getpass(f"Password for {name} (again): ")
    if first != second:
        raise InputError("the two passwords typed differ; nothing was changed")
    return first


def client_names(raw: str) -> frozenset[str]:
    """``"a, b"`` -> ``{"a", "b"}``; ``""`` -> none."""
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def when(value: dt.datetime | str | None) -> str:
    """A moment for a human table: UTC to the minute (JSON keeps the full ISO time)."""
    if value is None:
        return ""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _scope(clients_seen: list[str] | None) -> str:
    if clients_seen is None:
        return "every client"
    return ", ".join(clients_seen) if clients_seen else "no client"


def _said(user: users.UserSummary) -> str:
    return f"{user.name}: {user.role}, sees {_scope(user.clients)}, language {user.language}"


@app.command(
    "add", epilog="Example: hub users add anna --role consultant --clients demo-dk,demo-no"
)
def add(
    name: str,
    role: RoleOption,
    clients_: ClientsOption = None,
    language: LanguageOption = None,
    password_stdin: PasswordStdinOption = False,
) -> None:
    """Add a user (the password: at least 12 characters, not the user's name)."""
    ctx = state.context()
    checked_role = users.parse_role(role)  # a mistyped option is refused before the prompt
    checked_language = users.parse_language(language or "en")
    password = read_password(password_stdin, name)
    request = users.NewUser(
        name, checked_role, password, client_names(clients_ or ""), checked_language
    )
    added = users.add_user(ctx, request)
    say(f"user {_said(added)}")
    if added.clients == []:
        say(f"{name} sees no client until one is assigned: hub users set {name} --clients A,B")


@app.command("list", epilog="Example: hub users list")
def list_(json_out: JsonOption = False) -> None:
    """List the users (never a password)."""
    rows = [u.as_dict() for u in users.list_users(state.context())]
    if not rows and not json_out:
        say("no users yet: add one with `hub users add NAME --role admin`")
        return
    listing(
        "Users",
        rows,
        json_out,
        {
            "name": "name",
            "role": "role",
            "clients": lambda r: _scope(r["clients"]),
            "language": "language",
            "created": lambda r: when(r["created_at"]),
            "by": "created_by",
            "password changed": lambda r: when(r["password_changed_at"]),
        },
    )


@app.command("show", epilog="Example: hub users show anna")
def show(name: str, json_out: JsonOption = False) -> None:
    """Show a user with their API tokens (each by its prefix, never the token)."""
    json_or(users.show_user(state.context(), name).as_dict(), json_out, _print_user)


def _print_user(data: dict[str, Any]) -> None:
    say(f"{data['name']}: {data['role']}, sees {_scope(data['clients'])}")
    say(f"language {data['language']}")
    say(f"added {when(data['created_at'])} by {data['created_by']}")
    say(f"password changed {when(data['password_changed_at'])}")
    if data["tokens"]:
        table("API tokens", *token_table(data["tokens"]))
    else:
        say("no API tokens")


def token_table(rows: list[dict[str, Any]]) -> tuple[list[str], list[list[str]]]:
    """Columns and rows of a table of API tokens."""
    columns = ["id", "user", "name", "prefix", "created", "last used", "revoked"]
    return columns, [
        [
            str(r["id"]),
            r["user"],
            r["name"] or "",
            f"{r['prefix']}…",
            when(r["created_at"]),
            when(r["last_used_at"]),
            when(r["revoked_at"]),
        ]
        for r in rows
    ]


@app.command("remove", epilog="Example: hub users remove anna")
def remove(name: str) -> None:
    """Remove a user and their API tokens (not the last admin)."""
    users.remove_user(state.context(), name)
    say(f"user {name} removed, with their API tokens")


@app.command("passwd", epilog="Example: hub users passwd anna")
def passwd(name: str, password_stdin: PasswordStdinOption = False) -> None:
    """Give a user a new password; their console sessions end (API tokens stay)."""
    ctx = state.context()
    users.set_password(ctx, name, read_password(password_stdin, name))
    say(f"password of {name} changed; their console sessions end")


@app.command("set", epilog="Example: hub users set anna --role viewer")
def set_(
    name: str,
    role: Annotated[str | None, typer.Option("--role", help="admin, consultant or viewer.")] = None,
    clients_: ClientsOption = None,
    language: LanguageOption = None,
) -> None:
    """Change a user's role, clients (replaced by those given) or language."""
    change = users.UserChange(
        role=users.parse_role(role) if role is not None else None,
        clients=client_names(clients_) if clients_ is not None else None,
        language=users.parse_language(language) if language is not None else None,
    )
    say(f"user {_said(users.change_user(state.context(), name, change))}")
