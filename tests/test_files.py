"""hub.toolkit.files: key escaping, file names from keys, and files written once, atomically."""

from __future__ import annotations

import errno
import hashlib
import os
import threading
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub import secrets as hub_secrets
from hub.errors import RemoteServerError, SecretKeyError
from hub.toolkit import files
from hub.toolkit.files import MAX_NAME, escape_key, key_file_name, write_once

ESCAPED_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-%")


def _sha(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _names(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --- escape_key --------------------------------------------------------------------------------


def test_escape_key_examples() -> None:
    assert escape_key("") == ""
    assert escape_key("Az09._-") == "Az09._-"
    assert escape_key("case:12") == "case%3A12"
    assert escape_key("a%3A") == "a%253A"  # '%' is escaped: injective
    assert escape_key("Æ/..") == "%C3%86%2F.."
    assert escape_key("../x/æ%") == "..%2Fx%2F%C3%A6%25"
    assert escape_key("a b~\n") == "a%20b%7E%0A"
    assert escape_key("\ud800") == "%ED%A0%80"  # a lone surrogate is escaped, not refused


@given(st.text(), st.text())
def test_escape_key_is_injective_and_safe(a: str, b: str) -> None:
    escaped = escape_key(a)
    assert set(escaped) <= ESCAPED_CHARS
    assert (escaped == escape_key(b)) == (a == b)


# --- key_file_name -----------------------------------------------------------------------------


def test_short_names_spell_out_the_key() -> None:
    assert key_file_name("case:12") == "case%3A12"
    assert key_file_name("message:12", suffix=".eml") == "message%3A12.eml"
    assert key_file_name("case:12", prefix="creditnote-", suffix=".csv") == (
        "creditnote-case%3A12.csv"
    )
    exact = "k" * (MAX_NAME - 4)
    assert key_file_name(exact, suffix=".eml") == f"{exact}.eml"  # exactly MAX_NAME: kept


def test_long_names_keep_a_prefix_and_the_keys_hash() -> None:
    # The delivery plugin's .eml names and generic_csv's <kind>-<key>.csv names, as before.
    key = "k" * 300
    assert key_file_name(key, suffix=".eml") == f"{'k' * (200 - 64 - 1 - 4)}~{_sha(key)}.eml"
    key = "x" * 500
    assert key_file_name(key, prefix="voucher-", suffix=".csv") == (
        f"voucher-{'x' * (200 - 8 - 4 - 1 - 64)}~{_sha(key)}.csv"
    )
    key = "æ" * 40  # 240 characters escaped: the cut may fall inside an escape
    name = key_file_name(key, max_length=100)
    assert name == f"{escape_key(key)[:35]}~{_sha(key)}"
    assert len(name) == 100
    for key in ("y" * 201, "y" * 202, "y" * 200 + "z"):
        assert len(key_file_name(key, prefix="a-", suffix=".csv")) == MAX_NAME
    assert key_file_name("y" * 300) != key_file_name("y" * 301)


def test_a_prefix_and_suffix_without_room_for_the_hash_are_refused() -> None:
    assert key_file_name("k", prefix="p" * 100, suffix="s" * 100, max_length=202) == (
        f"{'p' * 100}k{'s' * 100}"
    )
    with pytest.raises(ValueError, match="no room"):
        key_file_name("k" * 10, prefix="p" * 100, suffix="s" * 100, max_length=202)


@given(st.text(max_size=60), st.text(max_size=60), st.integers(min_value=80, max_value=120))
def test_file_names_are_safe_bounded_and_injective(a: str, b: str, max_length: int) -> None:
    name = key_file_name(a, prefix="kind-", suffix=".csv", max_length=max_length)
    # "~" only joins the hash of a key too long to spell out.
    assert set(name) <= ESCAPED_CHARS | {"~"}
    assert name.startswith("kind-") and name.endswith(".csv")
    assert len(name.encode()) <= max_length
    assert (name == key_file_name(b, prefix="kind-", suffix=".csv", max_length=max_length)) == (
        a == b
    )


# --- write_once --------------------------------------------------------------------------------


def test_write_once_creates_then_never_overwrites(tmp_path: Path) -> None:
    directory = tmp_path / "a" / "b"  # created if missing
    assert write_once(directory, "x.csv", b"first") is True
    assert write_once(directory, "x.csv", b"first") is False
    assert write_once(directory, "x.csv", b"second") is False
    assert (directory / "x.csv").read_bytes() == b"first"
    assert _names(directory) == ["x.csv"]  # no temporary file left


def test_write_once_honours_the_mode(tmp_path: Path) -> None:
    assert write_once(tmp_path, "private", b"key", mode=0o600)
    assert (tmp_path / "private").stat().st_mode & 0o777 == 0o600
    umask = os.umask(0o022)
    try:
        assert write_once(tmp_path, "public", b"text")
    finally:
        os.umask(umask)
    assert (tmp_path / "public").stat().st_mode & 0o777 == 0o644  # 0o666 less the umask


def test_concurrent_writers_make_one_whole_file(tmp_path: Path) -> None:
    barrier = threading.Barrier(8)
    created: list[bool] = []

    def write(n: int) -> None:
        barrier.wait()
        created.append(write_once(tmp_path, "x.eml", f"writer {n}\n".encode() * 1000))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(created) == [False] * 7 + [True]
    assert _names(tmp_path) == ["x.eml"]
    content = (tmp_path / "x.eml").read_bytes()
    assert len(set(content.splitlines())) == 1 and len(content.splitlines()) == 1000


def test_the_file_appears_only_when_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_link = os.link
    seen: list[bytes] = []

    def checking_link(src: str, dst: str) -> None:
        assert not Path(dst).exists()
        seen.append(Path(src).read_bytes())  # complete and fsynced before it gets its name
        real_link(src, dst)

    monkeypatch.setattr(files.os, "link", checking_link)
    assert write_once(tmp_path, "x", b"all of it")
    assert seen == [b"all of it"]


def test_without_hard_links_it_falls_back_to_a_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(src: str, dst: str) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(files.os, "link", no_links)
    assert write_once(tmp_path, "x", b"first") is True
    assert write_once(tmp_path, "x", b"second") is False
    assert (tmp_path / "x").read_bytes() == b"first"
    assert _names(tmp_path) == ["x"]


def test_without_hard_links_a_file_made_meanwhile_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def another_writer_then_no_links(src: str, dst: str) -> None:
        Path(dst).write_bytes(b"theirs")
        raise OSError(errno.ENOTSUP, "Operation not supported")

    monkeypatch.setattr(files.os, "link", another_writer_then_no_links)
    assert write_once(tmp_path, "x", b"ours") is False
    assert (tmp_path / "x").read_bytes() == b"theirs"
    assert _names(tmp_path) == ["x"]


def test_other_link_failures_are_reported_and_leave_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_disk(src: str, dst: str) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(files.os, "link", broken_disk)
    with pytest.raises(RemoteServerError, match=r"cannot write '.*x': Input/output error"):
        write_once(tmp_path, "x", b"data")
    assert _names(tmp_path) == []


def test_an_unwritable_directory_is_a_remote_server_error_naming_the_path(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    target = blocker / "outbox" / "x.csv"
    with pytest.raises(RemoteServerError) as caught:
        write_once(blocker / "outbox", "x.csv", b"data")
    assert str(caught.value).startswith(f"cannot write {str(target)!r}: ")
    with pytest.raises(RemoteServerError, match="cannot write"):
        write_once(blocker, "x.csv", b"data")  # the directory is a file


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root may write anywhere"
)
def test_a_read_only_directory_is_a_remote_server_error(tmp_path: Path) -> None:
    directory = tmp_path / "ro"
    directory.mkdir()
    directory.chmod(0o500)
    try:
        with pytest.raises(RemoteServerError, match="Permission denied"):
            write_once(directory, "x.csv", b"data")
    finally:
        directory.chmod(0o700)
    assert _names(directory) == []


# --- the secret key file uses it ---------------------------------------------------------------


def test_the_secret_key_file_is_written_once_with_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret.key"
    key = hub_secrets._load_or_create_key_file(path)
    assert len(key) == 44 and path.read_bytes() == key
    assert path.stat().st_mode & 0o777 == 0o600
    assert hub_secrets._load_or_create_key_file(path) == key


def test_an_unwritable_key_file_is_a_secret_key_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_disk(src: str, dst: str) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(files.os, "link", broken_disk)
    with pytest.raises(SecretKeyError, match="cannot create the secret key file: cannot write"):
        hub_secrets._load_or_create_key_file(tmp_path / "secret.key")
    assert _names(tmp_path) == []
