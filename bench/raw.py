"""The fair raw side of the benchmarks: one §4 case on plain SpiffWorkflow with the product's own specs and its
instance-only serializer, deserialized and serialized around every step as any persistent system must.

What it leaves out on purpose is what the product adds: the sandbox, the database, the records, HTTP. A step is
load + run + engine steps + dump; a case is the case process, its visit round and the message between them.
"""

from __future__ import annotations

import gc
import json
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.bpmn.serializer import dump_instance  # noqa: E402
from engine.bpmn.serializer import load_instance  # noqa: E402
from engine.bpmn.specs import parse_bundle  # noqa: E402
from engine.platform.definitions import read_directory  # noqa: E402
from tests.helpers import ANSWERS  # noqa: E402

STEPS = ("analyse_root_cause", "review_csi", "answer_customer", "issue_work_order", "field_visit", "close_case")
ACTOR = {
    "analyse_root_cause": "manager",
    "review_csi": "supervisor",
    "answer_customer": "manager",
    "issue_work_order": "manager",
    "field_visit": "engineer",
    "close_case": "manager",
}
EXTRA = {  # what the task effects add to the completion data on the persistent side
    "review_csi": {"review_outcome": "decided"},
    "issue_work_order": {"wo_id": 1, "wo_no": "WO-1", "overseas_site": False},
    "field_visit": {"psr_no": "PSR-1", "satisfied": True, "supplier_claim_no": None},
}


class RawEngine(PythonScriptEngine):  # type: ignore[misc]
    """Plain script engine with the service operators answered in memory."""

    def call_service(self, task: Any, operation_name: str | None = None, operation_params: Any = None, **_: Any) -> str:
        return json.dumps({"recorded": True})


class RawCases:
    """Runs whole cases on raw SpiffWorkflow and records the time of every step (ms) and of every case (s)."""

    def __init__(self) -> None:
        bundle = parse_bundle(read_directory(ROOT / "workflows"))
        self.specs = {pid: bundle.spec(pid) for pid in ("after_sales_case", "field_visit_round")}
        self.engine = RawEngine()
        self.step_ms: list[float] = []
        self.case_s: list[float] = []
        logging.getLogger("spiff").setLevel(logging.WARNING)  # as the product runs the engine (engine/bpmn/runtime.py)
        gc.collect()  # the same start-up treatment as the product's server (web.ready_to_serve): fair to both sides
        gc.freeze()

    def _begin(self, process_id: str, data: dict[str, Any]) -> str:
        spec, subprocess_specs = self.specs[process_id]
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self.engine)
        workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
        workflow.do_engine_steps()
        return dump_instance(workflow)

    def _step(self, process_id: str, state: str, bpmn_id: str | None) -> tuple[str, Any]:
        started = time.perf_counter()
        workflow = load_instance(state, *self.specs[process_id])
        workflow.script_engine = self.engine
        if bpmn_id is None:  # the round woke the case: deliver the message
            catch = workflow.get_tasks(state=TaskState.WAITING, spec_name="work_orders_done")[0]
            workflow.send_event(BpmnEvent(catch.task_spec.event_definition, {}))
        else:
            task = workflow.get_tasks(state=TaskState.READY, manual=True, spec_name=bpmn_id)[0]
            task.data.update({**ANSWERS[bpmn_id], **EXTRA.get(bpmn_id, {})})
            task.run()
        workflow.do_engine_steps()
        dumped = dump_instance(workflow)
        if bpmn_id is not None:
            self.step_ms.append((time.perf_counter() - started) * 1000)
        return dumped, workflow

    def run_case(self, number: int) -> None:
        """One case start to finish: case process, four tasks, its visit round, the message, closing."""
        started = time.perf_counter()
        case = self._begin(
            "after_sales_case",
            {
                "csi_id": number,
                "csi_no": f"CSI-{number}",
                "kind": "quality_complaint",
                "overseas": False,
                "plan_due_at": "2099-01-01T17:30:00+08:00",
                "product_category": "complete_equipment",
                "coverage": "in_warranty",
                "responsibility": None,
            },
        )
        for bpmn_id in STEPS[:4]:
            case, _ = self._step("after_sales_case", case, bpmn_id)
        visit = self._begin(
            "field_visit_round",
            {
                "csi_id": number,
                "csi_no": f"CSI-{number}",
                "wo_id": 1,
                "wo_no": "WO-1",
                "wo_kind": "field_service",
                "round_no": 1,
            },
        )
        visit, finished = self._step("field_visit_round", visit, "field_visit")
        case, _ = self._step("after_sales_case", case, None)
        case, done = self._step("after_sales_case", case, "close_case")
        assert finished.is_completed() and done.is_completed()
        self.case_s.append(time.perf_counter() - started)


def interleave(raw: RawCases, other: Callable[[int], None], rounds: int) -> None:
    """Alternate one raw case and one `other(i)` so load drift on a shared machine moves both sides alike."""
    for number in range(rounds):
        raw.run_case(number)
        other(number)
