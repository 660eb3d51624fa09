"""supplier claims: the supplier master and the claim lifecycle (issue 9 item 7, §5.5)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TIME = engine.db.UTCDateTime(timezone=True)
MONEY = sa.Numeric(12, 2)


def upgrade() -> None:
    op.create_table(
        "supplier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("contact", sa.String(100), nullable=True),
        sa.Column("phone", sa.String(40), nullable=True),
        sa.Column("email", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier")),
        sa.UniqueConstraint("code", name=op.f("uq_supplier_code")),
    )
    with op.batch_alter_table("supplier_claim", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supplier_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("parts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("raised_by", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("reference_sent", sa.String(100), nullable=True))
        batch_op.add_column(sa.Column("submitted_at", TIME, nullable=True))
        batch_op.add_column(sa.Column("accepted_amount", MONEY, nullable=True))
        batch_op.add_column(sa.Column("rejection_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("answered_at", TIME, nullable=True))
        batch_op.add_column(sa.Column("recovered_amount", MONEY, nullable=True))
        batch_op.add_column(sa.Column("settled_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("settlement_kind", sa.String(20), nullable=True))
        batch_op.add_column(sa.Column("settlement_reference", sa.String(100), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_supplier_claim_supplier_id_supplier"), "supplier", ["supplier_id"], ["id"]
        )
        batch_op.create_index(batch_op.f("ix_supplier_claim_supplier_id"), ["supplier_id"])


def downgrade() -> None:
    with op.batch_alter_table("supplier_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_claim_supplier_id"))
        batch_op.drop_constraint(batch_op.f("fk_supplier_claim_supplier_id_supplier"), type_="foreignkey")
        for column in (
            "settlement_reference",
            "settlement_kind",
            "settled_on",
            "recovered_amount",
            "answered_at",
            "rejection_reason",
            "accepted_amount",
            "submitted_at",
            "reference_sent",
            "raised_by",
            "reason",
            "parts",
            "supplier_id",
        ):
            batch_op.drop_column(column)
    op.drop_table("supplier")
