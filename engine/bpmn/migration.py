"""Move a running instance to another deployed version of its process, with SpiffWorkflow's spec diff as the judge.

The only module that calls `SpiffWorkflow.bpmn.util.diff`. An instance may move when none of its live tasks
(ready, waiting or started, in the top process or any called process) sits on an element that the new version
removed or changed, and no live user task's form file changed: anything else would change work that is already
under way, so it is refused with the element and the reason. The spec diffs are computed once per pair of
versions (`VersionMigration`) and reused for every instance of a bulk move.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.diff import SpecDiff
from SpiffWorkflow.bpmn.util.diff import WorkflowDiff
from SpiffWorkflow.bpmn.util.diff import migrate_workflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.runtime import Workflow
from engine.bpmn.specs import ParsedBundle
from engine.errors import ConflictError

_REGISTRY = BpmnWorkflowSerializer.configure(SPIFF_CONFIG)  # converts specs to dicts for SpecDiff's comparison
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_FORM_KEYS = ("formJsonSchemaFilename", "formUiSchemaFilename")


@dataclass(frozen=True)
class Blocker:
    """Why an instance cannot move: a live task on an element the new version removed or changed."""

    element_id: str
    element_name: str
    process_id: str
    reason: str  # removed | changed | form_changed | process_removed
    attributes: tuple[str, ...] = ()  # the spec attributes that changed (reason "changed")


@dataclass(frozen=True)
class MigrationCheck:
    """The verdict for one instance: the elements it waits at and what blocks the move (nothing: it may move)."""

    waiting_at: tuple[str, ...]
    blockers: tuple[Blocker, ...]

    @property
    def eligible(self) -> bool:
        """True when nothing blocks the move."""
        return not self.blockers


class VersionMigration:
    """The diff between two bundles' specs of one process, computed once and applied to many instances."""

    def __init__(self, old: ParsedBundle, new: ParsedBundle, process_id: str) -> None:
        """Parse both versions of `process_id` and diff the top process and every called process they share.

        :raises NotFoundError: either bundle has no executable process with this id.
        :raises DefinitionError: SpiffWorkflow refuses one of the two versions.
        """
        self.old, self.new = old, new
        old_spec, old_subs = old.spec(process_id)
        self.new_spec, self.new_subs = new.spec(process_id)
        self.top = SpecDiff(_REGISTRY, old_spec, self.new_spec)
        self.subs: dict[str, SpecDiff | None] = {}
        for name, spec in old_subs.items():
            target = self.new_subs.get(name)
            self.subs[name] = SpecDiff(_REGISTRY, spec, target) if spec is not None and target is not None else None

    def check(self, handle: Workflow) -> MigrationCheck:
        """Which live tasks of this instance block the move (none: it may move)."""
        workflow: Any = handle
        waiting: set[str] = set()
        blockers: list[Blocker] = []
        for sub in [workflow, *workflow.subprocesses.values()]:
            diff = self.top if sub is workflow else self.subs.get(sub.spec.name)
            if sub is not workflow and sub.completed:
                if diff is None:  # a finished call is reloaded with its spec by name: it must still exist
                    blockers.append(_gone(workflow, sub))
                continue
            for task in sub.get_tasks(state=_LIVE, skip_subprocesses=True):
                spec = task.task_spec
                if getattr(spec, "bpmn_id", None):
                    waiting.add(spec.bpmn_id)
                blocker = self._blocker(sub, diff, spec)
                if blocker is not None and blocker not in blockers:
                    blockers.append(blocker)
        return MigrationCheck(waiting_at=tuple(sorted(waiting)), blockers=tuple(blockers))

    def _blocker(self, sub: Any, diff: SpecDiff | None, spec: Any) -> Blocker | None:
        element_id = getattr(spec, "bpmn_id", None) or spec.name
        name = getattr(spec, "bpmn_name", None) or element_id
        process = sub.spec.name
        if diff is None:
            return Blocker(element_id, name, process, "process_removed")
        if spec in diff.removed:
            return Blocker(element_id, name, process, "removed")
        changed = diff.changed.get(spec)
        if changed:
            return Blocker(element_id, name, process, "changed", tuple(changed))
        if spec.manual and self._form_changed(spec):
            return Blocker(element_id, name, process, "form_changed")
        return None

    def _form_changed(self, spec: Any) -> bool:
        """Whether a user task's form or UI file has other content in the new bundle (SpecDiff only sees names)."""
        properties: Mapping[str, str] = (spec.extensions or {}).get("properties", {})
        for key in _FORM_KEYS:
            name = properties.get(key)
            if name and _file_text(self.old, name) != _file_text(self.new, name):
                return True
        return False

    def migrate(self, handle: Workflow) -> MigrationCheck:
        """Re-point the instance (and its called processes) at the new specs; waiting tasks are re-armed.

        :raises ConflictError: something blocks the move (nothing was changed).
        """
        check = self.check(handle)
        if not check.eligible:
            raise ConflictError("; ".join(f"{b.element_id}: {b.reason}" for b in check.blockers))
        workflow: Any = handle
        migrate_workflow(WorkflowDiff(workflow, self.top), workflow, self.new_spec)
        for sub in list(workflow.subprocesses.values()):
            diff = self.subs.get(sub.spec.name)
            if diff is not None:
                migrate_workflow(WorkflowDiff(sub, diff), sub, self.new_subs[sub.spec.name])
        workflow.subprocess_specs = self.new_subs
        return check


def _gone(workflow: Any, sub: Any) -> Blocker:
    caller = workflow.get_task_from_id(sub.parent_task_id)
    spec = caller.task_spec if caller is not None else None
    element_id = getattr(spec, "bpmn_id", None) or sub.spec.name
    return Blocker(element_id, getattr(spec, "bpmn_name", None) or element_id, sub.spec.name, "process_removed")


def _file_text(bundle: ParsedBundle, name: str) -> bytes | None:
    path = bundle.form_path(name)
    return bundle.files.get(path) if path is not None else None
