"""``hub users`` and ``hub tokens`` as a person runs them: ``hub`` in a subprocess against a
real database, the password on standard input or typed at a terminal (a pseudo-terminal)."""

from __future__ import annotations

import io
import json
import os
import pty
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from hub.cli.main import main
from hub.db.engine import Database
from hub.operations import users
from hub.operations.context import Actor, Services
from hub.secrets import SecretBox
from tests.helpers import registry_with

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Tr0ub4dor&3-horse"

Hub = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def env(hub_env: Path, db_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "HUB_DATA_DIR": str(hub_env),
        "HUB_DATABASE_URL": db_url,
        "HUB_USER": "root",
        "PYTHONPATH": str(ROOT),
        "COLUMNS": "200",
    }


@pytest.fixture
def hub(env: dict[str, str]) -> Hub:
    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub.cli.main", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    return run


@pytest.fixture
def services(db_url: str) -> Iterator[Services]:
    """What the console would log in with, on the database the CLI wrote."""
    db = Database(db_url)
    yield Services(db, registry_with(), SecretBox(Fernet.generate_key()))
    db.dispose()


def _ok(out: subprocess.CompletedProcess[str]) -> str:
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_users_are_added_listed_changed_and_removed_with_the_password_on_stdin(
    hub: Hub, services: Services
) -> None:
    _ok(hub("clients", "add", "acme", "--country", "DK"))
    _ok(hub("clients", "add", "nordic", "--country", "NO"))
    added = _ok(hub("-v", "users", "add", "anna", "--role", "admin", "--password-stdin",
                    stdin=PASSWORD + "\n"))  # fmt: skip
    assert "user anna: admin, sees every client" in added
    bo = _ok(hub("users", "add", "bo", "--role", "consultant", "--clients", "acme, nordic",
                 "--language", "da", "--password-stdin", stdin=PASSWORD))  # fmt: skip
    assert "user bo: consultant, sees acme, nordic, language da" in bo
    viewer = _ok(hub("users", "add", "vi", "--role", "viewer", "--password-stdin", stdin=PASSWORD))
    assert "vi sees no client until one is assigned" in viewer

    assert users.authenticate(services, "anna", PASSWORD) == Actor(
        "anna", operator=True, role="admin"
    )
    found = users.log_in(services, "bo", PASSWORD)
    assert found is not None and found.language == "da"
    assert found.actor.clients == frozenset({"acme", "nordic"})

    listed = hub("-v", "users", "list", "--json")
    rows = json.loads(_ok(listed))
    assert [(r["name"], r["role"], r["clients"]) for r in rows] == [
        ("anna", "admin", None),
        ("bo", "consultant", ["acme", "nordic"]),
        ("vi", "viewer", []),
    ]
    assert rows[0]["created_by"] == "root"
    shown = json.loads(_ok(hub("users", "show", "bo", "--json")))
    assert shown["tokens"] == [] and shown["language"] == "da"
    table = _ok(hub("users", "list"))
    assert "every client" in table and "acme, nordic" in table
    for out in (listed, hub("users", "list"), hub("users", "show", "bo")):
        assert PASSWORD not in out.stdout + out.stderr
        assert "$argon2" not in out.stdout + out.stderr

    changed = _ok(hub("users", "set", "bo", "--role", "viewer", "--clients", "nordic",
                      "--language", "nb"))  # fmt: skip
    assert "user bo: viewer, sees nordic, language nb" in changed
    passwd = _ok(hub("users", "passwd", "bo", "--password-stdin", stdin="another long one\n"))
    assert "password of bo changed" in passwd
    assert users.authenticate(services, "bo", PASSWORD) is None
    assert users.authenticate(services, "bo", "another long one") == Actor(
        "bo", role="viewer", clients=frozenset({"nordic"})
    )

    assert "user bo removed" in _ok(hub("users", "remove", "bo"))
    assert [r["name"] for r in json.loads(_ok(hub("users", "list", "--json")))] == ["anna", "vi"]


def test_a_token_is_shown_once_never_listed_and_stops_working_when_revoked(
    hub: Hub, services: Services
) -> None:
    _ok(hub("users", "add", "anna", "--role", "admin", "--password-stdin", stdin=PASSWORD))
    made = _ok(hub("-v", "tokens", "create", "anna", "--name", "ci"))
    token = next(line for line in made.splitlines() if line.startswith("hub_"))
    assert "API token 1 (ci) for anna:" in made
    assert "It will not be shown again" in made
    as_json = json.loads(_ok(hub("tokens", "create", "anna", "--json")))
    assert as_json["token"].startswith(as_json["prefix"]) and as_json["id"] == 2

    assert users.actor_for_token(services, token) == Actor("anna", operator=True, role="admin")
    outputs = [
        hub("-v", "tokens", "list", "--json"),
        hub("tokens", "list", "anna"),
        hub("users", "show", "anna", "--json"),
        hub("users", "show", "anna"),
        hub("-v", "users", "list", "--json"),
    ]
    for out in outputs:
        _ok(out)
        for secret in (token, as_json["token"], PASSWORD):
            assert secret not in out.stdout + out.stderr
    rows = json.loads(outputs[0].stdout)
    assert [(r["id"], r["name"], r["prefix"]) for r in rows] == [
        (1, "ci", token[:10]),
        (2, None, as_json["prefix"]),
    ]
    assert rows[0]["last_used_at"] is not None and rows[0]["revoked_at"] is None
    assert "token" not in rows[0]

    revoked = _ok(hub("tokens", "revoke", "1"))
    assert f"API token 1 ({token[:10]}…) of anna revoked" in revoked
    assert users.actor_for_token(services, token) is None
    assert users.actor_for_token(services, as_json["token"]) is not None
    again = hub("tokens", "revoke", "1")
    assert again.returncode == 2 and "API token 1 was revoked already" in again.stderr


REFUSALS: list[tuple[tuple[str, ...], str, str]] = [
    (("users", "add", "bo", "--role", "boss"), PASSWORD,
     "role 'boss' is not known: use admin, consultant or viewer"),
    (("users", "add", "bo", "--role", "viewer", "--clients", "acme,ghost,zed"), PASSWORD,
     "no clients named 'ghost', 'zed'"),
    (("users", "add", "anna", "--role", "viewer"), PASSWORD,
     "a user named 'anna' exists already"),
    (("users", "add", "bo", "--role", "viewer"), "short\n",
     "the password for bo is too short: it must have at least 12 characters"),
    (("users", "add", "bo.nielsen@acme.dk", "--role", "viewer"), "Bo.Nielsen@acme.dk\n",
     "the password for bo.nielsen@acme.dk must not be the user name"),
    (("users", "add", "bo nielsen", "--role", "viewer"), PASSWORD,
     "user name 'bo nielsen' is not allowed"),
    (("users", "add", "bo", "--role", "viewer", "--language", "sv"), PASSWORD,
     "language 'sv' is not known: use da, nb or en"),
    (("users", "add", "bo", "--role", "viewer"), "",
     "--password-stdin: standard input was empty"),
    (("users", "remove", "anna"), "", "cannot remove anna: they are the last admin"),
    (("users", "set", "anna", "--role", "consultant"), "",
     "cannot make a consultant of anna: they are the last admin"),
    (("users", "set", "anna"), "", "nothing to change for anna"),
    (("users", "passwd", "ghost"), PASSWORD, "no user named 'ghost'"),
    (("tokens", "create", "ghost"), "", "no user named 'ghost'"),
    (("tokens", "revoke", "7"), "", "no API token with id 7"),
]  # fmt: skip


def test_refusals_exit_2_name_the_reason_and_change_nothing(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In-process (``hub.cli.main.main``), for speed: the same command line, stdin and exit."""

    def hub_in_process(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(["--db", db_url, *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    assert hub_in_process("clients", "add", "acme", "--country", "DK")[0] == 0
    added = hub_in_process("users", "add", "anna", "--role", "admin", "--password-stdin",
                           stdin=PASSWORD)  # fmt: skip
    assert added[0] == 0, added
    for args, stdin, expected in REFUSALS:
        with_stdin = (*args, "--password-stdin") if args[1] in ("add", "passwd") else args
        code, out, err = hub_in_process(*with_stdin, stdin=stdin)
        assert code == 2, (args, out, err)
        assert expected in err, (args, err)
        assert "Traceback" not in err and PASSWORD not in out + err
    code, out, _ = hub_in_process("users", "list", "--json")
    assert [(r["name"], r["role"], r["clients"]) for r in json.loads(out)] == [
        ("anna", "admin", None)
    ]
    assert json.loads(hub_in_process("tokens", "list", "--json")[1]) == []


def test_a_password_is_never_a_flag_nor_read_from_a_pipe_unasked(hub: Hub) -> None:
    flag = hub("users", "add", "bo", "--role", "admin", "--password", PASSWORD)
    assert flag.returncode == 2 and "No such option" in flag.stderr
    piped = hub("users", "add", "bo", "--role", "admin", stdin=PASSWORD)
    assert piped.returncode == 2
    assert "standard input is not a terminal" in piped.stderr
    assert "--password-stdin" in piped.stderr
    assert json.loads(_ok(hub("users", "list", "--json"))) == []


def _in_terminal(env: dict[str, str], args: list[str], answers: list[str]) -> tuple[int, str]:
    """Run ``hub ARGS`` at a pseudo-terminal, answering each password prompt in turn; the
    exit code and everything the terminal showed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: its terminal is the pseudo-terminal
        try:
            os.execve(sys.executable, [sys.executable, "-m", "hub.cli.main", *args], env)
        finally:
            os._exit(127)
    shown = b""
    asked = 0
    try:
        while True:
            ready, _, _ = select.select([fd], [], [], 60)
            if not ready:
                pytest.fail(f"hub {' '.join(args)} hangs at the terminal; it showed: {shown!r}")
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            shown += chunk
            while asked < len(answers) and shown.count(b"Password for") > asked:
                os.write(fd, answers[asked].encode() + b"\n")
                asked += 1
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        raise
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def test_the_password_is_asked_twice_at_a_terminal_and_not_shown(
    env: dict[str, str], hub: Hub, services: Services
) -> None:
    code, shown = _in_terminal(
        env, ["users", "add", "anna", "--role", "admin"], [PASSWORD, PASSWORD]
    )
    assert code == 0, shown
    assert shown.count("Password for anna") == 2 and "user anna: admin" in shown
    assert PASSWORD not in shown  # typed, not echoed
    assert users.authenticate(services, "anna", PASSWORD) is not None

    code, shown = _in_terminal(env, ["users", "passwd", "anna"], [PASSWORD + "!", PASSWORD])
    assert code == 2 and "the two passwords typed differ; nothing was changed" in shown
    assert users.authenticate(services, "anna", PASSWORD) is not None
