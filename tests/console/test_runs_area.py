"""Runs and health in the console, over real HTTP: each client's last successful sync and
latest runs; a client's run history; "run sync now" (a POST with the CSRF token), which runs
the sync, the dunning cycle and delivery as ``hub sync`` does and shows what it did. The API's
JSON is the CLI's ``--json``."""

from __future__ import annotations

import httpx

from hub.operations import client_health, clients, flows
from tests.console.area_support import Cli, api_json, cli, no_secret_in
from tests.console.conftest import Console, csrf_of
from tests.sample_plugins import invoice

__all__ = ["cli"]  # a fixture


def _ledger(console: Console) -> object:
    return console.admin.registry.pm.get_plugin("ledger")


def _sync(browser: httpx.Client, client: str, **form: str) -> httpx.Response:
    token = csrf_of(browser.get(f"/clients/{client}/runs").text)
    return browser.post(f"/clients/{client}/sync", data={**form, "csrf_token": token})


def test_run_sync_now_syncs_and_shows_what_it_did(console: Console) -> None:
    ledger = _ledger(console)
    ledger.invoices = {"1": invoice("1"), "2": invoice("2")}  # type: ignore[attr-defined]
    flows.set_rules(console.admin, "acme", ["auto_start=true"])
    bo = console.login("bo")
    before = bo.get("/clients/acme/runs")
    assert "aldrig" in before.text and "Synkronisér nu" in before.text  # never synced
    done = _sync(bo, "acme")
    assert done.status_code == 200
    assert 'Resultat: <span class="outcome ok">ok</span>' in done.text
    assert "via ledger" in done.text and "Fakturaer og kunder" in done.text
    page = bo.get("/clients/acme/runs")
    health = client_health.client_health(console.admin, "acme")
    assert health.last_successful_sync is not None
    assert health.latest["sync"] is not None and health.latest["sync"]["outcome"] == "ok"
    assert "aldrig" in page.text  # the recurring and postings jobs never ran
    assert page.text.count('<span class="outcome ok">ok</span>') == 2  # latest, and the history
    overview = bo.get("/runs")
    assert "/clients/acme/runs" in overview.text and "nordic" not in overview.text
    no_secret_in(before, done, page, overview)


def test_a_sync_that_fails_shows_why(console: Console) -> None:
    """nordic has no accounting plugin: the sync stores nothing and the page says so; the run
    is recorded failed."""
    carl = console.login("carl")
    failed = _sync(carl, "nordic")
    assert failed.status_code == 200
    assert '<span class="outcome failed">failed</span>' in failed.text
    assert "no accounting plugin enabled" in failed.text
    (run,) = client_health.run_history(console.admin, "nordic").items
    assert run["outcome"] == "failed"
    history = carl.get("/clients/nordic/runs?job=sync")
    assert "no accounting plugin enabled" in history.text


def test_a_sync_stopped_by_the_settle_guard_can_be_confirmed(console: Console) -> None:
    ledger = _ledger(console)
    ledger.invoices = {str(n): invoice(str(n)) for n in range(4)}  # type: ignore[attr-defined]
    anna = console.login("anna")
    assert _sync(anna, "acme").status_code == 200
    ledger.invoices = {}  # type: ignore[attr-defined]  # an export that lost its rows
    stopped = _sync(anna, "acme")
    assert '<span class="outcome failed">failed</span>' in stopped.text
    assert 'name="confirm_settle" value="1"' in stopped.text
    assert client_health.run_history(console.admin, "acme").total == 2
    confirmed = _sync(anna, "acme", confirm_settle="1")
    assert '<span class="outcome ok">ok</span>' in confirmed.text
    assert 'name="confirm_settle"' not in confirmed.text


def test_the_apis_runs_and_sync_are_the_clis(console: Console, cli: Cli) -> None:
    ledger = _ledger(console)
    ledger.invoices = {"1": invoice("1")}  # type: ignore[attr-defined]
    api = console.api("bo")
    synced = api.post("/api/v1/clients/acme/sync")
    assert synced.status_code == 200
    report = synced.json()
    assert report["outcome"] == "ok" and report["new"] == 1 and report["client"] == "acme"
    again = api.post("/api/v1/clients/acme/sync", json={"confirm_settle": False})
    assert again.json()["unchanged"] == 1
    cli_sync = cli("sync", "acme", "--json")
    assert cli_sync.keys() == report.keys() and cli_sync["unchanged"] == 1
    runs = api_json(api.get("/api/v1/clients/acme/runs"))
    assert runs == cli("runs", "list", "--client", "acme", "--json")
    assert len(runs) == 3
    paged = api.get("/api/v1/clients/acme/runs?limit=2&offset=2").json()
    assert (paged["total"], paged["items"]) == (3, runs[2:])
    health = api.get("/api/v1/clients/acme/health").json()
    assert health["latest"]["sync"] == runs[0] and health["running"] is False
    assert health["last_successful_sync"] is not None
    failed = console.api("carl").post("/api/v1/clients/nordic/sync")
    assert failed.status_code == 200 and failed.json()["outcome"] == "failed"
    bad = api.get("/api/v1/clients/acme/runs?job=nope")
    assert bad.status_code == 422 and "not a job kind" in bad.json()["error"]["message"]
    assert clients.client_day(console.admin, "acme").name == "acme"
