"""Issue 12 item 6: a completed instance is compacted (final data and element marks, no task tree), small, shown by
monitoring with its completed elements, and refused when anything tries to run it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engine.bpmn.serializer import COMPACT_VERSION
from engine.bpmn.serializer import load_compact
from engine.errors import ConflictError
from engine.platform.step import load_workflow
from engine.records.process import ProcessInstance
from engine.reports.monitoring import instance_detail
from tests.helpers import do
from tests.helpers import register

STEPS = (
    ("analyse_root_cause", "manager"),
    ("review_csi", "supervisor"),
    ("answer_customer", "manager"),
    ("issue_work_order", "manager"),
    ("field_visit", "engineer"),
    ("close_case", "manager"),
)
MAX_STATE_BYTES = 2_000  # per compacted instance (a running case instance holds about 14 KB)


@pytest.fixture
def closed_case(session, runtime, user_named, calendar):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    for bpmn_id, who in STEPS:
        do(session, runtime, csi.id, bpmn_id, user_named(who), calendar)
    session.expire_all()
    return csi, list(session.scalars(sa.select(ProcessInstance).where(ProcessInstance.csi_id == csi.id)))


def test_completed_instances_are_compacted_small_with_their_final_data(closed_case):
    csi, instances = closed_case
    assert len(instances) == 2  # the case and its visit round
    for instance in instances:
        assert instance.status == "completed" and instance.serializer_version == COMPACT_VERSION
        assert len(instance.state_json) <= MAX_STATE_BYTES
    case = next(i for i in instances if i.parent_instance_id is None)
    kept = load_compact(case.state_json)
    assert kept["data"]["csi_id"] == csi.id
    assert "close_case" in kept["elements"][case.process_id]["completed"]


def test_a_compacted_instance_refuses_to_run(session, runtime, closed_case):
    _csi, instances = closed_case
    with pytest.raises(ConflictError, match="compacted"):
        load_workflow(session, runtime, instances[0])


def test_monitoring_shows_the_completed_elements_of_a_compacted_instance(session, runtime, closed_case):
    _csi, instances = closed_case
    case = next(i for i in instances if i.parent_instance_id is None)
    detail = instance_detail(session, runtime, case.id)
    completed = {e for d in detail["diagrams"] for e in d["states"]["completed"]}
    assert {"analyse_root_cause", "review_csi", "close_case"} <= completed
