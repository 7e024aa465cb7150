"""``hub plugins new NAME``: the package it writes, the names it refuses, and the integrator's
path through it, really (a venv, ``pip install -e``, the conformance kit, ``hub sync``).

The generation and refusal tests run the CLI in-process (``hub.cli.main.main``: the same
mapping of errors to exit codes as the ``hub`` command). The lint test checks the generated
code with ruff and ``mypy --strict``, as integrators will. The last test is SLOW (about 15 s:
a pip install, the kit's test run, a server process and four ``hub`` commands, each a fresh
Python process); it is what proves that the package works outside this repository.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path

import pytest

import hub
from hub.cli.main import main
from hub.errors import InputError
from hub.plugins import ENTRY_POINT_GROUP
from hub.scaffold import MAX_NAME_LENGTH, new_plugin

# The files every generated package has, for a plugin called acme_books.
EXPECTED_FILES = {
    "README.md",
    "pyproject.toml",
    "hub_acme_books/__init__.py",
    "hub_acme_books/client.py",
    "hub_acme_books/fake.py",
    "hub_acme_books/mapping.py",
    "hub_acme_books/plugin.py",
    "hub_acme_books/py.typed",
    "tests/fake_backend.py",
    "tests/test_conformance.py",
}


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _hub(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


# --- generation -------------------------------------------------------------------------------


def test_new_writes_a_package_named_after_the_plugin(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "plugin"
    code, out, err = _hub(capsys, "plugins", "new", "acme_books", "--directory", str(target))
    assert code == 0, err
    assert _files(target) == EXPECTED_FILES
    for name in EXPECTED_FILES:  # every file made is named in the output
        assert str(target / name) in out
    assert "pip install -e" in out and "pytest" in out and "hub plugins list" in out

    pyproject = (target / "pyproject.toml").read_text(encoding="utf-8")
    assert 'name = "receivables-hub-acme-books"' in pyproject
    assert "[project.entry-points.receivables_hub]\n" in pyproject
    assert 'acme_books = "hub_acme_books.plugin"' in pyproject
    assert '"receivables-hub>=' in pyproject and '"httpx>=' in pyproject
    assert 'test = ["pytest>=8"]' in pyproject
    client = (target / "hub_acme_books" / "client.py").read_text(encoding="utf-8")
    assert 'NAME = "acme_books"' in client
    assert "from hub_acme_books import mapping" in client
    tests = (target / "tests" / "test_conformance.py").read_text(encoding="utf-8")
    assert "class TestAcmeBooksConformance(PluginConformance):" in tests
    assert 'plugin = "acme_books"' in tests
    readme = (target / "README.md").read_text(encoding="utf-8")
    assert "pip install -e '.[test]'" in readme
    assert "hub clients enable demo acme_books" in readme
    for path in target.rglob("*"):
        if path.is_file():  # no placeholder or template suffix left behind
            assert "${" not in path.read_text(encoding="utf-8"), path
            assert not path.name.endswith(".tmpl"), path


def test_new_writes_to_receivables_hub_name_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = _hub(capsys, "plugins", "new", "acme_books")
    assert code == 0, err
    assert _files(tmp_path / "receivables-hub-acme-books") == EXPECTED_FILES


def test_new_plugin_returns_the_files_it_made_and_takes_an_empty_directory(
    tmp_path: Path,
) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    made = new_plugin("acme_books", target)
    assert {p.relative_to(target).as_posix() for p in made} == EXPECTED_FILES
    assert all(p.is_file() for p in made)


def _installed_plugin() -> str | None:
    names = sorted(ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))
    return names[0] if names else None


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("Acme", "lowercase letters, digits and underscores"),
        ("1acme", "starting with a letter"),
        ("ac-me", "lowercase letters, digits and underscores"),
        ("acme books", "lowercase letters, digits and underscores"),
        ("", "lowercase letters, digits and underscores"),
        ("class", "Python keyword"),
        ("acme_", "ends with '_'"),
        ("a" * (MAX_NAME_LENGTH + 1), f"longer than {MAX_NAME_LENGTH} characters"),
        ("hub", "the hub's own name"),
        ("hub_acme", "give 'acme'"),
    ],
)
def test_bad_names_are_refused_with_the_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, reason: str
) -> None:
    target = tmp_path / "plugin"
    code, _, err = _hub(capsys, "plugins", "new", name, "--directory", str(target))
    assert code == 2
    assert f"plugin name {name!r} is refused" in err
    assert reason in err
    assert not target.exists()


def test_the_name_of_an_installed_plugin_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    installed = _installed_plugin()
    if installed is None:
        pytest.skip("no plugin is installed in this environment")
    code, _, err = _hub(capsys, "plugins", "new", installed, "-d", str(tmp_path / "x"))
    assert code == 2
    assert f"plugin name {installed!r} is refused" in err
    assert "already installed" in err


def test_a_directory_that_is_not_empty_is_refused_and_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "work"
    target.mkdir()
    (target / "notes.txt").write_text("mine", encoding="utf-8")
    code, _, err = _hub(capsys, "plugins", "new", "acme", "--directory", str(target))
    assert code == 2
    assert f"directory {target} is not empty" in err
    assert _files(target) == {"notes.txt"}

    a_file = tmp_path / "file"
    a_file.write_text("mine", encoding="utf-8")
    code, _, err = _hub(capsys, "plugins", "new", "acme", "--directory", str(a_file))
    assert code == 2
    assert "is a file" in err


def test_new_plugin_raises_input_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Python keyword"):
        new_plugin("import", tmp_path / "plugin")
    assert not (tmp_path / "plugin").exists()


# --- the generated code is clean --------------------------------------------------------------


def _hub_source_root() -> str:
    """Where ``import hub`` comes from: mypy cannot follow an editable install's import
    hook, so it is told the folder that holds ``hub/``."""
    return str(Path(hub.__file__).resolve().parent.parent)


def test_generated_code_is_ruff_clean_and_mypy_strict_clean(tmp_path: Path) -> None:
    """With the shortest and the longest allowed name: the line lengths change with it."""
    longest = "long_" + "n" * (MAX_NAME_LENGTH - len("long_"))
    for name in ("acme", longest):
        new_plugin(name, tmp_path / name)
        for command in (["check", "."], ["format", "--check", "."]):
            done = subprocess.run(
                [sys.executable, "-m", "ruff", *command],
                cwd=tmp_path / name,
                capture_output=True,
                text=True,
                check=False,
            )
            assert done.returncode == 0, f"ruff {command} on {name}:\n{done.stdout}{done.stderr}"
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "."],
        cwd=tmp_path / longest,
        env={**os.environ, "MYPYPATH": _hub_source_root()},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"mypy --strict:\n{done.stdout}{done.stderr}"


# --- the integrator's path (SLOW) -------------------------------------------------------------

#: The fake's demo data (``seed_demo`` in the template's fake.py): six invoices, one paid.
DEMO_OPEN_INVOICES = 5
TIMEOUT = 120


def _child_venv(root: Path) -> Path:
    """A venv that sees this environment (the hub, its dependencies, pip, pytest) through a
    ``.pth`` file; ``site.addsitedir`` so the editable installs' own ``.pth`` files work."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=TIMEOUT
    )
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    child_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
        timeout=TIMEOUT,
    ).stdout.strip()
    parent_site = sysconfig.get_paths()["purelib"]
    (Path(child_site) / "_parent_env.pth").write_text(
        f"import site; site.addsitedir({parent_site!r})\n", encoding="utf-8"
    )
    return python


@pytest.mark.slow
def test_the_integrators_path_install_kit_and_sync(tmp_path: Path, hub_env: Path) -> None:
    """SLOW. Generate, ``pip install -e`` into a venv, ``hub plugins list``, the kit's tests
    (``pytest``), then the fake as a server process and ``hub sync`` from it."""
    name = "acme"
    package = tmp_path / "receivables-hub-acme"
    new_plugin(name, package)
    python = _child_venv(tmp_path / "venv")
    env = {**os.environ, "HUB_DATA_DIR": str(hub_env), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("HUB_DATABASE_URL", None)

    def run(*args: str, cwd: Path = tmp_path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(python), *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )

    def hub_cli(*args: str) -> subprocess.CompletedProcess[str]:
        done = run("-m", "hub.cli.main", *args)
        assert done.returncode == 0, f"hub {' '.join(args)}:\n{done.stdout}{done.stderr}"
        return done

    installed = run("-m", "pip", "install", "--no-deps", "-e", str(package))
    assert installed.returncode == 0, installed.stdout + installed.stderr

    listed = json.loads(hub_cli("plugins", "list", "--json").stdout)
    assert name in [p["name"] for p in listed["plugins"]]
    assert [e for e in listed["errors"] if e["name"] == name] == []

    kit = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests", cwd=package)
    assert kit.returncode == 0, kit.stdout + kit.stderr
    assert " passed" in kit.stdout

    token = "demo-token-5f0b3c9e"
    fake = subprocess.Popen(
        [str(python), "-m", f"hub_{name}.fake", "--port", "0", "--token", token],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(TIMEOUT, fake.kill)  # a fake that never prints is killed
    watchdog.start()
    try:
        assert fake.stdout is not None
        url = fake.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url or fake.communicate()[1]
        hub_cli("clients", "add", "demo", "--country", "DK")
        hub_cli(
            "clients",
            "enable",
            "demo",
            name,
            "--set",
            f"base_url={url}",
            "--set",
            f"api_token={token}",
        )
        synced = hub_cli("sync", "demo", "--json")
    finally:
        watchdog.cancel()
        fake.terminate()
        fake.communicate(timeout=10)
    report = json.loads(synced.stdout)
    assert report["outcome"] == "ok"
    assert report["plugin"] == name
    assert report["new"] == DEMO_OPEN_INVOICES
    assert report["failed"] == 0 and report["errors"] == []
    assert token not in synced.stdout + synced.stderr
