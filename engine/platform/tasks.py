"""Human tasks: list the inbox, claim, release and complete a task under the instance lock (one writer per instance)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.calendar import BusinessCalendar
from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import NotFoundError
from engine.errors import PermissionDeniedError
from engine.errors import Problem
from engine.errors import WorkflowRuntimeError
from engine.platform.definitions import parsed_bundle
from engine.platform.forms import TaskForm
from engine.platform.forms import task_form
from engine.platform.forms import validate_form_data
from engine.platform.incidents import park
from engine.platform.notices import notify
from engine.platform.notices import users_with_role
from engine.platform.runtime import Runtime
from engine.platform.step import run_step
from engine.platform.timeline import event_row
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.master import Customer
from engine.records.process import HumanTask
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.process import TaskStatus
from engine.records.user import User


@dataclass(frozen=True)
class CompletedTask:
    """A completed task and its instance; `held` is the model failure that parked the instance after the form was
    accepted (the user is told the case is held for the administrator), None when the step ran."""

    task: HumanTask
    instance: ProcessInstance
    held: WorkflowRuntimeError | None = None
    case: CSI | None = None
    version: ProcessVersion | None = None


@dataclass(frozen=True)
class LockedTask:
    """A task row with its instance, version and case, loaded (and on PostgreSQL locked) in one statement; holding
    the case keeps it in the session's identity map, so the step's operators and hooks read it without a statement."""

    task: HumanTask
    instance: ProcessInstance
    version: ProcessVersion
    case: CSI | None = None


def list_tasks(session: Session, user: User, *, scope: str = "all", csi_id: int | None = None) -> list[HumanTask]:
    """Open tasks the user may see: `mine` (claimed by them), `available` (unclaimed in their lanes) or both."""
    query, params = _visible_tasks(user, scope, csi_id, ordered=True)
    return list(session.scalars(query, params))


@dataclass(frozen=True)
class InboxFilter:
    """What an inbox view narrows to and how it sorts (issue 11 item 3); empty fields filter nothing."""

    process_id: str = ""
    step: str = ""  # a BPMN id of a user task
    customer: str = ""  # part of a customer's code or name
    due: str = ""  # "overdue", "today" (due by the end of today), "week" (within 7 days), "none" (no due time)
    sort: str = "due"  # "due" (most urgent first), "created" (oldest first), "newest"

    DUE = ("", "overdue", "today", "week", "none")
    SORTS = ("due", "created", "newest")


def page_tasks(
    session: Session,
    user: User,
    *,
    scope: str = "all",
    csi_id: int | None = None,
    page: int = 1,
    per_page: int = 50,
    narrow: InboxFilter | None = None,
    now: datetime | None = None,
    end_of_today: datetime | None = None,
) -> tuple[list[HumanTask], int]:
    """One page of the tasks `list_tasks` gives (in the same order unless `narrow` sorts) and how many in all."""
    where, params = _visible_tasks(user, scope, csi_id)
    order: tuple[Any, ...] = _INBOX_ORDER
    if narrow is not None:
        where = _narrowed(where, narrow, now or utcnow(), end_of_today)
        order = {"created": (HumanTask.created_at,), "newest": (HumanTask.created_at.desc(),)}.get(narrow.sort, order)
    total = int(session.scalar(sa.select(sa.func.count()).select_from(where.subquery()), params) or 0)
    query = where.order_by(*order, HumanTask.id).limit(per_page).offset((page - 1) * per_page)
    return list(session.scalars(query, params)), total


def _narrowed(
    query: sa.Select[HumanTask], narrow: InboxFilter, now: datetime, end_of_today: datetime | None
) -> sa.Select[HumanTask]:
    if narrow.process_id:
        query = query.where(HumanTask.process_id == narrow.process_id)
    if narrow.step:
        query = query.where(HumanTask.bpmn_id == narrow.step)
    if narrow.customer:
        pattern = f"%{narrow.customer.replace('%', '').replace('_', '')}%"
        customers = (
            sa.select(CSI.id)
            .join(Customer, Customer.id == CSI.customer_id)
            .where(sa.or_(Customer.code.ilike(pattern), Customer.name.ilike(pattern)))
        )
        query = query.where(HumanTask.csi_id.in_(customers))
    if narrow.due == "overdue":
        query = query.where(HumanTask.due_at.is_not(None), HumanTask.due_at < now)
    elif narrow.due == "today":
        query = query.where(HumanTask.due_at.is_not(None), HumanTask.due_at < (end_of_today or now + timedelta(days=1)))
    elif narrow.due == "week":
        query = query.where(HumanTask.due_at.is_not(None), HumanTask.due_at < now + timedelta(days=7))
    elif narrow.due == "none":
        query = query.where(HumanTask.due_at.is_(None))
    return query


def inbox_steps(session: Session, user: User, scope: str) -> list[tuple[str, str, str]]:
    """(process id, BPMN id, name) of the steps that have open tasks in this scope, for the inbox's step filter."""
    visible, params = _visible_tasks(user, scope, None)
    where = visible.subquery()
    query = sa.select(where.c.process_id, where.c.bpmn_id, sa.func.min(where.c.name)).group_by(
        where.c.process_id, where.c.bpmn_id
    )
    rows = session.execute(query.order_by(where.c.process_id, where.c.bpmn_id), params)
    return [(str(p), str(b), str(n)) for p, b, n in rows]


def count_tasks(session: Session, user: User, *, scope: str = "all") -> int:
    """How many open tasks `list_tasks` would give."""
    where, params = _visible_tasks(user, scope, None)
    return int(session.scalar(sa.select(sa.func.count()).select_from(where.subquery()), params) or 0)


_INBOX_ORDER = (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
TEAM_ROLES = frozenset({"service_supervisor", "service_director"})  # who may open the team tab and reassign from it


_VISIBLE: dict[tuple[str, bool, bool], sa.Select[HumanTask]] = {}


def _visible_tasks(
    user: User, scope: str, csi_id: int | None, *, ordered: bool = False
) -> tuple[sa.Select[HumanTask], dict[str, Any]]:
    """The statement of the open tasks `user` may see in `scope` (in inbox order when `ordered`) and its parameters.

    One statement per shape, built once with bound parameters: building it and its cache key cost about as much as
    running it on SQLite (issue 12), and every task list asks it.
    """
    team = scope == "team" and bool(user.role_keys & TEAM_ROLES)  # §2.6: the supervisor sees the whole team's work
    kind = "team" if team else scope if scope in ("mine", "available") else "all"
    key = (kind, csi_id is not None, ordered)
    found = _VISIBLE.get(key)
    if found is None:
        mine = HumanTask.assignee == sa.bindparam("username")
        lanes: Any = sa.bindparam("lanes", expanding=True)
        available = sa.and_(HumanTask.assignee.is_(None), HumanTask.lane.in_(lanes))
        where: Any = {"team": sa.true(), "mine": mine, "available": available}.get(kind, sa.or_(mine, available))
        query = sa.select(HumanTask).where(HumanTask.status == TaskStatus.OPEN.value, where)
        if csi_id is not None:
            query = query.where(HumanTask.csi_id == sa.bindparam("csi_id"))
        if ordered:
            query = query.order_by(*_INBOX_ORDER)
        found = _VISIBLE[key] = query
    params = {"username": user.username, "lanes": sorted(user.role_keys), "csi_id": csi_id}
    return found, params


def instance_open_tasks(session: Session, instance_id: int) -> list[HumanTask]:
    """Open tasks of an instance and of the instances it started (its next steps), oldest first."""
    children = sa.select(ProcessInstance.id).where(ProcessInstance.parent_instance_id == instance_id)
    query = (
        sa.select(HumanTask)
        .where(
            HumanTask.status == TaskStatus.OPEN.value,
            sa.or_(HumanTask.instance_id == instance_id, HumanTask.instance_id.in_(children)),
        )
        .order_by(HumanTask.created_at)
    )
    return list(session.scalars(query))


def get_task(session: Session, task_id: str) -> HumanTask:
    """One task by id.

    :raises NotFoundError: unknown id.
    """
    task = session.get(HumanTask, task_id)
    if task is None:
        raise NotFoundError(Problem("task_missing", f"task {task_id} does not exist", task=task_id))
    return task


def check_can_view(user: User, task: HumanTask) -> None:
    """A task is visible to holders of its lane role, its assignee, and the service director.

    :raises PermissionDeniedError: none of those.
    """
    if task.lane in user.role_keys or task.assignee == user.username or "service_director" in user.role_keys:
        return
    raise PermissionDeniedError(
        Problem(
            "lane_role",
            f"task {task.bpmn_id} belongs to lane {task.lane}; you do not hold that role",
            task=task.bpmn_id,
            lane=task.lane,
        )
    )


def form_of(session: Session, task: HumanTask) -> TaskForm:
    """The task's form from the version its instance runs on."""
    instance = session.get(ProcessInstance, task.instance_id)
    if instance is None:
        raise NotFoundError(
            Problem("instance_missing", f"instance {task.instance_id} does not exist", instance=task.instance_id)
        )
    version = session.get(ProcessVersion, instance.process_version_id)
    if version is None:
        raise NotFoundError(
            Problem(
                "version_missing",
                f"process version {instance.process_version_id} does not exist",
                process="",
                version=instance.process_version_id,
            )
        )
    return task_form(parsed_bundle(session, version), task.form_file, task.ui_file)


def claim_task(session: Session, user: User, task_id: str) -> HumanTask:
    """Take an open task in one of the user's lanes.

    :raises ConflictError: the task is closed. :raises PermissionDeniedError: wrong lane or claimed by another.
    """
    task = lock_open_task(session, task_id).task
    _check_may_work(user, task)
    if task.assignee != user.username:
        task.assignee = user.username
        task.claimed_at = utcnow()
        log_event(
            session,
            "task.claimed",
            actor=user.username,
            csi_id=task.csi_id,
            instance_id=task.instance_id,
            bpmn_id=task.bpmn_id,
            data={"task_id": task.id},
        )
    return task


def release_task(session: Session, user: User, task_id: str) -> HumanTask:
    """Give a claimed task back to its lane.

    :raises PermissionDeniedError: the task is claimed by someone else (a supervisor may release any).
    """
    task = lock_open_task(session, task_id).task
    if task.assignee not in (None, user.username) and "service_supervisor" not in user.role_keys:
        raise PermissionDeniedError(
            Problem(
                "task_claimed",
                f"task {task.bpmn_id} is claimed by {task.assignee}",
                task=task.bpmn_id,
                user=task.assignee,
            )
        )
    if task.assignee is not None:
        log_event(
            session,
            "task.released",
            actor=user.username,
            csi_id=task.csi_id,
            instance_id=task.instance_id,
            bpmn_id=task.bpmn_id,
            data={"task_id": task.id, "was": task.assignee},
        )
        task.assignee = None
        task.claimed_at = None
        people = [u for u in users_with_role(session, task.lane) if u.username != user.username]
        params = {"task": task.name, "key": _key_of(session, task), "actor": user.username}
        notify(session, people, "task.returned", params, link=f"/tasks/{task.id}", bell=False)
    return task


def _key_of(session: Session, task: HumanTask) -> str:
    """How people name the task's instance (its business key, e.g. the CSI number)."""
    instance = session.get(ProcessInstance, task.instance_id)
    return (instance.business_key if instance is not None else None) or f"#{task.instance_id}"


def complete_task(
    session: Session,
    runtime: Runtime,
    user: User,
    task_id: str,
    data: Any,
    *,
    calendar: Callable[[], BusinessCalendar],
) -> CompletedTask:
    """Check who may work the task, validate the form, complete it and run on: one engine step, one transaction.

    The records the step writes come from the operators the model declares (on the task or on the service tasks
    after it). When the model fails after the form was accepted, the submission is kept: the step is rolled back,
    the instance is parked as an incident whose retry completes the task with the kept data, and `held` is set.

    :raises ConflictError: the task is no longer open (409). :raises PermissionDeniedError: wrong lane or
        claimed by another (403), checked before the data. :raises InvalidInputError: the data fails the form or
        an operator's business rule (422); nothing changed.
    """
    locked = lock_open_task(session, task_id)
    task, instance = locked.task, locked.instance
    _check_may_work(user, task)
    bundle = parsed_bundle(session, locked.version)
    clean = validate_form_data(task_form(bundle, task.form_file, task.ui_file), data)
    held: WorkflowRuntimeError | None = None
    entries: list[dict[str, Any]] = []
    try:
        with session.begin_nested():
            run_step(
                session,
                runtime,
                instance,
                lambda handle: runtime.complete(handle, task.id, clean),
                actor=user.username,
                calendar=calendar,
                version=locked.version,
                done=(task.id,),
                before_write=lambda: _mark_completed(session, task, user, clean, entries),
                entries=entries,
            )
    except WorkflowRuntimeError as exc:
        held = exc
        _mark_completed(session, task, user, clean)
        replay = {"complete": {"task_id": task.id, "data": clean, "actor": user.username}}
        park(session, instance, exc, actor=user.username, replay=replay)
    return CompletedTask(task=task, instance=instance, held=held, case=locked.case, version=locked.version)


def _mark_completed(
    session: Session,
    task: HumanTask,
    user: User,
    clean: Mapping[str, Any],
    entries: list[dict[str, Any]] | None = None,
) -> None:
    """Close the inbox row and put the completion on the timeline (before the next tasks' entries): into `entries`
    when the step writes them, else as an entry of the session."""
    task.status = TaskStatus.COMPLETED.value
    task.completed_at = utcnow()
    task.completed_by = user.username
    task.assignee = task.assignee or user.username
    fields: dict[str, Any] = {
        "actor": user.username,
        "csi_id": task.csi_id,
        "instance_id": task.instance_id,
        "bpmn_id": task.bpmn_id,
        "message": task.name,
        "data": dict(clean),
    }
    if entries is None:
        log_event(session, "task.completed", **fields)
    else:
        entries.append(event_row("task.completed", **fields))


# Built once: building a statement and its cache key costs about as much as running it on SQLite (issue 12).
_LOCK_OPEN_TASK = (
    sa.select(HumanTask, ProcessInstance, ProcessVersion, CSI)
    .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
    .outerjoin(CSI, CSI.id == ProcessInstance.csi_id)
    .where(HumanTask.id == sa.bindparam("task_id"))
    .with_for_update(of=[HumanTask, ProcessInstance])
    .execution_options(populate_existing=True)
)


def lock_open_task(
    session: Session, task_id: str, *, instance_statuses: tuple[str, ...] = (InstanceStatus.RUNNING.value,)
) -> LockedTask:
    """Load task, instance, version and case in one statement, locking the task and instance rows on PostgreSQL."""
    row = session.execute(_LOCK_OPEN_TASK, {"task_id": task_id}).first()
    if row is None:
        raise NotFoundError(Problem("task_missing", f"task {task_id} does not exist", task=task_id))
    task, instance, version, case = row
    if task.status != TaskStatus.OPEN.value:
        raise ConflictError(
            Problem(
                "task_closed", f"task {task.bpmn_id} is already {task.status}", task=task.bpmn_id, status=task.status
            )
        )
    if instance.status not in instance_statuses:
        raise ConflictError(
            Problem(
                "instance_state",
                f"the process instance is {instance.status}",
                instance=instance.id,
                status=instance.status,
                needed="running",
            )
        )
    return LockedTask(task=task, instance=instance, version=version, case=case)


def _check_may_work(user: User, task: HumanTask) -> None:
    if task.assignee == user.username:
        return  # assigned by the supervisor, possibly as temporary staff outside the lane's role (§2.6)
    if task.lane not in user.role_keys:
        raise PermissionDeniedError(
            Problem(
                "lane_role",
                f"task {task.bpmn_id} is for role {task.lane}; you do not hold it",
                task=task.bpmn_id,
                lane=task.lane,
            )
        )
    if task.assignee not in (None, user.username):
        raise PermissionDeniedError(
            Problem(
                "task_claimed",
                f"task {task.bpmn_id} is claimed by {task.assignee}",
                task=task.bpmn_id,
                user=task.assignee,
            )
        )


def task_view(
    task: HumanTask, form: TaskForm | None, csi_no: str | None, instance: ProcessInstance | None = None
) -> dict[str, Any]:
    """The API shape of a task (DESIGN.md: id, case_id, csi_no, bpmn_id, name, lane, assignee, dates, form); a task
    without a case is known by its process and the instance's business key."""
    return {
        "id": task.id,
        "case_id": task.csi_id,
        "csi_no": csi_no,
        "process_id": task.process_id,
        "business_key": instance.business_key if instance is not None else None,
        "instance_id": task.instance_id,
        "bpmn_id": task.bpmn_id,
        "name": task.name,
        "lane": task.lane,
        "status": task.status,
        "assignee": task.assignee,
        "created_at": task.created_at.isoformat(),
        "due_at": task.due_at.isoformat() if task.due_at else None,
        "documentation": task.documentation,
        "form": {"schema": form.schema, "ui_schema": form.ui_schema} if form else None,
    }
