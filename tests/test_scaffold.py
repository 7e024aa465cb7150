"""``hub plugins new NAME``: the package it writes, the names it refuses, and the integrator's
path through it, really (a venv, ``pip install -e``, the conformance kit, ``hub sync``).

The generation and refusal tests run the CLI in-process (``hub.cli.main.main``: the same
mapping of errors to exit codes as the ``hub`` command). The lint test checks the generated
code with ruff and ``mypy --strict``, as integrators will. The last test is SLOW (about 15 s:
a pip install, the kit's test run, a server process and four ``hub`` commands, each a fresh
Python process); it is what proves that the package works outside this repository.
"""

from __future__ import annotations

import datetime as dt
import errno
import importlib
import importlib.metadata
import json
import os
import shlex
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import hub
from hub.cli.main import main
from hub.errors import InputError, InvalidDataError
from hub.model import ClientContext, InvoiceState, PluginSettings
from hub.plugins import ENTRY_POINT_GROUP
from hub.scaffold import DEMO_PORT, DEMO_TOKEN, MAX_NAME_LENGTH, hub_requirement, new_plugin

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
    assert f'"receivables-hub>={hub.__version__},<' in pyproject and '"httpx>=' in pyproject
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
        ("acme__books", "give 'acme_books'"),
        ("hub__acme", "holds '__'"),
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


def test_a_name_whose_package_is_importable_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``hub_NAME`` importable (a builtin plugin's package such as hub_delivery, whose entry
    points have other names): installing the new plugin would replace it."""
    modules = tmp_path / "modules"
    (modules / "hub_clashing").mkdir(parents=True)
    (modules / "hub_clashing" / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(modules))
    code, _, err = _hub(capsys, "plugins", "new", "clashing", "-d", str(tmp_path / "x"))
    assert code == 2
    assert "plugin name 'clashing' is refused" in err
    assert "hub_clashing is already installed" in err
    assert not (tmp_path / "x").exists()


def test_the_builtin_delivery_plugins_names_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if importlib.util.find_spec("hub_delivery") is None:
        pytest.skip("the builtin delivery plugin is not installed in this environment")
    code, _, err = _hub(capsys, "plugins", "new", "delivery", "-d", str(tmp_path / "x"))
    assert code == 2
    assert "plugin name 'delivery' is refused" in err
    assert "hub_delivery" in err


def test_a_name_whose_distribution_is_installed_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An installed distribution with the generated one's name as PEP 503 compares names
    (case, ``-``/``_``/``.`` alike), though no package or entry point of that name exists."""
    site = tmp_path / "site"
    info = site / "Receivables_Hub.Dist_Only-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Receivables_Hub.Dist_Only\nVersion: 1.0\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(site))
    code, _, err = _hub(capsys, "plugins", "new", "dist_only", "-d", str(tmp_path / "x"))
    assert code == 2
    assert "plugin name 'dist_only' is refused" in err
    assert "receivables-hub-dist-only is already installed (Receivables_Hub.Dist_Only 1.0)" in err


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


def test_a_directory_under_a_file_is_refused_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "README.md"
    a_file.write_text("mine", encoding="utf-8")
    target = a_file / "sub"
    code, _, err = _hub(capsys, "plugins", "new", "acme", "-d", str(target))
    assert code == 2, err
    assert f"cannot write the plugin into {target}" in err
    assert f"{a_file} is a file" in err
    assert "Traceback" not in err


def _failing_third_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Path.write_text fails from its third call on: the disk fills up midway."""
    write_text = Path.write_text
    calls: list[Path] = []

    def write(self: Path, *args: Any, **kwargs: Any) -> int:
        calls.append(self)
        if len(calls) >= 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", write)


def test_a_failure_midway_leaves_nothing_behind(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The package is written whole or not at all: no half package, no staging folder, and
    no folder made above the target; an OSError is the user's error (exit 2), naming the
    target and the reason."""
    out = tmp_path / "out"
    out.mkdir()
    target = out / "deep" / "plugin"
    _failing_third_write(monkeypatch)
    code, _, err = _hub(capsys, "plugins", "new", "acme", "-d", str(target))
    assert code == 2, err
    assert f"cannot write the plugin into {target}" in err
    assert os.strerror(errno.ENOSPC) in err
    assert list(out.iterdir()) == []


def test_a_failure_midway_leaves_an_empty_directory_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "empty"
    target.mkdir()
    _failing_third_write(monkeypatch)
    with pytest.raises(InputError, match="cannot write the plugin into"):
        new_plugin("acme", target)
    assert target.is_dir() and list(target.iterdir()) == []


def test_the_package_appears_whole_and_nothing_else_is_left(tmp_path: Path) -> None:
    """Into a new directory and into an empty one: no staging folder left beside or in it."""
    out = tmp_path / "out"
    out.mkdir()
    new_plugin("acme_books", out / "new")
    (out / "empty").mkdir()
    new_plugin("acme_books", out / "empty")
    assert sorted(p.name for p in out.iterdir()) == ["empty", "new"]
    assert _files(out / "new") == EXPECTED_FILES == _files(out / "empty")
    assert (out / "new").stat().st_mode == (out / "empty").stat().st_mode  # umask's, not 0700


def test_the_hub_requirement_has_an_upper_bound() -> None:
    """The range the plugin was made with: up to the next minor while 0.x, then the major."""
    assert hub_requirement("0.1.0") == "receivables-hub>=0.1.0,<0.2"
    assert hub_requirement("0.3.7") == "receivables-hub>=0.3.7,<0.4"
    assert hub_requirement("1.4.0") == "receivables-hub>=1.4.0,<2"
    assert hub_requirement() == hub_requirement(hub.__version__)


def test_new_plugin_raises_input_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Python keyword"):
        new_plugin("import", tmp_path / "plugin")
    assert not (tmp_path / "plugin").exists()


# --- the generated code is clean --------------------------------------------------------------


def _readme_mypy_command(package: Path) -> str:
    """The command the generated README gives for mypy with the hub installed editable."""
    readme = (package / "README.md").read_text(encoding="utf-8")
    commands = [line for line in readme.splitlines() if line.startswith("MYPYPATH=")]
    assert len(commands) == 1, "the README gives one MYPYPATH=... mypy command"
    return commands[0]


def _shell_path(tmp_path: Path) -> str:
    """A PATH on which ``python`` and ``mypy`` are this interpreter's, as in the integrator's
    activated venv."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, command in (("python", ""), ("mypy", " -m mypy")):
        script = bin_dir / name
        script.write_text(
            f'#!/bin/sh\nexec {shlex.quote(sys.executable)}{command} "$@"\n', encoding="utf-8"
        )
        script.chmod(0o755)
    return f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


def test_generated_code_is_ruff_clean_and_mypy_strict_clean(tmp_path: Path) -> None:
    """With the shortest and the longest allowed name: the line lengths change with it. mypy
    runs as the README says for an editable hub (this one is): strict from pyproject.toml."""
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
    if os.name == "nt":
        pytest.skip("the README's mypy command is for a POSIX shell")
    command = _readme_mypy_command(tmp_path / longest)
    done = subprocess.run(
        ["sh", "-c", command],
        cwd=tmp_path / longest,
        env={**os.environ, "PATH": _shell_path(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout}{done.stderr}"
    assert "Success: no issues found" in done.stdout


# --- the generated code, run in this process -------------------------------------------------


@pytest.fixture
def probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, ModuleType]]:
    """A plugin called ``probe`` generated and imported here: its modules by short name."""
    new_plugin("probe", tmp_path / "probe")
    monkeypatch.syspath_prepend(str(tmp_path / "probe"))
    modules = {
        short: importlib.import_module(f"hub_probe.{short}")
        for short in ("client", "fake", "mapping", "plugin")
    }
    try:
        yield modules
    finally:
        modules["client"].close_clients()
        for name in [m for m in sys.modules if m == "hub_probe" or m.startswith("hub_probe.")]:
            del sys.modules[name]


@pytest.fixture
def probe_api(probe: dict[str, ModuleType]) -> Iterator[Any]:
    """The probe's fake API, served, with one customer and two invoices."""
    api = probe["fake"].FakeApi(token="token-1")
    api.add_customer("1001", "Nordhavn Bageri ApS")
    for number in ("5001", "5002"):
        api.add_invoice(
            number,
            "1001",
            date=dt.date(2025, 1, 2),
            due_date=dt.date(2025, 1, 16),
            net_amount=Decimal("100.00"),
            vat_amount=Decimal("25.00"),
        )
    with api:
        yield api


def _context(url: str, token: str) -> ClientContext:
    return ClientContext(
        client_id=1,
        client_name="demo",
        plugin="probe",
        country="DK",
        currency="DKK",
        timezone="Europe/Copenhagen",
        today=dt.date(2025, 2, 1),
        settings=PluginSettings({"base_url": url, "api_token": token}, frozenset({"api_token"})),
    )


def test_a_replaced_client_stays_usable_until_close_clients(
    probe: dict[str, ModuleType], probe_api: Any
) -> None:
    """A changed token gets a new client; a call still running on the old one (another
    thread's) must not find it closed under it. close_clients() closes both."""
    client = probe["client"]
    old = client.client_for(_context(probe_api.url, "token-1"))
    new = client.client_for(_context(probe_api.url, "token-2"))
    assert new is not old
    assert client.client_for(_context(probe_api.url, "token-2")) is new
    assert old.send("GET", "/customers", params={"numbers": "1001"})["customers"]
    client.close_clients()
    for closed in (old, new):
        with pytest.raises(RuntimeError, match="closed"):
            closed.send("GET", "/customers", params={"numbers": "1001"})


@pytest.mark.parametrize("bad", ["50,02", " 5002", "5002 ", ""])
def test_a_number_that_cannot_be_asked_for_is_an_error_not_unknown(
    probe: dict[str, ModuleType], probe_api: Any, bad: str
) -> None:
    """Left out, it would be answered UNKNOWN ("the system does not know it"): wrong."""
    ctx = _context(probe_api.url, "token-1")
    for hook, numbers in (
        (probe["plugin"].fetch_invoice_status, ["5001", bad]),
        (probe["plugin"].fetch_customers, ["1001", bad]),
        (probe["plugin"].fetch_customer_balance, ["1001", bad]),
    ):
        with pytest.raises(InvalidDataError, match="cannot ask for the number") as raised:
            hook(ctx, numbers)
        assert repr(bad) in str(raised.value)
    assert probe_api.requests == []  # refused before asking


def test_statuses_and_customers_answer_the_numbers_asked(
    probe: dict[str, ModuleType], probe_api: Any
) -> None:
    ctx = _context(probe_api.url, "token-1")
    asked = ["5002", "9999", "5001"]
    statuses = probe["plugin"].fetch_invoice_status(ctx, asked)
    assert [s.invoice_number for s in statuses] == asked
    assert [s.state for s in statuses] == [
        InvoiceState.OPEN,
        InvoiceState.UNKNOWN,
        InvoiceState.OPEN,
    ]
    customers = probe["plugin"].fetch_customers(ctx, ["8999", "1001"])
    assert [c.customer_number for c in customers] == ["1001"]
    balances = probe["plugin"].fetch_customer_balance(ctx, ["1001"])
    assert [(b.customer_number, b.balance, b.currency) for b in balances] == [
        ("1001", Decimal("250.00"), "DKK")
    ]


def test_the_fakes_balance_is_in_the_customers_currency(probe: dict[str, ModuleType]) -> None:
    """Not the sum of several currencies labelled with one: a customer's invoices share a
    currency, and the balance is in it."""
    api = probe["fake"].FakeApi(token="t", currency="DKK")
    try:
        api.add_customer("1", "Fjellstua AS")
        api.add_customer("2", "Nobody Yet")
        dates = {"date": dt.date(2025, 1, 2), "due_date": dt.date(2025, 1, 16)}
        amounts = {"net_amount": Decimal("80.00"), "vat_amount": Decimal("20.00")}
        api.add_invoice("10", "1", currency="NOK", **dates, **amounts)
        api.add_invoice("11", "1", **dates, **amounts)  # the customer's currency
        with pytest.raises(ValueError, match="one currency a customer"):
            api.add_invoice("12", "1", currency="DKK", **dates, **amounts)
        status, _, body = api.handle(
            "GET", "/customers?numbers=1,2", {"authorization": "Bearer t"}, b""
        )
        assert status == 200
        balances = {c["number"]: (c["balance"], c["currency"]) for c in body["customers"]}
        assert balances == {"1": (Decimal("200.00"), "NOK"), "2": (Decimal("0.00"), "DKK")}
        assert api.invoices["11"].currency == "NOK"
    finally:
        api.stop()


def test_the_fakes_demo_token_is_the_one_the_cli_and_readme_give(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], probe: dict[str, ModuleType]
) -> None:
    """Step 4 says to run the fake in a second terminal (it stays in the foreground), with
    the port and token it uses unless told otherwise."""
    defaults = probe["fake"].arguments().parse_args([])
    assert (defaults.token, defaults.port) == (DEMO_TOKEN, DEMO_PORT)
    code, out, err = _hub(capsys, "plugins", "new", "acme", "-d", str(tmp_path / "acme"))
    assert code == 0, err
    step4 = out[out.index("  4. ") : out.index("then replace")]
    assert "python -m hub_acme.fake" in step4
    assert "foreground" in step4 and "second terminal" in step4
    assert f"api_token {DEMO_TOKEN}" in step4 and f"127.0.0.1:{DEMO_PORT}" in step4
    readme = " ".join((tmp_path / "acme" / "README.md").read_text(encoding="utf-8").split())
    assert "second terminal" in readme
    assert f"--set api_token={DEMO_TOKEN}" in readme
    assert f"--set base_url=http://127.0.0.1:{DEMO_PORT}" in readme


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
