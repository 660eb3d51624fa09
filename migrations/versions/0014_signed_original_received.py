"""§4.5 signed original received: when and by whom the signed review original arrived (issue 9)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("csi", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("signed_original_received_at", engine.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("signed_original_received_by", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("csi", schema=None) as batch_op:
        batch_op.drop_column("signed_original_received_by")
        batch_op.drop_column("signed_original_received_at")
