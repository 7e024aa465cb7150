"""Driving the dunning engine day by day in tests: sync, cycle and delivery, as `hub sync` does."""

from __future__ import annotations

import datetime as dt
from importlib.metadata import entry_points
from typing import Any

import sqlalchemy as sa

from hub.db import tables as t
from hub.db.engine import Database
from hub.dunning.cycle import CycleReport
from hub.plugins import ENTRY_POINT_GROUP, PluginRegistry, load_plugins
from hub.secrets import SecretBox
from tests.helpers import deliver_pending, run_cycle, sync_client


def registry_with_outbox(*plugins: Any) -> PluginRegistry:
    """Test plugins plus the installed file outbox (the default delivery) and nothing else."""
    registry = load_plugins(
        [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "file_outbox"]
    )
    assert "file_outbox" in registry.infos, registry.errors or "file_outbox is not installed"
    for plugin in plugins:
        registry.register(plugin.name, plugin)
    return registry


def run_day(
    db: Database, registry: PluginRegistry, box: SecretBox, name: str, day: dt.date
) -> CycleReport:
    sync_client(db, registry, box, name, day)
    report = run_cycle(db, name, day, registry)
    deliver_pending(db, registry, box, name, day)
    return report


def messages(db: Database) -> list[t.Message]:
    with db.session() as session:
        return list(session.scalars(sa.select(t.Message).order_by(t.Message.id)))


def cases(db: Database) -> list[t.Case]:
    with db.session() as session:
        return list(session.scalars(sa.select(t.Case).order_by(t.Case.id)))


def events(db: Database, case_id: int) -> list[dict[str, Any]]:
    with db.session() as session:
        return [
            {"kind": e.kind, "by": e.actor, "on": e.on_date, "reason": e.reason, "data": e.data}
            for e in session.scalars(
                sa.select(t.CaseEvent)
                .where(t.CaseEvent.case_id == case_id)
                .order_by(t.CaseEvent.id)
            )
        ]
