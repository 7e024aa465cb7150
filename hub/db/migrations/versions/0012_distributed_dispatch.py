"""hub run --distributed: procrastinate's schema (PostgreSQL only), the dispatcher's next due
time per (job kind, client), and room for a node's lease name

On PostgreSQL the revision installs procrastinate's own ``schema.sql`` (the version pinned in
pyproject.toml) into the database's current schema, unless its tables are already there (an
operator who installed it with procrastinate's CLI). On SQLite it creates only the hub's table:
``hub run --distributed`` is refused there.

Revision ID: 0012
Revises: 0011
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _procrastinate_present(bind: sa.engine.Connection) -> bool:
    return bool(
        bind.exec_driver_sql(
            "SELECT count(*) FROM pg_catalog.pg_tables"
            " WHERE schemaname = current_schema() AND tablename = 'procrastinate_jobs'"
        ).scalar()
    )


def upgrade() -> None:
    op.create_table('job_schedule',
    sa.Column('job', sa.String(length=64), nullable=False),
    sa.Column('client', sa.String(length=100), nullable=False),
    sa.Column('next_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('fingerprint', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('job', 'client')
    )
    with op.batch_alter_table('daemon_leases', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=32),
                              type_=sa.String(length=160), existing_nullable=False)
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql' and not _procrastinate_present(bind):
        from procrastinate.schema import SchemaManager

        # One statement list sent as it is, through SQLAlchemy (so the tests' recording of the
        # migrations sees it); '%' doubled as procrastinate's own SchemaManager does.
        bind.exec_driver_sql(SchemaManager.get_schema().replace('%', '%%'))


#: What procrastinate's schema.sql creates, dropped on a downgrade (tables first: their
#: triggers go with them; then the functions and types they used).
_PROCRASTINATE_DROP = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_catalog.pg_proc p
        WHERE p.pronamespace = current_schema()::regnamespace AND p.proname LIKE 'procrastinate\\_%%'
    LOOP
        EXECUTE 'DROP FUNCTION ' || f.sig || ' CASCADE';
    END LOOP;
END;
$$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status CASCADE;
"""


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        # The queue goes with it: jobs queued and not yet run are planned again by the next
        # dispatcher tick after an upgrade (the schedule file and the run history stay).
        bind.exec_driver_sql(_PROCRASTINATE_DROP)
    op.execute("DELETE FROM daemon_leases WHERE name LIKE 'node %'")  # names too long for 32
    with op.batch_alter_table('daemon_leases', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=160),
                              type_=sa.String(length=32), existing_nullable=False)
    op.drop_table('job_schedule')
