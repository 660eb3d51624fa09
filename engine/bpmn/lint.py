"""Deploy-time lint of a definition bundle, so a model that would fail, stall or escape is refused up front.

Every problem names file, line and element. Rules: well-formed XML without DOCTYPE; BPMN/DMN schema; all
model code compiles in the sandbox; timer constants are ISO-8601; XOR/OR gateways have a default flow; DMN
tables have a catch-all rule; user tasks have a valid JSON-Schema form and a lane named after a known role;
service operators are known; references resolve; no element the engine cannot run; finally SpiffWorkflow's
own semantic checks on each executable process. The rules live in four modules: this one (BPMN elements and the
public entry points), lint_catalog (operators, properties, bindings, recursion), lint_dmn_forms (decision tables
and forms) and lint_vocabulary (what runs, what holds code, where a problem belongs).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from typing import Any

from lxml import etree

from engine.bpmn.catalog import Catalog
from engine.bpmn.catalog import OperatorSpec
from engine.bpmn.lint_catalog import CatalogRules
from engine.bpmn.lint_catalog import juel_message
from engine.bpmn.lint_dmn_forms import DmnAndFormRules
from engine.bpmn.lint_vocabulary import _CODE_TAGS
from engine.bpmn.lint_vocabulary import _NOT_FLOW
from engine.bpmn.lint_vocabulary import _RUNNABLE
from engine.bpmn.lint_vocabulary import _RUNS_PRE_POST
from engine.bpmn.lint_vocabulary import _SCOPES
from engine.bpmn.lint_vocabulary import _TIMER_TAGS
from engine.bpmn.lint_vocabulary import _UNQUOTED_ISO
from engine.bpmn.lint_vocabulary import _UNSUPPORTED
from engine.bpmn.lint_vocabulary import NS
from engine.bpmn.lint_vocabulary import SPIFF_NS
from engine.bpmn.lint_vocabulary import _effective_lane
from engine.bpmn.lint_vocabulary import _is_executable
from engine.bpmn.lint_vocabulary import _lane_index
from engine.bpmn.lint_vocabulary import _local
from engine.bpmn.lint_vocabulary import _owner_id
from engine.bpmn.lint_vocabulary import _text
from engine.bpmn.lint_vocabulary import _timer_value_problem
from engine.bpmn.sandbox import Mode
from engine.bpmn.sandbox import compile_source
from engine.bpmn.specs import BPMN_NS
from engine.bpmn.specs import ParsedBundle
from engine.bpmn.specs import load_bundle
from engine.bpmn.specs import load_json
from engine.errors import DefinitionError
from engine.errors import DefinitionProblem


class _Linter(DmnAndFormRules):
    """Runs every rule over one loaded bundle and collects the problems."""

    def __init__(self, bundle: ParsedBundle, catalog: Catalog) -> None:
        self.bundle = bundle
        self.catalog = catalog
        self.roles = catalog.roles
        self.operators = frozenset(catalog.operators)
        self.problems: list[DefinitionProblem] = []
        self.schemas: dict[str, Any] = {}
        self.ui_files: dict[str, Any] = {}
        bpmn = {n: t for n, t in bundle.trees.items() if n.endswith(".bpmn")}
        self.bpmn_trees = bpmn
        self.dmn_trees = {n: t for n, t in bundle.trees.items() if n.endswith(".dmn")}
        processes = [p for t in bpmn.values() for p in t.getroot().iterfind("bpmn:process", NS)]
        self.process_ids = {p.get("id") for p in processes if _is_executable(p)}
        self.decision_ids = {
            d.get("id") for t in self.dmn_trees.values() for d in t.getroot() if _local(d) == "decision"
        }

    def add(self, file: str, el: Any, message: str, *, line: int | None = None) -> None:
        self.problems.append(DefinitionProblem(file, line or el.sourceline, message, _owner_id(el)))

    def code(self, file: str, el: Any, source: str, mode: Mode, what: str, *, line: int | None = None) -> bool:
        """Compile model code in the sandbox and report the failing file line; True when it compiles."""
        try:
            compile_source(source, mode)
        except SyntaxError as err:
            juel = juel_message(what, source)
            if juel is not None:
                self.add(file, el, juel, line=line)
                return False
            if line is None:  # code is the element's text, which starts on the element's line
                skipped = source[: len(source) - len(source.lstrip())].count("\n") if mode == "eval" else 0
                line = (el.sourceline or 1) + skipped + (err.lineno or 1) - 1
            self.add(file, el, f"{what}: {err.msg}", line=line)
            return False
        return True

    def run(self) -> list[DefinitionProblem]:
        for file, tree in self.bpmn_trees.items():
            self.check_bpmn(file, tree)
            self.check_executable(file, tree)
        for file, tree in self.dmn_trees.items():
            self.check_dmn(file, tree)
        self.check_forms()
        self.problems.extend(CatalogRules(self.catalog, self.bpmn_trees, self.form_schema).run())
        all_parsed = all(n in self.bundle.trees for n in self.bundle.files if n.endswith(".bpmn"))
        declared = any(t.getroot().find("bpmn:process", NS) is not None for t in self.bpmn_trees.values())
        if self.bpmn_trees and not self.process_ids and all_parsed and not declared:
            first = min(self.bpmn_trees, default="(bundle)")
            self.problems.append(DefinitionProblem(first, None, "the bundle has no executable process"))
        return self.problems

    # ---- BPMN ---------------------------------------------------------------------------------------

    def check_bpmn(self, file: str, tree: Any) -> None:
        lanes = _lane_index(tree)
        rules: dict[str, Callable[[str, Any], None]] = {
            "scriptTask": self.check_script_task,
            "exclusiveGateway": self.check_gateway,
            "inclusiveGateway": self.check_gateway,
            "userTask": lambda f, e: self.check_human_task(f, e, lanes),
            "startEvent": lambda f, e: self.check_start_event(f, e, lanes),
            "manualTask": lambda f, e: self.check_human_task(f, e, lanes),
            "serviceTask": self.check_service_task,
            "callActivity": self.check_call_activity,
            "businessRuleTask": self.check_business_rule,
            "process": self.check_id_clashes,
            "timeDate": self.check_timer,
            "timeDuration": self.check_timer,
            "timeCycle": self.check_timer,
        }
        for el in tree.getroot().iter(etree.Element):
            if el.tag in _CODE_TAGS:
                self.check_code_text(file, el)
            elif etree.QName(el).namespace == BPMN_NS:
                self.check_element(file, el)
                rule = rules.get(_local(el))
                if rule is not None:
                    rule(file, el)

    def check_executable(self, file: str, tree: Any) -> None:
        """A BPMN file whose processes are all non-executable deploys nothing: say so instead of answering 'ok'."""
        processes = list(tree.getroot().iterfind("bpmn:process", NS))
        if processes and not any(_is_executable(p) for p in processes):
            for process in processes:
                message = (
                    f"process {process.get('id')!r} has isExecutable={process.get('isExecutable')!r}: nothing deployed"
                    ' (set isExecutable="true" to run it)'
                )
                self.add(file, process, message)

    def form_schema(self, name: str) -> Any:
        """The parsed JSON of a form named in a model, or None when it is missing or broken."""
        path = self.bundle.form_path(name)
        if path is None:
            return None
        value, problem = load_json(path, self.bundle.files[path])
        return value if problem is None else None

    def check_start_event(self, file: str, event: Any, lanes: Mapping[str, Any]) -> None:
        """A start form must exist; a start event in a lane names who may start the process: a known role."""
        properties = self.properties(file, event)
        if properties.get("formJsonSchemaFilename", "").strip():
            self.check_form_reference(file, event, properties)
        lane = _effective_lane(event, lanes)
        if lane is not None and lane.get("name") not in self.roles:
            known = ", ".join(sorted(self.roles)) or "none"
            message = f"start event is in lane {lane.get('name')!r}, which is not a role ({known}): nobody may start it"
            self.add(file, event, message)

    def check_element(self, file: str, el: Any) -> None:
        """Rules for any BPMN element: supported by the engine, has an id, and its children can run."""
        tag = _local(el)
        if tag in _UNSUPPORTED:
            self.add(file, el, _UNSUPPORTED[tag])
        if (tag in _RUNNABLE or tag in _SCOPES) and not el.get("id"):
            self.add(file, el, f"bpmn:{tag} has no id: the engine names every element by its id")
        if tag in _SCOPES:
            self.check_scope(file, el)

    def check_code_text(self, file: str, el: Any) -> None:
        mode, what = _CODE_TAGS[el.tag]
        source = _text(el)
        parent = el.getparent()
        host = parent.getparent() if parent is not None and what in ("pre-script", "post-script") else None
        if host is not None and _local(host) not in _RUNS_PRE_POST:
            self.add(file, el, f"{what} on a {_local(host)} is ignored by the engine: move the code")
        elif source.strip():
            self.code(file, el, source, mode, what)
        elif _local(el) == "conditionExpression":
            self.add(file, el, "condition is empty: write a Python expression or remove the condition")

    def check_scope(self, file: str, scope: Any) -> None:
        """Flag children of a process/subprocess the engine cannot run (unknown or unsupported tags)."""
        for child in scope.iterchildren(etree.Element):
            qname = etree.QName(child)
            tag = qname.localname
            if qname.namespace != BPMN_NS:
                self.add(file, child, f"unknown element {child.tag!r} in a process: the engine cannot run it")
            elif tag not in _RUNNABLE and tag not in _NOT_FLOW and tag not in _UNSUPPORTED:
                self.add(file, child, f"bpmn:{tag} is not supported by the engine")
        self.check_flow_references(file, scope)

    def check_flow_references(self, file: str, scope: Any) -> None:
        """Every flow a node lists and every end of a flow is in the same process: a dangling one made instances
        fail with no element named, or end "completed" without reaching their end event (found outside-in)."""
        children = list(scope.iterchildren(etree.Element))
        ids = {child.get("id") for child in children if child.get("id")}
        flows = {child.get("id") for child in children if _local(child) == "sequenceFlow"}
        for child in children:
            if _local(child) == "sequenceFlow":
                for end in ("sourceRef", "targetRef"):
                    if child.get(end) not in ids:
                        self.add(
                            file,
                            child,
                            f"sequence flow {child.get('id')!r}: its {end} {child.get(end)!r} is no element of "
                            "this process: connect it to one",
                        )
                continue
            for ref in child.iterchildren(f"{{{BPMN_NS}}}incoming", f"{{{BPMN_NS}}}outgoing"):
                if (ref.text or "").strip() not in flows:
                    self.add(
                        file,
                        ref,
                        f"{_local(ref)} {(ref.text or '').strip()!r} names no sequence flow of this process: "
                        "add the flow or remove the reference",
                    )

    def check_id_clashes(self, file: str, process: Any) -> None:
        """SpiffWorkflow indexes every `id` in a process, extension elements too; a clash resolves flows wrongly."""
        bpmn_ids = {e.get("id") for e in process.iter(f"{{{BPMN_NS}}}*") if e.get("id")}
        for el in process.iter(f"{{{SPIFF_NS}}}*"):
            if el.get("id") in bpmn_ids:
                self.add(
                    file,
                    el,
                    f"spiffworkflow:{_local(el)} id {el.get('id')!r} is also a BPMN element id in "
                    "this process; SpiffWorkflow would confuse the two: rename one",
                )

    def check_timer(self, file: str, el: Any) -> None:
        kind = _TIMER_TAGS[_local(el)]
        source = _text(el).strip()
        if not source:
            self.add(file, el, f"timer {kind} is empty")
        elif _UNQUOTED_ISO.match(source):
            self.add(file, el, f'timer {kind} {source} is evaluated as Python: quote it, "{source}"')
        elif self.code(file, el, _text(el), "eval", f"timer {kind}"):
            node = ast.parse(source, mode="eval").body
            if isinstance(node, ast.Constant):
                if not isinstance(node.value, str):
                    self.add(file, el, f"timer {kind} must be ISO-8601 text, not {type(node.value).__name__}")
                else:
                    problem = _timer_value_problem(kind, node.value)
                    if problem:
                        self.add(file, el, problem)

    def check_script_task(self, file: str, task: Any) -> None:
        script = task.find("bpmn:script", NS)
        if script is None or not _text(script).strip():
            self.add(file, task, "script task has no script")
        else:
            self.code(file, script, _text(script), "exec", "script")

    def check_gateway(self, file: str, gateway: Any) -> None:
        """An XOR/OR split needs a default flow, and every other outgoing flow needs a condition."""
        gateway_id, scope = gateway.get("id", ""), gateway.getparent()
        flows = scope.iterfind("bpmn:sequenceFlow", NS) if scope is not None else []
        outgoing = [f for f in flows if f.get("sourceRef") == gateway_id]
        if len(outgoing) < 2:
            return
        kind = _local(gateway).replace("Gateway", "")
        default = gateway.get("default")
        if not default:
            self.add(
                file,
                gateway,
                f"{kind} gateway has {len(outgoing)} outgoing flows but no default flow: "
                "mark one as default so an unmatched condition cannot stall the case",
            )
        elif default not in {f.get("id") for f in outgoing}:
            self.add(file, gateway, f"default flow {default!r} is not an outgoing flow of this gateway")
        for flow in outgoing:
            if flow.get("id") != default and flow.find("bpmn:conditionExpression", NS) is None:
                self.add(file, flow, "flow leaves a gateway without a condition and is not the default flow")

    def check_human_task(self, file: str, task: Any, lanes: Mapping[str, Any]) -> None:
        """A user task needs a form; every human task needs a lane named after a known role."""
        kind = "user task" if _local(task) == "userTask" else "manual task"
        properties = self.properties(file, task)
        if kind == "user task":
            self.check_form_reference(file, task, properties)
            operator = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
            if operator is not None:
                self.check_operator_params(file, operator)
        lane = _effective_lane(task, lanes)
        if lane is None:
            self.add(file, task, f"{kind} is outside any lane: put it in a lane named after its role")
        elif lane.get("name") not in self.roles:
            known = ", ".join(sorted(self.roles)) or "none"
            self.add(file, task, f"{kind} is in lane {lane.get('name')!r}, which is not a role ({known})")

    def properties(self, file: str, task: Any) -> dict[str, str]:
        found: dict[str, str] = {}
        path = "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
        for prop in task.iterfind(path, NS):
            if prop.get("name") is None or prop.get("value") is None:
                self.add(file, prop, "spiffworkflow:property needs both name and value attributes")
            else:
                found[prop.get("name")] = prop.get("value")
                spec = self.catalog.properties.get(prop.get("name"))
                if spec is not None and spec.expression:
                    self.code(file, prop, prop.get("value"), "eval", f"property {spec.name!r}", line=prop.sourceline)
        return found

    def check_form_reference(self, file: str, task: Any, properties: Mapping[str, str]) -> None:
        schema = properties.get("formJsonSchemaFilename", "").strip()
        if not schema:
            self.add(file, task, "user task has no form: add spiffworkflow:property formJsonSchemaFilename")
        else:
            self.reference_json(file, task, schema, self.schemas)
        ui = properties.get("formUiSchemaFilename", "").strip()
        if ui:
            self.reference_json(file, task, ui, self.ui_files)

    def reference_json(self, file: str, task: Any, name: str, into: dict[str, Any]) -> None:
        path = self.bundle.form_path(name)
        if path is None:
            self.add(file, task, f"form file {name!r} is not in the bundle (or two files have that name)")
        else:
            into.setdefault(path, task)

    def check_service_task(self, file: str, task: Any) -> None:
        operator = task.find("bpmn:extensionElements/spiffworkflow:serviceTaskOperator", NS)
        if operator is None:
            self.add(file, task, "service task has no spiffworkflow:serviceTaskOperator")
            return
        name = operator.get("id")
        if name not in self.operators:
            known = ", ".join(sorted(self.operators)) or "none"
            self.add(file, operator, f"unknown service operator {name!r} (known operators: {known})")
        self.check_operator_params(file, operator)

    def check_operator_params(self, file: str, operator: Any) -> None:
        """Every parameter names id, type and value, and its value compiles in the sandbox."""
        for param in operator.iterfind(".//spiffworkflow:parameter", NS):
            if not all(param.get(a) for a in ("id", "type", "value")):
                self.add(file, param, "service parameter needs id, type and value attributes")
            else:
                self.code(
                    file,
                    param,
                    param.get("value"),
                    "eval",
                    f"service parameter {param.get('id')!r}",
                    line=param.sourceline,
                )

    def check_call_activity(self, file: str, call: Any) -> None:
        called = call.get("calledElement")
        if called not in self.process_ids:
            self.add(file, call, f"call activity calls {called!r}, which is not an executable process here")

    def check_business_rule(self, file: str, task: Any) -> None:
        decision = task.findtext("bpmn:extensionElements/spiffworkflow:calledDecisionId", None, NS)
        if not decision or decision not in self.decision_ids:
            self.add(file, task, f"business rule task calls decision {decision!r}, which no DMN file defines")


def _semantic_problems(bundle: ParsedBundle) -> list[DefinitionProblem]:
    """SpiffWorkflow's own checks, run by building each executable process's spec."""
    problems: list[DefinitionProblem] = []
    for process_id in bundle.process_ids():
        try:
            bundle.spec(process_id)
        except DefinitionError as err:
            problems.extend(p for p in err.problems if p not in problems)
    return problems


def _catalog(catalog: Catalog | None, roles: Collection[str] | None, operators: Collection[str] | None) -> Catalog:
    """The catalog to lint against; bare role and operator names make one whose operators take any parameters."""
    if catalog is not None:
        return catalog
    specs = [OperatorSpec(name, params=None) for name in operators or ()]
    return Catalog.of(roles=set(roles or ()), operators=specs)


def _lint(files: Mapping[str, bytes], catalog: Catalog) -> tuple[ParsedBundle, list[DefinitionProblem]]:
    bundle, problems = load_bundle(files)
    schema_lines = {(p.file, p.line) for p in problems if p.message.startswith("schema:")}
    problems += [p for p in _Linter(bundle, catalog).run() if (p.file, p.line) not in schema_lines]
    if not problems:
        problems = _semantic_problems(bundle)
    return bundle, problems


def lint_and_parse(files: Mapping[str, bytes], catalog: Catalog) -> tuple[ParsedBundle, list[DefinitionProblem]]:
    """The parsed bundle and every problem the lint found (the bundle runs only when there are none)."""
    return _lint(files, catalog)


def lint_bundle(
    files: Mapping[str, bytes],
    *,
    catalog: Catalog | None = None,
    roles: Collection[str] | None = None,
    operators: Collection[str] | None = None,
) -> list[DefinitionProblem]:
    """Every problem in a bundle (files keyed by relative path), each with file, line and element id."""
    return _lint(files, _catalog(catalog, roles, operators))[1]


def validate_bundle(
    files: Mapping[str, bytes],
    *,
    catalog: Catalog | None = None,
    roles: Collection[str] | None = None,
    operators: Collection[str] | None = None,
) -> ParsedBundle:
    """Lint a bundle and return it parsed, ready to run.

    :raises DefinitionError: with every problem the lint found.
    """
    bundle, problems = _lint(files, _catalog(catalog, roles, operators))
    if problems:
        raise DefinitionError(problems)
    return bundle
