"""visit outcomes: the §6.3 training-visit record on the training plan, and the §5.8 end of service the customer did
not accept (reason, who proposed it, the director who approved it, when) on the CSI (issue 9 item 7)

Revision ID: 0019
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("training_plan") as batch:
        batch.add_column(sa.Column("visit_record", sa.JSON(), nullable=True))
    with op.batch_alter_table("csi") as batch:
        batch.add_column(sa.Column("service_end", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("csi") as batch:
        batch.drop_column("service_end")
    with op.batch_alter_table("training_plan") as batch:
        batch.drop_column("visit_record")
