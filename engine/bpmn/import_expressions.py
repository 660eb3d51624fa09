"""Import steps for model code: conditions, timers and loop counts become the Python the sandbox evaluates.

JUEL `${...}` (Camunda 7, Flowable, Activiti) and simple FEEL `= ...` (Camunda 8) are translated, ISO-8601
timer values are quoted as Python strings; what cannot be translated is reported on its element and left as it
was, so that the deploy check points at it. Variables that nothing in the import writes are reported too.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
from typing import Any

from lxml import etree

from engine.bpmn.import_steps import Steps
from engine.bpmn.import_steps import bpmn
from engine.bpmn.import_steps import local
from engine.bpmn.juel import JuelError
from engine.bpmn.juel import is_expression
from engine.bpmn.juel import translate
from engine.bpmn.sandbox import compile_source
from engine.bpmn.specs import BPMN_NS

_ISO = r"(P(?=[\dT.,]*\d)[\dYMWDTHS.,]+|\d{4}-\d\d-\d\d[\dT:.,Z+\-]*)"
_UNQUOTED_ISO = re.compile(rf"^(R\d*/)?{_ISO}(/{_ISO})?$")
_BUILTINS = frozenset(dir(builtins)) | {"dmninputexpr"}
_FEEL_EQUALS = re.compile(r"(?<![=!<>])=(?!=)")
_TIMER_KINDS = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}


def python_expression(text: str) -> tuple[str | None, str]:
    """(Python, '') for a JUEL `${...}`, a simple FEEL `= ...` (Camunda 8) or an expression that already compiles
    here, else (None, why not)."""
    source = text.strip()
    if source.startswith("=") and not source.startswith("=="):
        source = "${" + _FEEL_EQUALS.sub("==", source[1:]) + "}"  # FEEL compares with a single '='
    if is_expression(source):
        try:
            return translate(source), ""
        except JuelError as err:
            return None, str(err)
    try:
        compile_source(source, "eval")
    except SyntaxError as err:
        return None, f"{source!r} is neither JUEL nor a Python expression ({err.msg})"
    return source, ""


def timer_expression(kind: str, text: str) -> tuple[str | None, str]:
    """A timer value as the engine wants it: ISO-8601 text quoted as a Python string, `${...}` translated."""
    source = text.strip()
    if _UNQUOTED_ISO.match(source):
        if kind == "date" and not re.search(r"(Z|[+-]\d\d:?\d\d)$", source):
            return json.dumps(source + "+00:00"), "has no UTC offset: UTC was assumed"
        return json.dumps(source), ""
    if is_expression(source) or source.startswith(("'", '"')):
        return python_expression(source)
    if not source:
        return None, "it is empty"
    if len(source.split()) in (6, 7):
        return None, f'cron cycle {source!r} is not supported: write an ISO-8601 cycle such as "R/PT1H"'
    return None, f"{source!r} is not an ISO-8601 {kind} nor a ${{...}} expression"


def convert_expression(steps: Steps, expression: Any, owner: Any, what: str) -> bool:
    """Translate one condition-like element's JUEL to Python in place; False (and an error line) when it cannot."""
    language = (expression.get("language") or "").strip()
    resource = steps.pop(expression, "resource")
    text = (expression.text or "").strip()
    if resource or language.lower() not in ("", "juel", "python", "python3", "${}"):
        where = f" in {resource}" if resource else ""
        steps.note(
            owner,
            "error",
            f"{what} is written in {language or 'a script language'}{where}: rewrite it as a Python expression",
        )
        return False
    if not text:
        return True
    python, why = python_expression(text)
    if python is None:
        steps.note(owner, "error", f"{what} {text!r} was not converted: {why}")
        return False
    expression.attrib.pop("language", None)
    if python != text:
        expression.text = python
        steps.note(owner, "info", f"{what} {text} became {python}")
    return True


def convert_timer(steps: Steps, definition: Any, event: Any) -> None:
    """Quote ISO-8601 timer values as Python strings and translate `${...}` (the engine evaluates timers)."""
    for child in definition.iterchildren(etree.Element):
        kind = _TIMER_KINDS.get(local(child))
        if kind is None or etree.QName(child).namespace != BPMN_NS:
            continue
        text = (child.text or "").strip()
        python, why = timer_expression(kind, text)
        if python is None:
            steps.note(event, "error", f"timer {kind} was not converted: {why}")
        else:
            child.text = python
            message = f"timer {kind} {text} became {python}" + (f" ({why})" if why else "")
            if python != text:
                steps.note(event, "warning" if why else "info", message)


def warn_unset_names(steps: Steps, root: Any) -> None:
    """A condition or timer over a variable that nothing in the import writes fails at run time, typically because
    the form that wrote it stayed outside the model: say so on the element."""
    known = set(steps.produced) | _BUILTINS
    for script in root.iter(bpmn("script")):
        known |= _names(script.text or "", ast.Store)
    known |= {str(i.get("name") or i.get("id")) for i in root.iter(bpmn("inputDataItem"))}
    for code in root.iter(*(bpmn(t) for t in ("conditionExpression", "condition", *_TIMER_KINDS))):
        missing = sorted(_names(code.text or "", ast.Load) - known)
        owner = code.getparent()
        owner = owner.getparent() if local(owner).endswith("EventDefinition") else owner
        if missing:
            what = {"conditionExpression": "condition", "condition": "event condition"}.get(local(code))
            what = what or f"timer {_TIMER_KINDS[local(code)]}"
            steps.note(
                owner,
                "warning",
                f"{what} reads {', '.join(missing)}, which no form, decision or script of "
                "this import writes: pass it when the process starts or add it to a form",
            )


def _names(source: str, context: type[ast.expr_context]) -> set[str]:
    try:
        tree = ast.parse(source.strip() or "None", mode="exec")
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, context)}
