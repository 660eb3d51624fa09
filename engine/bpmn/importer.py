"""Import BPMN made in Camunda Modeler (Camunda 7), Flowable or Activiti into this engine's dialect, reporting
element by element what could not be converted.

Pure: bytes in, files and a report out (no database, no Flask). The steps live beside this module: roles and
lanes (`import_roles`, `import_lanes`, `import_layout`), forms (`import_forms`), expressions and timers
(`import_expressions`, `juel`), activities that ran the other engine's code (`import_tasks`), decision tables
(`import_dmn`), gateways and vendor leftovers (`import_steps`). A group, user or lane that is not a role and has
no mapping stops the import with `RoleMappingError`, and nothing is produced.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from typing import Literal
from typing import cast

from lxml import etree

from engine.bpmn import import_tasks as tasks
from engine.bpmn.import_dmn import convert_decisions
from engine.bpmn.import_dmn import is_dmn
from engine.bpmn.import_expressions import convert_expression
from engine.bpmn.import_expressions import convert_timer
from engine.bpmn.import_expressions import warn_unset_names
from engine.bpmn.import_forms import safe_stem
from engine.bpmn.import_lanes import assign_lanes
from engine.bpmn.import_layout import BPMNDI_NS
from engine.bpmn.import_roles import PERFORMER_ATTRIBUTES
from engine.bpmn.import_roles import RoleDecision
from engine.bpmn.import_roles import RoleQuestion
from engine.bpmn.import_roles import decide_roles
from engine.bpmn.import_roles import performer
from engine.bpmn.import_steps import SPIFF_NS
from engine.bpmn.import_steps import VENDORS
from engine.bpmn.import_steps import Steps
from engine.bpmn.import_steps import bpmn
from engine.bpmn.import_steps import drop_data_stores
from engine.bpmn.import_steps import drop_vendor_leftovers
from engine.bpmn.import_steps import fix_gateway_default
from engine.bpmn.import_steps import local
from engine.bpmn.import_steps import name_flows
from engine.bpmn.import_steps import serialize
from engine.bpmn.specs import BPMN_NS
from engine.bpmn.xml import parse_xml
from engine.errors import DefinitionError
from engine.errors import DefinitionProblem
from engine.errors import EngineError

Severity = Literal["info", "warning", "error"]
Lint = Callable[[Mapping[str, bytes]], list[DefinitionProblem]]
MODEL_SUFFIXES = (".bpmn20.xml", ".bpmn", ".xml")
_DIALECTS = {
    "camunda": "Camunda 7 (camunda:)",
    "activiti": "Activiti (activiti:)",
    "flowable": "Flowable (flowable:)",
    "zeebe": "Camunda 8 (zeebe:), which is only partly converted",
}


@dataclass(frozen=True)
class ImportNote:
    """One line of the import report, pinned to the source file, line and element."""

    file: str
    line: int | None
    element_id: str | None
    severity: Severity
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        element = f" [{self.element_id}]" if self.element_id else ""
        return f"{where}{element} {self.severity}: {self.message}"


@dataclass(frozen=True)
class ImportResult:
    """The converted bundle (model files and forms/*.json, keyed by bundle path) and the report."""

    files: dict[str, bytes]
    report: list[ImportNote]
    models: list[str]  # bundle paths of the converted models, in the order given

    @property
    def ok(self) -> bool:
        """True when nothing is left that the deploy would refuse."""
        return not any(n.severity == "error" for n in self.report)


class RoleMappingError(EngineError):
    """Some groups, users or lanes of the model are not roles and were not mapped: nothing was produced."""

    code = "role_mapping_needed"

    def __init__(self, questions: list[RoleQuestion]) -> None:
        super().__init__("map these to roles: " + "; ".join(str(q) for q in questions))
        self.questions = questions


def import_model(
    data: bytes,
    filename: str,
    *,
    group_roles: Mapping[str, str],
    roles: Collection[str],
    deployed_forms: Mapping[str, Collection[str]] | None = None,
    lint: Lint | None = None,
) -> ImportResult:
    """Convert one BPMN file; see `import_files`."""
    return import_files(
        {filename: data}, group_roles=group_roles, roles=roles, deployed_forms=deployed_forms, lint=lint
    )


def import_files(
    files: Mapping[str, bytes],
    *,
    group_roles: Mapping[str, str],
    roles: Collection[str],
    deployed_forms: Mapping[str, Collection[str]] | None = None,
    lint: Lint | None = None,
) -> ImportResult:
    """Convert BPMN files into this dialect: forms, lanes per role, Python expressions, no vendor extensions.

    `group_roles` maps groups, users, lanes or `${...}` expressions to role keys (`*`: tasks naming nobody);
    `deployed_forms` maps deployed form file names to the processes using them: a generated form never replaces
    one that a process outside this import uses (a re-import replaces its own); `lint` checks
    the result, and each problem it finds is added to the report as an error.

    :raises DefinitionError: a file is not well-formed XML or not BPMN.
    :raises RoleMappingError: a performer is not a role and `group_roles` does not map it.
    """
    models = [_Model(name, _parse(name, data), roles, group_roles) for name, data in files.items()]
    questions = [q for m in models for q in m.decision.questions]
    if questions:
        raise RoleMappingError(questions)
    own = [str(p.get("id")) for m in models for p in m.processes]
    steps = Steps(
        vendors=frozenset(VENDORS), note=lambda *_: None, deployed_forms=deployed_forms or {}, own_processes=own
    )
    out: dict[str, bytes] = {}
    decisions: list[str] = []
    for model in sorted(models, key=lambda m: not m.is_dmn):  # DMN first: business rule tasks see what came along
        steps.note = model.note
        converted = model.convert_dmn(steps, decisions) if model.is_dmn else model.convert(steps, decisions=decisions)
        out[model.output_name(out)] = converted
    out |= steps.forms
    report = [n for m in models for n in m.notes]
    if lint is not None:
        report += _lint_notes(lint(out), models)
    return ImportResult(out, report, [m.path for m in models])


def _parse(name: str, data: bytes) -> etree._ElementTree:
    tree = parse_xml(data, name)
    root = tree.getroot()
    if (etree.QName(root).namespace, etree.QName(root).localname) != (BPMN_NS, "definitions") and not is_dmn(root):
        message = "neither BPMN 2.0 nor DMN: the root element must be bpmn:definitions or DMN definitions"
        raise DefinitionError([DefinitionProblem(name, root.sourceline, message)])
    return tree


class _Model:
    """One source file on its way into this dialect."""

    def __init__(self, name: str, tree: Any, roles: Collection[str], mapping: Mapping[str, str]) -> None:
        self.name = name
        self.root = tree.getroot()
        self.path = ""
        self.lines: dict[str, int | None] = {}
        self.notes: list[ImportNote] = []
        self.processes = self.root.findall(bpmn("process"))
        self.is_dmn = is_dmn(self.root)
        self.decision_ids: list[str] = []
        self.original_namespaces = _namespaces(self.root)
        self.vendors = sorted({VENDORS[n] for n in self.original_namespaces if n in VENDORS})
        self.decision: RoleDecision = decide_roles(self.human_tasks(), roles, mapping)

    def human_tasks(self) -> list[tuple[Any, Any]]:
        found = []
        for process in self.processes:
            for task in process.iter(bpmn("userTask"), bpmn("manualTask")):
                if task.get("id"):
                    found.append((task, performer(task, process, list(VENDORS))))
        return found

    def note(self, el: Any, severity: str, message: str) -> None:
        owner = el
        while owner is not None and not owner.get("id"):
            owner = owner.getparent()
        line = next((a.sourceline for a in [el, *el.iterancestors()] if a.sourceline), None)
        element_id = owner.get("id") if owner is not None else None
        note = ImportNote(self.name, line, element_id, cast(Severity, severity), message)
        if note not in self.notes:
            self.notes.append(note)

    def output_name(self, taken: Collection[str]) -> str:
        """<executable process id>.bpmn (one process per file, stem == process id) or <decision id>.dmn, else the
        source's stem."""
        if self.is_dmn:
            ids = self.decision_ids
        else:
            ids = [p.get("id") for p in self.processes if p.get("isExecutable", "true") == "true" and p.get("id")]
        stem = safe_stem(ids[0] if ids else _stem(self.name))
        suffix = ".dmn" if self.is_dmn else ".bpmn"
        path = f"{stem}{suffix}"
        number = 2
        while path in taken:
            path, number = f"{stem}_{number}{suffix}", number + 1
        self.path = path
        return path

    def convert_dmn(self, steps: Steps, decisions: list[str]) -> bytes:
        """Convert a decision table file; FEEL cells only when a vendor modeler wrote it (else they are Python)."""
        exporter = self.root.get("exporter") or ""
        feel = bool(self.vendors) or any(v in exporter.lower() for v in ("camunda", "flowable", "activiti"))
        if feel:
            self.note(self.root, "info", f"decision cells are read as FEEL (written by {exporter or 'a vendor tool'})")
        self.decision_ids = convert_decisions(self.root, self.note, feel=feel)
        steps.produced.update(str(o.get("name")) for o in self.root.iter("{*}output") if o.get("name"))
        decisions += self.decision_ids
        drop_vendor_leftovers(steps, self.root)
        self.remember_lines()
        return serialize(self.root, spiff=False)

    def _not_executable(self) -> list[Any]:
        return [p for p in self.processes if p.get("isExecutable", "true") != "true"]

    def convert(self, steps: Steps, *, decisions: Collection[str]) -> bytes:
        """Run every step on the tree and return the converted file (`decisions`: DMN decision ids imported too)."""
        self.describe()
        self.make_executable()
        name_flows(steps, self.root)
        drop_data_stores(steps, self.root)
        for gateway in list(self.root.iter(bpmn("exclusiveGateway"), bpmn("inclusiveGateway"))):
            fix_gateway_default(steps, gateway)  # first: the flow that becomes the default loses its condition
        for el in list(self.root.iter(etree.Element)):  # a snapshot: steps rename and move elements
            if etree.QName(el).namespace == BPMN_NS:
                self.convert_element(steps, el, decisions)
        self.place_human_tasks(steps)
        drop_vendor_leftovers(steps, self.root)
        if SPIFF_NS not in self.original_namespaces:  # a model already in this dialect has its forms deployed
            warn_unset_names(steps, self.root)
        self.remember_lines()
        self.notes.sort(key=lambda n: n.line or 0)
        return serialize(self.root, spiff=True)

    def remember_lines(self) -> None:
        """Source lines by element id, for the deploy check's problems (serializing empties the tree)."""
        self.lines = {str(e.get("id")): e.sourceline for e in self.root.iter(etree.Element) if e.get("id")}

    def describe(self) -> None:
        if self.vendors:
            dialects = ", ".join(_DIALECTS.get(v, v) for v in self.vendors if v in _DIALECTS) or "no engine"
            self.note(self.root, "info", f"written for {dialects}")
        elif SPIFF_NS in self.original_namespaces:
            self.note(self.root, "info", "already written for this engine")
        if self.processes and self.root.find(f"{{{BPMNDI_NS}}}BPMNDiagram") is None:
            self.note(self.root, "warning", "the file has no diagram: the modeler cannot show it until it is laid out")

    def make_executable(self) -> None:
        """Non-executable processes are made executable when none is; otherwise they stay documentation."""
        flagged = self._not_executable()
        make = len(flagged) == len(self.processes)
        for process in flagged:
            if make:
                process.set("isExecutable", "true")
                self.note(process, "warning", 'was not executable (isExecutable="false"): it was made executable')
            else:
                self.note(process, "info", 'is not executable (isExecutable="false"): the engine will not run it')

    def convert_element(self, steps: Steps, el: Any, decisions: Collection[str]) -> None:
        tag = local(el)
        process = next((a for a in el.iterancestors(bpmn("process"))), None)
        process_id = process.get("id", "process") if process is not None else "process"
        if tag == "userTask":
            steps.convert_user_task(el, process_id)
        elif tag == "startEvent":
            steps.convert_start_event(el, process_id)
        elif tag in ("serviceTask", "sendTask"):
            tasks.convert_service_task(steps, el)
        elif tag == "task":
            tasks.convert_plain_task(steps, el)
        elif tag == "receiveTask":
            tasks.convert_receive_task(steps, el)
        elif tag == "scriptTask":
            tasks.convert_script_task(steps, el)
        elif tag == "businessRuleTask":
            tasks.convert_business_rule_task(steps, el, decisions)
        elif tag == "callActivity":
            tasks.convert_call_activity(steps, el)
        elif tag == "multiInstanceLoopCharacteristics":
            tasks.convert_loop(steps, el, el.getparent())
        elif tag == "timerEventDefinition":
            convert_timer(steps, el, el.getparent())
        else:
            self.convert_expressions(steps, el, tag)

    def convert_expressions(self, steps: Steps, el: Any, tag: str) -> None:
        if tag == "sequenceFlow":
            for condition in el.findall(bpmn("conditionExpression")):
                convert_expression(steps, condition, el, "condition")
        elif tag == "conditionalEventDefinition":
            for condition in el.findall(bpmn("condition")):
                convert_expression(steps, condition, el.getparent(), "event condition")
        elif tag in ("message", "signal", "error", "escalation") and "{" in (el.get("name") or ""):
            self.note(el, "error", f"{tag} name {el.get('name')!r} is an expression: give it a fixed name")

    def place_human_tasks(self, steps: Steps) -> None:
        """Report where each human task's role came from, remove the performer attributes, then lay out lanes."""
        for process in self.processes:
            role_of: dict[str, str] = {}
            for task in process.iter(bpmn("userTask"), bpmn("manualTask")):
                for attribute in PERFORMER_ATTRIBUTES:
                    steps.pop(task, attribute)
                task_id = task.get("id")
                if task_id not in self.decision.roles:
                    continue
                role_of[task_id] = self.decision.roles[task_id]
                self.note(task, "info", f"{self.decision.sources[task_id]} is the role {role_of[task_id]!r}")
                others = self.decision.extra.get(task_id)
                if others:
                    self.note(task, "warning", f"also names {', '.join(others)}: a task has one role here")
            assign_lanes(self.root, process, role_of, self.note)


def _stem(filename: str) -> str:
    name = PurePosixPath(filename.replace("\\", "/")).name
    for suffix in MODEL_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _namespaces(root: Any) -> set[str]:
    """Every namespace used by an element or attribute of the tree."""
    found: set[str] = set()
    for el in root.iter(etree.Element):
        found.add(etree.QName(el).namespace or "")
        found.update(etree.QName(key).namespace or "" for key in el.attrib)
    return found


def _lint_notes(problems: list[DefinitionProblem], models: list[_Model]) -> list[ImportNote]:
    """The deploy lint's problems as report errors, at the source file and line of the element they name."""
    by_path = {m.path: m for m in models}
    notes: list[ImportNote] = []
    flagged = {(n.file, n.element_id) for m in models for n in m.notes if n.severity == "error"}
    for problem in problems:
        model = by_path.get(problem.file)
        file = model.name if model is not None else problem.file
        line = problem.line
        if model is not None:
            line = model.lines.get(problem.element_id or "")
        if (file, problem.element_id) in flagged:
            continue
        notes.append(ImportNote(file, line, problem.element_id, "error", f"deploy check: {problem.message}"))
    return notes
