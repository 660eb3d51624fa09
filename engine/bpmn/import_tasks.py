"""Import steps for activities that run code of the other engine: service, send, receive, script, business rule
tasks, call activities and multi-instance loops.

Code this engine cannot run (Java delegates, expressions, external topics, connectors, Groovy or JavaScript)
becomes a plain `bpmn:task`, which the engine runs as a no-op, with the original kept in a documentation
element and one report line saying what to bind instead.
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from typing import Any

from lxml import etree

from engine.bpmn.import_expressions import convert_expression
from engine.bpmn.import_expressions import python_expression
from engine.bpmn.import_steps import SPIFF_NS
from engine.bpmn.import_steps import Steps
from engine.bpmn.import_steps import add_documentation
from engine.bpmn.import_steps import bpmn
from engine.bpmn.import_steps import extension_elements
from engine.bpmn.import_steps import local
from engine.bpmn.juel import is_expression
from engine.bpmn.sandbox import compile_source

_PYTHON_SCRIPTS = frozenset({"python", "python3", "jython"})
_TASK_ONLY = ("implementation", "operationRef", "messageRef", "instantiate", "scriptFormat")
_BIND = "bind a registered operator"
NOOP_SCRIPT = "pass  # imported no-op"
_DECISION_SETTINGS = ("decisionRefBinding", "decisionRefVersion", "decisionRefVersionTag", "decisionRefTenantId")


def implementation(steps: Steps, task: Any) -> str | None:
    """What runs the task in the other engine, removed from the element (None when nothing does)."""
    found = []
    for attribute, label in (("class", "Java delegate"), ("delegateExpression", "delegate expression")):
        value = steps.pop(task, attribute)
        if value:
            found.append(f"{label} {value}")
    expression = steps.pop(task, "expression")
    if expression:
        found.append(f"expression {expression}")
    kind, topic = steps.pop(task, "type"), steps.pop(task, "topic")
    if topic or kind == "external":
        found.append(f"external task topic {topic!r}")
    elif kind:
        found.append(f"{kind!r} task of the other engine")
    for connector in steps.take(task, "connector"):
        name = connector.findtext("{*}connectorId") or "?"
        found.append(f"connector {name.strip()!r}")
    for definition in steps.take(task, "taskDefinition"):
        found.append(f"Zeebe job type {definition.get('type')!r}")
    return ", ".join(found) or None


def to_noop(steps: Steps, task: Any, message: str, *, severity: str = "warning") -> None:
    """Turn the activity into a Python script task that does nothing, keeping id, name, flows and diagram.

    Not a plain `bpmn:task`: SpiffWorkflow treats that as a manual task, which would wait in nobody's inbox.
    """
    for attribute in _TASK_ONLY:
        task.attrib.pop(attribute, None)
    for script in task.findall(bpmn("script")):
        task.remove(script)
    add_documentation(task, f"Imported: {message}")
    task.tag = bpmn("scriptTask")
    task.set("scriptFormat", "python")
    etree.SubElement(task, bpmn("script")).text = NOOP_SCRIPT
    steps.note(task, severity, message)


def convert_plain_task(steps: Steps, task: Any) -> None:
    """Camunda and Flowable pass through a plain task; this engine would wait for a person, so it becomes a no-op."""
    to_noop(steps, task, "plain task: the other engine passes through it, here it became a no-op", severity="info")


def convert_service_task(steps: Steps, task: Any) -> None:
    """Service and send tasks: a standard message send stays, a task already bound to an operator of this engine stays
    (a model in this dialect), anything the other engine ran becomes a no-op."""
    if task.find(f"{bpmn('extensionElements')}/{{{SPIFF_NS}}}serviceTaskOperator") is not None:
        return
    what = implementation(steps, task)
    steps.pop(task, "resultVariable")
    if local(task) == "sendTask" and what is None and task.get("messageRef"):
        return
    label = "service task" if local(task) == "serviceTask" else "send task"
    to_noop(steps, task, f"{label}: {what or 'no implementation'} replaced by a no-op task: {_BIND}")


def convert_receive_task(steps: Steps, task: Any) -> None:
    """A receive task waits for its message; without one it would wait forever, so it becomes a no-op."""
    what = implementation(steps, task)
    if task.get("messageRef") and what is None:
        return
    to_noop(steps, task, f"receive task: {what or 'no message'} replaced by a no-op task: add a message or remove it")


def convert_script_task(steps: Steps, task: Any) -> None:
    """Python scripts that compile in the sandbox stay; other languages become a no-op with the script kept."""
    language = (task.get("scriptFormat") or "").strip()
    resource = steps.pop(task, "resource")
    result = steps.pop(task, "resultVariable")
    script = (task.findtext(bpmn("script")) or "").strip()
    if language.lower() in _PYTHON_SCRIPTS and not resource and _compiles(script):
        if result:
            steps.note(task, "warning", f"result variable {result!r} dropped: assign it in the script")
        return
    what = f"{language or 'unknown'} script" + (f" {resource}" if resource else "")
    if script:
        add_documentation(task, f"Original {language or 'unknown'} script:\n{script}")
    to_noop(steps, task, f"script task: {what} replaced by a no-op task: rewrite it in Python or {_BIND}")


def _compiles(script: str) -> bool:
    try:
        compile_source(script, "exec")
    except SyntaxError:
        return False
    return bool(script)


def convert_business_rule_task(steps: Steps, task: Any, decisions: Collection[str]) -> None:
    """A referenced decision becomes spiffworkflow:calledDecisionId; any other implementation becomes a no-op."""
    reference = steps.pop(task, "decisionRef")
    settings = [s for s in _DECISION_SETTINGS if steps.pop(task, s)]
    mapping, result = steps.pop(task, "mapDecisionResult"), steps.pop(task, "resultVariable")
    for called in steps.take(task, "calledDecision"):  # Zeebe
        reference, result = reference or called.get("decisionId"), result or called.get("resultVariable")
    if task.find(f"{bpmn('extensionElements')}/{{{SPIFF_NS}}}calledDecisionId") is not None:
        return
    if reference and not is_expression(reference):
        etree.SubElement(extension_elements(task), f"{{{SPIFF_NS}}}calledDecisionId").text = reference
        if reference in decisions:
            steps.note(task, "info", f"calls the imported decision {reference!r}")
        else:
            steps.note(
                task,
                "warning",
                f"calls decision {reference!r}: deploy it with the model as a DMN file "
                "whose cells are Python expressions (DMN written for FEEL must be converted)",
            )
        if result or mapping or settings:
            dropped = ", ".join(
                filter(
                    None,
                    [result and f"result variable {result!r}", mapping and f"mapDecisionResult {mapping!r}", *settings],
                )
            )
            steps.note(
                task, "warning", f"the decision's outputs go to the task data under their own names; {dropped} dropped"
            )
        return
    what = implementation(steps, task) or (f"decision expression {reference}" if reference else "no decision")
    to_noop(steps, task, f"business rule task: {what} replaced by a no-op task: name a DMN decision or {_BIND}")


def convert_call_activity(steps: Steps, call: Any) -> None:
    """The called process must be named literally (Zeebe's calledElement is read too)."""
    for called in steps.take(call, "calledElement"):
        if not call.get("calledElement") and called.get("processId"):
            call.set("calledElement", called.get("processId"))
    target = call.get("calledElement", "")
    if is_expression(target) or target.startswith("="):
        steps.note(call, "error", f"calls the process named by {target!r}: write the called process id instead")
    elif not target:
        steps.note(call, "error", "call activity names no process: set calledElement")


def convert_loop(steps: Steps, loop: Any, owner: Any) -> None:
    """Camunda's collection/elementVariable become loopDataInputRef/inputDataItem; JUEL counts and conditions are
    translated."""
    collection, element = steps.pop(loop, "collection"), steps.pop(loop, "elementVariable")
    for zeebe in steps.take(loop, "loopCharacteristics"):
        collection, element = zeebe.get("inputCollection", "").lstrip("="), zeebe.get("inputElement")
    if collection:
        _loop_input(steps, loop, owner, collection, element)
    for tag, what in (("loopCardinality", "loop cardinality"), ("completionCondition", "completion condition")):
        for expression in loop.findall(bpmn(tag)):
            convert_expression(steps, expression, owner, what)
            if tag == "completionCondition" and "nrOf" in (expression.text or ""):
                steps.note(
                    owner,
                    "warning",
                    "completion condition uses nrOf… counters, which this engine does "
                    "not set: rewrite it over the task data",
                )


def _loop_input(steps: Steps, loop: Any, owner: Any, collection: str, element: str | None) -> None:
    name, why = python_expression(collection) if is_expression(collection) else (collection.strip(), "")
    if name is None or not isinstance(_parsed(name), ast.Name):
        steps.note(owner, "error", f"loop collection {collection!r} is not a variable name{': ' + why if why else ''}")
        return
    if loop.find(bpmn("loopCardinality")) is not None or loop.find(bpmn("loopDataInputRef")) is not None:
        return
    before = (
        "loopDataOutputRef",
        "inputDataItem",
        "outputDataItem",
        "complexBehaviorDefinition",
        "completionCondition",
    )
    reference = etree.Element(bpmn("loopDataInputRef"))
    reference.text = name
    _insert_before(loop, reference, before)
    if element:
        item = etree.Element(bpmn("inputDataItem"), id=element, name=element)
        _insert_before(loop, item, before[2:])
    steps.note(owner, "info", f"loops over {name!r}" + (f", one {element!r} per instance" if element else ""))


def _parsed(source: str) -> ast.expr | None:
    try:
        return ast.parse(source, mode="eval").body
    except SyntaxError:
        return None


def _insert_before(parent: Any, child: Any, tags: tuple[str, ...]) -> None:
    for index, sibling in enumerate(parent):
        if isinstance(sibling.tag, str) and local(sibling) in tags:
            parent.insert(index, child)
            return
    parent.append(child)
