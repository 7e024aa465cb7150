"""Users and their API tokens: an admin's pages (everyone else is refused 403)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from hub.console.deps import Ctx, require_admin
from hub.console.rendering import flash, redirect, render
from hub.errors import InputError
from hub.operations import users

router = APIRouter(dependencies=[Depends(require_admin)])


def client_names(raw: str) -> frozenset[str]:
    """``"acme, nordic"`` -> the names; blanks ignored."""
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _users_page(
    request: Request,
    ctx: Ctx,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    values = {
        "users": users.list_users(ctx),
        "roles": users.ROLES,
        "error": error,
        "form": form or {"name": "", "role": "consultant", "clients": "", "language": "en"},
    }
    return render(request, "users.html", values, status=status)


@router.get("/users")
def user_list(request: Request, ctx: Ctx) -> Response:
    return _users_page(request, ctx)


@router.post("/users")
def add_user(
    request: Request,
    ctx: Ctx,
    name: Annotated[str, Form(max_length=200)],
    role: Annotated[str, Form(max_length=20)],
    password: Annotated[str, Form(max_length=2048)],
    clients: Annotated[str, Form(max_length=10_000)] = "",
    language: Annotated[str, Form(max_length=8)] = "en",
) -> Response:
    try:
        new = users.NewUser(
            name=name.strip(),
            role=users.parse_role(role),
            password=password,
            clients=client_names(clients),
            language=users.parse_language(language),
        )
        users.add_user(ctx, new)
    except InputError as exc:
        # The form again, with what was typed (never the password) and why it was refused.
        form = {"name": name, "role": role, "clients": clients, "language": language}
        return _users_page(request, ctx, error=str(exc), form=form, status=422)
    flash(request, "ok", "users.added", name=new.name)
    return redirect("/users")


@router.get("/users/{name}")
def user_page(request: Request, ctx: Ctx, name: str) -> Response:
    return render(request, "user.html", {"details": users.show_user(ctx, name), "new_token": None})


@router.post("/users/{name}/remove")
def remove_user(request: Request, ctx: Ctx, name: str) -> Response:
    users.remove_user(ctx, name)
    flash(request, "ok", "users.removed", name=name)
    return redirect("/users")


@router.post("/users/{name}/tokens")
def create_token(
    request: Request,
    ctx: Ctx,
    name: str,
    purpose: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """The new token is shown on this answer only (never in a flash: that travels in the
    cookie)."""
    made = users.create_token(ctx, name, purpose.strip() or None)
    return render(request, "user.html", {"details": users.show_user(ctx, name), "new_token": made})


@router.post("/tokens/{token_id}/revoke")
def revoke_token(request: Request, ctx: Ctx, token_id: int) -> Response:
    revoked = users.revoke_token(ctx, token_id)
    flash(request, "ok", "users.token_was_revoked", id=token_id)
    return redirect(f"/users/{revoked.user}")
