"""Lifecycle benchmark: §4 cases start to finish through the service layer on SQLite vs raw SpiffWorkflow in memory.

Both sides run the same workflows/ files in the same process and run. The raw side parses once, then for every
case serializes and deserializes the workflow (full JSON, spec included) around every step, as a persistent system
without a database would have to. The persistent side uses the real services: registration, four task completions,
each in its own committed transaction on an SQLite file (WAL, synchronous=FULL). It also counts SQL statements per
task completion and times task completion through the HTTP API (Flask test client, Bearer token).

Run: .venv/bin/python bench/lifecycle.py [--cases N]. The last line is `lifecycle persistent/raw ratio: X.XX`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.aftersales.demo import DEMO_PASSWORD  # noqa: E402
from engine.aftersales.demo import load_demo  # noqa: E402
from engine.aftersales.intake.service import parse_register_request  # noqa: E402
from engine.aftersales.intake.service import register_request  # noqa: E402
from engine.bootstrap import build_runtime  # noqa: E402
from engine.calendar import load_calendar  # noqa: E402
from engine.config import Settings  # noqa: E402
from engine.db import make_engine  # noqa: E402
from engine.db import make_session_factory  # noqa: E402
from engine.migrate import upgrade_database  # noqa: E402
from engine.platform import tasks  # noqa: E402
from engine.platform.definitions import read_directory  # noqa: E402
from engine.platform.deployment import deploy_files  # noqa: E402
from engine.records.process import HumanTask  # noqa: E402
from engine.records.user import User  # noqa: E402
from tests.helpers import ANSWERS  # noqa: E402
from tests.helpers import QUALITY_COMPLAINT  # noqa: E402

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
    "issue_work_order": {"wo_id": 1, "wo_no": "WO-1", "overseas_site": False},
    "field_visit": {"psr_no": "PSR-1", "satisfied": True, "supplier_claim_no": None},
}


class RawEngine(PythonScriptEngine):  # type: ignore[misc]
    """Plain engine with the one service operator answered in memory."""

    def call_service(self, task: Any, operation_name: str | None = None, operation_params: Any = None, **_: Any) -> str:
        return json.dumps({"recorded": True})


def raw_lifecycle(cases: int) -> float:
    """Cases per second on raw SpiffWorkflow: the case and its visit round, serialize/deserialize around every step."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    parser.add_bpmn_files([str(p) for p in sorted((ROOT / "workflows").glob("*.bpmn"))])
    parser.add_dmn_files([str(p) for p in sorted((ROOT / "workflows").glob("*.dmn"))])
    specs = {
        pid: (parser.get_spec(pid), parser.get_subprocess_specs(pid))
        for pid in ("after_sales_case", "field_visit_round")
    }
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    engine = RawEngine()

    def begin(process_id: str, data: dict[str, Any]) -> str:
        workflow = BpmnWorkflow(*specs[process_id], script_engine=engine)
        workflow.get_tasks(state=TaskState.READY)[0].data.update(data)
        workflow.do_engine_steps()
        return str(serializer.serialize_json(workflow))

    def step(state: str, bpmn_id: str | None) -> tuple[str, Any]:
        workflow = serializer.deserialize_json(state)
        workflow.script_engine = engine
        if bpmn_id is None:  # the round woke the case: deliver the message
            catch = workflow.get_tasks(state=TaskState.WAITING, spec_name="work_orders_done")[0]
            workflow.send_event(BpmnEvent(catch.task_spec.event_definition, {}))
        else:
            task = workflow.get_tasks(state=TaskState.READY, manual=True, spec_name=bpmn_id)[0]
            task.data.update({**ANSWERS[bpmn_id], **EXTRA.get(bpmn_id, {})})
            task.run()
        workflow.do_engine_steps()
        return str(serializer.serialize_json(workflow)), workflow

    start = time.perf_counter()
    for number in range(cases):
        case = begin(
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
            case, _ = step(case, bpmn_id)
        visit_round = begin(
            "field_visit_round",
            {"csi_id": number, "csi_no": f"CSI-{number}", "wo_id": 1, "wo_no": "WO-1", "round_no": 1},
        )
        visit_round, finished = step(visit_round, "field_visit")
        case, _ = step(case, None)
        case, done = step(case, "close_case")
        assert finished.is_completed() and done.is_completed()
    return cases / (time.perf_counter() - start)


class StatementCounter:
    """Counts SQL statements sent on an engine while `active`."""

    def __init__(self, engine: sa.Engine) -> None:
        self.count, self.active = 0, False
        sa.event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        if self.active:
            self.count += 1


def persistent_lifecycle(folder: Path, cases: int) -> tuple[float, dict[str, list[int]]]:
    """Cases per second through the services on an SQLite file, and SQL statements per task completion."""
    url = f"sqlite:///{folder / 'bench.db'}"
    upgrade_database(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    runtime = build_runtime()
    with sessions() as session:
        deploy_files(session, read_directory(ROOT / "workflows"), actor="bench", catalog=build_runtime().catalog)
        load_demo(session, date.today())
        session.commit()
    counter = StatementCounter(engine)
    per_completion: dict[str, list[int]] = {bpmn_id: [] for bpmn_id in STEPS}
    with sessions() as session:
        people = {u.username: u for u in session.scalars(sa.select(User))}  # roles load eagerly; used detached
        session.commit()
    start = time.perf_counter()
    for _ in range(cases):
        with sessions() as session:
            csi, instance = register_request(
                session,
                runtime,
                parse_register_request(QUALITY_COMPLAINT),
                actor=people["manager"],
                calendar=lambda s=session: load_calendar(s),
            )
            session.commit()
            csi_id = csi.id
        for bpmn_id in STEPS:
            with sessions() as session:
                task_id = session.scalars(
                    sa.select(HumanTask.id).where(
                        HumanTask.csi_id == csi_id, HumanTask.bpmn_id == bpmn_id, HumanTask.status == "open"
                    )
                ).one()  # what the inbox query does, inside the same transaction
                counter.count, counter.active = 0, True
                tasks.complete_task(
                    session,
                    runtime,
                    people[ACTOR[bpmn_id]],
                    task_id,
                    ANSWERS[bpmn_id],
                    calendar=lambda s=session: load_calendar(s),
                )
                session.commit()
                counter.active = False
                per_completion[bpmn_id].append(counter.count)
    rate = cases / (time.perf_counter() - start)
    engine.dispose()
    return rate, per_completion


def api_completion_ms(folder: Path, cases: int) -> list[float]:
    """Wall time of POST /api/v1/tasks/{id}/complete through the Flask app on SQLite, per call."""
    from web import create_app

    settings = Settings(
        home=folder / "api-home", database_url=f"sqlite:///{folder / 'api.db'}", secret_key="bench-" + "x" * 40
    )
    upgrade_database(settings.database_url)
    sessions = make_session_factory(make_engine(settings.database_url))
    with sessions() as session:
        deploy_files(session, read_directory(ROOT / "workflows"), actor="bench", catalog=build_runtime().catalog)
        load_demo(session, date.today())
        session.commit()
    client = create_app(settings=settings).test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    headers = {}
    for name in ("manager", "supervisor", "engineer"):
        token = client.post("/api/v1/auth/token", json={"username": name, "password": DEMO_PASSWORD}).get_json()
        headers[name] = {"Authorization": f"Bearer {token['token']}"}
    timings: list[float] = []
    for _ in range(cases):
        case = client.post("/api/v1/cases", json=QUALITY_COMPLAINT, headers=headers["manager"]).get_json()
        for bpmn_id in STEPS:
            who = headers[ACTOR[bpmn_id]]
            listed = client.get(f"/api/v1/tasks?case_id={case['id']}", headers=who).get_json()
            task = next(t for t in listed if t["bpmn_id"] == bpmn_id)
            started = time.perf_counter()
            response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS[bpmn_id]}, headers=who)
            timings.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_json()
    return timings


def main() -> None:
    """Run both sides in one process and print rates, statements per completion, API latency and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        raw_lifecycle(10)  # warm-up: imports, parser, allocator
        raw = raw_lifecycle(args.cases)
        persistent, statements = persistent_lifecycle(folder, args.cases)
        api = api_completion_ms(folder, max(20, args.cases // 4))
    print(f"cases per run: {args.cases} (6 human tasks in 2 instances each: the case and its visit round)")
    print(f"raw SpiffWorkflow (in memory, full serialize/deserialize per step): {raw:.1f} cases/s")
    print(f"persistent (services + SQLite WAL synchronous=FULL, 7 commits per case): {persistent:.1f} cases/s")
    every = [n for counts in statements.values() for n in counts]
    print(f"SQL statements per task completion: mean {statistics.mean(every):.2f}, max {max(every)}")
    for bpmn_id, counts in statements.items():
        print(f"  {bpmn_id}: {statistics.mean(counts):.1f} statements (records it writes included)")
    print(
        f"API task completion on SQLite: median {statistics.median(api):.1f} ms, "
        f"p95 {sorted(api)[int(len(api) * 0.95) - 1]:.1f} ms over {len(api)} calls"
    )
    print(f"lifecycle persistent/raw ratio: {persistent / raw:.2f}")


if __name__ == "__main__":
    main()
