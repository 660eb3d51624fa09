"""Moving running instances to a new version: preview with the engine's diff, bulk move, report what cannot move."""

from __future__ import annotations

import sqlalchemy as sa

from engine.bootstrap import build_runtime
from engine.calendar import load_calendar
from engine.config import PROJECT_ROOT
from engine.platform import designer
from engine.platform import version_migration
from engine.records.process import HumanTask
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from engine.records.timeline import TimelineEvent
from tests.helpers import ANSWERS
from tests.helpers import assert_round_trip
from tests.helpers import case_task
from tests.helpers import case_tasks
from tests.helpers import do
from tests.helpers import register

CASE_BPMN = (PROJECT_ROOT / "workflows" / "after_sales_case.bpmn").read_text(encoding="utf-8")
PLAN_BPMN = (PROJECT_ROOT / "workflows" / "decide_service_plan.bpmn").read_text(encoding="utf-8")


def deploy_v2(session, **edits):
    """Deploy edited files as the modeler and commit; returns the new after_sales_case version."""
    designer.deploy_edits(session, edits, actor="modeler", catalog=build_runtime().catalog, note="v2")
    session.commit()
    return designer.get_version(session, "after_sales_case")


def renamed_answer_customer():
    assert 'name="答复顾客"' in CASE_BPMN
    return CASE_BPMN.replace('name="答复顾客"', 'name="答复顾客（新）"')


def test_preview_separates_movable_instances_from_blocked_ones(session, runtime, calendar, user_named):
    manager, supervisor = user_named("manager"), user_named("supervisor")
    at_analysis_csi, at_analysis = register(session, runtime, manager, calendar)
    at_answer_csi, at_answer = register(session, runtime, manager, calendar)
    do(session, runtime, at_answer_csi.id, "analyse_root_cause", manager, calendar)
    do(session, runtime, at_answer_csi.id, "review_csi", supervisor, calendar)
    assert case_tasks(session, at_answer_csi.id) == ["answer_customer"]
    target = deploy_v2(session, **{"after_sales_case.bpmn": renamed_answer_customer()})
    assert target.version == 2

    rows = {c.instance.id: c for c in version_migration.migration_preview(session, runtime, target)}

    assert rows[at_analysis.id].eligible
    assert "analyse_root_cause" in rows[at_analysis.id].check.waiting_at
    blocked = rows[at_answer.id]
    assert not blocked.eligible
    [blocker] = blocked.check.blockers
    assert (blocker.element_id, blocker.reason) == ("answer_customer", "changed")
    assert "bpmn_name" in blocker.attributes


def test_bulk_move_runs_the_moved_case_to_the_end_on_the_new_version(session, sessions, runtime, calendar, user_named):
    manager, supervisor = user_named("manager"), user_named("supervisor")
    moving_csi, moving = register(session, runtime, manager, calendar)
    stuck_csi, stuck = register(session, runtime, manager, calendar)
    do(session, runtime, stuck_csi.id, "analyse_root_cause", manager, calendar)
    do(session, runtime, stuck_csi.id, "review_csi", supervisor, calendar)
    open_before = case_task(session, moving_csi.id, "analyse_root_cause").id
    v1 = moving.process_version_id
    target = deploy_v2(session, **{"after_sales_case.bpmn": renamed_answer_customer()})
    session.commit()  # SQLite: one writer; the bulk move opens its own transaction per instance

    report = version_migration.migrate_instances(
        sessions, runtime, target.id, [moving.id, stuck.id], actor="modeler", load_calendar=load_calendar
    )

    assert report.moved == [(moving.id, 1)]
    [(refused_id, reason, blockers)] = report.refused
    assert refused_id == stuck.id and reason == "blocked"
    assert [b.element_id for b in blockers] == ["answer_customer"]
    session.expire_all()
    assert session.get(ProcessInstance, stuck.id).process_version_id == v1
    assert session.get(ProcessInstance, moving.id).process_version_id == target.id
    assert case_task(session, moving_csi.id, "analyse_root_cause").id == open_before  # the inbox row is kept
    event = session.scalars(
        sa.select(TimelineEvent).where(
            TimelineEvent.instance_id == moving.id, TimelineEvent.kind == "instance.migrated"
        )
    ).one()
    assert event.message == "after_sales_case v1 → v2" and event.actor == "modeler"
    assert event.data["from_version"] == 1 and event.data["to_version"] == 2
    assert_round_trip(session, runtime, moving)

    do(session, runtime, moving_csi.id, "analyse_root_cause", manager, calendar)
    do(session, runtime, moving_csi.id, "review_csi", supervisor, calendar)
    assert case_task(session, moving_csi.id, "answer_customer").name == "答复顾客（新）"  # v2's element
    finish_case(session, runtime, calendar, user_named, moving_csi.id)
    session.refresh(moving)
    assert moving.status == InstanceStatus.COMPLETED.value
    assert moving.process_version_id == target.id
    assert case_task(session, stuck_csi.id, "answer_customer").name == "答复顾客"  # the stuck case keeps v1


def finish_case(session, runtime, calendar, user_named, csi_id):
    """Answer the customer, do the field visit the review planned, close the case."""
    manager, engineer = user_named("manager"), user_named("engineer")
    do(session, runtime, csi_id, "answer_customer", manager, calendar)
    do(session, runtime, csi_id, "issue_work_order", manager, calendar)
    do(session, runtime, csi_id, "field_visit", engineer, calendar)
    do(session, runtime, csi_id, "close_case", manager, calendar)
    assert case_tasks(session, csi_id) == []


def test_a_form_change_blocks_instances_waiting_at_that_form(session, runtime, calendar, user_named):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    schema = (PROJECT_ROOT / "workflows" / "forms" / "analyse_root_cause.schema.json").read_text(encoding="utf-8")
    edited = schema.replace('"title": "原因分析"', '"title": "原因分析（新）"', 1)
    target = deploy_v2(session, **{"analyse_root_cause.schema.json": edited})  # the BPMN is untouched
    assert target.version == 2
    [row] = [c for c in version_migration.migration_preview(session, runtime, target) if c.instance.id == instance.id]
    assert [(b.element_id, b.reason) for b in row.check.blockers] == [("analyse_root_cause", "form_changed")]
    assert not row.eligible


def test_renaming_a_task_in_a_called_process_blocks_only_instances_waiting_there(
    session, runtime, calendar, user_named
):
    manager = user_named("manager")
    _, at_analysis = register(session, runtime, manager, calendar)
    past_csi, past_analysis = register(session, runtime, manager, calendar)
    do(session, runtime, past_csi.id, "analyse_root_cause", manager, calendar)
    target = deploy_v2(
        session, **{"decide_service_plan.bpmn": PLAN_BPMN.replace('name="原因分析"', 'name="原因分析（新）"')}
    )
    rows = {c.instance.id: c for c in version_migration.migration_preview(session, runtime, target)}
    [blocker] = rows[at_analysis.id].check.blockers
    assert (blocker.process_id, blocker.element_id, blocker.reason) == (
        "decide_service_plan",
        "analyse_root_cause",
        "changed",
    )
    assert rows[past_analysis.id].eligible  # waits at review_csi, which did not change


def test_instances_that_are_not_running_are_reported_not_moved(session, sessions, runtime, calendar, user_named):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    instance.status = InstanceStatus.SUSPENDED.value
    session.commit()
    target = deploy_v2(session, **{"after_sales_case.bpmn": renamed_answer_customer()})
    [row] = [c for c in version_migration.migration_preview(session, runtime, target) if c.instance.id == instance.id]
    assert row.problem == "status:suspended"
    session.commit()
    report = version_migration.migrate_instances(
        sessions, runtime, target.id, [instance.id], actor="modeler", load_calendar=load_calendar
    )
    assert report.moved == [] and report.refused[0][1] == "status:suspended"


def test_only_the_latest_version_is_offered_to_new_cases(session, runtime, calendar, user_named):
    _, old = register(session, runtime, user_named("manager"), calendar)
    target = deploy_v2(session, **{"after_sales_case.bpmn": renamed_answer_customer()})
    _, new = register(session, runtime, user_named("manager"), calendar)
    assert new.process_version_id == target.id != old.process_version_id
    versions = session.scalars(sa.select(ProcessVersion.version).where(ProcessVersion.process_id == "after_sales_case"))
    assert sorted(versions) == [1, 2]
    assert session.scalars(sa.select(HumanTask).where(HumanTask.instance_id == new.id)).one().bpmn_id == (
        "analyse_root_cause"
    )
    assert ANSWERS  # the shared answers drive the cases above
