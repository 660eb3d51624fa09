"""WorkflowRuntime: start, load, complete, fire timers and snapshot SpiffWorkflow instances, hiding every Spiff type.

Callers get plain dataclasses (ReadyTask, Snapshot) and an opaque `Workflow` handle; the caller persists
the snapshot in the same transaction as its records and timeline entries (DESIGN.md "Engine decisions").
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from datetime import UTC
from datetime import datetime
from typing import Any
from typing import NewType
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from engine.bpmn import guards
from engine.bpmn.budget import StepLimits
from engine.bpmn.budget import after_task
from engine.bpmn.budget import attributed_to
from engine.bpmn.budget import budgeted
from engine.bpmn.budget import check_step_data
from engine.bpmn.catalog import Catalog
from engine.bpmn.scripting import AppScriptEngine
from engine.bpmn.scripting import ServiceHandler
from engine.bpmn.scripting import ensure_json_safe
from engine.bpmn.scripting import error_text
from engine.bpmn.serializer import dump_compact
from engine.bpmn.serializer import dump_instance
from engine.bpmn.serializer import is_compacted
from engine.bpmn.serializer import load_compact
from engine.bpmn.serializer import load_instance
from engine.bpmn.specs import ParsedBundle
from engine.errors import ConflictError
from engine.errors import EngineError
from engine.errors import NotFoundError
from engine.errors import WorkflowRuntimeError

Workflow = NewType("Workflow", object)
"""Opaque handle on a live BpmnWorkflow; only this module looks inside."""

ASSIGNEE_PROPERTY = "assignee"  # a user task's expression naming the user its new task is assigned to
BUSINESS_KEY_PROPERTY = "businessKey"  # a start event's expression naming the instance for people (e.g. an order no.)
_MAX_ROUNDS = 50
_LIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED
_TIMER_EVENTS = ("DurationTimerEventDefinition", "TimeDateEventDefinition", "CycleTimerEventDefinition")

# SpiffWorkflow logs every task state change at INFO, with the task's data in the record when its logger has no level
# of its own: dozens of lines per step in the server's log (a completion 20-30 % slower, issue 12) and the case's
# data (customers, addresses) in records a log shipper may keep. The timeline is the product's record of what
# happened; the engine's own warnings and errors still reach the log.
logging.getLogger("spiff").setLevel(logging.WARNING)


@dataclass(frozen=True)
class ReadyTask:
    """A READY user task as the inbox needs it."""

    id: str
    process_id: str
    bpmn_id: str
    name: str
    lane: str
    form_file: str | None
    ui_file: str | None
    documentation: str
    due_at: datetime | None
    assignee: str | None = None


@dataclass(frozen=True)
class Snapshot:
    """What to persist after an engine run: state JSON and the projections derived from it.

    `markers` holds, per projected property of the catalog (e.g. a case status), the values declared on the
    elements that are live after the step.
    """

    state_json: str
    completed: bool
    ready: list[ReadyTask]
    next_timer_due: datetime | None
    active_elements: list[str]
    markers: dict[str, list[str]] = field(default_factory=dict)


class WorkflowRuntime:
    """Stateless engine facade: one sandboxed script engine shared by every instance and thread."""

    def __init__(
        self,
        helpers: Mapping[str, Callable[..., Any]],
        service_handler: ServiceHandler,
        catalog: Catalog | None = None,
        limits: StepLimits | None = None,
    ) -> None:
        self.limits = limits or StepLimits()  # every engine step runs under these budgets (engine/bpmn/budget.py)
        self._script_engine = AppScriptEngine(helpers=helpers, service_handler=service_handler, limits=self.limits)
        self._service_handler = service_handler
        self.catalog = catalog or Catalog()
        self._projected = tuple(name for name, spec in self.catalog.properties.items() if spec.projected)

    def create(self, bundle: ParsedBundle, process_id: str, data: Mapping[str, Any]) -> Workflow:
        """A new instance holding its start data, not yet run (what a start that failed keeps for its retry)."""
        spec, subprocess_specs = bundle.spec(process_id)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self._script_engine)
        start = workflow.get_tasks(state=TaskState.READY)[0]
        start.data.update(data)
        return Workflow(workflow)

    @budgeted
    def start(self, bundle: ParsedBundle, process_id: str, data: Mapping[str, Any]) -> Workflow:
        """Create an instance with its start data and run it to the first wait state."""
        handle = self.create(bundle, process_id, data)
        self._run(_bpmn(handle))
        return handle

    def start_data_if_unstarted(self, handle: Workflow) -> dict[str, Any] | None:
        """The start data of an instance that never ran (its start failed), else None."""
        workflow = _bpmn(handle)
        if workflow.get_tasks(state=TaskState.COMPLETED):
            return None
        ready = workflow.get_tasks(state=TaskState.READY)
        return dict(ready[0].data) if ready else None

    @budgeted
    def business_key(self, handle: Workflow) -> str | None:
        """The instance's business key: its start event's `businessKey` expression evaluated on the start data."""
        workflow = _bpmn(handle)
        for task in workflow.get_tasks(state=TaskState.COMPLETED):
            spec = task.task_spec
            expression = (getattr(spec, "extensions", None) or {}).get("properties", {}).get(BUSINESS_KEY_PROPERTY)
            if task.workflow is workflow and type(spec).__name__ == "StartEvent" and expression:
                try:
                    value = self._script_engine.evaluate(task, expression)
                except SpiffWorkflowException as exc:
                    raise _runtime_error(exc) from exc
                return str(value)[:120] if value not in (None, "") else None
        return None

    def load(self, bundle: ParsedBundle, process_id: str, state_json: str) -> Workflow:
        """Rebuild an instance from its stored JSON; the script engine is reattached (pitfall 5).

        :raises ConflictError: the instance completed and was compacted: it has no task tree to run.
        """
        if is_compacted(state_json):
            raise ConflictError("the instance is completed and compacted: it keeps its data and marks, not its tasks")
        spec, subprocess_specs = bundle.spec(process_id)
        workflow = load_instance(state_json, spec, subprocess_specs)
        workflow.script_engine = self._script_engine
        return Workflow(workflow)

    @budgeted
    def complete(self, handle: Workflow, task_id: str, data: Mapping[str, Any]) -> None:
        """Complete one READY user task with form data and run on; a task that is not READY is a conflict.

        :raises ConflictError: the task is no longer READY (done, cancelled by a boundary event, reset).
        :raises NotFoundError: no such task in this instance.
        """
        workflow = _bpmn(handle)
        task = workflow.get_task_from_id(UUID(task_id))
        if task is None:
            raise NotFoundError(f"task {task_id} is not part of this instance")
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise ConflictError(f"task {task.task_spec.bpmn_id} is no longer open")
        task.data.update(data)
        operator = (task.task_spec.extensions or {}).get("serviceTaskOperator")
        if operator:
            self._run_task_operator(task, operator, data)
        try:
            task.run()  # its children are updated now: a timer after it starts here
        except Exception as exc:
            if not _is_model_failure(exc):
                raise
            raise _runtime_error(exc) from exc
        self._run(workflow)

    def _run_task_operator(self, task: Any, operator: Mapping[str, Any], form: Mapping[str, Any]) -> None:
        """Run the operator a user task declares, with its parameters evaluated on the task data and the form.

        Business errors of the operator (EngineError: invalid input, not found, conflict) pass through unchanged so
        the user gets them; anything else is a failure of the model or the code and becomes a WorkflowRuntimeError.
        """
        name = str(operator.get("name") or "")
        bpmn_id = task.task_spec.bpmn_id
        try:
            params = {
                key: self._script_engine.evaluate(task, param["value"])
                for key, param in (operator.get("parameters") or {}).items()
            }
        except SpiffWorkflowException as exc:
            raise _runtime_error(exc) from exc
        with attributed_to(task):
            guards.check_arguments(f"operator {name!r}", (), params)  # no oversized value reaches Python code
        try:
            result = self._service_handler(name, params, form)
            ensure_json_safe(result)
        except EngineError:
            raise
        except Exception as exc:
            message = f"operator {name!r} failed: {type(exc).__name__}: {error_text(exc)}"
            raise WorkflowRuntimeError(message, bpmn_id=bpmn_id) from exc
        variable = operator.get("resultVariable")
        if variable:
            task.data[variable] = result
        else:
            task.data.update(result)

    @budgeted
    def fire_due_timers(self, handle: Workflow) -> None:
        """Fire every timer whose deadline has passed and run the branches it opened."""
        workflow = _bpmn(handle)
        workflow.refresh_timers()
        self._run(workflow)

    @budgeted
    def deliver_message(self, handle: Workflow, message_name: str, payload: Mapping[str, Any]) -> bool:
        """Deliver a message to this instance's waiting catch events of that name; False when none waits."""
        workflow = _bpmn(handle)
        for task in workflow.get_tasks(state=TaskState.WAITING):
            definition: Any = getattr(task.task_spec, "event_definition", None)
            if type(definition).__name__ == "MessageEventDefinition" and definition.name == message_name:
                try:
                    workflow.send_event(BpmnEvent(definition, dict(payload)))
                except SpiffWorkflowException as exc:
                    raise _runtime_error(exc) from exc
                self._run(workflow)
                return True
        return False

    @budgeted
    def rearm_timers(self, handle: Workflow, variable: str, value: Any) -> list[str]:
        """Set `variable` in the data of every waiting timer whose expression reads it and re-evaluate its deadline
        (a recomputed business-calendar due time); returns the BPMN ids of the timers moved."""
        moved: list[str] = []
        for task in _bpmn(handle).get_tasks(state=TaskState.WAITING):
            definition: Any = getattr(task.task_spec, "event_definition", None)
            expression = getattr(definition, "expression", None)
            if _timer_deadline(task) is None or not isinstance(expression, str) or not _reads(expression, variable):
                continue
            task.data[variable] = value
            try:
                task.internal_data["event_value"] = self._script_engine.evaluate(task, expression)
            except SpiffWorkflowException as exc:
                raise _runtime_error(exc) from exc
            moved.append(task.task_spec.bpmn_id)
        return moved

    def update_data(self, handle: Workflow, values: Mapping[str, Any]) -> int:
        """Set `values` in the data of every live task (ready, waiting or started, subprocesses included) so the steps
        still to come read them (e.g. a corrected registration's DMN inputs); returns how many tasks were updated."""
        live = TaskState.READY | TaskState.WAITING | TaskState.STARTED
        tasks = list(_bpmn(handle).get_tasks(state=live))
        for task in tasks:
            task.data.update(values)
        return len(tasks)

    def task_data(self, handle: Workflow, task_id: str) -> dict[str, Any]:
        """The data a task sees (for pre-filling its form)."""
        task = _bpmn(handle).get_task_from_id(UUID(task_id))
        if task is None:
            raise NotFoundError(f"task {task_id} is not part of this instance")
        return dict(task.data)

    def element_states(self, handle: Workflow) -> dict[str, list[str]]:
        """Element ids by state (completed / active / error) for diagram highlighting."""
        out: dict[str, set[str]] = {"completed": set(), "active": set(), "error": set()}
        for task in _bpmn(handle).get_tasks():
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if not bpmn_id:
                continue
            if task.state == TaskState.COMPLETED:
                out["completed"].add(bpmn_id)
            elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
                out["active"].add(bpmn_id)
            elif task.state == TaskState.ERROR:
                out["error"].add(bpmn_id)
        return {key: sorted(ids) for key, ids in out.items()}

    @budgeted
    def snapshot(self, handle: Workflow) -> Snapshot:
        """Serialize the instance and derive the inbox (every READY user task), timer and active-element projections.

        :raises WorkflowRuntimeError: task data is not JSON-safe (the step must not be committed).
        """
        workflow = _bpmn(handle)
        ready: list[Any] = []
        active: set[str] = set()
        deadlines: list[datetime] = []
        markers: dict[str, set[str]] = {}
        for task in workflow.get_tasks():  # one walk of the tree: every step's cost grows with its size
            state, spec = task.state, task.task_spec
            if state & _LIVE and getattr(spec, "bpmn_id", None):
                active.add(spec.bpmn_id)
            if state == TaskState.WAITING:
                deadline = _timer_deadline(task)
                if deadline is not None:
                    deadlines.append(deadline)
            if spec.manual and state == TaskState.READY:
                _check_data(task)
                ready.append(task)
            if state & _LIVE and self._projected:
                properties = (getattr(spec, "extensions", None) or {}).get("properties", {})
                for name in self._projected:
                    if name in properties:
                        markers.setdefault(name, set()).add(properties[name])
        completed = bool(workflow.is_completed())
        return Snapshot(
            state_json=self._compacted(workflow) if completed else dump_instance(workflow),
            completed=completed,
            ready=[_ready_task(t, self._assignee(t)) for t in ready],
            next_timer_due=min(deadlines) if deadlines else None,
            active_elements=sorted(active),
            markers={name: sorted(values) for name, values in markers.items()},
        )

    def _compacted(self, workflow: Any) -> str:
        """A completed instance's stored form: its final data and the marks of every element, no task tree."""
        data = workflow.data
        if not data:
            done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.workflow is workflow]
            data = done[-1].data if done else {}
        return dump_compact(dict(data), self.element_states_by_process(Workflow(workflow)))

    def _assignee(self, task: Any) -> str | None:
        """The username a user task's `assignee` expression gives, or None when it declares none or gives nothing."""
        expression = (task.task_spec.extensions or {}).get("properties", {}).get(ASSIGNEE_PROPERTY)
        if not expression:
            return None
        try:
            value = self._script_engine.evaluate(task, expression)
        except SpiffWorkflowException as exc:
            raise _runtime_error(exc) from exc
        return str(value)[:64] if isinstance(value, str) and value.strip() else None

    def _run(self, workflow: Any) -> None:
        """Run engine steps until only waits remain (a timer fired by the last step's refresh runs now too)."""
        try:
            for _ in range(_MAX_ROUNDS):
                workflow.do_engine_steps(did_complete_task=after_task)
                if workflow.get_next_task(state=TaskState.READY, manual=False) is None:
                    check_step_data(workflow)
                    return
        except Exception as exc:
            if not _is_model_failure(exc):
                raise
            raise _runtime_error(exc) from exc
        raise WorkflowRuntimeError(f"engine did not reach a wait state after {_MAX_ROUNDS} rounds")

    # --- monitoring and administration (diagram states per process, incident retry, terminate) ---------------

    def element_states_by_process(self, handle: Workflow) -> dict[str, dict[str, list[str]]]:
        """Element ids by state (completed / active / error) per process id: the top process and each called one."""
        out: dict[str, dict[str, set[str]]] = {}
        for task in _bpmn(handle).get_tasks():
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if not bpmn_id:
                continue
            if task.state == TaskState.COMPLETED:
                key = "completed"
            elif task.state & _LIVE:
                key = "active"
            elif task.state == TaskState.ERROR:
                key = "error"
            else:
                continue
            states = out.setdefault(task.workflow.spec.name, {"completed": set(), "active": set(), "error": set()})
            states[key].add(bpmn_id)
        return {pid: {key: sorted(ids) for key, ids in states.items()} for pid, states in out.items()}

    def stored_element_states(
        self, bundle: ParsedBundle, process_id: str, state_json: str
    ) -> dict[str, dict[str, list[str]]]:
        """Element ids by state per process of a stored instance: from its marks when it was compacted, else from
        its task tree."""
        if is_compacted(state_json):
            elements: dict[str, dict[str, list[str]]] = load_compact(state_json)["elements"]
            return elements
        return self.element_states_by_process(self.load(bundle, process_id, state_json))

    def errored_elements(self, handle: Workflow) -> list[tuple[str, str]]:
        """(task id, BPMN id) of every task in ERROR state."""
        return [(str(t.id), t.task_spec.bpmn_id) for t in _bpmn(handle).get_tasks(state=TaskState.ERROR)]

    @budgeted
    def retry(self, handle: Workflow, task_id: str | None = None) -> list[str]:
        """Retry a failed step: reset each ERROR task (or only `task_id`) with `reset_from_task_id`, fire the timers
        that fell due meanwhile and run on; returns the BPMN ids reset (none when the stored state predates the
        failed step, which is then replayed: e.g. the overdue timer fires again).

        :raises NotFoundError: `task_id` is not an errored task of this instance.
        :raises WorkflowRuntimeError: the step fails again.
        """
        workflow = _bpmn(handle)
        errored = workflow.get_tasks(state=TaskState.ERROR)
        if task_id is not None:
            errored = [t for t in errored if str(t.id) == task_id]
            if not errored:
                raise NotFoundError(f"task {task_id} is not an errored task of this instance")
        reset: list[str] = []
        try:
            for task in errored:
                workflow.reset_from_task_id(task.id)
                reset.append(task.task_spec.bpmn_id)
            workflow.refresh_timers()
        except SpiffWorkflowException as exc:
            raise _runtime_error(exc) from exc
        self._run(workflow)
        return reset

    def cancel(self, handle: Workflow) -> None:
        """Cancel every unfinished task of the instance and of its called processes (terminate)."""
        _bpmn(handle).cancel()


def _bpmn(handle: Workflow) -> Any:
    return handle


def _is_model_failure(exc: Exception) -> bool:
    """Whether an error raised while the engine ran comes from the model rather than from the database or the code.

    Spiff's own parsers raise AttributeError, TypeError or ValueError (a timer value not text), OverflowError (a
    duration past year 9999) or a bare Exception ("Invalid duration"); the database's errors and the budget's are
    of their own types and pass on (an outage is a 503, not an incident).
    """
    model_types = (SpiffWorkflowException, AttributeError, TypeError, ValueError, OverflowError)
    return isinstance(exc, model_types) or type(exc) is Exception


def _runtime_error(exc: Exception) -> WorkflowRuntimeError:
    """Keep the failing element and line so an incident can point at them."""
    task = getattr(exc, "task", None)
    bpmn_id = getattr(task.task_spec, "bpmn_id", None) if task is not None else None
    line = getattr(exc, "line_number", None)
    message = str(exc) if isinstance(exc, WorkflowException) else f"{type(exc).__name__}: {exc}"
    return WorkflowRuntimeError(message, bpmn_id=bpmn_id, line=line if isinstance(line, int) else None)


def _check_data(task: Any) -> None:
    try:
        ensure_json_safe(task.data)
    except ValueError as exc:
        raise WorkflowRuntimeError(f"task data is not JSON-safe: {exc}", bpmn_id=task.task_spec.bpmn_id) from exc


def _reads(expression: str, variable: str) -> bool:
    """Whether a timer expression reads `variable` (a bare name anywhere in it)."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Name) and node.id == variable for node in ast.walk(tree))


def _ready_task(task: Any, assignee: str | None) -> ReadyTask:
    spec = task.task_spec
    properties = (spec.extensions or {}).get("properties", {})
    return ReadyTask(
        id=str(task.id),
        process_id=task.workflow.spec.name,
        bpmn_id=spec.bpmn_id,
        name=spec.bpmn_name or spec.bpmn_id,
        lane=spec.lane or "",
        form_file=properties.get("formJsonSchemaFilename"),
        ui_file=properties.get("formUiSchemaFilename"),
        documentation=spec.documentation or "",
        due_at=_task_due_at(task),
        assignee=assignee,
    )


def _task_due_at(task: Any) -> datetime | None:
    """The earliest waiting boundary timer on the task or on any call activity that encloses it."""
    due: list[datetime] = []
    current: Any = task
    while current is not None:
        parent = current.parent
        if parent is not None and parent.task_spec.name.endswith(".BoundaryEventSplit"):
            for sibling in parent.children:
                when = _timer_deadline(sibling, fired_too=True)
                if when is not None:
                    due.append(when)
        workflow = current.workflow
        parent_id = getattr(workflow, "parent_task_id", None)
        current = workflow.top_workflow.get_task_from_id(parent_id) if parent_id else None
    return min(due) if due else None


def _timer_deadline(task: Any, *, fired_too: bool = False) -> datetime | None:
    """A timer task's deadline while it waits (or, with `fired_too`, also after it fired: still the task's due)."""
    allowed = TaskState.WAITING | TaskState.COMPLETED if fired_too else TaskState.WAITING
    if not task.state & allowed:
        return None
    definition = getattr(task.task_spec, "event_definition", None)
    if definition is None or type(definition).__name__ not in _TIMER_EVENTS:
        return None
    return _parse_deadline(task.internal_data.get("event_value"))


def _parse_deadline(value: Any) -> datetime | None:
    if not isinstance(value, str) or value.upper().startswith(("P", "R")):
        return None
    try:
        return TimerEventDefinition.get_datetime(value).astimezone(UTC)  # type: ignore[no-any-return]
    except ValueError:
        return None
