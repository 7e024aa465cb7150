"""the dispatch plan: a client's approval rule and sending window; what a letter says and
claims (to date it again when it goes out later), and who approved or held it back

Revision ID: 0011
Revises: 0010
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db.tables


revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('client_dunning', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval', sa.String(length=16), server_default='none', nullable=False))
        batch_op.add_column(sa.Column('sending_window', sa.String(length=64), nullable=True))
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('amount', hub.db.tables.Money(precision=18, scale=2), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('letter', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('approved_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('held_by', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('held_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('hold_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    # Letters waiting for approval or held back are cancelled, saying why: the hub before this
    # revision knows neither status, and must not send a letter no one approved.
    op.execute(
        "UPDATE messages SET status = 'cancelled', last_error = 'not approved when the database"
        " went back to a hub without approval' WHERE status IN ('pending_approval', 'held')"
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_column('hold_reason')
        batch_op.drop_column('held_at')
        batch_op.drop_column('held_by')
        batch_op.drop_column('approved_at')
        batch_op.drop_column('approved_by')
        batch_op.drop_column('letter')
        batch_op.drop_column('currency')
        batch_op.drop_column('amount')
    with op.batch_alter_table('client_dunning', schema=None) as batch_op:
        batch_op.drop_column('sending_window')
        batch_op.drop_column('approval')
