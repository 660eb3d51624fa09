"""part returns: a spare part's return, exchange or compensation with its steps (§3.1, issue 9 item 7)

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "part_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rt_no", sa.String(32), nullable=False),
        sa.Column("csi_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.Integer(), nullable=True),
        sa.Column("origin_so_no", sa.String(32), nullable=True),
        sa.Column("part_no", sa.String(64), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("remedy", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("registered_at", engine.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=True),
        sa.Column("received_by", sa.String(64), nullable=True),
        sa.Column("received_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("condition", sa.String(32), nullable=True),
        sa.Column("condition_notes", sa.Text(), nullable=True),
        sa.Column("inspected_by", sa.String(64), nullable=True),
        sa.Column("inspected_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finding", sa.Text(), nullable=True),
        sa.Column("responsibility", sa.String(32), nullable=True),
        sa.Column("decision", sa.String(16), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("exchange_so_id", sa.Integer(), nullable=True),
        sa.Column("exchange_so_no", sa.String(32), nullable=True),
        sa.Column("credit_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("credit_note_ref", sa.String(64), nullable=True),
        sa.Column("settlement_notes", sa.Text(), nullable=True),
        sa.Column("settled_by", sa.String(64), nullable=True),
        sa.Column("closed_at", engine.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["csi_id"], ["csi.id"], name=op.f("fk_part_return_csi_id_csi")),
        sa.ForeignKeyConstraint(
            ["instance_id"], ["process_instance.id"], name=op.f("fk_part_return_instance_id_process_instance")
        ),
        sa.ForeignKeyConstraint(
            ["exchange_so_id"],
            ["service_sales_order.id"],
            name=op.f("fk_part_return_exchange_so_id_service_sales_order"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_part_return")),
        sa.UniqueConstraint("rt_no", name=op.f("uq_part_return_rt_no")),
    )
    op.create_index(op.f("ix_part_return_csi_id"), "part_return", ["csi_id"])
    op.create_index(op.f("ix_part_return_instance_id"), "part_return", ["instance_id"])


def downgrade() -> None:
    op.drop_table("part_return")
