"""Instance-only serializer: the spec is stored once per deployed version, never inside each instance (22 KB → 4 KB);
a completed instance is compacted to its final data and the marks of the elements it passed, compressed (no task
tree: it can be shown, never run again)."""

from __future__ import annotations

import base64
import json
import zlib
from datetime import date
from decimal import Decimal
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG


class _InstanceOnlyWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """Leaves `spec` and `subprocess_specs` out of the dict; `from_dict` gets the cached spec objects injected."""

    def to_dict(self, workflow: Any) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct


def _build() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = _InstanceOnlyWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda d: Decimal(d["value"]))
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda d: date.fromisoformat(d["value"]))
    return BpmnWorkflowSerializer(registry)


_SERIALIZER = _build()
SERIALIZER_VERSION: str = _SERIALIZER.VERSION


def dump_instance(workflow: Any) -> str:
    """Serialize a workflow's instance state (no spec) to JSON text."""
    return str(_SERIALIZER.serialize_json(workflow))


def load_instance(state_json: str, spec: Any, subprocess_specs: Any) -> Any:
    """Rebuild a workflow from its instance JSON and the cached spec of its version."""
    dct = json.loads(state_json, cls=_SERIALIZER.json_decoder_cls)
    _SERIALIZER.migrate(dct)
    dct["spec"], dct["subprocess_specs"] = spec, subprocess_specs
    return _SERIALIZER.from_dict(dct)


COMPACT_VERSION = "compact1"  # serializer_version of a compacted (completed) instance
_COMPACT_PREFIX = '{"compacted":'


def dump_compact(data: Any, elements: dict[str, dict[str, list[str]]]) -> str:
    """The compacted state of a completed instance: its final data and element marks, zlib-compressed in JSON."""
    body = json.dumps(
        {"data": _SERIALIZER.registry.convert(data), "elements": elements}, ensure_ascii=False, separators=(",", ":")
    )
    packed = base64.b64encode(zlib.compress(body.encode("utf-8"), 9)).decode("ascii")
    return json.dumps({"compacted": COMPACT_VERSION, "z": packed}, separators=(",", ":"))


def is_compacted(state_json: str) -> bool:
    """Whether a stored state is a compacted one (a completed instance without its task tree)."""
    return state_json.startswith(_COMPACT_PREFIX)


def load_compact(state_json: str) -> dict[str, Any]:
    """The final data and element marks of a compacted state: `{"data": {...}, "elements": {pid: {state: [ids]}}}`."""
    packed = json.loads(state_json)["z"]
    body: dict[str, Any] = json.loads(zlib.decompress(base64.b64decode(packed)).decode("utf-8"))
    body["data"] = _SERIALIZER.registry.restore(body["data"])
    return body
