"""collection and customer mode: grants, the invoices each message covered, collection and
write-off columns of a case, and the client's customer-mode and collection rules

Revision ID: 0003
Revises: 0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import hub.db.tables


revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('client_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('feature', sa.String(length=64), nullable=False),
    sa.Column('granted_by', sa.String(length=100), nullable=False),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('client_id', 'feature')
    )
    op.create_table('message_invoices',
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoices.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', 'invoice_id')
    )
    with op.batch_alter_table('message_invoices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_invoices_invoice_id'), ['invoice_id'], unique=False)
    # Every letter made so far was about its case's invoice.
    op.execute(
        "INSERT INTO message_invoices (message_id, invoice_id)"
        " SELECT messages.id, cases.invoice_id FROM messages"
        " JOIN cases ON cases.id = messages.case_id WHERE cases.invoice_id IS NOT NULL"
    )

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sent_on', sa.Date(), nullable=True))
        batch_op.create_index('ux_messages_one_warning', ['case_id', 'round'], unique=True, sqlite_where=sa.text("kind = 'collection_warning'"), postgresql_where=sa.text("kind = 'collection_warning'"))

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('collection_warned_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('collection_deadline', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('collection_started_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('collection_amount', hub.db.tables.Money(precision=18, scale=2), nullable=True))
        batch_op.add_column(sa.Column('success_fee', hub.db.tables.Money(precision=18, scale=2), nullable=True))
        batch_op.add_column(sa.Column('write_off_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('write_off_ref', sa.Text(), nullable=True))
        batch_op.create_index('ux_cases_open_customer', ['client_id', 'customer_number'], unique=True, sqlite_where=sa.text("mode = 'customer' AND state != 'closed'"), postgresql_where=sa.text("mode = 'customer' AND state != 'closed'"))

    with op.batch_alter_table('client_dunning', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_mode', sa.String(length=16), server_default='invoice', nullable=False))
        batch_op.add_column(sa.Column('entry_sync', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column('success_fee_percent', hub.db.tables.Money(precision=18, scale=2), nullable=True))
        batch_op.add_column(sa.Column('loss_account', sa.String(length=32), server_default='3720', nullable=False))
        batch_op.add_column(sa.Column('output_vat_account', sa.String(length=32), server_default='6902', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('client_dunning', schema=None) as batch_op:
        batch_op.drop_column('output_vat_account')
        batch_op.drop_column('loss_account')
        batch_op.drop_column('success_fee_percent')
        batch_op.drop_column('entry_sync')
        batch_op.drop_column('reminder_mode')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ux_cases_open_customer', sqlite_where=sa.text("mode = 'customer' AND state != 'closed'"), postgresql_where=sa.text("mode = 'customer' AND state != 'closed'"))
        batch_op.drop_column('write_off_ref')
        batch_op.drop_column('write_off_key')
        batch_op.drop_column('success_fee')
        batch_op.drop_column('collection_amount')
        batch_op.drop_column('collection_started_on')
        batch_op.drop_column('collection_deadline')
        batch_op.drop_column('collection_warned_on')

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ux_messages_one_warning', sqlite_where=sa.text("kind = 'collection_warning'"), postgresql_where=sa.text("kind = 'collection_warning'"))
        batch_op.drop_column('sent_on')

    with op.batch_alter_table('message_invoices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_invoices_invoice_id'))

    op.drop_table('message_invoices')
    op.drop_table('client_grants')
