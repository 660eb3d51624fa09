"""Administrative actions on process instances and tasks, each with a required reason recorded on the timeline:
suspend, resume, terminate (cancels the workflow, closes its open tasks and those of its sub-instances), retry an
errored step, and reassign an open task.

A suspended instance refuses task completion (tasks._lock: only `running` instances move) and the timer worker skips
it (it selects `running` instances only); its due timers fire at the first poll after resume.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.runtime import Workflow
from engine.calendar import BusinessCalendar
from engine.calendar import load_calendar
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.errors import WorkflowRuntimeError
from engine.platform import incidents
from engine.platform.access import check_role
from engine.platform.messages import deliver_all
from engine.platform.notices import notify
from engine.platform.registry import Termination
from engine.platform.runtime import Runtime
from engine.platform.step import load_workflow
from engine.platform.step import run_step
from engine.platform.step import write_step
from engine.platform.tasks import lock_open_task
from engine.platform.timeline import log_event
from engine.records.process import HumanTask
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.user import Role
from engine.records.user import User

ACTION_ROLES = (Role.SERVICE_DIRECTOR.value, Role.SERVICE_MANAGER.value, Role.SERVICE_SUPERVISOR.value)
REASON_MAX = 1000
_OPEN = (InstanceStatus.RUNNING.value, InstanceStatus.SUSPENDED.value, InstanceStatus.ERROR.value)

Calendar = Callable[[], BusinessCalendar]


@dataclass(frozen=True)
class RetryOutcome:
    """What a retry did: `error` is set when the step failed again (the instance stays parked, with the new error)."""

    instance: ProcessInstance
    reset: list[str]
    error: WorkflowRuntimeError | None = None

    @property
    def ok(self) -> bool:
        """True when the instance runs again."""
        return self.error is None


def check_reason(reason: Any) -> str:
    """A trimmed reason of 1–REASON_MAX characters.

    :raises InvalidInputError: missing, blank, too long or not text.
    """
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise InvalidInputError("a reason is required", {"reason": Problem("required", "this field is required")})
    if len(text) > REASON_MAX or "\x00" in text:
        raise InvalidInputError(
            "reason too long",
            {"reason": Problem("too_long", f"must be text of at most {REASON_MAX} characters", limit=REASON_MAX)},
        )
    return text


def suspend_instance(session: Session, user: User, instance_id: int, reason: Any) -> ProcessInstance:
    """Stop a running instance: no task completes and no timer fires until it is resumed.

    :raises PermissionDeniedError: not a service director, manager or supervisor. :raises InvalidInputError: no
        reason. :raises ConflictError: the instance is not running.
    """
    text = _authorize(user, reason)
    instance = _lock(session, instance_id)
    _require(instance, InstanceStatus.RUNNING, "suspend")
    instance.status = InstanceStatus.SUSPENDED.value
    _log(session, instance, "instance.suspended", user, text)
    return instance


def resume_instance(
    session: Session, runtime: Runtime, user: User, instance_id: int, reason: Any, *, calendar: Calendar
) -> ProcessInstance:
    """Let a suspended instance run again; messages that arrived meanwhile are delivered now.

    :raises PermissionDeniedError: wrong role. :raises InvalidInputError: no reason. :raises ConflictError: the
        instance is not suspended.
    """
    text = _authorize(user, reason)
    instance = _lock(session, instance_id)
    _require(instance, InstanceStatus.SUSPENDED, "resume")
    instance.status = InstanceStatus.RUNNING.value
    _log(session, instance, "instance.resumed", user, text)
    kept = list(instance.pending_messages or [])
    if kept:
        try:
            with session.begin_nested():
                instance.pending_messages = []
                run_step(
                    session,
                    runtime,
                    instance,
                    lambda handle: deliver_all(session, runtime, instance, handle, kept, actor=user.username),
                    actor=user.username,
                    calendar=calendar,
                )
        except WorkflowRuntimeError as exc:
            instance.pending_messages = kept
            incidents.park(session, instance, exc, actor=user.username)
    return instance


def terminate_instance(
    session: Session,
    runtime: Runtime,
    user: User,
    instance_id: int,
    reason: Any,
    *,
    calendar: Calendar | None = None,
) -> ProcessInstance:
    """End an unfinished instance for good: its workflow is cancelled, its open tasks close, its unfinished
    sub-instances (visit rounds) are terminated with it, and the applications' termination hooks bring their records
    along (a terminated case cancels its CSI; a terminated round cancels its WO and wakes the case).

    :raises PermissionDeniedError: wrong role. :raises InvalidInputError: no reason. :raises ConflictError: the
        instance already finished.
    """
    text = _authorize(user, reason)
    instance = _lock(session, instance_id)
    if instance.status not in _OPEN:
        raise ConflictError(
            Problem(
                "instance_finished",
                f"instance {instance.id} is {instance.status}; only unfinished instances can be terminated",
                instance=instance.id,
                status=instance.status,
            )
        )
    _terminate(session, runtime, instance, user, text, cascade_from=None, calendar=calendar)
    return instance


def terminate_for(
    session: Session, runtime: Runtime, actor: User, instance: ProcessInstance, reason: str, *, calendar: Calendar
) -> None:
    """Terminate an unfinished instance on behalf of an application action already authorized (e.g. a withdrawn
    case): the same cascade and hooks as terminate_instance."""
    if instance.status in _OPEN:
        _terminate(session, runtime, instance, actor, reason, cascade_from=None, calendar=calendar)


def _terminate(
    session: Session,
    runtime: Runtime,
    instance: ProcessInstance,
    user: User,
    reason: str,
    cascade_from: int | None,
    calendar: Calendar | None,
) -> None:
    handle = load_workflow(session, runtime, instance)
    runtime.cancel(handle)
    snapshot = replace(runtime.snapshot(handle), completed=False, ready=[], active_elements=[], next_timer_due=None)
    instance.status = InstanceStatus.TERMINATED.value
    instance.completed_at = utcnow()
    write_step(session, runtime, instance, snapshot, actor=user.username)
    extra = {"cascade_from": cascade_from} if cascade_from is not None else {}
    _log(session, instance, "instance.terminated", user, reason, **extra)
    children = sa.select(ProcessInstance).where(
        ProcessInstance.parent_instance_id == instance.id, ProcessInstance.status.in_(_OPEN)
    )
    for child in session.scalars(children.with_for_update().execution_options(populate_existing=True)).all():
        _terminate(session, runtime, child, user, reason, cascade_from=instance.id, calendar=calendar)
    loader = calendar or (lambda: load_calendar(session))
    runtime.registry.after_terminate(
        Termination(session, runtime, instance, user.username, reason, cascade_from, loader)
    )


def retry_instance(
    session: Session, runtime: Runtime, user: User, instance_id: int, reason: Any, *, calendar: Calendar
) -> RetryOutcome:
    """Retry the failed step of a parked instance (after its cause was fixed): a kept task completion is redone with
    the data the user submitted, kept messages are delivered, errored tasks are reset, due timers fire, and the
    engine runs on. On success the instance runs again; on a new failure it stays parked with the new error.

    :raises PermissionDeniedError: wrong role. :raises InvalidInputError: no reason. :raises ConflictError: the
        instance is not in error.
    """
    text = _authorize(user, reason)
    instance = _lock(session, instance_id)
    _require(instance, InstanceStatus.ERROR, "retry")
    replay = incidents.last_replay(session, instance.id) or {}
    kept = list(instance.pending_messages or [])
    if isinstance(replay.get("message"), str):
        kept.insert(0, {"name": replay["message"], "payload": replay.get("payload")})
    failed = {"bpmn_id": instance.error_bpmn_id, "message": instance.error_message, "line": instance.error_line}
    completion = replay.get("complete") if isinstance(replay.get("complete"), dict) else None
    done = (str(completion["task_id"]),) if completion else ()

    def redo(handle: Workflow) -> list[str]:
        if completion is not None:
            runtime.complete(handle, str(completion["task_id"]), dict(completion.get("data") or {}))
        deliver_all(session, runtime, instance, handle, kept, actor=user.username)
        return runtime.retry(handle)

    try:
        with session.begin_nested():
            _clear_error(instance)
            instance.pending_messages = []
            actor = str(completion.get("actor") or user.username) if completion else user.username  # who submitted
            reset = run_step(session, runtime, instance, redo, actor=actor, calendar=calendar, done=done)
            _log(session, instance, "instance.retried", user, text, failed=failed, reset=reset)
    except WorkflowRuntimeError as exc:
        instance.pending_messages = [m for m in kept if m.get("name") != replay.get("message")]
        incidents.park(session, instance, exc, actor=user.username, replay=replay or None)
        _log(session, instance, "instance.retry_failed", user, text, failed=failed)
        return RetryOutcome(instance=instance, reset=[], error=exc)
    return RetryOutcome(instance=instance, reset=reset)


def reassign_task(session: Session, user: User, task_id: str, username: Any, reason: Any) -> HumanTask:
    """Give an open task to another active user (also outside the task's lane: temporary staff, §2.6).

    :raises PermissionDeniedError: wrong role. :raises InvalidInputError: no reason, unknown or inactive user, or
        already theirs. :raises ConflictError: the task is closed or its instance finished.
    """
    text = _authorize(user, reason)
    task = lock_open_task(session, task_id, instance_statuses=_OPEN).task
    person = _person(session, username)
    if task.assignee == person.username:
        raise InvalidInputError(
            "already assigned",
            {
                "username": Problem(
                    "already_assigned", f"the task is already assigned to {person.username}", user=person.username
                )
            },
        )
    previous = task.assignee
    task.assignee, task.claimed_at = person.username, utcnow()
    instance = session.get(ProcessInstance, task.instance_id)
    key = (instance.business_key if instance is not None else None) or f"#{task.instance_id}"
    notify(session, [person], "task.assigned", {"task": task.name, "key": key}, link=f"/tasks/{task.id}")
    log_event(
        session,
        "task.reassigned",
        actor=user.username,
        csi_id=task.csi_id,
        instance_id=task.instance_id,
        bpmn_id=task.bpmn_id,
        message=text,
        data={
            "task_id": task.id,
            "from": previous,
            "to": person.username,
            "reason": text,
            "outside_lane": task.lane not in person.role_keys,
        },
    )
    return task


def _person(session: Session, username: Any) -> User:
    name = username.strip() if isinstance(username, str) else ""
    if not name:
        raise InvalidInputError("no user", {"username": Problem("required", "this field is required")})
    person = session.scalars(sa.select(User).where(User.username == name[:64])).first()
    if person is None or not person.active:
        raise InvalidInputError(
            "unknown user", {"username": Problem("user_missing", f"no active user {name[:64]!r}", user=name[:64])}
        )
    return person


def _authorize(user: User, reason: Any) -> str:
    check_role(user, *ACTION_ROLES)
    return check_reason(reason)


def _lock(session: Session, instance_id: int) -> ProcessInstance:
    query = (
        sa.select(ProcessInstance)
        .where(ProcessInstance.id == instance_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    instance = session.scalars(query).first()
    if instance is None:
        raise NotFoundError(Problem("instance_missing", f"instance {instance_id} does not exist", instance=instance_id))
    return instance


def _require(instance: ProcessInstance, status: InstanceStatus, action: str) -> None:
    if instance.status != status.value:
        raise ConflictError(
            Problem(
                "instance_state",
                f"instance {instance.id} is {instance.status}; {action} needs a {status.value} instance",
                instance=instance.id,
                status=instance.status,
                needed=status.value,
            )
        )


def _clear_error(instance: ProcessInstance) -> None:
    if instance.status == InstanceStatus.ERROR.value:
        instance.status = InstanceStatus.RUNNING.value
    instance.error_message = instance.error_bpmn_id = None
    instance.error_line = None


def _log(session: Session, instance: ProcessInstance, kind: str, user: User, reason: str, **data: Any) -> None:
    instance.updated_at = utcnow()
    log_event(
        session,
        kind,
        actor=user.username,
        csi_id=instance.csi_id,
        instance_id=instance.id,
        message=reason,
        data={"reason": reason, "status": instance.status, **data},
    )
