"""instance list indexes (monitoring: sort by updated, filter by start date)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_process_instance_created_at", "process_instance", ["created_at"])
    op.create_index("ix_process_instance_updated_at", "process_instance", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_process_instance_updated_at", table_name="process_instance")
    op.drop_index("ix_process_instance_created_at", table_name="process_instance")
