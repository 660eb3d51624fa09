"""Bilingual process models: the English names of processes, tasks, events and gateways, and diagrams labelled in the
reader's language.

A BPMN element keeps its Chinese `name` and carries its English one in the extension attribute
`i18n:name-en` (namespace I18N_NS), as task forms carry theirs in `x-i18n`; BPMN tools keep unknown namespaced
attributes, and SpiffWorkflow ignores them. Lanes need none: a lane's name is its role key, labelled from the role
table.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from engine.bpmn.xml import parse_xml
from engine.errors import DefinitionError

I18N_NS = "https://aftersales-bpm.org/schema/i18n"
NAME_EN = f"{{{I18N_NS}}}name-en"
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
LANE = f"{{{BPMN_NS}}}lane"
FLOW = f"{{{BPMN_NS}}}sequenceFlow"
EDGE = "{http://www.omg.org/spec/BPMN/20100524/DI}BPMNEdge"
LABEL = "{http://www.omg.org/spec/BPMN/20100524/DI}BPMNLabel"


def english_names(files: Mapping[str, bytes | str]) -> dict[str, str]:
    """Element id → English name over a bundle's BPMN files (the first file naming an id wins)."""
    names: dict[str, str] = {}
    for name in sorted(files):
        root = _root(name, files[name]) if name.endswith(".bpmn") else None
        if root is None:
            continue
        for element in root.iter():
            english, element_id = element.get(NAME_EN), element.get("id")
            if english and element_id:
                names.setdefault(element_id, english)
    return names


def localized_diagram(name: str, text: bytes | str, *, english: bool, lane_labels: Mapping[str, str]) -> bytes | str:
    """The BPMN text with display names in the reader's language: lanes by their role's label, other elements by
    their English name when `english` (the Chinese one stays where none is given). Only names change."""
    root = _root(name, text)
    if root is None:
        return text
    flows: set[str] = set()
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == LANE and element.get("name") in lane_labels:
            element.set("name", lane_labels[str(element.get("name"))])
        elif english and element.get(NAME_EN):
            element.set("name", str(element.get(NAME_EN)))
            if element.tag == FLOW:
                flows.add(str(element.get("id")))
    for edge in root.iter(EDGE):  # a flow label sized for "是" would wrap "Yes": let the viewer place it
        if edge.get("bpmnElement") in flows:
            for label in edge.findall(LABEL):
                edge.remove(label)
    return bytes(etree.tostring(root, encoding="utf-8", xml_declaration=True))


def _root(name: str, text: bytes | str) -> etree._Element | None:
    try:
        return parse_xml(text.encode("utf-8") if isinstance(text, str) else text, name).getroot()
    except DefinitionError:
        return None
