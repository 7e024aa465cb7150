"""The database schema: bring it to this hub's version, and tell where it is."""

from __future__ import annotations

from dataclasses import dataclass

from hub.db import engine
from hub.operations import access
from hub.operations.context import Context


@dataclass(frozen=True)
class SchemaUpgrade:
    database: str  # the URL shown (no password)
    before: str | None  # None: an empty database
    after: str


@dataclass(frozen=True)
class SchemaRevision:
    database: str
    current: str | None  # None: an empty database
    needed: str
    known: bool  # False: a newer hub upgraded the database

    @property
    def behind(self) -> bool:
        """`hub db upgrade` brings the database to :attr:`needed`."""
        return self.known and self.current != self.needed


def upgrade(ctx: Context) -> SchemaUpgrade:
    """Run the Alembic migrations up to this hub's head. The context's database is opened
    without the schema check (the schema is what is being fixed)."""
    # An admin's (the shell's user); no audit entry: before it, the log's table may not exist.
    access.permit(ctx, action="database.upgrade", client=None, subject="the schema")
    db = ctx.db
    before, after = engine.upgrade(db.engine)
    return SchemaUpgrade(db.display_url, before, after)


def current(ctx: Context) -> SchemaRevision:
    db = ctx.db
    revision = engine.current_revision(db.engine)
    known = revision is None or revision in engine.known_revisions()
    return SchemaRevision(db.display_url, revision, engine.head_revision(), known)
