"""dashboard indexes: period filters of the manager dashboard (received, closed, filed, created) and ageing by status

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 03:30:00.000000
"""
from __future__ import annotations

from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

INDEXES = (
    ('ix_csi_received_at', 'csi', ['received_at']),
    ('ix_csi_closed_at', 'csi', ['closed_at']),
    ('ix_csi_status_received_at', 'csi', ['status', 'received_at']),
    ('ix_psr_created_at', 'psr', ['created_at']),
    ('ix_satisfaction_survey_filed_at', 'satisfaction_survey', ['filed_at']),
    ('ix_service_sales_order_created_at', 'service_sales_order', ['created_at']),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
