"""Serving the console: beside /healthz and /metrics on the daemon's port (``hub run
--http-port``), by ``hub web``, and by ``hub demo --serve``."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from hub.cli.main import main
from hub.daemon.health import HealthServer
from hub.demo import run_demo
from hub.demo.console import DEMO_USER, open_console
from hub.plugins import load_plugins
from tests.console.conftest import Console, csrf_of, password_of


def test_the_daemons_port_serves_health_metrics_and_the_console(console: Console) -> None:
    """What ``hub run --http-port`` serves: one URL for the probes and the people."""
    db = console.admin.db
    with HealthServer(db, lambda: True, console=console.app) as server:
        base = f"http://127.0.0.1:{server.port}"
        health = httpx.get(f"{base}/healthz", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert httpx.get(f"{base}/metrics", timeout=10).text.startswith("#")
        assert httpx.post(f"{base}/healthz", timeout=10).status_code == 405
        with httpx.Client(base_url=base, timeout=10) as browser:
            assert browser.get("/clients").headers["location"].startswith("/login")
            token = csrf_of(browser.get("/login").text)
            form = {"name": "bo", "password": password_of("bo"), "csrf_token": token}
            assert browser.post("/login", data=form).status_code == 303
            assert "acme" in browser.get("/clients").text
        assert httpx.get(f"{base}/api/v1/clients", timeout=10).status_code == 401


def test_hub_web_on_a_port_in_use_is_a_clear_error(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        code = main(["--db", db_url, "web", "--port", str(port)])
    finally:
        taken.close()
    assert code == 2
    said = capsys.readouterr().err
    assert f"127.0.0.1:{port}" in said and "another process uses it" in said


def _url_from(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    for line in process.stdout:
        found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if found:
            return found.group(1)
    raise AssertionError(f"no URL said; exit {process.wait()}")


@pytest.mark.slow
def test_hub_web_serves_until_interrupted(db_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "HUB_DATABASE_URL": db_url, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "hub.cli.main", "web", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        url = _url_from(process)
        assert httpx.get(f"{url}/login", timeout=10).status_code == 200
        assert httpx.get(f"{url}/api/v1/me", timeout=10).status_code == 401
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.mark.slow
def test_the_demo_serves_the_console_with_a_demo_user(tmp_path: Path) -> None:
    result = run_demo(load_plugins(), tmp_path / "work", lambda _line: None)
    server, password = open_console(result, load_plugins(), port=0)
    with server, httpx.Client(base_url=server.url, timeout=30) as browser:
        token = csrf_of(browser.get("/login").text)
        form = {"name": DEMO_USER, "password": password, "csrf_token": token}
        assert browser.post("/login", data=form).status_code == 303
        overview = browser.get("/").text
        for client in ("demo-dk", "demo-economic", "demo-no"):
            assert client in overview
