"""A readable diff between two versions of a process: which elements, form fields and DMN rules were added,
removed or changed, and which of their facts (name, type, lane, form, operator, condition, timer, script…).

It reads the stored BPMN/DMN/JSON text of each version (never SpiffWorkflow specs), so it explains the change
the way the designer drew it. Diagram-only moves show up as one "layout" line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from lxml import etree

from engine.bpmn.xml import parse_xml
from engine.errors import DefinitionError

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
SPIFF = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN, "spiffworkflow": SPIFF, "bpmndi": BPMNDI}
# Elements a modeler thinks of as "things on the canvas"; their sub-elements become facts of their owner.
_SKIP = frozenset(
    {
        "extensionElements",
        "documentation",
        "incoming",
        "outgoing",
        "laneSet",
        "flowNodeRef",
        "conditionExpression",
        "script",
        "ioSpecification",
        "dataInput",
        "dataOutput",
        "inputSet",
        "outputSet",
        "dataInputAssociation",
        "dataOutputAssociation",
        "multiInstanceLoopCharacteristics",
        "standardLoopCharacteristics",
        "property",
        "childLaneSet",
    }
)
_TIMERS = ("timeDate", "timeDuration", "timeCycle")


@dataclass(frozen=True)
class Change:
    """One added, removed or changed element (BPMN element, form field, DMN rule, or a whole file)."""

    kind: str  # added | removed | changed
    file: str
    scope: str  # process id, form file or decision id the element belongs to
    element_id: str
    element_type: str  # e.g. userTask, sequenceFlow, lane, field, rule, form, layout
    name: str
    details: tuple[tuple[str, str, str], ...] = ()  # (fact, old value, new value)


def diff_files(old: Mapping[str, str], new: Mapping[str, str]) -> list[Change]:
    """Every change between two sets of bundle files (BPMN, DMN, forms), file by file."""
    changes: list[Change] = []
    for name in sorted(set(old) | set(new)):
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        if name.endswith(".bpmn"):
            changes.extend(_diff_xml(name, before, after, _bpmn_elements, _layout_change))
        elif name.endswith(".dmn"):
            changes.extend(_diff_xml(name, before, after, _dmn_elements, None))
        else:
            changes.extend(_diff_json(name, before, after))
    return changes


def element_names(files: Mapping[str, str]) -> dict[str, str]:
    """BPMN element id → name over a set of files (the first file naming an id wins)."""
    names: dict[str, str] = {}
    for name in sorted(files):
        tree = _tree(name, files[name]) if name.endswith(".bpmn") else None
        if tree is not None:
            for element_id, (_, _, label, _) in _bpmn_elements(tree).items():
                names.setdefault(element_id, label)
    return names


Facts = dict[str, str]
Elements = dict[str, tuple[str, str, str, Facts]]  # id -> (scope, type, name, facts)


def _diff_xml(name: str, before: str | None, after: str | None, read: Any, extra: Any) -> list[Change]:
    trees = [_tree(name, text) for text in (before, after)]
    if None in trees:
        kind = "added" if before is None else "removed"
        if (before is None) != (after is None):
            return [Change(kind, name, "", PurePosixPath(name).name, "file", name)]
        return [Change("changed", name, "", PurePosixPath(name).name, "file", name, (("content", "", ""),))]
    old_elements, new_elements = read(trees[0]), read(trees[1])
    changes = _compare(name, old_elements, new_elements)
    if extra is not None:
        changes.extend(extra(name, trees[0], trees[1]))
    return changes


def _tree(name: str, text: str | None) -> Any:
    if text is None:
        return None
    try:
        return parse_xml(text.encode("utf-8"), name)
    except DefinitionError:
        return None


def _compare(file: str, old: Elements, new: Elements) -> list[Change]:
    changes: list[Change] = []
    for element_id in [*old, *(k for k in new if k not in old)]:
        if element_id not in new:
            scope, kind, name, _ = old[element_id]
            changes.append(Change("removed", file, scope, element_id, kind, name))
        elif element_id not in old:
            scope, kind, name, facts = new[element_id]
            details = tuple((k, "", v) for k, v in facts.items() if v)
            changes.append(Change("added", file, scope, element_id, kind, name, details))
        else:
            before, after = old[element_id][3], new[element_id][3]
            details = tuple(
                (k, before.get(k, ""), after.get(k, ""))
                for k in [*before, *(k for k in after if k not in before)]
                if before.get(k, "") != after.get(k, "")
            )
            if details:
                scope, kind, name, _ = new[element_id]
                changes.append(Change("changed", file, scope, element_id, kind, name, details))
    return changes


# ---- BPMN ------------------------------------------------------------------------------------------------


def _local(el: Any) -> str:
    return str(etree.QName(el).localname)


def _text(el: Any) -> str:
    return " ".join(str(el.text or "").split()) if el is not None else ""


def _bpmn_elements(tree: Any) -> Elements:
    found: Elements = {}
    for process in tree.getroot().iterfind("bpmn:process", NS):
        lanes = {
            (ref.text or "").strip(): ref.getparent().get("name", "")
            for ref in process.iterfind(".//bpmn:flowNodeRef", NS)
        }
        for el in _walk(process):
            facts = _facts(el, lanes)
            found[el.get("id")] = (process.get("id", ""), _local(el), el.get("name", "") or "", facts)
    return found


def _walk(scope: Any) -> Iterator[Any]:
    for el in scope.iterchildren(etree.Element):
        if etree.QName(el).namespace != BPMN or _local(el) in _SKIP or not el.get("id"):
            continue
        yield el
        if _local(el) in ("subProcess", "transaction", "adHocSubProcess"):
            yield from _walk(el)
    for lane in scope.iterfind("bpmn:laneSet//bpmn:lane", NS):
        if lane.get("id"):
            yield lane


def _facts(el: Any, lanes: Mapping[str, str]) -> Facts:
    facts: Facts = {"type": _local(el), "name": el.get("name", "") or ""}
    tag = _local(el)
    if tag == "sequenceFlow":
        facts["flow"] = f"{el.get('sourceRef', '')} → {el.get('targetRef', '')}"
        facts["condition"] = _text(el.find("bpmn:conditionExpression", NS))
    elif tag != "lane":
        facts["lane"] = lanes.get(el.get("id", ""), "")
    if tag == "lane":
        facts["nodes"] = str(len(el.findall("bpmn:flowNodeRef", NS)))
    for key, value in _properties(el).items():
        facts[{"formJsonSchemaFilename": "form", "formUiSchemaFilename": "ui_form"}.get(key, f"property {key}")] = value
    facts.update(_spiff_facts(el))
    for attr, fact in (("default", "default"), ("calledElement", "called"), ("attachedToRef", "attached_to")):
        if el.get(attr):
            facts[fact] = el.get(attr)
    if tag == "boundaryEvent":
        facts["interrupting"] = el.get("cancelActivity", "true")
    if tag == "scriptTask":
        facts["script"] = _text(el.find("bpmn:script", NS))
    facts.update(_event_facts(el))
    loop = el.find("bpmn:multiInstanceLoopCharacteristics", NS)
    if loop is not None:
        facts["multi_instance"] = "sequential" if loop.get("isSequential") == "true" else "parallel"
    facts["documentation"] = _text(el.find("bpmn:documentation", NS))
    return {k: v for k, v in facts.items() if v or k in ("name",)}


def _properties(el: Any) -> dict[str, str]:
    path = "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"
    return {p.get("name", ""): p.get("value", "") for p in el.iterfind(path, NS) if p.get("name")}


def _spiff_facts(el: Any) -> Facts:
    facts: Facts = {}
    ext = el.find("bpmn:extensionElements", NS)
    if ext is None:
        return facts
    operator = ext.find("spiffworkflow:serviceTaskOperator", NS)
    if operator is not None:
        facts["operator"] = operator.get("id", "")
        facts["result_variable"] = operator.get("resultVariable", "")
        params = [
            f"{p.get('id')}: {p.get('type')} = {p.get('value')}"
            for p in operator.iterfind(".//spiffworkflow:parameter", NS)
        ]
        facts["parameters"] = "; ".join(params)
    for tag, fact in (
        ("calledDecisionId", "decision"),
        ("preScript", "pre_script"),
        ("postScript", "post_script"),
        ("instructionsForEndUser", "instructions"),
    ):
        facts[fact] = _text(ext.find(f"spiffworkflow:{tag}", NS))
    return facts


def _event_facts(el: Any) -> Facts:
    facts: Facts = {}
    kinds = []
    for definition in el.iterchildren(etree.Element):
        tag = _local(definition)
        if not tag.endswith("EventDefinition"):
            continue
        kinds.append(tag.removesuffix("EventDefinition"))
        for timer in _TIMERS:
            found = definition.find(f"bpmn:{timer}", NS)
            if found is not None:
                facts["timer"] = f"{timer}: {_text(found)}"
        for ref in ("messageRef", "errorRef", "signalRef", "escalationRef"):
            if definition.get(ref):
                facts[ref.removesuffix("Ref")] = definition.get(ref)
    if kinds:
        facts["event"] = ", ".join(kinds)
    return facts


def _layout_change(file: str, old: Any, new: Any) -> list[Change]:
    """One line when shapes or edges moved (positions are not behaviour, but a designer wants to know)."""
    if _layout(old) == _layout(new):
        return []
    return [Change("changed", file, "", "", "layout", "", (("layout", "", ""),))]


def _layout(tree: Any) -> list[str]:
    """Every shape and edge of the diagrams, sorted: bpmn-js may write them in another order and indentation."""
    shapes = tree.getroot().iterfind("bpmndi:BPMNDiagram/bpmndi:BPMNPlane/*", NS)
    return sorted(_signature(shape) for shape in shapes)


def _signature(el: Any) -> str:
    """Tag, attributes and children of a DI element; whitespace and empty children (bpmn-js adds an empty
    BPMNLabel when a name is edited) do not count."""
    attrs = ",".join(f"{k}={v}" for k, v in sorted(el.attrib.items()))
    children = ";".join(_signature(c) for c in el.iterchildren(etree.Element) if len(c) or c.attrib)
    return f"{_local(el)}[{attrs}]({children})"


# ---- DMN -------------------------------------------------------------------------------------------------


def _dmn_elements(tree: Any) -> Elements:
    root = tree.getroot()
    ns = {"dmn": etree.QName(root).namespace}
    found: Elements = {}
    for decision in root.iterfind("dmn:decision", ns):
        scope = decision.get("id", "")
        found[scope] = (scope, "decision", decision.get("name", ""), {"name": decision.get("name", "")})
        for table in decision.iterfind("dmn:decisionTable", ns):
            columns = [
                c.get("label", "") or _text(c.find("dmn:inputExpression/dmn:text", ns))
                for c in table.iterfind("dmn:input", ns)
            ]
            outputs = [c.get("label", "") or c.get("name", "") for c in table.iterfind("dmn:output", ns)]
            facts = {
                "hit_policy": table.get("hitPolicy", "UNIQUE"),
                "inputs": " | ".join(columns),
                "outputs": " | ".join(outputs),
            }
            found[f"{scope}:table"] = (scope, "decisionTable", "", facts)
            for number, rule in enumerate(table.iterfind("dmn:rule", ns), start=1):
                cells = [_text(e.find("dmn:text", ns)) or "-" for e in rule.iterfind("dmn:inputEntry", ns)]
                results = [_text(e.find("dmn:text", ns)) for e in rule.iterfind("dmn:outputEntry", ns)]
                facts = {
                    "when": " | ".join(cells),
                    "then": " | ".join(results),
                    "note": _text(rule.find("dmn:description", ns)),
                }
                key = rule.get("id") or f"{scope}:rule{number}"
                found[key] = (scope, "rule", f"#{number}", {k: v for k, v in facts.items() if v})
    return found


# ---- forms (JSON Schema and UI files) --------------------------------------------------------------------


def _load(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _diff_json(name: str, before: str | None, after: str | None) -> list[Change]:
    base = PurePosixPath(name).name
    old, new = _load(before), _load(after)
    if old is None or new is None:
        return [
            Change("added" if old is None else "removed", name, base, base, "form", _title(new if old is None else old))
        ]
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [Change("changed", name, base, base, "form", base, (("content", "", ""),))]
    if "properties" in old or "properties" in new:
        return _diff_schema(name, base, old, new)
    return _compare(name, _ui_fields(base, old), _ui_fields(base, new))


def _title(value: Any) -> str:
    return str(value.get("title", "")) if isinstance(value, dict) else ""


_FIELD_FACTS = ("title", "type", "format", "enum", "minLength", "maxLength", "minimum", "maximum", "description")


def _schema_fields(base: str, schema: Mapping[str, Any]) -> Elements:
    required = set(schema.get("required", []) or [])
    found: Elements = {}
    head = {k: _show(schema.get(k)) for k in ("title", "description")}
    found["(form)"] = (base, "form", str(schema.get("title", "")), {k: v for k, v in head.items() if v})
    for prop, node in (schema.get("properties") or {}).items():
        node = node if isinstance(node, dict) else {}
        facts = {k: _show(node.get(k)) for k in _FIELD_FACTS if k in node}
        facts["required"] = "yes" if prop in required else "no"
        rest = {k: v for k, v in node.items() if k not in _FIELD_FACTS}
        if rest:
            facts["other"] = _show(rest)
        found[prop] = (base, "field", str(node.get("title", "")), facts)
    return found


def _diff_schema(name: str, base: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    return _compare(name, _schema_fields(base, old), _schema_fields(base, new))


def _ui_fields(base: str, ui: Mapping[str, Any]) -> Elements:
    return {key: (base, "ui", key, {"ui": _show(value)}) for key, value in ui.items()}


def _show(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
