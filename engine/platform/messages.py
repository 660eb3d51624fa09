"""Messages between instances (a visit round wakes its case): delivered in the sender's transaction when the
receiver runs, kept on the receiver when it is suspended or parked and delivered when it runs again.

A receiver whose step fails is parked with the message kept, so the sender's own step is not failed by it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.runtime import Workflow
from engine.calendar import BusinessCalendar
from engine.errors import WorkflowRuntimeError
from engine.platform.incidents import park
from engine.platform.runtime import Runtime
from engine.platform.step import run_step
from engine.platform.timeline import log_event
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance

Calendar = Callable[[], BusinessCalendar]


def send_message(
    session: Session,
    runtime: Runtime,
    instance_id: int,
    name: str,
    payload: dict[str, Any],
    *,
    actor: str,
    calendar: Calendar,
) -> bool:
    """Deliver message `name` to an instance now (True), or keep it until the instance runs again (False)."""
    query = sa.select(ProcessInstance).where(ProcessInstance.id == instance_id).with_for_update()
    instance = session.scalars(query).one()
    if instance.status in (InstanceStatus.COMPLETED.value, InstanceStatus.TERMINATED.value):
        return False
    message = {"name": name, "payload": payload}
    if instance.status != InstanceStatus.RUNNING.value:
        instance.pending_messages = [*(instance.pending_messages or []), message]
        log_event(session, "message.kept", actor=actor, csi_id=instance.csi_id, instance_id=instance.id, message=name)
        return False
    try:
        with session.begin_nested():
            run_step(
                session,
                runtime,
                instance,
                lambda handle: deliver_all(session, runtime, instance, handle, [message], actor=actor),
                actor=actor,
                calendar=calendar,
            )
    except WorkflowRuntimeError as exc:
        instance.pending_messages = [*(instance.pending_messages or []), message]
        park(session, instance, exc, actor=actor)
        return False
    return True


def deliver_all(
    session: Session,
    runtime: Runtime,
    instance: ProcessInstance,
    handle: Workflow,
    messages: list[dict[str, Any]],
    *,
    actor: str,
) -> None:
    """Deliver messages to a loaded workflow inside a step, logging each one that a waiting event took."""
    for message in messages:
        name, payload = str(message.get("name")), message.get("payload")
        if runtime.deliver_message(handle, name, payload if isinstance(payload, dict) else {}):
            log_event(
                session,
                "message.delivered",
                actor=actor,
                csi_id=instance.csi_id,
                instance_id=instance.id,
                message=name,
            )
