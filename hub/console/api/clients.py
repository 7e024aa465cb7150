"""``/api/v1/clients``: the clients the token's owner may see (as ``hub clients list
--json``), one client with its plugins (as ``hub clients show --json``, secrets masked),
adding and removing clients; a client's plugins: their settings forms, enabling, disabling,
changing settings, testing the connection (``hub clients check --json``); the installed
plugins (``hub plugins list --json``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.jsonapi import doc, listing, no_content, one, schema_of, with_fields
from hub.console.pages.overview import seen_clients
from hub.console.paging import PageParams
from hub.errors import InputError
from hub.operations import clients, plugins

router = APIRouter(tags=["clients"])


class NewClientBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    country: str = Field(max_length=10, description="DK or NO")
    currency: str | None = Field(default=None, max_length=10, description="default: DKK or NOK")
    timezone: str | None = Field(default=None, max_length=100, description="default: the country's")


class SettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    settings: dict[str, str] = Field(
        default_factory=dict,
        description="setting name -> value; a secret not given keeps what is stored",
    )


@router.get("/clients", responses=doc(clients.ClientSummary, listed=True))
def client_list(ctx: Ctx, page: PageParams) -> Response:
    return listing(page.of(seen_clients(ctx)))


@router.post("/clients", status_code=201, responses=doc(clients.ClientSummary, status=201))
def add_client(ctx: Ctx, body: NewClientBody) -> Response:
    """``hub clients add``: the same checks."""
    added = clients.add_client(
        ctx, body.name, body.country, currency=body.currency, timezone=body.timezone
    )
    return one(added, status=201)


_DETAILS = with_fields(clients.ClientSummary, plugins=list[clients.PluginSettings])


@router.get("/clients/{name}", responses=doc(_DETAILS))
def client(ctx: Ctx, name: str) -> Response:
    clients.client_day(ctx, name)  # a client the user may not see is not found
    return one(clients.show_client(ctx, name))


@router.delete("/clients/{name}", status_code=204, responses=doc(status=204))
def remove_client(ctx: Ctx, name: str) -> Response:
    """``hub clients remove``: refused (422) while the client has open cases."""
    clients.client_day(ctx, name)
    clients.remove_client(ctx, name)
    return no_content()


_INSTALLED: dict[str, Any] = {
    "type": "object",
    "required": ["plugins", "errors"],
    "properties": {
        "plugins": {"type": "array", "items": {"type": "object"}},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}


@router.get("/plugins", responses=doc(_INSTALLED))
def installed_plugins(ctx: Ctx) -> Response:
    """``hub plugins list --json``: what is installed, and what failed to load."""
    return one(plugins.list_plugins(ctx.registry))


_SETTINGS_FORM: dict[str, Any] = {
    "type": "object",
    "title": "SettingsForm",
    "required": ["plugin", "title", "kind", "enabled", "stored", "settings"],
    "properties": {
        "plugin": {"type": "string"},
        "title": {"type": "string"},
        "kind": {"type": "string", "enum": ["accounting", "delivery"]},
        "enabled": {"type": "boolean"},
        "stored": {"type": "boolean"},
        "settings": {"type": "array", "items": schema_of(plugins.SettingField)},
    },
}


@router.get("/clients/{name}/plugins", responses=doc(_SETTINGS_FORM, listed=True))
def settings_forms(ctx: Ctx, name: str, page: PageParams) -> Response:
    """Every installed plugin's settings schema with the client's values (a secret's value
    never: ``set`` says whether one is stored)."""
    return listing(page.of(plugins.settings_forms(ctx, name)))


@router.post("/clients/{name}/plugins/{plugin}/enable", responses=doc(_DETAILS))
def enable_plugin(ctx: Ctx, name: str, plugin: str, body: SettingsBody | None = None) -> Response:
    """``hub clients enable``: the client's plugin with these settings; answers the client as
    ``GET /clients/{name}`` does."""
    clients.client_day(ctx, name)
    clients.enable_plugin(ctx, name, plugin, body.settings if body else {})
    return one(clients.show_client(ctx, name))


@router.post("/clients/{name}/plugins/{plugin}/disable", responses=doc(_DETAILS))
def disable_plugin(ctx: Ctx, name: str, plugin: str) -> Response:
    """``hub clients disable``: its settings are kept."""
    clients.client_day(ctx, name)
    clients.disable_plugin(ctx, name, plugin)
    return one(clients.show_client(ctx, name))


@router.patch("/clients/{name}/plugins/{plugin}", responses=doc(_DETAILS))
def set_settings(ctx: Ctx, name: str, plugin: str, body: SettingsBody) -> Response:
    """``hub clients set --plugin``: the settings given, checked against the schema; the
    others (and every secret not given) are kept."""
    clients.client_day(ctx, name)
    if not body.settings:
        raise InputError('no setting given: give them as {"settings": {"key": "value"}}')
    clients.set_settings(ctx, name, body.settings, plugin=plugin)
    return one(clients.show_client(ctx, name))


@router.post("/clients/{name}/plugins/{plugin}/check", responses=doc(plugins.ConnectionCheck))
def check_connection(ctx: Ctx, name: str, plugin: str) -> Response:
    """``hub clients check --json``: the plugin called once, read-only. A connection that
    failed is an answer (``ok`` false, the plugin's ``error``), not an error."""
    return one(plugins.check_connection(ctx, name, plugin))
