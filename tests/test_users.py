"""Users, roles and API tokens (hub/operations/users.py), on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from hub.db import tables as t
from hub.db.engine import Database
from hub.errors import ForbiddenError, InputError, NotFoundError
from hub.operations import clients, users
from hub.operations.context import Actor, Context
from hub.secrets import SecretBox
from tests.helpers import context, registry_with

PASSWORD = "correct horse battery"


@pytest.fixture
def ctx(db: Database, box: SecretBox) -> Context:
    """The shell's admin, with two clients."""
    admin = context(db, registry_with(), box, user="root")
    clients.add_client(admin, "acme", "DK")
    clients.add_client(admin, "nordic", "NO")
    return admin


def _as(ctx: Context, actor: Actor) -> Context:
    return Context(ctx.services, actor, ctx.clock)


def _stored_user(db: Database, name: str) -> t.User:
    with db.session() as session:
        user = session.scalar(select(t.User).where(t.User.name == name))
        assert user is not None
        return user


def test_the_password_is_stored_as_an_argon2id_hash_never_as_itself(
    ctx: Context, db: Database
) -> None:
    users.add_user(ctx, users.NewUser("anna", "admin", PASSWORD))
    stored = _stored_user(db, "anna").password_hash
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_authenticate_right_wrong_and_unknown(ctx: Context) -> None:
    users.add_user(ctx, users.NewUser("anna", "admin", PASSWORD))
    actor = users.authenticate(ctx.services, "anna", PASSWORD)
    assert actor == Actor("anna", operator=True, role="admin", clients=None)
    assert users.authenticate(ctx.services, "anna", PASSWORD + "x") is None
    assert users.authenticate(ctx.services, "Anna", PASSWORD) is None
    assert users.authenticate(ctx.services, "nobody", PASSWORD) is None
    assert users.authenticate(ctx.services, "not a name!", PASSWORD) is None


def test_a_consultant_sees_and_changes_only_their_clients(ctx: Context) -> None:
    users.add_user(
        ctx, users.NewUser("bo", "consultant", PASSWORD, frozenset({"acme"}), language="da")
    )
    found = users.log_in(ctx.services, "bo", PASSWORD)
    assert found is not None
    assert found.language == "da"
    bo = found.actor
    assert bo == Actor("bo", operator=False, role="consultant", clients=frozenset({"acme"}))
    assert bo.may_see("acme") and bo.may_change("acme")
    assert not bo.may_see("nordic") and not bo.may_change("nordic")
    assert not bo.may_change(None)
    with pytest.raises(NotFoundError, match="nordic"):
        clients.client_day(_as(ctx, bo), "nordic")


def test_a_viewer_changes_nothing_and_one_without_clients_sees_nothing(ctx: Context) -> None:
    users.add_user(ctx, users.NewUser("vi", "viewer", PASSWORD, frozenset({"acme", "nordic"})))
    users.add_user(ctx, users.NewUser("none", "viewer", PASSWORD))
    vi = users.authenticate(ctx.services, "vi", PASSWORD)
    assert vi is not None and vi.clients == frozenset({"acme", "nordic"})
    assert vi.may_see("acme") and not vi.may_change("acme")
    nobody = users.authenticate(ctx.services, "none", PASSWORD)
    assert nobody is not None and nobody.clients == frozenset()
    assert not nobody.may_see("acme")


def test_a_token_works_until_it_is_revoked_and_fails_at_once_after(
    ctx: Context, db: Database
) -> None:
    users.add_user(ctx, users.NewUser("bo", "consultant", PASSWORD, frozenset({"acme"})))
    made = users.create_token(ctx, "bo", "ci")
    assert made.token.startswith("hub_") and made.token.startswith(made.prefix)
    assert "token" not in made.as_dict() and made.token not in repr(made)
    with db.session() as session:
        stored = session.scalars(select(t.ApiToken)).one()
        assert made.token not in (stored.token_hash, stored.prefix)
        assert len(stored.token_hash) == 64
    actor = users.actor_for_token(ctx.services, made.token)
    assert actor == Actor("bo", operator=False, role="consultant", clients=frozenset({"acme"}))
    [listed] = users.list_tokens(ctx, "bo")
    assert listed.last_used_at is not None and listed.active
    users.revoke_token(ctx, made.id)
    assert users.actor_for_token(ctx.services, made.token) is None
    assert users.actor_for_token(ctx.services, made.token[:-1]) is None
    assert users.actor_for_token(ctx.services, "not a token") is None


def test_only_an_admin_manages_users_and_tokens(ctx: Context) -> None:
    users.add_user(ctx, users.NewUser("bo", "consultant", PASSWORD, frozenset({"acme"})))
    bo = users.authenticate(ctx.services, "bo", PASSWORD)
    assert bo is not None
    as_bo = _as(ctx, bo)
    with pytest.raises(ForbiddenError, match="bo may not add users: only an admin may"):
        users.add_user(as_bo, users.NewUser("eve", "admin", PASSWORD))
    with pytest.raises(ForbiddenError, match="create API tokens"):
        users.create_token(as_bo, "bo")
    with pytest.raises(ForbiddenError):
        users.change_user(as_bo, "bo", users.UserChange(role="admin"))
    assert [u.name for u in users.list_users(ctx)] == ["bo"]


def test_refusals_name_the_thing_and_the_reason(ctx: Context) -> None:
    with pytest.raises(InputError, match="role 'boss' is not known: use admin, consultant or"):
        users.add_user(ctx, users.NewUser("anna", "boss", PASSWORD))  # type: ignore[arg-type]
    with pytest.raises(NotFoundError, match="no clients named 'ghost', 'zed'"):
        users.add_user(
            ctx, users.NewUser("bo", "viewer", PASSWORD, frozenset({"acme", "ghost", "zed"}))
        )
    with pytest.raises(InputError, match="at least 12 characters"):
        users.add_user(ctx, users.NewUser("anna", "admin", "short"))
    with pytest.raises(InputError, match="must not be the user name"):
        users.add_user(ctx, users.NewUser("anna.lund@x.dk", "admin", "Anna.Lund@x.dk"))
    with pytest.raises(InputError, match="user name 'an na' is not allowed"):
        users.add_user(ctx, users.NewUser("an na", "admin", PASSWORD))
    users.add_user(ctx, users.NewUser("anna", "admin", PASSWORD))
    with pytest.raises(InputError, match="a user named 'anna' exists already"):
        users.add_user(ctx, users.NewUser("ANNA", "viewer", PASSWORD))
    with pytest.raises(InputError, match="cannot remove anna: they are the last admin"):
        users.remove_user(ctx, "anna")
    assert [u.name for u in users.list_users(ctx)] == ["anna"]


def test_a_refused_user_leaves_nothing_behind(ctx: Context, db: Database) -> None:
    with pytest.raises(NotFoundError, match="no client named 'ghost'"):
        users.add_user(ctx, users.NewUser("bo", "viewer", PASSWORD, frozenset({"acme", "ghost"})))
    with pytest.raises(InputError, match="anna is an admin, who sees every client"):
        users.add_user(ctx, users.NewUser("anna", "admin", PASSWORD, frozenset({"acme"})))
    with pytest.raises(InputError, match="language 'sv' is not known: use da, nb or en"):
        users.add_user(ctx, users.NewUser("bo", "viewer", PASSWORD, language="sv"))  # type: ignore[arg-type]
    assert users.list_users(ctx) == []
    with db.session() as session:
        assert session.scalars(select(t.UserClient)).all() == []


def test_a_hash_made_with_older_parameters_is_replaced_at_login(ctx: Context, db: Database) -> None:
    from argon2 import PasswordHasher

    users.add_user(ctx, users.NewUser("anna", "admin", PASSWORD))
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with db.session() as session:
        session.scalars(select(t.User)).one().password_hash = weak
    assert users.authenticate(ctx.services, "anna", PASSWORD) is not None
    renewed = _stored_user(db, "anna").password_hash
    assert renewed != weak and renewed.startswith("$argon2id$")
    assert "m=65536,t=3" in renewed
    assert users.authenticate(ctx.services, "anna", PASSWORD) is not None


def test_a_new_password_ends_the_old_one_and_the_sessions(ctx: Context) -> None:
    users.add_user(ctx, users.NewUser("anna", "admin", PASSWORD))
    before = users.log_in(ctx.services, "anna", PASSWORD)
    assert before is not None
    users.set_password(ctx, "anna", "a different long one")
    assert users.authenticate(ctx.services, "anna", PASSWORD) is None
    after = users.log_in(ctx.services, "anna", "a different long one")
    assert after is not None and after.stamp != before.stamp
    now = users.user_session(ctx.services, "anna")
    assert now is not None and now.stamp == after.stamp
    with pytest.raises(InputError, match="too short"):
        users.set_password(ctx, "anna", "tiny")
    with pytest.raises(NotFoundError, match="no user named 'ghost'"):
        users.set_password(ctx, "ghost", PASSWORD)


def test_a_change_of_role_clients_or_language_holds_from_the_next_request(
    ctx: Context,
) -> None:
    users.add_user(ctx, users.NewUser("anna", "admin", PASSWORD))
    users.add_user(ctx, users.NewUser("bo", "viewer", PASSWORD, frozenset({"acme"})))
    changed = users.change_user(
        ctx, "bo", users.UserChange(role="consultant", clients=frozenset({"nordic"}), language="nb")
    )
    assert (changed.role, changed.clients, changed.language) == ("consultant", ["nordic"], "nb")
    session = users.user_session(ctx.services, "bo")
    assert session is not None and session.language == "nb"
    assert session.actor == Actor("bo", role="consultant", clients=frozenset({"nordic"}))

    made_admin = users.change_user(ctx, "bo", users.UserChange(role="admin"))
    assert made_admin.clients is None
    assert users.authenticate(ctx.services, "bo", PASSWORD) == Actor(
        "bo", operator=True, role="admin", clients=None
    )
    with pytest.raises(InputError, match="bo is an admin, who sees every client"):
        users.change_user(ctx, "bo", users.UserChange(clients=frozenset({"acme"})))
    back = users.change_user(ctx, "bo", users.UserChange(role="viewer"))
    assert back.clients == []  # made admin, the assignments went; none come back by themselves

    with pytest.raises(InputError, match="nothing to change for bo"):
        users.change_user(ctx, "bo", users.UserChange())
    with pytest.raises(InputError, match="cannot make a viewer of anna: they are the last admin"):
        users.change_user(ctx, "anna", users.UserChange(role="viewer"))
    with pytest.raises(NotFoundError, match="no client named 'ghost'"):
        users.change_user(ctx, "bo", users.UserChange(clients=frozenset({"ghost"})))
    assert users.show_user(ctx, "bo").summary.clients == []


def test_a_removed_user_or_client_is_gone_from_logins_tokens_and_assignments(
    ctx: Context, db: Database
) -> None:
    users.add_user(ctx, users.NewUser("anna", "admin", PASSWORD))
    users.add_user(ctx, users.NewUser("root2", "admin", PASSWORD))
    users.add_user(ctx, users.NewUser("bo", "consultant", PASSWORD, frozenset({"acme", "nordic"})))
    clients.remove_client(ctx, "nordic")
    assert users.show_user(ctx, "bo").summary.clients == ["acme"]

    token = users.create_token(ctx, "bo").token
    users.remove_user(ctx, "bo")
    assert users.authenticate(ctx.services, "bo", PASSWORD) is None
    assert users.user_session(ctx.services, "bo") is None
    assert users.actor_for_token(ctx.services, token) is None
    with db.session() as session:
        assert session.scalars(select(t.ApiToken)).all() == []
        assert session.scalars(select(t.UserClient)).all() == []

    users.remove_user(ctx, "root2")  # one admin of two: allowed
    assert [u.name for u in users.list_users(ctx)] == ["anna"]
    with pytest.raises(NotFoundError, match="no user named 'bo'"):
        users.remove_user(ctx, "bo")


def test_tokens_are_listed_by_prefix_and_refusals_name_them(ctx: Context) -> None:
    users.add_user(ctx, users.NewUser("anna", "admin", PASSWORD))
    first = users.create_token(ctx, "anna", "backup script")
    second = users.create_token(ctx, "anna")
    listed = users.list_tokens(ctx)
    assert [(tk.id, tk.name, tk.prefix) for tk in listed] == [
        (first.id, "backup script", first.prefix),
        (second.id, None, second.prefix),
    ]
    for tk in listed:
        assert set(tk.as_dict()) == {
            "id", "user", "name", "prefix", "created_at", "created_by", "revoked_at",
            "last_used_at",
        }  # fmt: skip
        assert first.token not in str(tk.as_dict()) and second.token not in str(tk.as_dict())
    assert users.list_tokens(ctx, "anna") == listed

    revoked = users.revoke_token(ctx, first.id)
    assert revoked.revoked_at is not None and not revoked.active
    with pytest.raises(InputError, match=f"API token {first.id} was revoked already, at"):
        users.revoke_token(ctx, first.id)
    with pytest.raises(NotFoundError, match="no API token with id 999"):
        users.revoke_token(ctx, 999)
    with pytest.raises(NotFoundError, match="no user named 'ghost'"):
        users.create_token(ctx, "ghost")
    with pytest.raises(NotFoundError, match="no user named 'ghost'"):
        users.list_tokens(ctx, "ghost")
    with pytest.raises(InputError, match="the token's name is empty"):
        users.create_token(ctx, "anna", " ")
    with pytest.raises(InputError, match="the token's name is 101 characters long"):
        users.create_token(ctx, "anna", "x" * 101)
    assert users.actor_for_token(ctx.services, second.token) is not None
