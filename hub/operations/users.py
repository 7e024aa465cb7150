"""Users, roles and API tokens: who may log in to the console and the API, and what they see.

A user has a role (:data:`~hub.operations.context.Role`): an admin sees and changes every
client and manages users and tokens; a consultant sees and changes only the clients assigned
to them; a viewer sees the clients assigned to them and changes nothing. A consultant or viewer
with no client assigned may log in and sees nothing.

Passwords are kept as Argon2id hashes (argon2-cffi's :class:`~argon2.PasswordHasher`, its
default parameters); a hash made with older parameters is replaced at the next successful
login. An API token is shown once, when it is made: only its SHA-256 is kept, with a short
prefix that lets a person recognise it in a list. A revoked token is refused from that moment
(nothing is cached).

Every change here is an admin's (``ctx.actor.may_change(None)``), else
:class:`~hub.errors.ForbiddenError`. The shell's user (the CLI) is an admin. Logging in is not a
change: :func:`log_in`, :func:`authenticate`, :func:`token_login` and :func:`actor_for_token`
take the :class:`~hub.operations.context.Services` alone, as no one acts yet.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub import limits
from hub.clock import as_utc
from hub.db import tables as t
from hub.errors import ForbiddenError, InputError, NotFoundError
from hub.operations import audit
from hub.operations.context import Actor, Context, Role, Services
from hub.records import NOT_IN_JSON, Record

__all__ = [
    "LANGUAGES",
    "MIN_PASSWORD_LENGTH",
    "ROLES",
    "TOKEN_PREFIX",
    "Language",
    "NewToken",
    "NewUser",
    "TokenSummary",
    "UserChange",
    "UserDetails",
    "UserSession",
    "UserSummary",
    "actor_for_token",
    "add_user",
    "authenticate",
    "change_user",
    "create_token",
    "list_tokens",
    "list_users",
    "log_in",
    "parse_language",
    "parse_role",
    "remove_user",
    "revoke_token",
    "set_password",
    "show_user",
    "token_login",
    "user_session",
]

Language = Literal["da", "nb", "en"]
"""The language of a user's console pages: Danish, Norwegian (bokmål) or English."""

ROLES: tuple[Role, ...] = get_args(Role)
LANGUAGES: tuple[Language, ...] = get_args(Language)

#: A password shorter than this is refused (as is one equal to the user's name).
MIN_PASSWORD_LENGTH = 12
#: A password longer than this is refused: no person types it, and hashing it costs.
MAX_PASSWORD_LENGTH = 1024
#: Every API token starts with this, so a scanner (or a person) can tell what it is.
TOKEN_PREFIX = "hub_"
#: How many characters of a token (after :data:`TOKEN_PREFIX`) are kept to recognise it.
_SHOWN_CHARACTERS = 6

_NAME = re.compile(rf"[A-Za-z0-9._@-]{{1,{limits.USER_NAME}}}")

#: Argon2id with argon2-cffi's defaults (RFC 9106's low-memory profile).
_HASHER = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when no user has the name given, so that a login with an
    unknown name takes about as long as one with a wrong password."""
    return _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class NewUser:
    """A user to add. ``clients``: the clients a consultant or viewer sees (none for an
    admin, who sees every client)."""

    name: str
    role: Role
    password: str = field(repr=False)
    clients: frozenset[str] = frozenset()
    language: Language = "en"


@dataclass(frozen=True)
class UserChange:
    """What to change of a user; None: unchanged. ``clients`` replaces the assigned clients
    (an empty set: none). A user made admin loses the clients assigned: an admin sees all."""

    role: Role | None = None
    clients: frozenset[str] | None = None
    language: Language | None = None


@dataclass(frozen=True)
class UserSummary(Record):
    """A user as ``hub users list`` shows them; ``clients`` None: every client (an admin)."""

    name: str
    role: Role
    language: Language
    clients: list[str] | None
    created_at: dt.datetime
    created_by: str
    password_changed_at: dt.datetime


@dataclass(frozen=True)
class TokenSummary(Record):
    """An API token as ``hub tokens list`` shows it: never the token, only its prefix."""

    id: int
    user: str
    name: str | None
    prefix: str
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class NewToken(Record):
    """A token just made. ``token`` is the only time the token is known: it is not stored,
    not in :meth:`as_dict`, not in ``repr``; show it to the person once."""

    id: int
    user: str
    name: str | None
    prefix: str
    created_at: dt.datetime
    token: str = field(repr=False, metadata=NOT_IN_JSON)


@dataclass(frozen=True)
class UserDetails:
    """A user with their API tokens, as ``hub users show`` shows them."""

    summary: UserSummary
    tokens: list[TokenSummary]

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary.as_dict(), "tokens": [tk.as_dict() for tk in self.tokens]}


@dataclass(frozen=True)
class UserSession:
    """Who logged in, as the console needs it: the :class:`Actor` (role and clients), the
    language of their pages, and ``stamp``, which changes when their password changes (or the
    user is removed and added again). A console keeps the user's name and the stamp in its
    session and asks :func:`user_session` on each request: a session whose stamp differs, or
    whose user is gone, is over; a role or clients changed take effect at once."""

    actor: Actor
    language: Language
    stamp: str


# --- checks -------------------------------------------------------------------------------


def parse_role(raw: str) -> Role:
    """``raw`` as a role; :class:`InputError` naming the roles if it is none."""
    if raw not in ROLES:
        raise InputError(f"role {raw!r} is not known: use {_one_of(ROLES)}")
    return raw


def parse_language(raw: str) -> Language:
    """``raw`` as a page language; :class:`InputError` naming the languages if it is none."""
    if raw not in LANGUAGES:
        raise InputError(f"language {raw!r} is not known: use {_one_of(LANGUAGES)}")
    return raw


def _one_of(values: Iterable[str]) -> str:
    *first, last = values
    return f"{', '.join(first)} or {last}"


def _check_name(name: str) -> None:
    if not _NAME.fullmatch(name):
        raise InputError(
            f"user name {name!r} is not allowed: 1 to {limits.USER_NAME} characters, each a"
            " letter (a-z, A-Z), a digit or one of . _ - @"
        )


def _check_password(name: str, password: str) -> None:
    """The password rules; the message never holds the password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(
            f"the password for {name} is too short: it must have at least"
            f" {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InputError(
            f"the password for {name} is too long: at most {MAX_PASSWORD_LENGTH} characters"
        )
    if password.casefold() == name.casefold():
        raise InputError(f"the password for {name} must not be the user name")


def _require_admin(ctx: Context, what: str) -> None:
    if not ctx.actor.may_change(None):
        raise ForbiddenError(f"{ctx.actor.name} may not {what}: only an admin may")


def _record(
    session: Session,
    ctx: Context,
    action: str,
    user: str,
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> None:
    """The audit entry of a change to ``user`` (or one of their tokens): no client's, so
    admins see it. Summaries hold no password hash and no token, only its prefix."""
    audit.record(
        session, ctx, action=action, client=None, subject=f"user {user}", before=before, after=after
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- rows ---------------------------------------------------------------------------------


def _user(session: Session, name: str) -> t.User:
    user = session.scalar(select(t.User).where(t.User.name == name))
    if user is None:
        raise NotFoundError(f"no user named {name!r} (see `hub users list`)")
    return user


def _clients(session: Session, names: frozenset[str]) -> list[t.Client]:
    """The clients named; :class:`NotFoundError` naming every name that is none."""
    if not names:
        return []
    found = list(session.scalars(select(t.Client).where(t.Client.name.in_(names))))
    missing = sorted(names - {c.name for c in found})
    if missing:
        said = ", ".join(repr(n) for n in missing)
        raise NotFoundError(
            f"no client named {said} (see `hub clients list`)"
            if len(missing) == 1
            else f"no clients named {said} (see `hub clients list`)"
        )
    return sorted(found, key=lambda c: c.name)


def _assign(session: Session, user: t.User, role: Role, names: frozenset[str]) -> None:
    if role == "admin" and names:
        raise InputError(
            f"{user.name} is an admin, who sees every client: clients are assigned to a"
            " consultant or a viewer"
        )
    user.clients = [t.UserClient(client=c) for c in _clients(session, names)]


def assign_new_client(session: Session, user: str, client: t.Client) -> None:
    """Assign ``client``, just added by the consultant ``user``, to them (in the adding
    transaction, :func:`hub.operations.clients.add_client`). The shell's user is no console
    user and needs none: nothing is assigned then."""
    row = session.scalar(select(t.User).where(t.User.name == user))
    if row is not None:
        row.clients.append(t.UserClient(client=client))


def _refuse_last_admin(session: Session, user: t.User, what: str) -> None:
    """Refuse to take away the last admin (the admins' rows locked on PostgreSQL, so that two
    admins cannot each remove the other at the same moment)."""
    if user.role != "admin":
        return
    admins = session.scalars(select(t.User.id).where(t.User.role == "admin").with_for_update())
    if len(list(admins)) <= 1:
        raise InputError(
            f"cannot {what} {user.name}: they are the last admin, and without one no one could"
            " manage users (make another user an admin first)"
        )


def _role(user: t.User) -> Role:
    # A role this hub does not know (a newer hub wrote it) sees and changes nothing.
    return user.role if user.role in ROLES else "viewer"


def _client_names(user: t.User) -> list[str] | None:
    if _role(user) == "admin":
        return None
    return sorted(uc.client.name for uc in user.clients)


def _summary(user: t.User) -> UserSummary:
    return UserSummary(
        name=user.name,
        role=_role(user),
        language=cast(Language, user.language),
        clients=_client_names(user),
        created_at=as_utc(user.created_at),
        created_by=user.created_by,
        password_changed_at=as_utc(user.password_changed_at),
    )


def _token_summary(row: t.ApiToken) -> TokenSummary:
    return TokenSummary(
        id=row.id,
        user=row.user.name,
        name=row.name,
        prefix=row.prefix,
        created_at=as_utc(row.created_at),
        created_by=row.created_by,
        revoked_at=as_utc(row.revoked_at) if row.revoked_at else None,
        last_used_at=as_utc(row.last_used_at) if row.last_used_at else None,
    )


def _actor(user: t.User) -> Actor:
    role = _role(user)
    if role == "admin":
        return Actor(user.name, operator=True, role="admin", clients=None)
    return Actor(user.name, operator=False, role=role, clients=frozenset(_client_names(user) or ()))


def _session_of(user: t.User) -> UserSession:
    changed = as_utc(user.password_changed_at).isoformat()
    stamp = hashlib.sha256(f"{user.id}:{changed}".encode()).hexdigest()[:16]
    language = user.language if user.language in LANGUAGES else "en"
    return UserSession(_actor(user), language, stamp)


def _hash(password: str) -> str:
    return _HASHER.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


# --- users --------------------------------------------------------------------------------


def add_user(ctx: Context, request: NewUser) -> UserSummary:
    """Add a user with a password (at least :data:`MIN_PASSWORD_LENGTH` characters, not the
    user's name), a role, and for a consultant or viewer the clients they see."""
    _require_admin(ctx, "add users")
    _check_name(request.name)
    role = parse_role(request.role)
    language = parse_language(request.language)
    _check_password(request.name, request.password)
    with ctx.db.session() as session:
        same = session.scalar(select(t.User).where(func.lower(t.User.name) == request.name.lower()))
        if same is not None:
            raise InputError(f"a user named {same.name!r} exists already")
        now = _now()
        user = t.User(
            name=request.name,
            password_hash=_hash(request.password),
            role=role,
            language=language,
            created_at=now,
            created_by=ctx.actor.name,
            password_changed_at=now,
        )
        _assign(session, user, role, request.clients)
        session.add(user)
        session.flush()
        summary = _summary(user)
        _record(session, ctx, "user.add", user.name, after=summary.as_dict())
        return summary


def list_users(ctx: Context) -> list[UserSummary]:
    """Every user, by name (an admin's view: users are an admin's business)."""
    _require_admin(ctx, "list users")
    with ctx.db.session() as session:
        return [_summary(u) for u in session.scalars(select(t.User).order_by(t.User.name))]


def show_user(ctx: Context, name: str) -> UserDetails:
    """A user with their API tokens (revoked ones too, never a token itself)."""
    _require_admin(ctx, "see users")
    with ctx.db.session() as session:
        user = _user(session, name)
        rows = session.scalars(
            select(t.ApiToken).where(t.ApiToken.user_id == user.id).order_by(t.ApiToken.id)
        )
        return UserDetails(_summary(user), [_token_summary(r) for r in rows])


def remove_user(ctx: Context, name: str) -> None:
    """Remove a user, their assigned clients and their API tokens (refused for the last
    admin). Their console sessions end at their next request."""
    _require_admin(ctx, "remove users")
    with ctx.db.session() as session:
        user = _user(session, name)
        _refuse_last_admin(session, user, "remove")
        _record(session, ctx, "user.remove", user.name, before=_summary(user).as_dict())
        session.delete(user)


def set_password(ctx: Context, name: str, password: str) -> None:
    """Give a user a new password; their console sessions end (their API tokens do not: revoke
    those with :func:`revoke_token`)."""
    _require_admin(ctx, "set passwords")
    _check_password(name, password)
    with ctx.db.session() as session:
        user = _user(session, name)
        user.password_hash = _hash(password)
        user.password_changed_at = _now()
        _record(session, ctx, "user.password", user.name)


def change_user(ctx: Context, name: str, change: UserChange) -> UserSummary:
    """Change a user's role, assigned clients or language (see :class:`UserChange`); the last
    admin stays an admin."""
    _require_admin(ctx, "change users")
    if change.role is None and change.clients is None and change.language is None:
        raise InputError(f"nothing to change for {name}: give a role, clients or a language")
    role = parse_role(change.role) if change.role is not None else None
    language = parse_language(change.language) if change.language is not None else None
    with ctx.db.session() as session:
        user = _user(session, name)
        before = _summary(user).as_dict()
        if role is not None and role != user.role:
            if role != "admin":
                _refuse_last_admin(session, user, f"make a {role} of")
            user.role = role
            if role == "admin" and change.clients is None:
                user.clients = []
        if change.clients is not None:
            _assign(session, user, _role(user), change.clients)
        if language is not None:
            user.language = language
        session.flush()
        summary = _summary(user)
        _record(session, ctx, "user.change", user.name, before=before, after=summary.as_dict())
        return summary


# --- logging in ---------------------------------------------------------------------------


def log_in(services: Services, name: str, password: str) -> UserSession | None:
    """The user ``name`` if ``password`` is theirs, else None (an unknown name takes as long as
    a wrong password, and is not told apart from it). A hash made with other parameters than
    today's is replaced by one made with today's."""
    with services.db.session() as session:
        user = None
        if _NAME.fullmatch(name):
            user = session.scalar(select(t.User).where(t.User.name == name))
        if user is None:
            _verify(_dummy_hash(), password)
            return None
        if not _verify(user.password_hash, password):
            return None
        if _HASHER.check_needs_rehash(user.password_hash):
            user.password_hash = _hash(password)
        return _session_of(user)


def authenticate(services: Services, name: str, password: str) -> Actor | None:
    """The actor of user ``name`` if ``password`` is theirs, else None (see :func:`log_in`,
    which also gives their language)."""
    found = log_in(services, name, password)
    return found.actor if found is not None else None


def user_session(services: Services, name: str) -> UserSession | None:
    """The user ``name`` as they are now (role, clients, language, stamp), None if there is no
    such user: a console asks on each request of a logged-in session."""
    with services.db.session() as session:
        user = session.scalar(select(t.User).where(t.User.name == name))
        return _session_of(user) if user is not None else None


def token_login(services: Services, token: str) -> UserSession | None:
    """The user whose API token ``token`` is, if it is one and not revoked, else None; its
    ``last_used_at`` becomes now. Looked up in the database every time: a token revoked a
    moment ago fails."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 256:
        return None
    with services.db.session() as session:
        row = session.scalar(
            select(t.ApiToken).where(
                t.ApiToken.token_hash == _token_hash(token), t.ApiToken.revoked_at.is_(None)
            )
        )
        if row is None:
            return None
        row.last_used_at = _now()
        return _session_of(row.user)


def actor_for_token(services: Services, token: str) -> Actor | None:
    """The actor whose API token ``token`` is (see :func:`token_login`), else None."""
    found = token_login(services, token)
    return found.actor if found is not None else None


# --- API tokens ---------------------------------------------------------------------------


def create_token(ctx: Context, user: str, name: str | None = None) -> NewToken:
    """Make an API token for ``user`` (``name``: what it is for). The token is in the result
    only: keep it now, it cannot be shown again."""
    _require_admin(ctx, "create API tokens")
    if name is not None:
        if not name.strip():
            raise InputError("the token's name is empty: give a name or none")
        why = limits.text_problem(name, limits.TOKEN_NAME)
        if why is not None:
            raise InputError(f"the token's name {why}")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with ctx.db.session() as session:
        owner = _user(session, user)
        row = t.ApiToken(
            user=owner,
            name=name,
            token_hash=_token_hash(token),
            prefix=token[: len(TOKEN_PREFIX) + _SHOWN_CHARACTERS],
            created_at=_now(),
            created_by=ctx.actor.name,
        )
        session.add(row)
        session.flush()
        _record(session, ctx, "token.create", owner.name, after=_token_summary(row).as_dict())
        return NewToken(
            id=row.id,
            user=owner.name,
            name=row.name,
            prefix=row.prefix,
            created_at=as_utc(row.created_at),
            token=token,
        )


def list_tokens(ctx: Context, user: str | None = None) -> list[TokenSummary]:
    """The API tokens (of ``user``, or everyone's), revoked ones too, by id; never a token."""
    _require_admin(ctx, "list API tokens")
    with ctx.db.session() as session:
        query = select(t.ApiToken).order_by(t.ApiToken.id)
        if user is not None:
            query = query.where(t.ApiToken.user_id == _user(session, user).id)
        return [_token_summary(r) for r in session.scalars(query)]


def revoke_token(ctx: Context, token_id: int) -> TokenSummary:
    """Revoke an API token: refused from now on. Revoking one twice is refused, naming when it
    was revoked."""
    _require_admin(ctx, "revoke API tokens")
    with ctx.db.session() as session:
        row = session.get(t.ApiToken, token_id)
        if row is None:
            raise NotFoundError(f"no API token with id {token_id} (see `hub tokens list`)")
        if row.revoked_at is not None:
            when = as_utc(row.revoked_at).isoformat(timespec="seconds")
            raise InputError(f"API token {token_id} was revoked already, at {when}")
        before = _token_summary(row).as_dict()
        row.revoked_at = _now()
        session.flush()
        summary = _token_summary(row)
        _record(session, ctx, "token.revoke", row.user.name, before=before, after=summary.as_dict())
        return summary
