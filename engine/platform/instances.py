"""Persist each engine step's projections: state, inbox rows, timer due time and timeline entries, together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from typing import cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.runtime import Snapshot
from engine.bpmn.serializer import COMPACT_VERSION
from engine.bpmn.serializer import SERIALIZER_VERSION
from engine.bpmn.serializer import is_compacted
from engine.clock import utcnow
from engine.platform.timeline import event_row
from engine.platform.timeline import insert_events
from engine.records.process import HumanTask
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.process import TaskStatus


@dataclass(frozen=True)
class StepRows:
    """What one step inserts with Core statements after one flush of its ORM writes (issue 12: no ORM bookkeeping,
    no RETURNING for rows the request does not use as objects): new inbox rows and timeline entries."""

    tasks: list[dict[str, Any]]
    timeline: list[dict[str, Any]]


_INSERT_TASKS = sa.insert(cast(sa.Table, HumanTask.__table__))


def insert_step_rows(session: Session, rows: StepRows) -> None:
    """Flush the session (so entries logged earlier keep their place: the timeline is ordered by id), then insert
    the step's inbox rows and timeline entries, one statement each."""
    session.flush()
    if rows.tasks:
        session.execute(_INSERT_TASKS, rows.tasks)
    insert_events(session, rows.timeline)


def apply_snapshot(
    session: Session,
    instance: ProcessInstance,
    snapshot: Snapshot,
    *,
    actor: str,
    done: tuple[str, ...] = (),
    entries: list[dict[str, Any]] | None = None,
) -> StepRows:
    """Write one step's projections on the instance (state, timer due time, status, closed inbox rows) and return the
    rows it inserts (`insert_step_rows`): its new inbox rows and its timeline entries, after `entries` (the step's
    earlier ones, e.g. the completion)."""
    rows = StepRows(tasks=[], timeline=list(entries or []))
    now = utcnow()
    instance.state_json = snapshot.state_json
    instance.serializer_version = COMPACT_VERSION if is_compacted(snapshot.state_json) else SERIALIZER_VERSION
    instance.next_timer_due = snapshot.next_timer_due
    instance.active_elements = snapshot.active_elements
    instance.updated_at = now
    if snapshot.completed:
        instance.status = InstanceStatus.COMPLETED.value
        instance.completed_at = now
        rows.timeline.append(
            event_row("instance.completed", actor=actor, csi_id=instance.csi_id, instance_id=instance.id)
        )
    previous = set(instance.open_task_ids or [])
    current = {ready.id for ready in snapshot.ready}
    closed = sorted(previous - current - set(done))
    instance.open_task_ids = sorted(current)
    if closed:  # cancelled by a boundary event, a reset or an ended branch: the inbox row closes with the step
        session.execute(
            sa.update(HumanTask)
            .where(HumanTask.id.in_(closed), HumanTask.status == TaskStatus.OPEN.value)
            .values(status=TaskStatus.CANCELLED.value, completed_at=now, lock_version=HumanTask.lock_version + 1)
            .execution_options(synchronize_session=False)
        )
    for ready in snapshot.ready:
        if ready.id in previous:
            continue
        rows.tasks.append(
            {
                "id": ready.id,
                "instance_id": instance.id,
                "csi_id": instance.csi_id,
                "process_id": ready.process_id,
                "bpmn_id": ready.bpmn_id,
                "name": ready.name,
                "lane": ready.lane,
                "form_file": ready.form_file,
                "ui_file": ready.ui_file,
                "documentation": ready.documentation,
                "status": TaskStatus.OPEN.value,
                "assignee": ready.assignee,
                "created_at": now,
                "due_at": ready.due_at,
                "claimed_at": now if ready.assignee else None,
                "completed_at": None,
                "completed_by": None,
                "lock_version": 1,  # what the ORM's version counter starts an inserted row at
            }
        )
        rows.timeline.append(
            event_row(
                "task.created",
                actor="system",
                csi_id=instance.csi_id,
                instance_id=instance.id,
                bpmn_id=ready.bpmn_id,
                message=ready.name,
                data={"task_id": ready.id, "lane": ready.lane},
            )
        )
    return rows
