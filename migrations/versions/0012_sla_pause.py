"""§4.6 clock pause: when and why the clock was paused, and the working days paused in all (issue 9)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("csi", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sla_paused_at", engine.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sla_pause_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("sla_paused_days", sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("csi", schema=None) as batch_op:
        batch_op.drop_column("sla_paused_days")
        batch_op.drop_column("sla_pause_reason")
        batch_op.drop_column("sla_paused_at")
