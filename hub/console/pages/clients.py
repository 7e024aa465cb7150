"""Clients: the list and a form to add one; a client's page with a settings form for each
installed plugin (generated from the plugin's settings schema), enabling, disabling, testing
the connection; removing a client after a confirmation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from hub.console.deps import Ctx
from hub.console.forms import NOT_THE_INPUT, FormValues, named_fields
from hub.console.pages.overview import seen_clients
from hub.console.paging import PageParams
from hub.console.rendering import flash, redirect, render, words
from hub.errors import InputError
from hub.operations import clients, plugins

router = APIRouter()

#: The countries a client may be in (``hub clients add --country``).
COUNTRIES = ("DK", "NO")
#: The fields of the form that adds a client, as a refusal names them.
_CLIENT_FIELDS = {
    "name": ("client name", "a client named"),
    "country": ("country",),
    "currency": ("currency",),
    "timezone": ("time zone",),
}
#: A plugin setting's field in the settings form: ``setting:<name>``.
SETTING = "setting:"


def _client_list(
    request: Request,
    ctx: Ctx,
    page: PageParams,
    *,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    values = {
        "page": page.of(seen_clients(ctx)),
        "countries": COUNTRIES,
        "form": form or {"name": "", "country": "DK", "currency": "", "timezone": ""},
        "errors": errors or {},
    }
    return render(request, "clients.html", values, status=status)


@router.get("/clients")
def client_list(request: Request, ctx: Ctx, page: PageParams) -> Response:
    return _client_list(request, ctx, page)


@router.post("/clients")
def add_client(
    request: Request,
    ctx: Ctx,
    page: PageParams,
    name: Annotated[str, Form(max_length=200)],
    country: Annotated[str, Form(max_length=10)],
    currency: Annotated[str, Form(max_length=10)] = "",
    timezone: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """``hub clients add``: the same checks; a refusal is shown at the field it names, with
    what was typed."""
    try:
        added = clients.add_client(
            ctx,
            name.strip(),
            country.strip(),
            currency=currency.strip() or None,
            timezone=timezone.strip() or None,
        )
    except NOT_THE_INPUT:
        raise
    except InputError as exc:
        said = str(exc)
        where = next(
            (f for f, words in _CLIENT_FIELDS.items() if any(w in said for w in words)), "_form"
        )
        form = {"name": name, "country": country, "currency": currency, "timezone": timezone}
        return _client_list(request, ctx, page, form=form, errors={where: said}, status=422)
    flash(request, "ok", "clients.added", name=added.name)
    return redirect(f"/clients/{added.name}")


def _client_page(
    request: Request,
    ctx: Ctx,
    name: str,
    *,
    errors: dict[str, dict[str, str]] | None = None,
    typed: dict[str, dict[str, str]] | None = None,
    check: plugins.ConnectionCheck | None = None,
    status: int = 200,
) -> Response:
    clients.client_day(ctx, name)  # a client the user may not see is not found
    values: dict[str, Any] = {
        "client": clients.show_client(ctx, name),
        "forms": plugins.settings_forms(ctx, name),
        "errors": errors or {},
        "typed": typed or {},
        "check": check,
        "setting_prefix": SETTING,
    }
    return render(request, "client.html", values, status=status)


@router.get("/clients/{name}")
def client_page(request: Request, ctx: Ctx, name: str) -> Response:
    return _client_page(request, ctx, name)


def given_settings(
    form: dict[str, str], fields: tuple[plugins.SettingField, ...]
) -> dict[str, str]:
    """The settings a form changes: a secret typed (an empty one keeps what is stored), a
    value typed that differs from the stored one (an empty one keeps what is stored)."""
    given: dict[str, str] = {}
    for field in fields:
        raw = form.get(SETTING + field.name, "")
        if field.secret:
            if raw:
                given[field.name] = raw
        elif raw.strip() and not (field.is_set and raw == field.value):
            given[field.name] = raw
    return given


def _settings_refused(
    request: Request,
    ctx: Ctx,
    name: str,
    settings_form: plugins.SettingsForm,
    form: dict[str, str],
    exc: InputError,
) -> Response:
    """The client's page again: the refusal at each setting it names (else above the
    plugin's form), and what was typed, never a secret."""
    said = str(exc)
    names = [f.name for f in settings_form.fields]
    where = named_fields(said, names) or ["_form"]
    typed = {f.name: form.get(SETTING + f.name, "") for f in settings_form.fields if not f.secret}
    return _client_page(
        request,
        ctx,
        name,
        errors={settings_form.plugin: dict.fromkeys(where, said)},
        typed={settings_form.plugin: typed},
        status=422,
    )


@router.post("/clients/{name}/plugins/{plugin}/enable")
def enable_plugin(request: Request, ctx: Ctx, name: str, plugin: str, form: FormValues) -> Response:
    """``hub clients enable``, with the settings typed (secrets left empty keep what is
    stored from an earlier enable)."""
    settings_form = plugins.settings_form(ctx, name, plugin)
    try:
        clients.enable_plugin(ctx, name, plugin, given_settings(form, settings_form.fields))
    except NOT_THE_INPUT:
        raise
    except InputError as exc:
        return _settings_refused(request, ctx, name, settings_form, form, exc)
    flash(request, "ok", "client.plugin_enabled", plugin=plugin)
    return redirect(f"/clients/{name}")


@router.post("/clients/{name}/plugins/{plugin}/settings")
def set_settings(request: Request, ctx: Ctx, name: str, plugin: str, form: FormValues) -> Response:
    """``hub clients set --plugin``: only what was changed is set; a secret left empty keeps
    the stored one."""
    settings_form = plugins.settings_form(ctx, name, plugin)
    given = given_settings(form, settings_form.fields)
    if not given:
        flash(request, "ok", "client.nothing_changed")
        return redirect(f"/clients/{name}")
    try:
        clients.set_settings(ctx, name, given, plugin=plugin)
    except NOT_THE_INPUT:
        raise
    except InputError as exc:
        return _settings_refused(request, ctx, name, settings_form, form, exc)
    flash(request, "ok", "client.settings_saved", plugin=plugin, count=len(given))
    return redirect(f"/clients/{name}")


@router.post("/clients/{name}/plugins/{plugin}/disable")
def disable_plugin(request: Request, ctx: Ctx, name: str, plugin: str) -> Response:
    clients.client_day(ctx, name)
    clients.disable_plugin(ctx, name, plugin)
    flash(request, "ok", "client.plugin_disabled", plugin=plugin)
    return redirect(f"/clients/{name}")


@router.post("/clients/{name}/plugins/{plugin}/check")
def check_connection(request: Request, ctx: Ctx, name: str, plugin: str) -> Response:
    """``hub clients check``: the plugin called once, read-only; its success or its error is
    shown on the client's page."""
    result = plugins.check_connection(ctx, name, plugin)
    return _client_page(request, ctx, name, check=result)


@router.get("/clients/{name}/remove")
def confirm_removal(request: Request, ctx: Ctx, name: str) -> Response:
    """The confirmation before a client is removed (nothing is removed here)."""
    day = clients.client_day(ctx, name)
    return render(request, "client_remove.html", {"name": day.name, "error": None})


@router.post("/clients/{name}/remove")
def remove_client(
    request: Request,
    ctx: Ctx,
    name: str,
    confirm: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """``hub clients remove``, once the client's name is typed to confirm."""
    day = clients.client_day(ctx, name)
    if confirm.strip() != day.name:
        values = {"name": day.name, "error": words(request)("client.remove_mismatch")}
        return render(request, "client_remove.html", values, status=422)
    try:
        clients.remove_client(ctx, name)
    except NOT_THE_INPUT:
        raise
    except InputError as exc:
        values = {"name": day.name, "error": str(exc)}
        return render(request, "client_remove.html", values, status=422)
    flash(request, "ok", "clients.removed", name=day.name)
    return redirect("/clients")
