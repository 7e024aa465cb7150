"""recurring agreements and their invoices

Revision ID: 0004
Revises: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db.tables


revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('recurring_agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=32), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('customer_number', sa.String(length=64), nullable=False),
    sa.Column('every', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=8), nullable=False),
    sa.Column('produce', sa.String(length=8), nullable=False),
    sa.Column('first_invoice_date', sa.Date(), nullable=False),
    sa.Column('prep_days', sa.Integer(), nullable=False),
    sa.Column('agreement_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('max_count', sa.Integer(), nullable=True),
    sa.Column('no_credit_days', sa.Boolean(), nullable=False),
    sa.Column('payment_days', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('uid')
    )
    with op.batch_alter_table('recurring_agreements', schema=None) as batch_op:
        batch_op.create_index('ix_recurring_agreements_client_status', ['client_id', 'status'], unique=False)

    op.create_table('recurring_invoices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('generate_on', sa.Date(), nullable=False),
    sa.Column('invoice_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('total', hub.db.tables.Money(precision=18, scale=2), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reference', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['recurring_agreements.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agreement_id', 'sequence'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('recurring_invoices', schema=None) as batch_op:
        batch_op.create_index('ix_recurring_invoices_state', ['state'], unique=False)

    op.create_table('recurring_lines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('quantity', hub.db.tables.Money(precision=18, scale=2), nullable=False),
    sa.Column('unit_price', hub.db.tables.Money(precision=18, scale=2), nullable=False),
    sa.Column('price_factor', sa.String(length=8), nullable=False),
    sa.Column('vat_code', sa.String(length=32), nullable=True),
    sa.ForeignKeyConstraint(['agreement_id'], ['recurring_agreements.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('agreement_id', 'position')
    )


def downgrade() -> None:
    op.drop_table('recurring_lines')
    with op.batch_alter_table('recurring_invoices', schema=None) as batch_op:
        batch_op.drop_index('ix_recurring_invoices_state')

    op.drop_table('recurring_invoices')
    with op.batch_alter_table('recurring_agreements', schema=None) as batch_op:
        batch_op.drop_index('ix_recurring_agreements_client_status')

    op.drop_table('recurring_agreements')
