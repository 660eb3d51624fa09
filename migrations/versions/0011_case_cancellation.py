"""case and WO cancellation: who withdrew a CSI, when and why, and the case it duplicates (issue 9, §4.1–§4.2)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("csi", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", engine.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_by", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("duplicate_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_csi_duplicate_of_id_csi"), "csi", ["duplicate_of_id"], ["id"])
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", engine.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancel_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("cancelled_at")
    with op.batch_alter_table("csi", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_csi_duplicate_of_id_csi"), type_="foreignkey")
        batch_op.drop_column("duplicate_of_id")
        batch_op.drop_column("cancel_reason")
        batch_op.drop_column("cancelled_by")
        batch_op.drop_column("cancelled_at")
