"""What a process's start event declares: the lane (whose role may start it) and the start form.

Read from the parsed trees, not from SpiffWorkflow's specs: lanes of a none start event and its properties are all
that deciding who may start a process and what they must fill in needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.bpmn.specs import BPMN_NS
from engine.bpmn.specs import ParsedBundle

_NS = {"bpmn": BPMN_NS, "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
_PROPERTY = "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property"


@dataclass(frozen=True)
class StartEvent:
    """The start of a process as a person sees it: which lane's role starts it (None: no lanes) and its form."""

    lane: str | None
    has_lanes: bool
    form_file: str | None
    ui_file: str | None
    name: str


def start_event(bundle: ParsedBundle, process_id: str) -> StartEvent:
    """The process's top-level none start event (the first one, as the engine starts it)."""
    for tree in bundle.trees.values():
        for process in tree.getroot().iterfind("bpmn:process", _NS):
            if process.get("id") == process_id:
                return _describe(process)
    return StartEvent(lane=None, has_lanes=False, form_file=None, ui_file=None, name="")


def _describe(process: Any) -> StartEvent:
    events = list(process.iterfind("bpmn:startEvent", _NS))
    plain = [e for e in events if not any(_local(c).endswith("EventDefinition") for c in e)]
    event = (plain or events or [None])[0]
    lanes: dict[str, str] = {}
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        for ref in lane.iterfind("bpmn:flowNodeRef", _NS):
            if ref.text:
                lanes[ref.text.strip()] = str(lane.get("name") or "")
    has_lanes = next(process.iter(f"{{{BPMN_NS}}}lane"), None) is not None
    if event is None:
        return StartEvent(lane=None, has_lanes=has_lanes, form_file=None, ui_file=None, name="")
    props = {p.get("name"): p.get("value") for p in event.iterfind(_PROPERTY, _NS)}
    return StartEvent(
        lane=lanes.get(str(event.get("id"))),
        has_lanes=has_lanes,
        form_file=(props.get("formJsonSchemaFilename") or "").strip() or None,
        ui_file=(props.get("formUiSchemaFilename") or "").strip() or None,
        name=str(event.get("name") or ""),
    )


def _local(el: Any) -> str:
    return str(etree.QName(el).localname) if isinstance(el.tag, str) else ""
