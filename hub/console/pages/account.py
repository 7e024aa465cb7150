"""My account: who I am, and the language of my pages."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from hub.console.deps import Ctx, signed_in
from hub.console.rendering import flash, redirect, render
from hub.operations import account

router = APIRouter()


@router.get("/account")
def account_page(request: Request, ctx: Ctx) -> Response:
    return render(request, "account.html", {"me": signed_in(request)})


@router.post("/account")
def set_language(
    request: Request, ctx: Ctx, language: Annotated[str, Form(max_length=8)]
) -> Response:
    chosen = account.set_own_language(ctx, language)
    found = signed_in(request)
    if found is not None:  # this answer's flash is in the new language already
        request.state.user = dataclasses.replace(found, language=chosen)
    flash(request, "ok", "account.saved")
    return redirect("/account")
