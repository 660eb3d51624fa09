"""warranty policies, service contracts, training syllabi; CSI coverage snapshot (§2.4, §3.2, §6.1)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 03:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warranty_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('warranty_months', sa.Integer(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('archive_required', sa.Boolean(), nullable=False),
    sa.Column('set_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_warranty_policy_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warranty_policy')),
    sa.UniqueConstraint('product_id', 'version', name=op.f('uq_warranty_policy_product_id'))
    )
    op.create_table('service_contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_no', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('origin_so_no', sa.String(length=32), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=False),
    sa.Column('terms', sa.Text(), nullable=False),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_service_contract_customer_id_customer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_contract')),
    sa.UniqueConstraint('contract_no', name=op.f('uq_service_contract_contract_no'))
    )
    with op.batch_alter_table('service_contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_contract_customer_id'), ['customer_id'], unique=False)

    op.create_table('training_syllabus',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('modules', sa.JSON(), nullable=False),
    sa.Column('maintained_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', engine.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_training_syllabus_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_training_syllabus')),
    sa.UniqueConstraint('product_id', 'version', name=op.f('uq_training_syllabus_product_id'))
    )
    # Existing CSIs keep no policy or contract reference; archive_required needs a server default to be NOT NULL.
    with op.batch_alter_table('csi', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('contract_no', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('archive_required', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('csi', schema=None) as batch_op:
        batch_op.drop_column('archive_required')
        batch_op.drop_column('contract_no')
        batch_op.drop_column('policy_version')

    op.drop_table('training_syllabus')
    with op.batch_alter_table('service_contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_contract_customer_id'))

    op.drop_table('service_contract')
    op.drop_table('warranty_policy')
