"""Rename every flow node id of BPMN files the way a designer could in the modeler (issue 7: "a rename in the
designer never changes behaviour silently"); tests run the shipped paths on the renamed models through a map."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from lxml import etree

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
DI = "http://www.omg.org/spec/BPMN/20100524/DI"
_FLOW_NODES = {
    "task",
    "userTask",
    "manualTask",
    "serviceTask",
    "scriptTask",
    "businessRuleTask",
    "sendTask",
    "receiveTask",
    "callActivity",
    "subProcess",
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "exclusiveGateway",
    "inclusiveGateway",
    "parallelGateway",
    "eventBasedGateway",
}


def new_id(old: str) -> str:
    """A new id unrelated to the old one's text (no prefix or suffix a lookup could still match)."""
    return "step_" + hashlib.sha256(old.encode()).hexdigest()[:8]


def rename_flow_nodes(files: Mapping[str, bytes]) -> tuple[dict[str, bytes], dict[str, str]]:
    """Every BPMN file with each flow node renamed (references and diagram included); returns files and old → new."""
    renamed: dict[str, bytes] = {}
    mapping: dict[str, str] = {}
    for name, data in files.items():
        if not name.endswith(".bpmn"):
            renamed[name] = data
            continue
        root = etree.fromstring(data)
        local = {el.get("id"): new_id(el.get("id")) for el in root.iter(f"{{{BPMN}}}*") if _is_node(el)}
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            for attribute in ("id", "sourceRef", "targetRef", "attachedToRef", "bpmnElement"):
                value = el.get(attribute)
                if value in local and (attribute != "id" or _is_node(el)):
                    el.set(attribute, local[value])
            if el.tag == f"{{{BPMN}}}flowNodeRef" and el.text and el.text.strip() in local:
                el.text = local[el.text.strip()]
        mapping.update(local)
        renamed[name] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return renamed, mapping


def _is_node(el: etree._Element) -> bool:
    return etree.QName(el).namespace == BPMN and etree.QName(el).localname in _FLOW_NODES and bool(el.get("id"))
