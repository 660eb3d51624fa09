"""The one engine step every path uses: load an instance's workflow, run an action on it inside the step context,
snapshot it, write its projections and run the applications' step hooks, all in the caller's transaction.

Task completion, timers, messages between instances, retries, calendar re-arming and version migration all go
through `run_step`; `start` creates an instance the same way. A failing step never half-writes: callers wrap it in a
savepoint (engine/platform/incidents.py) and park the instance when it fails.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session

from engine.bpmn.runtime import Snapshot
from engine.bpmn.runtime import Workflow
from engine.bpmn.serializer import SERIALIZER_VERSION
from engine.calendar import BusinessCalendar
from engine.clock import utcnow
from engine.errors import WorkflowRuntimeError
from engine.platform import notices
from engine.platform.context import StepContext
from engine.platform.context import step_context
from engine.platform.definitions import parsed_bundle
from engine.platform.incidents import park
from engine.platform.instances import apply_snapshot
from engine.platform.instances import insert_step_rows
from engine.platform.runtime import Runtime
from engine.platform.timeline import log_event
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion

T = TypeVar("T")
Calendar = Callable[[], BusinessCalendar]


def version_of(session: Session, instance: ProcessInstance) -> ProcessVersion:
    """The version an instance runs on (the foreign key guarantees it exists)."""
    version = session.get(ProcessVersion, instance.process_version_id)
    assert version is not None  # FK
    return version


@contextmanager
def holding_loaded(session: Session) -> Iterator[None]:
    """Keep every row the step loads or inserts referenced until the session's next step, so an operator or hook
    that reads a row another one already read or wrote (a WO issued, then its first visit round opened) finds it in
    the identity map (which holds unchanged rows only weakly) instead of selecting it again."""
    held: list[object] = []
    session.info["held_by_step"] = held

    def hold(_session: Session, row: object) -> None:
        held.append(row)

    event.listen(session, "loaded_as_persistent", hold)
    event.listen(session, "pending_to_persistent", hold)
    try:
        yield
    finally:
        event.remove(session, "loaded_as_persistent", hold)
        event.remove(session, "pending_to_persistent", hold)


def load_workflow(
    session: Session, runtime: Runtime, instance: ProcessInstance, version: ProcessVersion | None = None
) -> Workflow:
    """The instance's live workflow for reading (monitoring, previews); nothing is run or saved."""
    version = version or version_of(session, instance)
    return runtime.load(parsed_bundle(session, version), instance.process_id, instance.state_json)


def run_step(
    session: Session,
    runtime: Runtime,
    instance: ProcessInstance,
    action: Callable[[Workflow], T],
    *,
    actor: str,
    calendar: Calendar,
    version: ProcessVersion | None = None,
    done: tuple[str, ...] = (),
    before_write: Callable[[], object] | None = None,
    entries: list[dict[str, Any]] | None = None,
) -> T:
    """Run `action` on the instance's workflow and persist the step (state, inbox, timers, timeline, hooks).

    `version` loads the state with another version's specs (migration); `done` names tasks the step completed
    (their inbox rows are closed by the caller, not cancelled); `before_write` runs after the action and before
    the projections are written (e.g. to log the completion first on the timeline); `entries` are timeline rows
    (`timeline.event_row`) written first among the step's own, in the same statement.

    :raises WorkflowRuntimeError: the model failed; the caller rolls back and parks the instance.
    """
    context = StepContext(
        session=session,
        actor=actor,
        calendar=calendar,
        csi_id=instance.csi_id,
        instance_id=instance.id,
        runtime=runtime,
    )
    version_id = version.id if version is not None else instance.process_version_id
    with step_context(context), holding_loaded(session):
        handle = runtime.warm.take(instance.id, version_id, instance.state_json)
        if handle is None:  # only a cold load needs the version row (its parsed specs)
            handle = load_workflow(session, runtime, instance, version or version_of(session, instance))
        result = action(handle)
        snapshot = runtime.snapshot(handle)
        if before_write is not None:
            before_write()
        write_step(session, runtime, instance, snapshot, actor=actor, done=done, entries=entries)
    if not snapshot.completed:  # a completed instance is stored compacted: nothing to run again
        runtime.warm.keep(instance.id, version_id, snapshot.state_json, handle)
    return result


def write_step(
    session: Session,
    runtime: Runtime,
    instance: ProcessInstance,
    snapshot: Snapshot,
    *,
    actor: str,
    done: tuple[str, ...] = (),
    entries: list[dict[str, Any]] | None = None,
) -> None:
    """Persist one step's snapshot, tell the people of the tasks it created, and let the applications project it
    (e.g. the case status); the step's own timeline entries (`entries`, then the new tasks') go last, in one
    statement after one flush of everything else."""
    previous = set(instance.open_task_ids or [])
    rows = apply_snapshot(session, instance, snapshot, actor=actor, done=done, entries=entries)
    created = [task for task in snapshot.ready if task.id not in previous]
    if created:
        with session.no_autoflush:  # who to tell does not depend on the step's writes: flush them once, later
            notices.tasks_created(session, instance.business_key or f"#{instance.id}", created)
    runtime.registry.after_step(session, instance, snapshot)
    insert_step_rows(session, rows)


def start_instance(
    session: Session,
    runtime: Runtime,
    version: ProcessVersion,
    data: Mapping[str, Any],
    *,
    actor: str,
    calendar: Calendar,
    csi_id: int | None = None,
    parent_instance_id: int | None = None,
    work_order_id: int | None = None,
    business_key: str | None = None,
) -> ProcessInstance:
    """Start `version` with `data` and persist its first wait state; a model failure does not lose the start.

    When the first steps fail, everything they wrote is rolled back and the instance is kept in `error` with its
    start data, as an incident whose retry runs it from the start (issue 8: a failure at registration keeps the CSI
    and parks its instance).
    """
    bundle = parsed_bundle(session, version)
    now = utcnow()
    instance = ProcessInstance(
        process_version_id=version.id,
        process_id=version.process_id,
        csi_id=csi_id,
        parent_instance_id=parent_instance_id,
        work_order_id=work_order_id,
        business_key=business_key,
        started_by=actor,
        state_json="",
        serializer_version=SERIALIZER_VERSION,
        created_at=now,
        updated_at=now,
    )
    session.add(instance)
    session.flush()
    log_event(
        session,
        "instance.started",
        actor=actor,
        csi_id=csi_id,
        instance_id=instance.id,
        message=f"{version.process_id} v{version.version}",
    )
    context = StepContext(
        session=session, actor=actor, calendar=calendar, csi_id=csi_id, instance_id=instance.id, runtime=runtime
    )
    try:
        with session.begin_nested(), step_context(context):
            handle = runtime.start(bundle, version.process_id, data)
            snapshot = runtime.snapshot(handle)
            if instance.business_key is None:
                instance.business_key = runtime.business_key(handle)
            write_step(session, runtime, instance, snapshot, actor=actor)
        if not snapshot.completed:
            runtime.warm.keep(instance.id, version.id, snapshot.state_json, handle)
    except WorkflowRuntimeError as exc:
        with step_context(context):
            instance.state_json = runtime.snapshot(runtime.create(bundle, version.process_id, data)).state_json
        park(session, instance, exc, actor=actor)
    return instance
