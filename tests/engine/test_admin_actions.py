"""Admin actions (suspend, resume, terminate, retry, reassign), incidents and the heatmap, on a database."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime

import pytest
import sqlalchemy as sa
import time_machine

from engine.aftersales.review import operators as review_operators
from engine.calendar import load_calendar
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import PermissionDeniedError
from engine.errors import WorkflowRuntimeError
from engine.platform import admin_actions
from engine.platform import incidents
from engine.platform import tasks
from engine.platform.timers import fire_due_timers
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from engine.records.timeline import TimelineEvent
from engine.reports.heatmap import heatmap
from engine.reports.heatmap import resolve_version
from engine.reports.monitoring import instance_detail
from tests.helpers import ANSWERS
from tests.helpers import case_task
from tests.helpers import case_tasks
from tests.helpers import do
from tests.helpers import drive_to_dispatch
from tests.helpers import register

MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai: §4.6 due Thursday 26th 17:30
AFTER_DUE = datetime(2026, 11, 26, 9, 31, tzinfo=UTC)


def register_on_monday(session, runtime, calendar, user_named):
    """A complaint received on MONDAY; its §4.6 timer falls due on Thursday."""
    with time_machine.travel(MONDAY, tick=False):
        return register(session, runtime, user_named("manager"), calendar, received_at=MONDAY)


def events(session, instance_id, kind):
    session.expire_all()
    query = sa.select(TimelineEvent).where(TimelineEvent.instance_id == instance_id, TimelineEvent.kind == kind)
    return list(session.scalars(query))


def failing_lookup(*_args):
    raise RuntimeError("CRM unreachable")


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_failing_operator_parks_the_instance_and_retry_after_the_fix_records_the_breach(
    session, sessions, runtime, calendar, user_named, monkeypatch
):
    csi, instance = register_on_monday(session, runtime, calendar, user_named)
    monkeypatch.setattr(review_operators, "get_case", failing_lookup)  # record_sla_breach fails inside
    with time_machine.travel(AFTER_DUE, tick=False):
        assert fire_due_timers(sessions, runtime, load_calendar) == 1
    session.expire_all()
    assert instance.status == "error" and instance.error_bpmn_id == "flag_sla_breach"
    assert "CRM unreachable" in instance.error_message and csi.sla_breached_at is None
    session.rollback()  # SQLite: every transaction holds the write lock; the worker needs it
    with time_machine.travel(AFTER_DUE, tick=False):
        assert fire_due_timers(sessions, runtime, load_calendar) == 0  # parked: the worker leaves it alone
    assert [i.instance_id for i in incidents.list_incidents(session)] == [instance.id]
    detail = instance_detail(session, runtime, instance.id)
    assert "flag_sla_breach" in detail["elements"]["error"]

    # the same failure again: still parked, with the retry and its failure on the timeline
    outcome = admin_actions.retry_instance(
        session, runtime, user_named("supervisor"), instance.id, "重试", calendar=calendar
    )
    session.commit()
    assert not outcome.ok and instance.status == "error" and events(session, instance.id, "instance.retry_failed")

    monkeypatch.undo()  # the cause is fixed
    outcome = admin_actions.retry_instance(
        session, runtime, user_named("supervisor"), instance.id, "CRM 已恢复", calendar=calendar
    )
    session.commit()
    session.expire_all()
    assert outcome.ok and instance.status == "running" and instance.error_message is None
    assert csi.sla_breached_at is not None
    assert "handle_overdue_plan" in case_tasks(session, csi.id)
    assert "handle_overdue_plan" in instance.active_elements
    retried = events(session, instance.id, "instance.retried")
    assert retried[0].data["reason"] == "CRM 已恢复" and retried[0].actor == "supervisor"
    assert incidents.count_incidents(session) == 0


def test_suspended_instance_refuses_completion_and_its_timers_wait_until_resume(
    session, sessions, runtime, calendar, user_named
):
    csi, instance = register_on_monday(session, runtime, calendar, user_named)
    admin_actions.suspend_instance(session, user_named("director"), instance.id, "客户要求暂停")
    session.commit()
    task = case_task(session, csi.id, "analyse_root_cause")
    with pytest.raises(ConflictError):
        tasks.complete_task(
            session, runtime, user_named("manager"), task.id, ANSWERS["analyse_root_cause"], calendar=calendar
        )
    session.rollback()
    with time_machine.travel(AFTER_DUE, tick=False):
        assert fire_due_timers(sessions, runtime, load_calendar) == 0
    with pytest.raises(ConflictError):
        admin_actions.suspend_instance(session, user_named("director"), instance.id, "again")
    session.rollback()

    admin_actions.resume_instance(session, runtime, user_named("director"), instance.id, "恢复", calendar=calendar)
    session.commit()
    with time_machine.travel(AFTER_DUE, tick=False):
        assert fire_due_timers(sessions, runtime, load_calendar) == 1
    session.expire_all()
    assert csi.sla_breached_at is not None
    assert len(events(session, instance.id, "instance.suspended")) == 1
    assert events(session, instance.id, "instance.resumed")[0].data["reason"] == "恢复"


def test_terminate_cancels_the_workflow_its_open_tasks_and_its_visit_rounds(session, runtime, calendar, user_named):
    csi, instance = drive_to_dispatch(session, runtime, calendar, user_named)
    do(session, runtime, csi.id, "issue_work_order", user_named("manager"), calendar)
    round_instance = session.scalars(
        sa.select(ProcessInstance).where(ProcessInstance.parent_instance_id == instance.id)
    ).one()
    assert case_tasks(session, csi.id) == ["field_visit"]
    admin_actions.terminate_instance(session, runtime, user_named("manager"), instance.id, "客户撤回投诉")
    session.commit()
    session.expire_all()
    assert instance.status == "terminated" and round_instance.status == "terminated"
    assert case_tasks(session, csi.id) == [] and instance.active_elements == [] and instance.next_timer_due is None
    cancelled = session.scalars(sa.select(HumanTask.status).where(HumanTask.instance_id == round_instance.id)).all()
    assert cancelled == ["cancelled"]
    assert events(session, round_instance.id, "instance.terminated")[0].data["cascade_from"] == instance.id
    assert instance_detail(session, runtime, instance.id)["elements"]["active"] == []
    with pytest.raises(ConflictError):
        admin_actions.terminate_instance(session, runtime, user_named("manager"), instance.id, "twice")


def test_reassign_gives_the_task_to_another_user_who_may_then_complete_it(session, runtime, calendar, user_named):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    task = case_task(session, csi.id, "analyse_root_cause")
    admin_actions.reassign_task(session, user_named("supervisor"), task.id, "supervisor", "经理出差，主管代办")
    session.commit()
    assert task.assignee == "supervisor"
    entry = events(session, instance.id, "task.reassigned")[0]
    assert entry.data == {
        "task_id": task.id,
        "from": None,
        "to": "supervisor",
        "reason": "经理出差，主管代办",
        "outside_lane": True,
    }
    with pytest.raises(PermissionDeniedError):
        tasks.complete_task(
            session, runtime, user_named("manager"), task.id, ANSWERS["analyse_root_cause"], calendar=calendar
        )
    session.rollback()
    tasks.complete_task(
        session, runtime, user_named("supervisor"), task.id, ANSWERS["analyse_root_cause"], calendar=calendar
    )
    session.commit()
    assert case_tasks(session, csi.id) == ["review_csi"]


@pytest.mark.parametrize(
    ("username", "reason", "error"),
    [
        ("engineer", "why", PermissionDeniedError),
        ("modeler", "why", PermissionDeniedError),
        ("manager", "   ", InvalidInputError),
        ("manager", None, InvalidInputError),
        ("manager", "x" * 1001, InvalidInputError),
    ],
)
def test_actions_need_a_service_role_and_a_reason(session, runtime, calendar, user_named, username, reason, error):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    task = case_task(session, csi.id, "analyse_root_cause")
    with pytest.raises(error):
        admin_actions.suspend_instance(session, user_named(username), instance.id, reason)
    with pytest.raises(error):
        admin_actions.terminate_instance(session, runtime, user_named(username), instance.id, reason)
    with pytest.raises(error):
        admin_actions.reassign_task(session, user_named(username), task.id, "supervisor", reason)
    session.rollback()
    assert instance.status == "running" and events(session, instance.id, "instance.suspended") == []


def test_reassign_refuses_unknown_users_and_closed_tasks(session, runtime, calendar, user_named):
    csi, _instance = register(session, runtime, user_named("manager"), calendar)
    task = case_task(session, csi.id, "analyse_root_cause")
    with pytest.raises(InvalidInputError) as info:
        admin_actions.reassign_task(session, user_named("director"), task.id, "nobody", "休假")
    assert "username" in info.value.fields
    do(session, runtime, csi.id, "analyse_root_cause", user_named("manager"), calendar)
    with pytest.raises(ConflictError):
        admin_actions.reassign_task(session, user_named("director"), task.id, "supervisor", "休假")


def test_retry_refuses_an_instance_that_is_not_in_error(session, runtime, calendar, user_named):
    _csi, instance = register(session, runtime, user_named("manager"), calendar)
    with pytest.raises(ConflictError):
        admin_actions.retry_instance(session, runtime, user_named("manager"), instance.id, "try", calendar=calendar)


def test_run_or_park_undoes_the_failed_step_and_records_what_to_replay(session, runtime, calendar, user_named):
    _csi, instance = register(session, runtime, user_named("manager"), calendar)
    before = instance.state_json

    def step():
        instance.state_json = "changed"
        session.flush()
        raise WorkflowRuntimeError("boom", bpmn_id="work_orders_done", line=3)

    replay = {"message": "work_orders_done", "payload": {"csi_id": instance.csi_id}}
    assert incidents.run_or_park(session, instance, step, replay=replay) is False
    session.commit()
    session.expire_all()
    assert instance.state_json == before and instance.status == "error" and instance.error_line == 3
    assert incidents.last_replay(session, instance.id) == replay


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_heatmap_counts_waiting_instances_and_time_spent(session, runtime, calendar, user_named):
    for _ in range(3):
        register(session, runtime, user_named("manager"), calendar)
    csi, _instance = register(session, runtime, user_named("manager"), calendar)
    do(session, runtime, csi.id, "analyse_root_cause", user_named("manager"), calendar)
    version = resolve_version(session, "after_sales_case", None)
    result = heatmap(session, version)
    cells = {c.bpmn_id: c for c in result.cells}
    assert [d["process_id"] for d in result.diagrams] == ["after_sales_case", "decide_service_plan"]
    assert cells["analyse_root_cause"].waiting == 3 and cells["analyse_root_cause"].open_tasks == 3
    assert cells["analyse_root_cause"].level == 4 and cells["review_csi"].waiting == 1
    assert cells["analyse_root_cause"].completed == 1 and cells["analyse_root_cause"].avg_seconds is not None
    assert cells["analyse_root_cause"].p95_seconds is not None and cells["close_case"].waiting == 0
    assert result.unfinished == 4


def test_resume_delivers_the_wake_up_the_case_missed_while_suspended(session, runtime, calendar, user_named):
    csi, case = drive_to_dispatch(session, runtime, calendar, user_named)
    do(session, runtime, csi.id, "issue_work_order", user_named("manager"), calendar)
    admin_actions.suspend_instance(session, user_named("supervisor"), case.id, "等待客户确认")
    session.commit()
    do(session, runtime, csi.id, "field_visit", user_named("engineer"), calendar)  # the round finishes the only WO
    session.expire_all()
    assert case_tasks(session, csi.id) == [] and "work_orders_done" in case.active_elements
    admin_actions.resume_instance(session, runtime, user_named("supervisor"), case.id, "客户已确认", calendar=calendar)
    session.commit()
    assert case_tasks(session, csi.id) == ["close_case"] and case.status == "running"
    assert events(session, case.id, "message.delivered")
