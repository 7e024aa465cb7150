"""What the tests of the clients, rules and flows, recurring and runs areas share: the CLI
run in-process on the console's database (to compare the API's JSON with ``--json``), an
agreement to look at, the routes of each area, and a check that no answer holds a secret."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

import hub.plugins
from hub.cli.main import main
from hub.cli.state import state
from hub.operations import recurring
from tests.console.conftest import SECRET_SETTING, TODAY, Console

#: The refusals of a viewer's changes and of a consultant's changes to a client not theirs
#: are the operations' (hub/operations/access.py, branch ``audit``); until that is merged,
#: the tests of them are skipped rather than passed by the console checking on its own.
needs_access_checks = pytest.mark.skipif(
    importlib.util.find_spec("hub.operations.access") is None,
    reason="the operations' access checks (hub/operations/access.py, branch audit) are not here",
)

#: The lines of the agreement :func:`add_agreement` makes: 2 x 250.00 a month.
LINES = ("Hosting;2;250.00;month",)


def add_agreement(console: Console, client: str = "acme") -> int:
    """A monthly agreement for customer C7 of ``client``, first invoice on 2026-04-01."""
    terms = recurring.TermsRequest(
        every=1, unit="month", first_invoice_date=dt.date(2026, 4, 1), lines=LINES
    )
    added = recurring.add_agreement(console.admin, recurring.AddAgreement(client, "C7", terms))
    return added.summary.id


Cli = Callable[..., Any]


@pytest.fixture
def cli(
    console: Console,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Cli]:
    """``cli("clients", "show", "acme", "--json")``: the hub command run in this process on
    the console's database, plugins and secret key, its day the console's; answers the JSON
    it printed (it must exit 0)."""
    monkeypatch.setattr(hub.plugins, "_registry", console.admin.registry)
    monkeypatch.setenv("HUB_USER", "root")

    def run(*args: str) -> Any:
        capsys.readouterr()
        state._box = console.admin.box
        code = main(["--db", db_url, "--today", TODAY.isoformat(), *args])
        said = capsys.readouterr()
        assert code == 0, said.out + said.err
        return json.loads(said.out)

    yield run
    state.close()


def api_json(answer: httpx.Response) -> Any:
    """The API's answer as JSON (it must be a success), the items of a list."""
    assert answer.status_code in (200, 201), answer.text
    data = answer.json()
    return data["items"] if isinstance(data, dict) and "items" in data else data


def no_secret_in(*answers: httpx.Response) -> None:
    """No answer holds acme's secret setting, whatever its status."""
    for answer in answers:
        assert SECRET_SETTING not in answer.text, (answer.request.url, answer.status_code)


#: Every page of acme's a user who may see it gets (``{id}``: an agreement of acme's).
CLIENT_PAGES = (
    "/clients/acme",
    "/clients/acme/rules",
    "/clients/acme/flows",
    "/clients/acme/recurring",
    "/clients/acme/recurring/{id}",
    "/clients/acme/runs",
    "/clients/acme/remove",
)

#: The API's reading routes of acme.
CLIENT_API = (
    "/api/v1/clients/acme",
    "/api/v1/clients/acme/plugins",
    "/api/v1/clients/acme/rules",
    "/api/v1/clients/acme/flows",
    "/api/v1/clients/acme/recurring",
    "/api/v1/clients/acme/recurring/{id}",
    "/api/v1/clients/acme/runs",
    "/api/v1/clients/acme/health",
)

#: Every change a page makes to acme: (path, form).
PAGE_CHANGES: tuple[tuple[str, dict[str, str]], ...] = (
    ("/clients/acme/plugins/ledger/enable", {"setting:page_size": "10"}),
    ("/clients/acme/plugins/ledger/settings", {"setting:page_size": "10"}),
    ("/clients/acme/plugins/ledger/disable", {}),
    ("/clients/acme/remove", {"confirm": "acme"}),
    ("/clients/acme/rules", {"rule:auto_start": "true"}),
    ("/clients/acme/flows/invoice", {"offset.0": "-5", "anchor.0": "due_date"}),
    ("/clients/acme/flows/reminder/reset", {}),
    (
        "/clients/acme/recurring",
        {
            "action": "add",
            "customer": "C8",
            "every": "1",
            "unit": "month",
            "first_invoice_date": "2026-05-01",
            "line.0.description": "Hosting",
            "line.0.quantity": "1",
            "line.0.unit_price": "100.00",
            "line.0.price_factor": "fixed",
        },
    ),
    ("/clients/acme/recurring/{id}/deactivate", {"reason": "ended"}),
    ("/clients/acme/sync", {}),
)

#: Every change the API makes to acme: (method, path, JSON body).
API_CHANGES: tuple[tuple[str, str, Any], ...] = (
    ("DELETE", "/api/v1/clients/acme", None),
    ("POST", "/api/v1/clients/acme/plugins/ledger/enable", {"settings": {}}),
    ("POST", "/api/v1/clients/acme/plugins/ledger/disable", None),
    ("PATCH", "/api/v1/clients/acme/plugins/ledger", {"settings": {"page_size": "10"}}),
    ("PATCH", "/api/v1/clients/acme/rules", {"rules": {"auto_start": "true"}}),
    ("PUT", "/api/v1/clients/acme/flows/invoice", {"steps": []}),
    ("DELETE", "/api/v1/clients/acme/flows/reminder", None),
    (
        "POST",
        "/api/v1/clients/acme/recurring",
        {
            "customer": "C8",
            "every": 1,
            "unit": "month",
            "next_invoice_date": "2026-05-01",
            "lines": list(LINES),
        },
    ),
    ("POST", "/api/v1/clients/acme/recurring/{id}/deactivate", {"reason": "ended"}),
    ("POST", "/api/v1/clients/acme/sync", None),
)
