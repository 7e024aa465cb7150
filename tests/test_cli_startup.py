"""The ``hub`` command starts without importing what its command does not need.

Many commands are typed by a person, and the suite runs ``hub`` as a process hundreds of
times: a start that imported every command module (and through them the database, the domain
and every plugin) cost a second. These tests count what a start imports, never how long it
takes (bench/cli_startup.py times it).
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
import typer.main
from typer._coercion import build_runtime_param
from typer.testing import CliRunner

from hub.cli import lazy
from hub.cli import main as cli_main
from hub.cli.lazy import lazy_group
from hub.db.engine import Database, create_engine, head_revision
from hub.dunning import customer_mode
from hub.operations import clients as clients_ops

#: What a start prints of its modules, after the command ran (on stderr, after its output).
_REPORT = """
import json, sys
from hub.cli.main import main
code = main(sys.argv[1:])
sys.stderr.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n")
sys.exit(code)
"""

#: Imported by no start but that of a command that needs them.
HEAVY = ("alembic", "httpx", "jinja2", "apscheduler", "prometheus_client", "psycopg")
#: The console's web stack: imported by `hub web` (and `hub run --http-port`) alone.
WEB = ("hub.console", "fastapi", "starlette", "uvicorn", "multipart", "itsdangerous")
#: The builtin plugins' packages: loaded when a command needs a plugin, not before.
PLUGINS = ("generic_csv", "hub_delivery", "hub_economic", "hub_norwegian_invoicing")
#: What a command that lists from the database does without: typer's Pydantic coercion (built
#: for a value that needs it only), Argon2 and customer mode (adding a client, granting a
#: feature).
NOT_FOR_A_LISTING = (
    "pydantic",
    "pydantic_core",
    "typer._adapters",
    "argon2",
    "hub.operations.users",
    "hub.dunning.customer_mode",
    "hub.dunning.rules",
)


def modules_of(*args: str) -> list[str]:
    """The modules imported by ``hub ARGS`` in a fresh process (which must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", _REPORT, *args], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = done.stderr.rsplit("\nMODULES ", 1)[1]
    return list(json.loads(report))


def under(modules: list[str], *packages: str) -> list[str]:
    return [m for m in modules if m.split(".")[0] in packages or m.startswith(packages)]


def first_paragraph(help_text: str | None) -> str:
    return inspect.cleandoc(help_text or "").split("\n\n")[0]


def test_hub_help_lists_every_command_by_the_first_paragraph_of_its_own_help() -> None:
    group = typer.main.get_command(cli_main.app)
    ctx = group.make_context("hub", ["--help"], resilient_parsing=True)
    assert list(group.list_commands(ctx)) == list(cli_main.COMMANDS)
    for name, entry in cli_main.COMMANDS.items():
        command = group.get_command(ctx, name)  # imports the command's module
        assert command is not None and command.name == name
        assert entry.summary == first_paragraph(command.help), name

    shown = CliRunner().invoke(cli_main.app, ["--help"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0, shown.output
    for name, entry in cli_main.COMMANDS.items():
        assert f" {name} " in shown.output
        assert entry.summary.split("\n")[0] in shown.output


def test_a_command_runs_and_a_wrong_one_is_refused_with_a_suggestion() -> None:
    runner = CliRunner()
    shown = runner.invoke(cli_main.app, ["clients", "--help"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0 and "Register a client company." in shown.output
    wrong = runner.invoke(cli_main.app, ["client", "list"], env={"COLUMNS": "250"})
    assert wrong.exit_code == 2
    assert "No such command 'client'. Did you mean 'clients'?" in wrong.output


def test_hub_help_imports_no_command_database_or_plugin() -> None:
    modules = modules_of("--help")
    assert under(modules, "hub.cli.") == ["hub.cli.lazy", "hub.cli.main"]
    assert under(modules, "hub.db", "hub.operations", "hub.plugins", "hub.logging") == []
    assert under(modules, "sqlalchemy", "structlog", "cryptography", "pydantic", "argon2") == []
    assert under(modules, *HEAVY) == []
    assert under(modules, *PLUGINS, *WEB) == []
    assert len(modules) < 420, len(modules)  # 352 lazily, 848 when every command was imported


def test_hub_clients_list_imports_its_own_command_and_no_plugin(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    Database(url).dispose()  # made and upgraded: the start below only checks the schema
    modules = modules_of("--db", url, "clients", "list")
    assert under(modules, "hub.cli.") == [
        "hub.cli.clients_cmd",
        "hub.cli.lazy",
        "hub.cli.main",
        "hub.cli.options",
        "hub.cli.output",
        "hub.cli.state",
    ]
    assert under(modules, *HEAVY) == []
    assert under(modules, *PLUGINS, *WEB) == []
    assert under(modules, "hub.sync", "hub.recurring", "hub.daemon", "hub.toolkit.http") == []
    assert under(modules, *NOT_FOR_A_LISTING) == []
    # 589; 657 with them, 996 when every command was imported
    assert len(modules) < 640, len(modules)


def test_a_database_of_another_schema_is_refused_without_importing_alembic(
    tmp_path: Path,
) -> None:
    """The schema check on open reads the migrations' revision lines, not Alembic's scripts,
    and refuses as it did (tests/test_storage.py: a database behind, on PostgreSQL)."""
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    Database(url).dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    engine.dispose()
    done = subprocess.run(
        [sys.executable, "-c", _REPORT, "--db", url, "clients", "list"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        f"error: database {url} is at schema revision 9999_from_the_future, newer than this hub"
        f" (which knows up to {head_revision()}): upgrade the hub"
    ) in " ".join(done.stderr.split())
    assert under(json.loads(done.stderr.rsplit("\nMODULES ", 1)[1]), "alembic") == []


@pytest.mark.parametrize("value", ["acme", "", " two words ", "ø-æ-å", "--not-an-option"])
def test_text_is_coerced_as_typer_coerces_it_without_building_its_adapter(value: str) -> None:
    option = lazy.plain_help(typer.main.get_command(cli_main.app)).params[0]
    assert option.name == "db" and type(option).__name__ == "_PlainOption"
    ctx = typer.main.get_command(cli_main.app).make_context(
        "hub", ["--help"], resilient_parsing=True
    )
    ours = option.get_runtime_param()
    typers = build_runtime_param(option.type_descriptor)
    assert ours.coerce(value, param=option, ctx=ctx) == typers.coerce(value, param=option, ctx=ctx)
    assert ours.coerce(None, param=option, ctx=ctx) is None
    assert "typers" not in vars(ours)  # typer's own coercion (Pydantic's) never built


def test_a_value_that_needs_converting_is_converted_by_typer_with_its_errors() -> None:
    runner = CliRunner()
    wrong = runner.invoke(cli_main.app, ["cases", "show", "abc"], env={"COLUMNS": "250"})
    assert wrong.exit_code == 2
    shown = " ".join(wrong.output.replace("│", "").split())
    assert "Invalid value for 'CASE_ID': Input should be a valid integer, unable to parse" in shown


def test_the_feature_named_without_importing_customer_mode_is_its_feature() -> None:
    assert clients_ops.CUSTOMER_REMINDERS == customer_mode.CUSTOMER_REMINDERS
    assert clients_ops.CUSTOMER_REMINDERS in customer_mode.FEATURES


@pytest.mark.parametrize("args", [["plugins", "list", "--json"], ["db", "current"]])
def test_a_command_that_needs_them_still_loads_them(tmp_path: Path, args: list[str]) -> None:
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    Database(url).dispose()
    modules = modules_of("--db", url, *args)
    if args[0] == "plugins":
        assert set(under(modules, *PLUGINS)) >= {"generic_csv", "hub_economic"}
    else:
        assert "hub.cli.db_cmd" in modules


def test_a_command_added_the_eager_way_is_listed_and_runs_beside_the_lazy_ones() -> None:
    """A branch that still registers its command with ``app.add_typer`` keeps working."""
    eager = typer.Typer(help="Eagerly added.", no_args_is_help=True)

    @eager.command("hello")
    def hello() -> None:
        print("hello")

    app = typer.Typer(cls=lazy_group({"db": cli_main.COMMANDS["db"]}), add_completion=False)
    app.add_typer(eager, name="eager")

    @app.callback()
    def root() -> None:
        """The root."""

    runner = CliRunner()
    listed = runner.invoke(app, ["--help"], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert "Database schema." in listed.output and "Eagerly added." in listed.output
    ran = runner.invoke(app, ["eager", "hello"])
    assert (ran.exit_code, ran.output) == (0, "hello\n")
