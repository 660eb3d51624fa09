"""Start any deployed process: who may start it (the role of the lane holding its start event; without lanes,
process designers and admins), its optional start form, and the instance's first tasks.

Processes an application starts itself (a case is started by registering it) are refused here with where to go.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.bpmn.start_event import StartEvent
from engine.bpmn.start_event import start_event
from engine.calendar import BusinessCalendar
from engine.errors import ConflictError
from engine.errors import PermissionDeniedError
from engine.errors import Problem
from engine.platform.definitions import parsed_bundle
from engine.platform.definitions import require_startable_version
from engine.platform.forms import TaskForm
from engine.platform.forms import task_form
from engine.platform.forms import validate_form_data
from engine.platform.runtime import Runtime
from engine.platform.step import start_instance
from engine.platform.tasks import instance_open_tasks
from engine.records.process import HumanTask
from engine.records.process import ProcessDefinition
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.user import Role
from engine.records.user import User

LANELESS_STARTERS = (Role.PROCESS_DESIGNER.value, Role.ADMIN.value)


@dataclass(frozen=True)
class Startable:
    """A process the user may start: its latest version, who may start it and its start form (None: no form)."""

    version: ProcessVersion
    roles: tuple[str, ...]
    form: TaskForm | None
    event: StartEvent

    def as_dict(self) -> dict[str, Any]:
        """The API shape: process_id, name, version, start_form."""
        form = {"schema": self.form.schema, "ui_schema": self.form.ui_schema} if self.form is not None else None
        return {
            "process_id": self.version.process_id,
            "name": self.version.name,
            "version": self.version.version,
            "start_form": form,
            "roles": list(self.roles),
        }


@dataclass(frozen=True)
class Started:
    """A started instance and the tasks it waits at first."""

    instance: ProcessInstance
    version: ProcessVersion
    next_tasks: list[HumanTask]


def starter_roles(event: StartEvent) -> tuple[str, ...]:
    """Roles that may start a process: its start event's lane; a start event outside any lane: designers and
    admins (the deploy answer says so)."""
    return (event.lane,) if event.lane else LANELESS_STARTERS


def describe(session: Session, version: ProcessVersion) -> Startable:
    """Who may start a version and with which form."""
    bundle = parsed_bundle(session, version)
    event = start_event(bundle, version.process_id)
    form = task_form(bundle, event.form_file, event.ui_file) if event.form_file else None
    return Startable(version=version, roles=starter_roles(event), form=form, event=event)


def startable(session: Session, runtime: Runtime, user: User) -> list[Startable]:
    """The processes `user` may start now (latest versions, not retired, not started by an application)."""
    retired = set(
        session.scalars(sa.select(ProcessDefinition.process_id).where(ProcessDefinition.retired_at.is_not(None)))
    )
    latest = sa.select(ProcessVersion.process_id, sa.func.max(ProcessVersion.version).label("v")).group_by(
        ProcessVersion.process_id
    )
    newest = latest.subquery()
    query = sa.select(ProcessVersion).join(
        newest, sa.and_(ProcessVersion.process_id == newest.c.process_id, ProcessVersion.version == newest.c.v)
    )
    found: list[Startable] = []
    for version in session.scalars(query.order_by(ProcessVersion.process_id)):
        if version.process_id in retired or runtime.registry.own_start(version.process_id):
            continue
        item = describe(session, version)
        if set(item.roles) & user.role_keys:
            found.append(item)
    return found


def start_process(
    session: Session,
    runtime: Runtime,
    user: User,
    process_id: str,
    data: Any,
    *,
    calendar: Callable[[], BusinessCalendar],
) -> Started:
    """Start the latest version of `process_id` for `user` with start data checked against its start form.

    :raises NotFoundError: no such process (404). :raises ConflictError: retired, or started by an application
        (409). :raises PermissionDeniedError: the user holds no role of the start lane (403). :raises
        InvalidInputError: the data fails the start form (422); nothing is created.
    """
    item = get_startable(session, runtime, user, process_id)
    clean = validate_form_data(item.form or TaskForm(schema={"type": "object"}, ui_schema={}), data)
    instance = start_instance(
        session, runtime, item.version, {**clean, "initiator": user.username}, actor=user.username, calendar=calendar
    )
    return Started(instance=instance, version=item.version, next_tasks=instance_open_tasks(session, instance.id))


def get_startable(session: Session, runtime: Runtime, user: User, process_id: str) -> Startable:
    """One process the user may start, for its start page.

    :raises NotFoundError: unknown. :raises ConflictError: retired or started by an application.
    :raises PermissionDeniedError: not for this user.
    """
    how = runtime.registry.own_start(process_id)
    version = require_startable_version(session, process_id)
    if how:
        raise ConflictError(
            Problem("start_elsewhere", f"process {process_id!r} is not started here: {how}", process=process_id)
        )
    item = describe(session, version)
    if not set(item.roles) & user.role_keys:
        raise PermissionDeniedError(
            Problem(
                "start_roles",
                f"starting {process_id!r} needs the role {' or '.join(item.roles)}",
                process=process_id,
                roles=list(item.roles),
            )
        )
    return item
