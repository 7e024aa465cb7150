"""What every command shares: the database, the plugins and the secret box, opened lazily."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hub.clock import Clock
from hub.config import chosen_database_url, database_url
from hub.db.engine import Database
from hub.operations.context import Actor, Context, Services
from hub.operations.secrets import secret_box
from hub.plugins import PluginRegistry, get_registry
from hub.secrets import SecretBox


@dataclass
class AppState:
    db_url: str | None = None
    today: dt.date | None = None  # --today
    now: dt.datetime | None = None  # --now
    _db: Database | None = field(default=None, repr=False)
    _box: SecretBox | None = field(default=None, repr=False)
    _context: Context | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return database_url(self.db_url)

    def db(self, *, check_schema: bool = True, create: bool = False) -> Database:
        """The database; a SQLite file someone chose (``--db``, ``HUB_DATABASE_URL``) must
        exist unless ``create`` (``hub db upgrade``), the default one is made on first use."""
        if self._db is None:
            create = create or chosen_database_url(self.db_url) is None
            self._db = Database(self.url, check_schema=check_schema, create=create)
        return self._db

    @property
    def box(self) -> SecretBox:
        if self._box is None:
            self._box = secret_box(self.db)
        return self._box

    @property
    def registry(self) -> PluginRegistry:
        return get_registry()

    def context(self, *, check_schema: bool = True, create: bool = False) -> Context:
        """This command's composition root: made once, on first use, and the same after."""
        if self._context is None:
            db = self.db(check_schema=check_schema, create=create)
            self._context = Context(
                services=Services(db, get_registry, self.box),  # plugins loaded when needed
                actor=Actor.from_environment(),
                clock=Clock.from_environment(self.today, now=self.now),
            )
        return self._context

    def close(self) -> None:
        self._context = None
        self._box = None
        self.today = None
        self.now = None
        if self._db is not None:
            self._db.dispose()
            self._db = None


state = AppState()
