"""the sync's settle guard (a share and a minimum count per client), and R2 (close on a
customer balance <= 0) unset by default, so it follows the plugin: on only where the balance
is the ledger's own

A stored ``auto_close_balance`` of true was the old default for every client, and cannot be
told from a person's choice: it becomes unset (the plugin's default). False was a person's
choice and is kept.

Revision ID: 0007
Revises: 0006
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db.tables


revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('client_dunning', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settle_guard_percent', hub.db.tables.Money(precision=18, scale=2), nullable=True))
        batch_op.add_column(sa.Column('settle_guard_min', sa.Integer(), nullable=True))
        batch_op.alter_column('auto_close_balance', existing_type=sa.Boolean(), nullable=True)
    op.execute(
        sa.text("UPDATE client_dunning SET auto_close_balance = NULL WHERE auto_close_balance")
    )


def downgrade() -> None:
    op.execute(
        sa.text(
            "UPDATE client_dunning SET auto_close_balance = :on WHERE auto_close_balance IS NULL"
        ).bindparams(on=True)
    )
    with op.batch_alter_table('client_dunning', schema=None) as batch_op:
        batch_op.alter_column('auto_close_balance', existing_type=sa.Boolean(), nullable=False)
        batch_op.drop_column('settle_guard_min')
        batch_op.drop_column('settle_guard_percent')
