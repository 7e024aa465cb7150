"""Fixtures for the e-conomic plugin tests: the fake e-conomic server over real HTTP on
loopback, contexts as the core builds them, fast retries, and e-conomic's draft-03 schemas.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from economic_support import (
    APP,
    GRANT,
    REQUEST_SCHEMAS,
    SCHEMA_DIR,
    MakeCtx,
    Sleeps,
    load_schema,
)
from hub_economic import client as economic_client
from hub_economic import plugin

from hub import plugins
from hub.db.engine import Database, create_engine, upgrade
from hub.model import ClientContext
from hub.plugins import ENTRY_POINT_GROUP, PluginRegistry, load_plugins
from hub.secrets import SecretBox
from hub.testing.contexts import plugin_context, schema_defaults
from hub.testing.fakes.economic import Agreement, EconomicServer, FakeEconomic, RecordedRequest
from hub.toolkit.http import RetryPolicy


@pytest.fixture
def sleeps() -> Iterator[Sleeps]:
    """Every plugin client built in the test retries fast: 3 attempts, tiny backoff, and
    Retry-After recorded instead of slept (up to 5 s; more is not waited for)."""
    recorded = Sleeps()
    economic_client.configure(
        economic_client.HttpOptions(
            retry=RetryPolicy(
                max_attempts=3, initial_backoff=0.001, max_backoff=0.002, max_retry_after=5
            ),
            sleep=recorded.append,
            timeout=5.0,
        )
    )
    plugin._customers.clear()
    yield recorded
    economic_client.configure(economic_client.HttpOptions())
    plugin._customers.clear()


@pytest.fixture
def fake(sleeps: Sleeps) -> FakeEconomic:
    return FakeEconomic(page_size_max=1000, today=dt.date(2026, 2, 1))


@pytest.fixture
def agreement(fake: FakeEconomic) -> Agreement:
    ag = fake.add_agreement(app_secret_token=APP, agreement_grant_token=GRANT, company_name="Acme")
    ag.add_customer(
        customer_number=101,
        name="Østergaard ApS",
        email="bogholderi@oestergaard.dk",
        currency="DKK",
        address="Søndergade 1",
        zip="8000",
        city="Aarhus C",
        country="Danmark",
    )
    ag.add_customer(customer_number=102, name="Blåbær A/S", email=None, currency="EUR")
    return ag


@pytest.fixture
def server(fake: FakeEconomic) -> Iterator[EconomicServer]:
    with EconomicServer(fake) as running:
        yield running


@pytest.fixture
def make_ctx(server: EconomicServer) -> MakeCtx:
    """make_ctx(**settings): a ClientContext for the fake agreement, as the core builds it
    (defaults filled in, secrets masked in its repr)."""
    info = plugin.system_info()

    def make(client_id: int = 1, **settings: str) -> ClientContext:
        values = {
            **schema_defaults(info),
            "app_secret_token": APP,
            "agreement_grant_token": GRANT,
            "base_url": server.url,
            "journal_number": "1",
            "product_number": "1",
            **settings,
        }
        return plugin_context(info, values, client_id=client_id, today=dt.date(2026, 2, 1))

    return make


@pytest.fixture
def request_schemas() -> Callable[[list[RecordedRequest]], int]:
    """check(requests): every request body the plugin sent validates against e-conomic's
    draft-03 schema for its endpoint; returns how many were checked. Skips, saying why, when
    the schemas are not beside the repository."""
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA_DIR.is_dir():
        pytest.skip(f"e-conomic's draft-03 schemas are not at {SCHEMA_DIR}")

    def check(requests: list[RecordedRequest]) -> int:
        checked = 0
        for request in requests:
            for method, pattern, name in REQUEST_SCHEMAS:
                if request.method == method and pattern.fullmatch(request.path):
                    validator = jsonschema.Draft3Validator(load_schema(name))
                    problems = [
                        f"{'/'.join(map(str, e.path))}: {e.message}"
                        for e in validator.iter_errors(request.json)
                    ]
                    assert problems == [], f"{method} {request.path} against {name}: {problems}"
                    checked += 1
        return checked

    return check


# -- the hub around the plugin: a database, a secret box, the plugin from its entry point ----


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path / "hub-data"))
    for var in ("HUB_DATABASE_URL", "HUB_SECRET_KEY", "HUB_TODAY", "HUB_LOAD_PLUGINS"):
        monkeypatch.delenv(var, raising=False)
    plugins.reset_registry()
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    database = Database(url)
    yield database
    database.dispose()
    plugins.reset_registry()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox(Fernet.generate_key())


@pytest.fixture
def registry() -> PluginRegistry:
    registry = load_plugins(
        entry_points=[
            EntryPoint(name="economic", value="hub_economic.plugin", group=ENTRY_POINT_GROUP)
        ]
    )
    assert registry.errors == {}
    return registry
