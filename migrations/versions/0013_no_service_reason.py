"""review outcome "no service" carries a reason code: unfounded, resolved_by_phone, out_of_scope (issue 9, §4.4)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("csi", schema=None) as batch_op:
        batch_op.add_column(sa.Column("no_service_reason", sa.String(24), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("csi", schema=None) as batch_op:
        batch_op.drop_column("no_service_reason")
