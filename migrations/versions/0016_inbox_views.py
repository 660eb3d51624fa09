"""inbox views: a user's saved inbox filters (issue 11 item 3)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbox_view",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("name", sa.String(60), nullable=False),
        sa.Column("query", sa.String(500), nullable=False),
        sa.Column("created_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_view")),
        sa.UniqueConstraint("username", "name", name=op.f("uq_inbox_view_username")),
    )
    op.create_index(op.f("ix_inbox_view_username"), "inbox_view", ["username"])


def downgrade() -> None:
    op.drop_table("inbox_view")
