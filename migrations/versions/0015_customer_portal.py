"""customer portal: public requests, case contacts, customer links (issue 10 item 3)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import engine.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TIME = engine.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customer_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_no", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("contact_name", sa.String(100), nullable=False),
        sa.Column("contact_email", sa.String(320), nullable=False),
        sa.Column("contact_phone", sa.String(40), nullable=False),
        sa.Column("company", sa.String(200), nullable=False),
        sa.Column("customer_code", sa.String(32), nullable=False),
        sa.Column("product", sa.String(100), nullable=False),
        sa.Column("serial_no", sa.String(64), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("csi_id", sa.Integer(), nullable=True),
        sa.Column("handled_by", sa.String(64), nullable=True),
        sa.Column("handled_at", TIME, nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["csi_id"], ["csi.id"], name=op.f("fk_customer_request_csi_id_csi")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_request")),
        sa.UniqueConstraint("request_no", name=op.f("uq_customer_request_request_no")),
    )
    op.create_index("ix_customer_request_address_at", "customer_request", ["client_address", "created_at"])
    op.create_index(op.f("ix_customer_request_status"), "customer_request", ["status"])
    op.create_index(op.f("ix_customer_request_csi_id"), "customer_request", ["csi_id"])
    op.create_table(
        "case_contact",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("csi_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("lang", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(["csi_id"], ["csi.id"], name=op.f("fk_case_contact_csi_id_csi")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_contact")),
        sa.UniqueConstraint("csi_id", name=op.f("uq_case_contact_csi_id")),
    )
    op.create_table(
        "case_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("csi_id", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("wo_id", sa.Integer(), nullable=True),
        sa.Column("psr_id", sa.Integer(), nullable=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("expires_at", TIME, nullable=False),
        sa.Column("revoked_at", TIME, nullable=True),
        sa.Column("used_at", TIME, nullable=True),
        sa.ForeignKeyConstraint(["csi_id"], ["csi.id"], name=op.f("fk_case_link_csi_id_csi")),
        sa.ForeignKeyConstraint(["wo_id"], ["work_order.id"], name=op.f("fk_case_link_wo_id_work_order")),
        sa.ForeignKeyConstraint(["psr_id"], ["psr.id"], name=op.f("fk_case_link_psr_id_psr")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_case_link_token_hash")),
    )
    op.create_index(op.f("ix_case_link_csi_id"), "case_link", ["csi_id"])


def downgrade() -> None:
    op.drop_table("case_link")
    op.drop_table("case_contact")
    op.drop_table("customer_request")
