"""dunning

Revision ID: 0002
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db.tables


revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('client_dunning',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('auto_close_paid', sa.Boolean(), nullable=False),
    sa.Column('auto_close_balance', sa.Boolean(), nullable=False),
    sa.Column('auto_start', sa.Boolean(), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('min_amount', hub.db.tables.Money(precision=18, scale=2), nullable=True),
    sa.Column('excluded_customers', sa.JSON(), nullable=False),
    sa.Column('creditor_name', sa.String(length=255), nullable=True),
    sa.Column('payment_details', sa.Text(), nullable=True),
    sa.Column('sender_email', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('client_id')
    )
    op.create_table('flow_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('offset_days', sa.Integer(), nullable=False),
    sa.Column('anchor', sa.String(length=16), nullable=False),
    sa.Column('template', sa.String(length=32), nullable=False),
    sa.Column('fee', hub.db.tables.Money(precision=18, scale=2), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'stage', 'position')
    )
    op.create_table('case_payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('amount', hub.db.tables.Money(precision=18, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('registered_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_payments_case_id'), ['case_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('round', sa.Integer(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=True),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('fee', hub.db.tables.Money(precision=18, scale=2), nullable=False),
    sa.Column('fee_currency', sa.String(length=3), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('recipient_name', sa.String(length=255), nullable=False),
    sa.Column('recipient_email', sa.String(length=255), nullable=True),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('channel', sa.String(length=100), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('reference', sa.Text(), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('case_id', 'stage', 'round', 'step')
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_client_status', ['client_id', 'status'], unique=False)

    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_date', sa.Date(), nullable=True))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mode', sa.String(length=16), server_default='invoice', nullable=False))
        batch_op.add_column(sa.Column('started_by', sa.String(length=8), server_default='user', nullable=False))
        batch_op.add_column(sa.Column('opened_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('stage_entered_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('round', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('step_index', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_step_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('last_fee_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('pause_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('pause_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('resume_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('paid_in_accounting', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('closed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('closed_by', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('close_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('close_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('credit_note_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('credit_note_ref', sa.Text(), nullable=True))
        batch_op.create_index('ux_cases_open_invoice', ['invoice_id'], unique=True, sqlite_where=sa.text("state != 'closed'"), postgresql_where=sa.text("state != 'closed'"))

    with op.batch_alter_table('client_plugins', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='accounting', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('client_plugins', schema=None) as batch_op:
        batch_op.drop_column('kind')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ux_cases_open_invoice', sqlite_where=sa.text("state != 'closed'"), postgresql_where=sa.text("state != 'closed'"))
        batch_op.drop_column('credit_note_ref')
        batch_op.drop_column('credit_note_key')
        batch_op.drop_column('close_reason')
        batch_op.drop_column('close_code')
        batch_op.drop_column('closed_by')
        batch_op.drop_column('closed_on')
        batch_op.drop_column('paid_in_accounting')
        batch_op.drop_column('resume_on')
        batch_op.drop_column('pause_note')
        batch_op.drop_column('pause_reason')
        batch_op.drop_column('last_fee_on')
        batch_op.drop_column('last_step_on')
        batch_op.drop_column('step_index')
        batch_op.drop_column('round')
        batch_op.drop_column('stage_entered_on')
        batch_op.drop_column('opened_on')
        batch_op.drop_column('started_by')
        batch_op.drop_column('mode')

    with op.batch_alter_table('case_events', schema=None) as batch_op:
        batch_op.drop_column('on_date')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_client_status')

    op.drop_table('messages')
    with op.batch_alter_table('case_payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_payments_case_id'))

    op.drop_table('case_payments')
    op.drop_table('flow_steps')
    op.drop_table('client_dunning')
