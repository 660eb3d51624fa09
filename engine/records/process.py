"""Process definitions (immutable versions), instances (one serialized state blob each) and the human-task inbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from engine.db import Base
from engine.db import UTCDateTime
from engine.labels import N_


class InstanceStatus(StrEnum):
    """Process instance states; `error` parks the instance with the failing element and line."""

    RUNNING = "running"
    COMPLETED = "completed"
    ERROR = "error"
    SUSPENDED = "suspended"
    TERMINATED = "terminated"


class TaskStatus(StrEnum):
    """Human task states as the inbox sees them."""

    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


INSTANCE_STATUS_LABELS: Mapping[InstanceStatus, str] = {
    InstanceStatus.RUNNING: N_("Running"),
    InstanceStatus.COMPLETED: N_("Completed"),
    InstanceStatus.ERROR: N_("Error"),
    InstanceStatus.SUSPENDED: N_("Suspended"),
    InstanceStatus.TERMINATED: N_("Terminated"),
}


class DefinitionBundle(Base):
    """An immutable set of BPMN, DMN and form files deployed together, identified by its content hash."""

    __tablename__ = "definition_bundle"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(sa.String(64), unique=True)
    files: Mapped[dict[str, str]] = mapped_column(sa.JSON)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deployed_by: Mapped[str] = mapped_column(sa.String(64))
    note: Mapped[str] = mapped_column(sa.String(500), default="")


class DefinitionFile(Base):
    """The repository: the current text of every deployed BPMN, DMN and form file, and the ids it declares.

    A process or decision id belongs to the one file that declares it; a deploy replaces the files it uploads and
    never overlays the others into what it checks (each version stores only the files it runs on).
    """

    __tablename__ = "definition_file"

    name: Mapped[str] = mapped_column(sa.String(200), primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    processes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    decisions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deployed_by: Mapped[str] = mapped_column(sa.String(64))


class ProcessDefinition(Base):
    """One process id across its versions: the file that declares it, and whether it is retired (no new instances;
    running ones finish on their version)."""

    __tablename__ = "process_definition"

    process_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    file: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    retired_by: Mapped[str | None] = mapped_column(sa.String(64))
    retire_reason: Mapped[str | None] = mapped_column(sa.String(1000))


class ProcessVersion(Base):
    """One deployed version of one process id; running instances stay on the version they started with."""

    __tablename__ = "process_version"
    __table_args__ = (sa.UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(sa.String(64), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    bundle_id: Mapped[int] = mapped_column(sa.ForeignKey("definition_bundle.id"))
    bundle_sha256: Mapped[str] = mapped_column(sa.String(64))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deployed_by: Mapped[str] = mapped_column(sa.String(64))
    bundle: Mapped[DefinitionBundle] = relationship(lazy="raise")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary for the API."""
        return {
            "id": self.id,
            "process_id": self.process_id,
            "version": self.version,
            "name": self.name,
            "sha256": self.sha256,
            "deployed_at": self.deployed_at.isoformat(),
            "deployed_by": self.deployed_by,
        }


class ProcessInstance(Base):
    """A running or finished process: the instance-only state JSON plus projections refreshed after each step."""

    __tablename__ = "process_instance"

    id: Mapped[int] = mapped_column(primary_key=True)
    process_version_id: Mapped[int] = mapped_column(sa.ForeignKey("process_version.id"), index=True)
    process_id: Mapped[str] = mapped_column(sa.String(64))
    csi_id: Mapped[int | None] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    parent_instance_id: Mapped[int | None] = mapped_column(sa.ForeignKey("process_instance.id"), index=True)
    work_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("work_order.id"), index=True)
    business_key: Mapped[str | None] = mapped_column(sa.String(120), index=True)  # what people call it (CSI no.)
    started_by: Mapped[str | None] = mapped_column(sa.String(64))
    # messages that arrived while the instance was suspended or parked: delivered when it runs again
    pending_messages: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default=InstanceStatus.RUNNING.value, index=True)
    state_json: Mapped[str] = mapped_column(sa.Text)
    serializer_version: Mapped[str] = mapped_column(sa.String(8))
    next_timer_due: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    active_elements: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    open_task_ids: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # the inbox rows this instance has open
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    error_bpmn_id: Mapped[str | None] = mapped_column(sa.String(64))
    error_line: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lock_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}


class HumanTask(Base):
    """Inbox row for one READY user task (key = the engine's task UUID); never load workflows to list tasks."""

    __tablename__ = "human_task"
    __table_args__ = (sa.Index("ix_human_task_open_lane", "status", "lane"),)

    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    instance_id: Mapped[int] = mapped_column(sa.ForeignKey("process_instance.id"), index=True)
    csi_id: Mapped[int | None] = mapped_column(sa.ForeignKey("csi.id"), index=True)
    process_id: Mapped[str] = mapped_column(sa.String(64))
    bpmn_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(200))
    lane: Mapped[str] = mapped_column(sa.String(32))
    form_file: Mapped[str | None] = mapped_column(sa.String(120))
    ui_file: Mapped[str | None] = mapped_column(sa.String(120))
    documentation: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[str] = mapped_column(sa.String(16), default=TaskStatus.OPEN.value)
    assignee: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(sa.String(64))
    lock_version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": lock_version}
