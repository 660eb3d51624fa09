"""Tasks in the API shape, for one or many: their cases, instances and versions are read in one statement, and not
at all when the request already holds them (no statement per listed task)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from engine.platform import tasks as task_service
from engine.platform.definitions import parsed_bundle
from engine.platform.forms import task_form
from engine.records.csi import CSI
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion

Context = tuple[ProcessInstance, ProcessVersion, CSI | None]
_CONTEXTS = (  # built once (every completion's answer and every task list may ask it)
    sa.select(ProcessInstance, ProcessVersion, CSI)
    .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
    .outerjoin(CSI, CSI.id == ProcessInstance.csi_id)
    .where(ProcessInstance.id.in_(sa.bindparam("ids", expanding=True)))
)


def tasks_json(session: Session, tasks: Sequence[HumanTask]) -> list[dict[str, Any]]:
    """The API shape of each task, with its form schema and its case number or instance business key."""
    context = _contexts(session, {task.instance_id for task in tasks})
    out = []
    for task in tasks:
        instance, version, csi = context[task.instance_id]
        form = task_form(parsed_bundle(session, version), task.form_file, task.ui_file)
        out.append(task_service.task_view(task, form, csi.csi_no if csi else None, instance))
    return out


def _contexts(session: Session, instance_ids: set[int]) -> dict[int, Context]:
    """Instance, version and case per instance id: from the identity map when present, else one joined select."""
    found: dict[int, Context] = {}
    missing: set[int] = set()
    for instance_id in instance_ids:
        context = _held(session, instance_id)
        if context is None:
            missing.add(instance_id)
        else:
            found[instance_id] = context
    if missing:
        for instance, version, csi in session.execute(_CONTEXTS, {"ids": sorted(missing)}):
            found[instance.id] = (instance, version, csi)
    return found


def _held(session: Session, instance_id: int) -> Context | None:
    """The context of an instance whose rows this session already holds, without a statement; else None."""
    instance = _in_map(session, ProcessInstance, instance_id)
    if instance is None:
        return None
    version = _in_map(session, ProcessVersion, instance.process_version_id)
    if version is None:
        return None
    if instance.csi_id is None:
        return instance, version, None
    csi = _in_map(session, CSI, instance.csi_id)
    return None if csi is None else (instance, version, csi)


def _in_map(session: Session, model: Any, key: int) -> Any:
    return session.identity_map.get(identity_key(model, key))
