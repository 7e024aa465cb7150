"""the daemon's run history: who ran each job (to tell a crashed run from one still going),
the client's day it acted for, and an index for the last successful run of a job per client

Revision ID: 0005
Revises: 0004
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('runner', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('today', sa.Date(), nullable=True))
        batch_op.create_index('ix_job_runs_job_client_finished', ['job', 'client_id', 'finished_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_job_runs_job_client_finished')
        batch_op.drop_column('today')
        batch_op.drop_column('runner')
