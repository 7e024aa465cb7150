"""``/api/v1/users`` and ``/api/v1/tokens``: users and API tokens, an admin's (else 403)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from hub.console.deps import Ctx, require_admin
from hub.console.jsonapi import doc, listing, no_content, one, with_fields
from hub.console.paging import PageParams
from hub.operations import users

router = APIRouter(tags=["users"], dependencies=[Depends(require_admin)])


class NewUserBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=200)
    role: str = Field(description="admin, consultant or viewer")
    password: str = Field(max_length=2048, description="at least 12 characters")
    clients: list[str] = Field(default_factory=list, description="for a consultant or viewer")
    language: str = Field(default="en", description="da, nb or en")


class NewTokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=200, description="what it is for")


@router.get("/users", responses=doc(users.UserSummary, listed=True))
def user_list(ctx: Ctx, page: PageParams) -> Response:
    return listing(page.of(users.list_users(ctx)))


@router.post("/users", status_code=201, responses=doc(users.UserSummary, status=201))
def add_user(ctx: Ctx, body: NewUserBody) -> Response:
    new = users.NewUser(
        name=body.name,
        role=users.parse_role(body.role),
        password=body.password,
        clients=frozenset(body.clients),
        language=users.parse_language(body.language),
    )
    return one(users.add_user(ctx, new), status=201)


@router.get(
    "/users/{name}", responses=doc(with_fields(users.UserSummary, tokens=list[users.TokenSummary]))
)
def user(ctx: Ctx, name: str) -> Response:
    return one(users.show_user(ctx, name))


@router.delete("/users/{name}", status_code=204, responses=doc(status=204))
def remove_user(ctx: Ctx, name: str) -> Response:
    users.remove_user(ctx, name)
    return no_content()


@router.get("/tokens", responses=doc(users.TokenSummary, listed=True))
def token_list(ctx: Ctx, page: PageParams, user: str | None = None) -> Response:
    return listing(page.of(users.list_tokens(ctx, user)))


@router.post(
    "/users/{name}/tokens",
    status_code=201,
    responses=doc(
        with_fields(users.NewToken, token=str), status=201, description="the token, shown once"
    ),
)
def create_token(ctx: Ctx, name: str, body: NewTokenBody | None = None) -> Response:
    """A new API token for the user: ``token`` is in this answer only, never again."""
    made = users.create_token(ctx, name, body.name if body else None)
    return one({**made.as_dict(), "token": made.token}, status=201)


@router.delete("/tokens/{token_id}", responses=doc(users.TokenSummary))
def revoke_token(ctx: Ctx, token_id: int) -> Response:
    return one(users.revoke_token(ctx, token_id))
