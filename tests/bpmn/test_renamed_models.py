"""The rename test's own checks: the renamed models keep no shipped task id, and a case on them really runs on the
new ids (the path tests in this folder run on both, through tests.helpers.model_id)."""

from __future__ import annotations

import sqlalchemy as sa

from engine.config import PROJECT_ROOT
from engine.platform.definitions import read_directory
from engine.records.process import HumanTask
from tests import helpers
from tests.helpers import register
from tests.renaming import rename_flow_nodes


def test_renaming_changes_every_task_id() -> None:
    files, mapping = rename_flow_nodes(read_directory(PROJECT_ROOT / "workflows"))
    assert {"review_csi", "analyse_root_cause", "field_visit", "close_case", "plan_overdue"} <= set(mapping)
    text = b"".join(data for name, data in files.items() if name.endswith(".bpmn"))
    assert b'id="review_csi"' not in text and b">field_visit<" not in text and b'id="plan_overdue"' not in text


def test_a_case_on_the_deployed_models_waits_at_their_own_ids(session, runtime, calendar, user_named) -> None:
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    [task] = session.scalars(sa.select(HumanTask).where(HumanTask.instance_id == instance.id)).all()
    assert task.bpmn_id == helpers.model_id("analyse_root_cause")
    assert task.bpmn_id.startswith("step_") == bool(helpers.RENAMED)
    assert csi.status == "analysing"  # the status comes from the model's caseStatus, whatever the id
