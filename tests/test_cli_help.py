"""Every command's ``--help`` reads cleanly and ends with an example of the command itself.

typer 0.29 labels every parameter with its Python type (``--json <bool>``) and writes a
required argument ``{case_id}`` in the usage line; :func:`hub.cli.lazy.plain_help` shows what a
person types instead. These tests walk every command, as ``hub --help`` lists them.
"""

from __future__ import annotations

import re
import shlex

import pytest
import typer.main
from typer.testing import CliRunner

from hub.cli import main as cli_main

#: The global options, which come before the command (and take a value but -v).
GLOBAL_WITH_VALUE = ("--db", "--today", "--now")

#: Types as typer or click would show them: <bool>, <str>, <list[str]>, TEXT, INTEGER...
TYPE_NOISE = re.compile(
    r"<(bool|str|int|float|path|list\[\w+\]|[\w|]+\|[\w|]+)>|\b(TEXT|INTEGER|BOOLEAN|FLOAT)\b"
)


def _paths() -> list[tuple[str, ...]]:
    """Every command's words after ``hub``: the root, each group and each of its commands."""
    root = typer.main.get_command(cli_main.app)
    ctx = root.make_context("hub", ["--help"], resilient_parsing=True)
    paths: list[tuple[str, ...]] = [()]
    for name in cli_main.COMMANDS:
        command = root.get_command(ctx, name)  # imports the command's module
        paths.append((name,))
        paths.extend((name, sub) for sub in getattr(command, "commands", {}))
    return paths


PATHS = _paths()
GROUPS = {path[:1] for path in PATHS if len(path) == 2}


def _help(path: tuple[str, ...]) -> str:
    shown = CliRunner().invoke(cli_main.app, [*path, "--help"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    return shown.output


def _command_words(example: str) -> list[str]:
    """The example's words after ``hub`` and its global options."""
    words = shlex.split(example)
    assert words[0] == "hub", example
    words = words[1:]
    while words and words[0].startswith("-"):
        words = words[2:] if words[0] in GLOBAL_WITH_VALUE else words[1:]
    return words


def test_the_walk_finds_every_command() -> None:
    assert ("cases", "payment") in PATHS and ("sync",) in PATHS and ("audit", "list") in PATHS
    assert len(PATHS) > 70


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(("hub", *path)))
def test_help_ends_with_an_example_of_the_command_itself(path: tuple[str, ...]) -> None:
    shown = _help(path).rstrip()
    last = shown.splitlines()[-1].strip()
    assert last.startswith("Example: hub"), shown[-500:]
    words = _command_words(last.removeprefix("Example: "))
    assert tuple(words[: len(path)]) == path, last
    if path in GROUPS:  # a group's example runs one of its commands
        assert tuple(words[:2]) in PATHS, last


@pytest.mark.parametrize("path", PATHS, ids=lambda path: " ".join(("hub", *path)))
def test_help_shows_no_types_and_a_plain_usage_line(path: tuple[str, ...]) -> None:
    shown = _help(path)
    assert not TYPE_NOISE.search(shown), TYPE_NOISE.search(shown)
    usage = next(line for line in shown.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage


def test_an_argument_is_named_in_capitals_and_an_option_by_the_value_it_takes() -> None:
    shown = _help(("cases", "payment"))
    assert "Usage: hub cases payment [OPTIONS] CASE_ID" in shown
    assert re.search(r"--amount +AMOUNT +Amount paid", shown), shown
    assert re.search(r"--help +Show this message", shown), shown
    listing = _help(("cases", "list"))
    assert re.search(r"--stage +invoice\|reminder\|collection", listing), listing
    assert re.search(r"--json +Print JSON", listing), listing  # a flag: nothing after it
    assert "Usage: hub tokens list [OPTIONS] [USER]" in _help(("tokens", "list"))
    assert re.search(r"--today +YYYY-MM-DD +Act as if", _help(())), "a metavar of its own"
