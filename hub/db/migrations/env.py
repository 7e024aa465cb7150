"""Alembic environment: the engine comes from the hub (hub.db.engine.alembic_config)."""

from alembic import context

from hub.db.engine import hub_object
from hub.db.tables import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    if engine.dialect.name == "sqlite":
        # A batch migration rebuilds a table (copy, drop, rename); with foreign keys on, the
        # drop would cascade into the tables that refer to it (a case's history). Off for
        # the migration only (outside a transaction: SQLite ignores the pragma inside one).
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.commit()
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=engine.dialect.name == "sqlite",
        compare_type=True,
        include_name=hub_object,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
