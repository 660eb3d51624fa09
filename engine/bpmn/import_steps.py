"""The shared state and the element steps of a model import: forms, gateways, data stores, vendor leftovers.

Each step changes one element in place and reports through `note(element, severity, message)`. Vendor
attributes and extension elements a step understood are removed by that step; whatever is left is dropped at
the end by `drop_vendor_leftovers`, one report line per kind per element.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from lxml import etree

from engine.bpmn import import_forms
from engine.bpmn.specs import BPMN_NS

SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
VENDORS = {
    "http://camunda.org/schema/1.0/bpmn": "camunda",
    "http://activiti.org/bpmn": "activiti",
    "http://flowable.org/bpmn": "flowable",
    "http://camunda.org/schema/zeebe/1.0": "zeebe",
    "http://camunda.org/schema/modeler/1.0": "modeler",
    "http://camunda.org/schema/1.0/dmn": "camunda",
}
Note = Callable[[Any, str, str], None]

_ENGINE_SETTINGS = "a setting of the other engine; this engine decides it itself"
_WHY_DROPPED = {
    "asyncBefore": _ENGINE_SETTINGS,
    "asyncAfter": _ENGINE_SETTINGS,
    "exclusive": _ENGINE_SETTINGS,
    "async": _ENGINE_SETTINGS,
    "jobPriority": _ENGINE_SETTINGS,
    "taskPriority": _ENGINE_SETTINGS,
    "priority": "task priorities are not used here",
    "failedJobRetryTimeCycle": "a failed step becomes an incident here, retried from the monitor",
    "inputOutput": "input/output mappings are not supported: the task sees and writes the process data",
    "executionListener": "listeners run code of the other engine",
    "taskListener": "listeners run code of the other engine",
    "eventListener": "listeners run code of the other engine",
    "properties": "custom properties have no meaning here",
    "field": "field injections configure a Java class",
    "in": "variable mappings are not needed: the called process sees and returns all data",
    "out": "variable mappings are not needed: the called process sees and returns all data",
    "initiator": "the engine does not store who started the process in a variable",
    "dueDate": "due dates come from boundary timers here",
    "followUpDate": "follow-up dates are not supported",
    "resultVariable": "results are written to the task data under their own names",
    "inputVariable": "a cell refers to its column's value as '?' here",
    "versionTag": _ENGINE_SETTINGS,
    "historyTimeToLive": _ENGINE_SETTINGS,
    "candidateStarterGroups": "who may start a process is decided by roles here",
    "candidateStarterUsers": "who may start a process is decided by roles here",
    "isStartableInTasklist": _ENGINE_SETTINGS,
}
_NEGATED = re.compile(r"^\s*(?:[$#]\{\s*)?(?:!|not\b)")


def bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def local(el: Any) -> str:
    return str(etree.QName(el).localname)


@dataclass
class Steps:
    """What the steps share: the vendor namespaces present, the report and the generated form files."""

    vendors: Collection[str]
    note: Note
    deployed_forms: Mapping[str, Collection[str]] = field(default_factory=dict)  # form file -> processes using it
    own_processes: Collection[str] = ()
    forms: dict[str, bytes] = field(default_factory=dict)
    produced: set[str] = field(default_factory=set)  # variables the import's forms and decisions write

    # ---- vendor attributes and elements -------------------------------------------------------------------

    def pop(self, el: Any, name: str) -> str | None:
        """Remove a vendor attribute from the element and return its value (any vendor namespace)."""
        value = None
        for ns in self.vendors:
            key = f"{{{ns}}}{name}"
            if key in el.attrib:
                value = value or el.attrib.pop(key)
        return value

    def take(self, el: Any, name: str) -> list[Any]:
        """Remove the vendor extension elements of that name from the element and return them."""
        found = []
        extensions = el.find(bpmn("extensionElements"))
        for child in list(extensions if extensions is not None else []):
            if isinstance(child.tag, str) and etree.QName(child).namespace in self.vendors and local(child) == name:
                extensions.remove(child)
                found.append(child)
        return found

    # ---- forms ---------------------------------------------------------------------------------------------

    def convert_user_task(self, task: Any, process_id: str) -> None:
        """Declare a generated form on the task: from its form fields, or a comment form for an outside form."""
        fields, messages, key = self.form_fields(task)
        if _has_spiff_form(task):
            return
        title = task.get("name") or task.get("id")
        if fields:
            schema, ui = import_forms.form_files(title, fields)
            if key:
                self.note(task, "info", f"form key {key!r} dropped: the form was built from the form fields")
        else:
            schema, ui = import_forms.comment_form(title)
            if key:
                self.note(
                    task,
                    "warning",
                    f"form {key!r} lives outside the model: a form with one optional "
                    "comment field was generated; rebuild it in the form editor",
                )
            else:
                self.note(task, "info", "had no form: a form with one optional comment field was generated")
        for message in messages:
            self.note(task, "warning", message)
        self.attach_form(task, process_id, schema, ui)

    def convert_start_event(self, event: Any, process_id: str) -> None:
        """A start event's form fields become its start form; a form key alone cannot."""
        fields, messages, key = self.form_fields(event)
        for message in messages:
            self.note(event, "warning", message)
        if fields and not _has_spiff_form(event):
            self.attach_form(event, process_id, *import_forms.form_files(event.get("name") or event.get("id"), fields))
            if key:
                self.note(event, "info", f"form key {key!r} dropped: the start form was built from the form fields")
        elif key:
            self.note(event, "warning", f"start form {key!r} lives outside the model and was dropped")

    def form_fields(self, el: Any) -> tuple[list[import_forms.FieldSpec], list[str], str | None]:
        """(fields, messages, form key) from formData / formProperty / formKey, all removed from the element."""
        key = self.pop(el, "formKey") or self.pop(el, "formRef")
        for definition in self.take(el, "formDefinition"):  # Zeebe
            key = key or definition.get("formKey") or definition.get("formId")
        fields: list[import_forms.FieldSpec] = []
        messages: list[str] = []
        for form_data in self.take(el, "formData"):
            found, said = import_forms.camunda_fields(form_data)
            fields, messages = fields + found, messages + said
        properties = self.take(el, "formProperty")
        if properties:
            found, said = import_forms.flowable_fields(properties)
            fields, messages = fields + found, messages + said
        return fields, messages, key

    def attach_form(self, el: Any, process_id: str, schema: dict[str, Any], ui: dict[str, Any]) -> None:
        stem = self.form_stem(el.get("id"), process_id)
        self.produced.update(schema.get("properties", {}))
        self.forms[f"forms/{stem}.schema.json"] = _json(schema)
        self.forms[f"forms/{stem}.ui.json"] = _json(ui)
        properties = _spiff_properties(el)
        for name, value in (
            ("formJsonSchemaFilename", f"{stem}.schema.json"),
            ("formUiSchemaFilename", f"{stem}.ui.json"),
        ):
            etree.SubElement(properties, f"{{{SPIFF_NS}}}property", name=name, value=value)

    def form_stem(self, element_id: str, process_id: str) -> str:
        """The element id made safe, unique in this import, and not the name of a deployed form that a process
        outside this import uses (a re-import may replace its own forms)."""
        used = {n.split("/")[-1].split(".")[0] for n in self.forms}
        for name, users in self.deployed_forms.items():
            if not users or set(users) - set(self.own_processes):
                used.add(name.split(".")[0])
        base = import_forms.safe_stem(element_id)
        for candidate in (base, import_forms.safe_stem(f"{process_id}_{element_id}")):
            if candidate not in used:
                return candidate
        number = 2
        while f"{base}_{number}" in used:
            number += 1
        return f"{base}_{number}"


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _has_spiff_form(el: Any) -> bool:
    path = f"{bpmn('extensionElements')}/{{{SPIFF_NS}}}properties/{{{SPIFF_NS}}}property"
    return any(p.get("name") == "formJsonSchemaFilename" for p in el.iterfind(path))


def extension_elements(el: Any) -> Any:
    """The element's bpmn:extensionElements, created after its documentation when missing (XSD order)."""
    found = el.find(bpmn("extensionElements"))
    if found is None:
        found = etree.Element(bpmn("extensionElements"))
        leading = sum(1 for _ in el.iterchildren(bpmn("documentation")))
        el.insert(leading, found)
    return found


def _spiff_properties(el: Any) -> Any:
    extensions = extension_elements(el)
    found = extensions.find(f"{{{SPIFF_NS}}}properties")
    return found if found is not None else etree.SubElement(extensions, f"{{{SPIFF_NS}}}properties")


def add_documentation(el: Any, text: str) -> None:
    """Keep what a conversion removed readable in the model, as one more documentation element."""
    doc = etree.Element(bpmn("documentation"))
    doc.text = text
    leading = sum(1 for _ in el.iterchildren(bpmn("documentation")))
    el.insert(leading, doc)


# ---- timers, gateways and what is left of the other engine ----------------------------------------------------


def drop_data_stores(steps: Steps, root: Any) -> None:
    """SpiffWorkflow refuses a data store it has no class for; the engine has none, so they become drawings."""
    for store in root.findall(bpmn("dataStore")):
        root.remove(store)
        for reference in root.iter(bpmn("dataStoreReference")):
            if reference.get("dataStoreRef") == store.get("id"):
                del reference.attrib["dataStoreRef"]
        what = store.get("name") or store.get("id")
        steps.note(
            store, "warning", f"data store {what!r} dropped: the engine has no data stores (references stay drawn)"
        )


def name_flows(steps: Steps, root: Any) -> None:
    """Give sequence flows without an id one (Flowable's examples omit them; a default flow needs its id)."""
    taken = {str(v) for v in root.xpath("//@id")}
    for flow in root.iter(bpmn("sequenceFlow")):
        if flow.get("id"):
            continue
        base = import_forms.safe_stem(f"flow_{flow.get('sourceRef', '')}_to_{flow.get('targetRef', '')}")
        wanted = base
        number = 2
        while wanted in taken:
            wanted, number = f"{base}_{number}", number + 1
        flow.set("id", wanted)
        taken.add(wanted)
        steps.note(flow, "info", f"sequence flow from {flow.get('sourceRef')!r} had no id: it is now {wanted!r}")


def fix_gateway_default(steps: Steps, gateway: Any) -> None:
    """An XOR/OR split needs a default flow here: an unconditioned flow, else the negated or last condition."""
    scope = gateway.getparent()
    outgoing = [f for f in scope.iterchildren(bpmn("sequenceFlow")) if f.get("sourceRef") == gateway.get("id")]
    if len(outgoing) < 2 or gateway.get("default") in {f.get("id") for f in outgoing}:
        return
    bare = [f for f in outgoing if not (f.findtext(bpmn("conditionExpression")) or "").strip()]
    if len(bare) > 1:
        steps.note(gateway, "error", f"{len(bare)} outgoing flows have no condition: give all but one a condition")
        return
    if bare:
        gateway.set("default", bare[0].get("id"))
        if local(gateway) == "inclusiveGateway":
            message = "the other engine always takes it; here it became the default flow, taken when no condition holds"
            steps.note(gateway, "warning", f"flow {bare[0].get('id')!r} has no condition: {message}")
        else:
            steps.note(gateway, "info", f"flow {bare[0].get('id')!r} has no condition: it became the default flow")
        return
    conditions = {f.get("id"): (f.findtext(bpmn("conditionExpression")) or "").strip() for f in outgoing}
    chosen = next((f for f in outgoing if _NEGATED.match(conditions[f.get("id")])), outgoing[-1])
    for expression in chosen.findall(bpmn("conditionExpression")):
        chosen.remove(expression)
    gateway.set("default", chosen.get("id"))
    caveat = (
        " (it is no longer taken together with other matching flows)" if local(gateway) == "inclusiveGateway" else ""
    )
    steps.note(
        gateway,
        "warning",
        f"had no default flow: flow {chosen.get('id')!r} (condition {conditions[chosen.get('id')]}) became the "
        f"default, taken when no other condition holds{caveat}",
    )


def drop_vendor_leftovers(steps: Steps, root: Any) -> None:
    """Remove every remaining vendor attribute and element, one report line per kind per element."""
    for el in list(root.iter(etree.Element)):
        if etree.QName(el).namespace in steps.vendors:
            continue
        owner = el.getparent() if local(el) == "extensionElements" else el
        dropped: set[tuple[str, str]] = set()
        for key in list(el.attrib):
            namespace = etree.QName(key).namespace
            if namespace in steps.vendors:
                dropped.add((VENDORS[namespace], etree.QName(key).localname))
                del el.attrib[key]
        for child in list(el):
            if isinstance(child.tag, str) and etree.QName(child).namespace in steps.vendors:
                dropped.add((VENDORS[etree.QName(child).namespace], local(child)))
                el.remove(child)
        if local(el) == "extensionElements" and not len(el) and owner is not None:
            owner.remove(el)
        for prefix, name in sorted(dropped):
            severity, why = _why_dropped(prefix, name)
            steps.note(owner, severity, f"{prefix}:{name} dropped: {why}")


def _why_dropped(prefix: str, name: str) -> tuple[str, str]:
    if prefix == "modeler":
        return "info", "a setting of the modeler"
    why = _WHY_DROPPED.get(name, "it has no equivalent in this engine")
    return ("info" if why == _ENGINE_SETTINGS else "warning"), why


def serialize(root: Any, *, spiff: bool) -> bytes:
    """The document without vendor namespace declarations (with the spiffworkflow prefix when asked), indented.

    The root's children move to the new root, so the old tree is empty afterwards.
    """
    nsmap = {p: u for p, u in root.nsmap.items() if u not in VENDORS and u != SPIFF_NS}
    if spiff:
        nsmap["spiffworkflow"] = SPIFF_NS
    new = etree.Element(root.tag, attrib=dict(root.attrib), nsmap=nsmap)
    new.text = root.text
    new.extend(list(root))
    etree.cleanup_namespaces(new, keep_ns_prefixes=[p for p in nsmap if p and p != "spiffworkflow"])
    for el in new.iter(etree.Element):
        if not len(el) and el.text is not None and not el.text.strip():
            el.text = None
    etree.indent(new, space="  ")
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + bytes(etree.tostring(new, encoding="UTF-8")) + b"\n"
