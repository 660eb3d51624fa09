"""general engine: the definition repository (one owner file per process id), retirement, business keys, kept
messages

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import hashlib
import json

import sqlalchemy as sa
from alembic import op
from lxml import etree

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def _declared(name: str, text: str) -> tuple[list[str], list[str]]:
    """Process and decision ids a stored file declares (the stored files passed the hardened parser at deploy)."""
    if not name.endswith((".bpmn", ".dmn")):
        return [], []
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        return [], []
    processes = [str(p.get("id")) for p in root.iter(f"{BPMN}process") if p.get("id")]
    decisions = [str(d.get("id")) for d in root if str(d.tag).endswith("}decision") and d.get("id")]
    return processes, decisions


def upgrade() -> None:
    op.create_table(
        "definition_file",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("processes", sa.JSON(), nullable=False),
        sa.Column("decisions", sa.JSON(), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deployed_by", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_definition_file")),
    )
    op.create_table(
        "process_definition",
        sa.Column("process_id", sa.String(64), primary_key=True),
        sa.Column("file", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_by", sa.String(64), nullable=True),
        sa.Column("retire_reason", sa.String(1000), nullable=True),
        sa.PrimaryKeyConstraint("process_id", name=op.f("pk_process_definition")),
    )
    with op.batch_alter_table("process_instance") as batch:
        batch.add_column(sa.Column("business_key", sa.String(120), nullable=True))
        batch.add_column(sa.Column("started_by", sa.String(64), nullable=True))
        batch.add_column(sa.Column("pending_messages", sa.JSON(), nullable=True))
        batch.create_index("ix_process_instance_business_key", ["business_key"])
    _seed_repository()


def _seed_repository() -> None:
    """Existing installs: the newest overlay bundle becomes the repository; each process is owned by its file."""
    bind = op.get_bind()
    row = bind.execute(sa.text("SELECT files, deployed_at, deployed_by FROM definition_bundle ORDER BY id DESC")).first()
    bind.execute(
        sa.text(
            "UPDATE process_instance SET business_key = (SELECT csi_no FROM csi WHERE csi.id = process_instance.csi_id)"
            " WHERE csi_id IS NOT NULL AND parent_instance_id IS NULL"
        )
    )
    if row is None:
        return
    files = row[0] if isinstance(row[0], dict) else json.loads(row[0])
    deployed_at = row[1]
    owners: dict[str, str] = {}
    for name, text in sorted(files.items()):
        processes, decisions = _declared(name, text)
        for process_id in processes:
            owners.setdefault(process_id, name)
        bind.execute(
            sa.text(
                "INSERT INTO definition_file (name, text, sha256, processes, decisions, deployed_at, deployed_by)"
                " VALUES (:name, :text, :sha, :processes, :decisions, :at, :by)"
            ),
            {
                "name": name,
                "text": text,
                "sha": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                "processes": json.dumps(processes),
                "decisions": json.dumps(decisions),
                "at": deployed_at,
                "by": row[2],
            },
        )
    deployed = {r[0] for r in bind.execute(sa.text("SELECT DISTINCT process_id FROM process_version"))}
    for process_id in sorted(deployed):
        bind.execute(
            sa.text("INSERT INTO process_definition (process_id, file, created_at) VALUES (:pid, :file, :at)"),
            {"pid": process_id, "file": owners.get(process_id, ""), "at": deployed_at},
        )


def downgrade() -> None:
    with op.batch_alter_table("process_instance") as batch:
        batch.drop_index("ix_process_instance_business_key")
        batch.drop_column("pending_messages")
        batch.drop_column("started_by")
        batch.drop_column("business_key")
    op.drop_table("process_definition")
    op.drop_table("definition_file")
