"""Secret settings under a changed or lost key, given without the command line, and files
only the hub's user can read (issue 16).

- A new key reads old secrets only through old keys (``HUB_SECRET_KEY_OLD``, the key file's
  further lines); ``hub secrets rotate`` re-encrypts all of them under the new key in one
  transaction; a set/enable the keys cannot read everything for is refused, never leaving
  secrets under two keys.
- A deleted key file is never silently replaced while the database holds secrets.
- Secrets can come from a file, standard input or a hidden prompt.
- The data directory is 0700; the key file, the SQLite database and its -wal/-shm are 0600.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from hub import clients
from hub.db.engine import Database
from hub.errors import SecretKeyError
from hub.secrets import SecretBox
from tests.helpers import registry_with
from tests.sample_plugins import RecordingPlugin

ROOT = Path(__file__).resolve().parents[1]
SECRET = "tøp-sècret-🔑-value"

Hub = Callable[..., subprocess.CompletedProcess[str]]


def _tokens(db: Database) -> dict[tuple[str, str], str]:
    """(client, setting) -> the stored value of every secret setting."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT c.name, s.key, s.value FROM plugin_settings s"
                " JOIN client_plugins p ON s.client_plugin_id = p.id"
                " JOIN clients c ON p.client_id = c.id WHERE s.secret"
            )
        )
        return {(name, key): value for name, key, value in rows}


def _client_with_secret(db: Database, box: SecretBox, name: str, token: str) -> None:
    registry = registry_with(RecordingPlugin("alpha"))
    with db.session() as session:
        clients.add_client(session, name, "DK")
        clients.enable_plugin(session, registry, box, name, "alpha", {"api_token": token})


def _set(db: Database, box: SecretBox, name: str, values: dict[str, str]) -> None:
    registry = registry_with(RecordingPlugin("alpha"))
    with db.session() as session:
        clients.set_settings(session, registry, box, name, values)


# --- a new key: refused, never mixed; rotation -------------------------------------------------


def test_a_new_key_that_cannot_read_the_secrets_is_refused_and_changes_nothing(
    db: Database,
) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    _client_with_secret(db, SecretBox(old), "acme", "first")
    before = _tokens(db)
    with pytest.raises(SecretKeyError) as refused:
        _set(db, SecretBox(new), "acme", {"api_token": "second"})
    message = str(refused.value)
    assert "'acme'" in message and "alpha.api_token" in message
    assert "hub secrets rotate" in message and "HUB_SECRET_KEY_OLD" in message
    assert "second" not in message
    # Not even a non-secret setting of that client is changed with a key that cannot read it.
    with pytest.raises(SecretKeyError, match="'acme'"):
        _set(db, SecretBox(new), "acme", {"page_size": "5"})
    # Another client's first secret under the new key would leave two keys: refused too.
    registry = registry_with(RecordingPlugin("alpha"))
    with db.session() as session:
        clients.add_client(session, "beta", "DK")
    with pytest.raises(SecretKeyError, match="'acme'"), db.session() as session:
        clients.enable_plugin(
            session, registry, SecretBox(new), "beta", "alpha", {"api_token": "b"}
        )
    assert _tokens(db) == before
    assert SecretBox(old).decrypt(before[("acme", "api_token")], what="t") == "first"


def test_rotate_re_encrypts_every_secret_under_the_new_key(db: Database) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    _client_with_secret(db, SecretBox(old), "acme", "a-token")
    _client_with_secret(db, SecretBox(old), "beta", "b-token")
    both = SecretBox(new, old_keys=[old])
    # With the old key among the old keys, a set works (every secret stays readable).
    _set(db, both, "acme", {"api_token": "a-token-2"})
    with db.session() as session:
        assert clients.rotate_secrets(session, both) == (2, 1)
    only_new, only_old = SecretBox(new), SecretBox(old)
    tokens = _tokens(db)
    assert only_new.decrypt(tokens[("acme", "api_token")], what="t") == "a-token-2"
    assert only_new.decrypt(tokens[("beta", "api_token")], what="t") == "b-token"
    assert all(only_old.key_of(token) is None for token in tokens.values())


def test_rotate_changes_nothing_when_one_secret_is_unreadable(db: Database) -> None:
    old, lost, new = Fernet.generate_key(), Fernet.generate_key(), Fernet.generate_key()
    _client_with_secret(db, SecretBox(old), "acme", "a")
    _client_with_secret(db, SecretBox(old), "beta", "b")
    with db.engine.begin() as conn:  # as an earlier hub let it happen: beta's under another key
        conn.execute(
            sa.text("UPDATE plugin_settings SET value = :v WHERE value = :old"),
            {"v": SecretBox(lost).encrypt("b"), "old": _tokens(db)[("beta", "api_token")]},
        )
    before = _tokens(db)
    with pytest.raises(SecretKeyError) as refused, db.session() as session:
        clients.rotate_secrets(session, SecretBox(new, old_keys=[old]))
    assert "nothing re-encrypted" in str(refused.value)
    assert "'beta'" in str(refused.value) and "'acme'" not in str(refused.value)
    assert _tokens(db) == before


# --- a lost key file ---------------------------------------------------------------------------


def test_a_missing_key_file_is_not_replaced_while_the_database_holds_secrets(
    db: Database, hub_env: Path
) -> None:
    from hub.operations.secrets import secret_box  # (here: the test also ran before it existed)

    box = secret_box(lambda: db)  # the key file, made on first use: no secrets yet
    _client_with_secret(db, box, "acme", "a")
    key_file = hub_env / "secret.key"
    assert key_file.exists()
    key_file.unlink()
    registry = registry_with(RecordingPlugin("alpha"))
    for attempt in (
        lambda: _set(db, secret_box(lambda: db), "acme", {"api_token": "b"}),
        lambda: secret_box(lambda: db).encrypt("x"),
        lambda: clients.client_context(
            clients.get_client(session, "acme"),
            registry,
            secret_box(lambda: db),
            today=dt.date(2026, 1, 1),
        ),
    ):
        with db.session() as session, pytest.raises(SecretKeyError) as refused:
            attempt()
        message = str(refused.value)
        assert str(key_file) in message and "holds 1 secret" in message
        assert "restore the key file" in message and "HUB_SECRET_KEY" in message
        assert not key_file.exists()


def test_a_new_key_is_made_for_a_database_without_secrets(db: Database, hub_env: Path) -> None:
    from hub.operations.secrets import secret_box

    box = secret_box(lambda: db)
    assert box.decrypt(box.encrypt("x"), what="t") == "x"
    assert (hub_env / "secret.key").exists()


# --- the command line --------------------------------------------------------------------------


@pytest.fixture
def hub(tmp_path: Path, hub_env: Path, db_url: str) -> Hub:
    site = tmp_path / "site"
    dist = site / "hub_test_plugins-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: hub_test_plugins\nVersion: 0\n")
    (dist / "entry_points.txt").write_text(
        "[receivables_hub]\nalpha = tests.sample_plugins:alpha\n"
    )

    def run(
        *args: str, env: dict[str, str] | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        full_env = {
            **os.environ,
            "HUB_DATA_DIR": str(hub_env),
            "HUB_DATABASE_URL": db_url,
            "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)]),
            "COLUMNS": "200",
            **(env or {}),
        }
        return subprocess.run(
            [sys.executable, "-m", "hub.cli.main", *args],
            capture_output=True,
            text=True,
            env=full_env,
            input=stdin,
            timeout=60,
            check=False,
        )

    return run


def test_cli_new_key_refused_then_rotated_with_the_old_key(hub: Hub, db_url: str) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    assert hub("clients", "add", "acme", "--country", "DK").returncode == 0
    enabled = hub(
        "clients", "enable", "acme", "alpha", "--secret-stdin", "api_token",
        env={"HUB_SECRET_KEY": old}, stdin=SECRET + "\n",
    )  # fmt: skip
    assert enabled.returncode == 0, enabled.stderr

    refused = hub(
        "clients", "set", "acme", "--secret-stdin", "api_token",
        env={"HUB_SECRET_KEY": new}, stdin="other\n",
    )  # fmt: skip
    assert refused.returncode == 1
    assert "'acme'" in refused.stderr and "hub secrets rotate" in refused.stderr
    checked = hub("secrets", "check", env={"HUB_SECRET_KEY": new})
    assert (
        checked.returncode == 1 and "cannot read client 'acme': alpha.api_token" in checked.stderr
    )

    rotated = hub("secrets", "rotate", env={"HUB_SECRET_KEY": new, "HUB_SECRET_KEY_OLD": old})
    assert rotated.returncode == 0, rotated.stderr
    assert "1 secret(s) re-encrypted under the key from HUB_SECRET_KEY" in rotated.stdout
    checked = hub("secrets", "check", env={"HUB_SECRET_KEY": new})
    assert checked.returncode == 0 and "1 under the key from HUB_SECRET_KEY" in checked.stdout
    for out in (enabled, refused, checked, rotated):
        assert SECRET not in out.stdout + out.stderr
    db = Database(db_url)
    try:
        token = _tokens(db)[("acme", "api_token")]
    finally:
        db.dispose()
    assert SecretBox(new.encode()).decrypt(token, what="t") == SECRET


def test_cli_rotate_with_a_new_key_in_the_key_file(hub: Hub, hub_env: Path) -> None:
    assert hub("clients", "add", "acme", "--country", "DK").returncode == 0
    enabled = hub("clients", "enable", "acme", "alpha", "--secret-stdin", "api_token", stdin="t")
    assert enabled.returncode == 0, enabled.stderr
    key_file = hub_env / "secret.key"
    first = key_file.read_bytes().strip()

    rotated = hub("secrets", "rotate", "--new-key")
    assert rotated.returncode == 0, rotated.stderr
    assert (
        "1 secret(s) re-encrypted" in rotated.stdout
        and "(1 were under an old key)" in rotated.stdout
    )
    keys = key_file.read_bytes().split()
    assert len(keys) == 2 and keys[1] == first and keys[0] != first
    assert key_file.stat().st_mode & 0o777 == 0o600

    dropped = hub("secrets", "rotate", "--drop-old")
    assert dropped.returncode == 0 and "1 old key(s) removed" in dropped.stdout
    assert key_file.read_bytes().split() == [keys[0]]
    assert hub("secrets", "check").returncode == 0
    refused = hub("secrets", "rotate", "--new-key", env={"HUB_SECRET_KEY": keys[0].decode()})
    assert refused.returncode == 1 and "HUB_SECRET_KEY_OLD" in refused.stderr


def test_cli_a_deleted_key_file_is_refused_not_replaced(hub: Hub, hub_env: Path) -> None:
    assert hub("clients", "add", "acme", "--country", "DK").returncode == 0
    assert hub("clients", "enable", "acme", "alpha", "--set", "api_token=t").returncode == 0
    key_file = hub_env / "secret.key"
    key_file.unlink()
    for args in (("clients", "set", "acme", "api_token=u"), ("sync", "acme"), ("secrets", "check")):
        out = hub(*args)
        assert out.returncode != 0, args
        assert f"the secret key file {key_file} is missing" in out.stderr + out.stdout, args
        assert "holds 1 secret setting(s)" in out.stderr + out.stdout, args
        assert not key_file.exists()
    assert hub("clients", "list").returncode == 0  # what needs no key still works


def test_cli_secrets_from_a_file_stdin_or_prompt_never_on_the_command_line(
    hub: Hub, tmp_path: Path, db_url: str, hub_env: Path
) -> None:
    assert hub("clients", "add", "acme", "--country", "DK").returncode == 0
    secret_file = tmp_path / "token"
    secret_file.write_text(SECRET + "\n", encoding="utf-8")
    outs = [hub("clients", "enable", "acme", "alpha", "--secret-file", f"api_token={secret_file}")]

    def stored() -> str:
        db = Database(db_url)
        try:
            token = _tokens(db)[("acme", "api_token")]
        finally:
            db.dispose()
        return SecretBox((hub_env / "secret.key").read_bytes().strip()).decrypt(token, what="t")

    assert outs[-1].returncode == 0, outs[-1].stderr
    assert stored() == SECRET
    outs.append(
        hub("clients", "set", "acme", "--secret-stdin", "api_token", stdin="from-stdin\r\n")
    )
    assert outs[-1].returncode == 0, outs[-1].stderr
    assert stored() == "from-stdin"
    prompt = hub("clients", "set", "acme", "--secret-prompt", "api_token", stdin="typed\ntyped\n")
    outs.append(prompt)
    assert prompt.returncode == 0, prompt.stderr
    assert stored() == "typed"

    twice = hub("clients", "set", "acme", "api_token=x", "--secret-stdin", "api_token", stdin="y")
    missing = hub("clients", "set", "acme", "--secret-file", f"api_token={tmp_path / 'nope'}")
    empty = hub("clients", "set", "acme", "--secret-stdin", "api_token", stdin="")
    nothing = hub("clients", "set", "acme")
    assert twice.returncode == 2 and "'api_token' is given twice" in twice.stderr
    assert missing.returncode == 2 and "nope" in missing.stderr and "api_token" in missing.stderr
    assert empty.returncode == 2 and "standard input was empty" in empty.stderr
    assert nothing.returncode == 2 and "no setting given" in nothing.stderr
    assert stored() == "typed"
    for out in outs:
        assert SECRET not in out.stdout + out.stderr and "typed" not in out.stdout


# --- file modes --------------------------------------------------------------------------------


def test_the_data_directory_key_file_and_database_are_private(tmp_path: Path) -> None:
    data = tmp_path / "new" / "hub-data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env |= {
        "HUB_DATA_DIR": str(data),
        "PYTHONPATH": str(ROOT),
    }

    def hub(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "hub.cli.main", *args],
            capture_output=True, text=True, env=env, timeout=60, check=False,
            preexec_fn=lambda: os.umask(0o022),  # the usual umask would make them 0755/0644
        )  # fmt: skip

    added = hub("clients", "add", "acme", "--country", "DK")
    assert added.returncode == 0, added.stderr
    # No secret stored yet, so no key was needed; the first secret makes the key file.
    made = subprocess.run(
        [sys.executable, "-c", "from hub.secrets import SecretBox; SecretBox().encrypt('x')"],
        env=env, check=False, preexec_fn=lambda: os.umask(0o022),
    )  # fmt: skip
    assert made.returncode == 0
    assert data.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "new").stat().st_mode & 0o777 == 0o700  # made by the hub too
    assert (data / "hub.sqlite3").stat().st_mode & 0o777 == 0o600
    assert (data / "secret.key").stat().st_mode & 0o777 == 0o600
    # SQLite makes the -wal and -shm files while a connection is open, with the database
    # file's mode, whatever the umask of the process that opens it.
    umask = os.umask(0o022)
    try:
        with contextlib.closing(sqlite3.connect(data / "hub.sqlite3")) as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("SELECT count(*) FROM clients").fetchall()
            side = {p.name: p.stat().st_mode & 0o777 for p in data.glob("hub.sqlite3-*")}
    finally:
        os.umask(umask)
    assert side == {"hub.sqlite3-wal": 0o600, "hub.sqlite3-shm": 0o600}


# --- two rotations at the same moment ----------------------------------------------------------


def test_two_rotations_with_new_keys_at_once_leave_every_secret_readable(
    db_url: str, hub_env: Path
) -> None:
    """Each puts a new key in the key file and re-encrypts: one after the other (the secrets'
    lock), so neither key is lost and the secrets end under the key the file names first."""
    from hub.operations import secrets as secret_ops
    from hub.operations.context import Actor, Context, Services

    setup = Database(db_url)
    try:
        _client_with_secret(setup, secret_ops.secret_box(lambda: setup), "acme", "a")
        _client_with_secret(setup, secret_ops.secret_box(lambda: setup), "beta", "b")
    finally:
        setup.dispose()
    start = threading.Barrier(2)
    done: list[object] = []

    def rotate() -> None:
        db = Database(db_url)
        try:
            ctx = Context(
                Services(db, registry_with(), secret_ops.secret_box(lambda: db)), Actor("t")
            )
            start.wait()
            done.append(secret_ops.rotate(ctx, new_key=True))
        except Exception as exc:  # recorded: the assertion below shows it
            done.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=rotate) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(d, secret_ops.Rotation) and d.secrets == 2 for d in done), done
    keys = (hub_env / "secret.key").read_bytes().split()
    assert len(keys) == 3
    db = Database(db_url)
    try:
        tokens = _tokens(db)
    finally:
        db.dispose()
    current = SecretBox(keys[0])
    assert sorted(current.decrypt(v, what="t") for v in tokens.values()) == ["a", "b"]
