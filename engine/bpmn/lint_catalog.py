"""Deploy-lint rules that check a model against the catalog: operators and their parameters (on service tasks and
user tasks), the form fields an operator reads, properties with a meaning, the bindings an application requires,
recursive call activities, and conditions written in another engine's expression language.

Each rule returns problems pinned to file, line and element; engine/bpmn/lint.py runs them with its other rules.
"""

from __future__ import annotations

from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.bpmn import juel
from engine.bpmn.catalog import BindingSpec
from engine.bpmn.catalog import Catalog
from engine.bpmn.catalog import OperatorSpec
from engine.bpmn.specs import BPMN_NS
from engine.errors import DefinitionProblem

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
OPERATOR_PATH = "bpmn:extensionElements/spiffworkflow:serviceTaskOperator"
PROPERTY_PATH = "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"


def _local(el: Any) -> str:
    return str(etree.QName(el).localname)


def juel_message(what: str, source: str) -> str | None:
    """The message for a JUEL expression where Python is expected, with the equivalent when there is one."""
    if not juel.is_expression(source):
        return None
    try:
        hint = f": write {juel.translate(source)!r}"
    except juel.JuelError as err:
        hint = f": rewrite it in Python ({err})"
    return f"{what} {source.strip()!r} is JUEL (Camunda/Flowable); conditions and expressions here are Python{hint}"


@dataclass
class CatalogRules:
    """The catalog rules for one bundle's BPMN trees (file name → tree) and forms (resolved by the caller)."""

    catalog: Catalog
    trees: Mapping[str, Any]
    form_schema: Any  # Callable[[str], dict | None]: the parsed schema of a form file named in a model

    def run(self) -> list[DefinitionProblem]:
        """Every problem of these rules."""
        problems: list[DefinitionProblem] = []
        for file, tree in self.trees.items():
            for el in tree.getroot().iter(etree.Element):
                if etree.QName(el).namespace != BPMN_NS:
                    continue
                tag = _local(el)
                if tag in ("serviceTask", "userTask"):
                    problems.extend(self.operator_problems(file, el))
                if el.find(PROPERTY_PATH, NS) is not None:
                    problems.extend(self.property_problems(file, el))
        problems.extend(self.recursion_problems())
        problems.extend(self.binding_problems())
        return problems

    # ---- operators ----------------------------------------------------------------------------------------

    def operator_problems(self, file: str, task: Any) -> Iterator[DefinitionProblem]:
        """A declared operator must be known, get exactly its parameters, and on a user task find its form fields."""
        operator = task.find(OPERATOR_PATH, NS)
        if operator is None:
            return
        name = operator.get("id")
        spec = self.catalog.operators.get(name or "")
        where = task.get("id")
        if spec is None:
            if _local(task) == "userTask":  # a service task's unknown operator is reported by the main lint
                known = ", ".join(sorted(self.catalog.operators)) or "none"
                yield DefinitionProblem(file, operator.sourceline, f"unknown operator {name!r} (known: {known})", where)
            return
        if spec.user_task_only and _local(task) != "userTask":
            message = f"operator {name!r} reads the form a user submits: declare it on a user task"
            yield DefinitionProblem(file, operator.sourceline, message, where)
        yield from self.parameter_problems(file, task, operator, spec)
        if _local(task) == "userTask" and spec.form_fields:
            yield from self.form_field_problems(file, task, spec)

    def parameter_problems(
        self, file: str, task: Any, operator: Any, spec: OperatorSpec
    ) -> Iterator[DefinitionProblem]:
        given = {p.get("id"): p for p in operator.iterfind(".//spiffworkflow:parameter", NS)}
        if spec.params is None:
            return
        declared = {p.name for p in spec.params}
        for name, param in given.items():
            if name not in declared:
                accepted = ", ".join(sorted(declared)) or "none"
                message = f"operator {spec.name!r} has no parameter {name!r} (it takes: {accepted})"
                yield DefinitionProblem(file, param.sourceline, message, task.get("id"))
        for param in spec.params:
            if param.required and param.name not in given:
                message = f"operator {spec.name!r} needs parameter {param.name!r} ({param.doc or param.type})"
                yield DefinitionProblem(file, operator.sourceline, message, task.get("id"))

    def form_field_problems(self, file: str, task: Any, spec: OperatorSpec) -> Iterator[DefinitionProblem]:
        props = {p.get("name"): p.get("value") for p in task.iterfind(PROPERTY_PATH, NS)}
        form_name = props.get("formJsonSchemaFilename")
        schema = self.form_schema(form_name) if form_name else None
        if not isinstance(schema, dict):
            return  # a missing or broken form is reported by the form rules
        found = schema.get("properties")
        properties: dict[str, Any] = found if isinstance(found, dict) else {}
        required = set(schema.get("required") or [])
        for field in spec.form_fields:
            if field not in properties or field not in required:
                what = "does not define" if field not in properties else "does not require"
                message = (
                    f"operator {spec.name!r} ({spec.section}) reads form field {field!r}, which {form_name} {what}"
                )
                yield DefinitionProblem(file, task.sourceline, message, task.get("id"))

    # ---- properties ---------------------------------------------------------------------------------------

    def property_problems(self, file: str, el: Any) -> Iterator[DefinitionProblem]:
        """A property with a meaning must have an allowed value (or a valid expression, checked by the main lint)."""
        for prop in el.iterfind(PROPERTY_PATH, NS):
            spec = self.catalog.properties.get(prop.get("name") or "")
            value = prop.get("value") or ""
            if spec is None or spec.values is None or value in spec.values:
                continue
            allowed = ", ".join(spec.values)
            message = f"property {spec.name!r} is {value!r}; allowed: {allowed}"
            yield DefinitionProblem(file, prop.sourceline, message, el.get("id"))

    # ---- call graph: recursion and bindings -----------------------------------------------------------------

    def processes(self) -> dict[str, tuple[str, Any]]:
        """Process id → (file, element) for every process in the bundle."""
        found: dict[str, tuple[str, Any]] = {}
        for file, tree in self.trees.items():
            for process in tree.getroot().iterfind("bpmn:process", NS):
                found.setdefault(str(process.get("id")), (file, process))
        return found

    def recursion_problems(self) -> Iterator[DefinitionProblem]:
        """A process that calls itself, directly or through others, never ends: refuse the call that closes the loop."""
        processes = self.processes()
        calls = {pid: _called(el) for pid, (_, el) in processes.items()}
        for pid, (file, process) in processes.items():
            for call in process.iter(f"{{{BPMN_NS}}}callActivity"):
                target = call.get("calledElement")
                if target and pid in _reachable(target, calls):
                    message = f"call activity calls {target!r}, which calls {pid!r} again: recursive calls never end"
                    yield DefinitionProblem(file, call.sourceline, message, call.get("id"))

    def binding_problems(self) -> Iterator[DefinitionProblem]:
        """Every binding of a process in this bundle must still hold in the process and the processes it calls."""
        processes = self.processes()
        calls = {pid: _called(el) for pid, (_, el) in processes.items()}
        for binding in self.catalog.bindings:
            if binding.process_id not in processes:
                continue
            file, process = processes[binding.process_id]
            called = _reachable(binding.process_id, calls) | {binding.process_id}
            tree = [processes[p][1] for p in called if p in processes]
            missing = _missing(binding, tree)
            if missing:
                message = (
                    f"binding {binding.name!r} ({binding.section}) of process {binding.process_id!r} is broken: "
                    f"{binding.reason}, but neither it nor a process it calls has {missing}"
                )
                yield DefinitionProblem(file, process.sourceline, message, binding.process_id)


def _called(process: Any) -> set[str]:
    return {str(c.get("calledElement")) for c in process.iter(f"{{{BPMN_NS}}}callActivity") if c.get("calledElement")}


def _reachable(start: str, calls: Mapping[str, set[str]]) -> set[str]:
    """Process ids reachable from `start` through call activities (`start` included only via a cycle)."""
    seen: set[str] = set()
    stack = [start]
    while stack:
        for target in calls.get(stack.pop(), set()):
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen | ({start} if start in calls else set())


def _missing(binding: BindingSpec, processes: list[Any]) -> str:
    """What of the binding no process in the call tree provides, as text ('' when it holds)."""
    operators: set[str] = set()
    messages: set[str] = set()
    for process in processes:
        operators.update(str(op.get("id")) for op in process.iter(f"{{{SPIFF_NS}}}serviceTaskOperator"))
        root = process.getroottree().getroot()
        names = {m.get("id"): m.get("name") for m in root.iterfind("bpmn:message", NS)}
        for definition in process.iter(f"{{{BPMN_NS}}}messageEventDefinition"):
            if _local(definition.getparent()) in ("intermediateCatchEvent", "boundaryEvent", "startEvent"):
                messages.add(str(names.get(definition.get("messageRef"), definition.get("messageRef"))))
        for receive in process.iter(f"{{{BPMN_NS}}}receiveTask"):
            messages.add(str(names.get(receive.get("messageRef"), receive.get("messageRef"))))
    parts = [f"operator {o!r}" for o in binding.operators if o not in operators]
    parts += [f"an event catching message {m!r}" for m in binding.messages if m not in messages]
    return " or ".join(parts)
