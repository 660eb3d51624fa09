"""sign-in failures (throttling per account and per client address, web and API apart)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failure")),
    )
    op.create_index("ix_sign_in_failure_account", "sign_in_failure", ["channel", "username", "at"])
    op.create_index("ix_sign_in_failure_address", "sign_in_failure", ["channel", "address", "at"])
    op.create_index(op.f("ix_sign_in_failure_at"), "sign_in_failure", ["at"])


def downgrade() -> None:
    op.drop_table("sign_in_failure")
