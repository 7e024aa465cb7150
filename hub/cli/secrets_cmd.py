"""``hub secrets``: the key that encrypts secret settings; rotate it, check it reads them all."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hub.cli.options import JsonOption
from hub.cli.output import err_console, json_or, say
from hub.cli.state import state
from hub.operations import secrets

app = typer.Typer(
    epilog="Example: hub secrets check",
    help="The key of the secret settings (HUB_SECRET_KEY, HUB_SECRET_KEY_OLD, the key file).",
    no_args_is_help=True,
)


@app.command("rotate", epilog="Example: hub secrets rotate --new-key")
def rotate(
    new_key: Annotated[
        bool,
        typer.Option(
            "--new-key",
            help="First put a new key at the top of the key file (the keys it held stay as"
            " old keys). Not with HUB_SECRET_KEY: set the new key there and the old one in"
            " HUB_SECRET_KEY_OLD instead.",
        ),
    ] = False,
    drop_old: Annotated[
        bool,
        typer.Option(
            "--drop-old",
            help="Afterwards leave only the current key in the key file. A database backup"
            " from before the rotation then needs the old key, kept elsewhere.",
        ),
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Re-encrypt every stored secret under the current key, in one transaction.

    The current key is HUB_SECRET_KEY, else the first key of the key file; old keys
    (HUB_SECRET_KEY_OLD, further lines of the key file) are only used to read. If any secret
    cannot be read, nothing is changed and the command names the clients and settings.
    """
    done = secrets.rotate(state.context(), new_key=new_key, drop_old=drop_old)
    json_or(done.as_dict(), json_out, _print_rotation)


def _print_rotation(data: dict[str, Any]) -> None:
    if data["new_key"]:
        say("a new key is now the current key of the key file")
    say(
        f"{data['secrets']} secret(s) re-encrypted under the key from {data['key']}"
        f" ({data['were_old']} were under an old key)"
    )
    if data["old_keys_dropped"]:
        say(f"{data['old_keys_dropped']} old key(s) removed from the key file")


@app.command("check", epilog="Example: hub secrets check")
def check(json_out: JsonOption = False) -> None:
    """Tell whether the configured keys read every stored secret (exit 1 if not)."""
    found = secrets.check(state.context())
    json_or(found.as_dict(), json_out, _print_check)
    if found.unreadable:
        raise typer.Exit(1)


def _print_check(data: dict[str, Any]) -> None:
    say(
        f"{data['secrets']} secret(s): {data['current']} under the key from {data['key']},"
        f" {data['old']} under an old key, {len(data['unreadable'])} unreadable"
    )
    if data["old"]:
        say("run `hub secrets rotate` to re-encrypt them under the current key")
    for what in data["unreadable"]:
        err_console.print(f"cannot read {what}", markup=False)
    if data["unreadable"]:
        err_console.print(
            "restore the key they were encrypted with (in HUB_SECRET_KEY_OLD or the key file)"
            " and run `hub secrets rotate`",
            markup=False,
        )
