"""Failures become incidents, never lost work (issue 8 item 3): a step that fails after a user submitted a valid
form keeps the submission and parks the instance; a start that fails keeps the instance (and at registration the
CSI); a retry after the fix continues from there."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from engine.aftersales.review import operators as review_operators
from engine.platform import admin_actions
from engine.platform import designer
from engine.platform import incidents
from engine.platform import starting
from engine.platform import tasks
from engine.platform import version_migration
from engine.platform.definitions import latest_version
from engine.platform.deployment import deploy_files
from engine.records.csi import CSI
from engine.records.process import HumanTask
from engine.records.process import ProcessInstance
from tests.helpers import ANSWERS
from tests.helpers import case_task
from tests.helpers import case_tasks
from tests.helpers import do
from tests.helpers import register

GENERAL = Path(__file__).resolve().parents[1] / "corpus" / "general"
WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


def crm_down(*_args):
    raise RuntimeError("CRM unreachable")


def test_a_failure_after_an_accepted_form_keeps_the_submission_and_retry_completes_it(
    session, runtime, calendar, user_named, monkeypatch
):
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    do(session, runtime, csi.id, "analyse_root_cause", user_named("manager"), calendar)
    do(session, runtime, csi.id, "review_csi", user_named("supervisor"), calendar)
    task = case_task(session, csi.id, "answer_customer")
    monkeypatch.setattr(review_operators, "get_case", crm_down)  # the answer's operator fails after the form is valid
    done = tasks.complete_task(
        session, runtime, user_named("manager"), task.id, ANSWERS["answer_customer"], calendar=calendar
    )
    session.commit()
    assert done.held is not None and "CRM unreachable" in str(done.held)
    session.expire_all()
    assert instance.status == "error" and task.status == "completed" and task.completed_by == "manager"
    assert csi.answered_at is None  # nothing of the failed step was written
    assert [i.instance_id for i in incidents.list_incidents(session)] == [instance.id]

    monkeypatch.undo()  # the cause is fixed
    outcome = admin_actions.retry_instance(
        session, runtime, user_named("supervisor"), instance.id, "已修复", calendar=calendar
    )
    session.commit()
    session.expire_all()
    assert outcome.ok and instance.status == "running"
    assert csi.answered_by == "manager" and csi.plan_summary == ANSWERS["answer_customer"]["plan_summary"]
    assert "issue_work_order" in case_tasks(session, csi.id)  # the kept submission moved the case on


def test_the_api_answers_202_held_and_the_task_cannot_be_submitted_twice(app, api, session, monkeypatch):
    body = (
        api("manager")
        .post("/api/v1/cases", json={"kind": "service_request", "customer_code": "C001", "description": "保养"})
        .get_json()
    )
    review = [t for t in api("supervisor").get(f"/api/v1/tasks?case_id={body['id']}").get_json()][0]
    decision = {**ANSWERS["review_csi"], "override_reason": "按合同免费"}
    reviewed = api("supervisor").post(f"/api/v1/tasks/{review['id']}/complete", json={"data": decision})
    assert reviewed.status_code == 200, reviewed.get_json()
    answer = api("manager").get(f"/api/v1/tasks?case_id={body['id']}").get_json()[0]
    monkeypatch.setattr(review_operators, "get_case", crm_down)
    held = api("manager").post(f"/api/v1/tasks/{answer['id']}/complete", json={"data": ANSWERS["answer_customer"]})
    assert held.status_code == 202 and "CRM unreachable" in held.get_json()["held"]["message"]
    again = api("manager").post(f"/api/v1/tasks/{answer['id']}/complete", json={"data": ANSWERS["answer_customer"]})
    assert again.status_code == 409


def test_a_failing_first_step_keeps_the_started_instance_as_an_incident(session, runtime, calendar, user_named):
    model = (GENERAL / "spare_part_return.bpmn").read_bytes()
    broken = model.replace(  # a script between the start and the first task that divides by zero
        b'<bpmn:sequenceFlow id="flow_1" sourceRef="return_requested" targetRef="approve_return" />',
        b'<bpmn:sequenceFlow id="flow_1" sourceRef="return_requested" targetRef="check" />'
        b'<bpmn:scriptTask id="check" name="check"><bpmn:script>ratio = 1 / 0</bpmn:script></bpmn:scriptTask>'
        b'<bpmn:sequenceFlow id="flow_1b" sourceRef="check" targetRef="approve_return" />',
    )
    forms = {f"forms/{p.name}": p.read_bytes() for p in (GENERAL / "forms").glob("*.json")}
    deploy_files(session, {"spare_part_return.bpmn": broken, **forms}, actor="modeler", catalog=runtime.catalog)
    session.commit()
    started = starting.start_process(
        session,
        runtime,
        user_named("manager"),
        "spare_part_return",
        {"customer_code": "C001", "part_no": "P-1", "reason": "坏了"},
        calendar=calendar,
    )
    session.commit()
    instance = started.instance
    assert (
        instance.status == "error"
        and instance.error_bpmn_id == "check"
        and "ZeroDivisionError" in (instance.error_message or "")
    )
    assert started.next_tasks == [] and instance.state_json  # the start data is kept for the retry


def test_a_registration_whose_process_fails_keeps_the_csi_and_retry_after_the_fix_continues(
    session, sessions, runtime, calendar, user_named
):
    case = (WORKFLOWS / "after_sales_case.bpmn").read_text(encoding="utf-8")
    broken = case.replace(
        'sourceRef="case_received" targetRef="is_training_request"', 'sourceRef="case_received" targetRef="check"'
    ).replace(
        '<bpmn:exclusiveGateway id="is_training_request"',
        '<bpmn:scriptTask id="check" name="check"><bpmn:script>ratio = 1 / 0</bpmn:script></bpmn:scriptTask>'
        '<bpmn:sequenceFlow id="check_to_gateway" sourceRef="check" targetRef="is_training_request" />'
        '<bpmn:exclusiveGateway id="is_training_request"',
    )
    designer.deploy_edits(session, {"after_sales_case.bpmn": broken}, actor="modeler", catalog=runtime.catalog)
    session.commit()
    csi, instance = register(session, runtime, user_named("manager"), calendar)
    session.expire_all()
    assert session.get(CSI, csi.id) is not None and csi.csi_no  # the CSI exists (§4.2: at once)
    assert instance.status == "error" and instance.error_bpmn_id == "check"

    designer.deploy_edits(session, {"after_sales_case.bpmn": case + "\n"}, actor="modeler", catalog=runtime.catalog)
    session.commit()
    fixed = latest_version(session, "after_sales_case")
    session.commit()  # SQLite: the migration runs in its own transactions
    report = version_migration.migrate_instances(
        sessions, runtime, fixed.id, [instance.id], actor="modeler", load_calendar=lambda s: calendar()
    )
    assert report.moved and not report.refused, report.refused
    session.expire_all()
    outcome = admin_actions.retry_instance(
        session, runtime, user_named("supervisor"), instance.id, "模型已修复", calendar=calendar
    )
    session.commit()
    session.expire_all()
    assert outcome.ok and instance.status == "running"
    assert case_tasks(session, csi.id) == ["analyse_root_cause"] and csi.status == "analysing"
    assert session.scalar(sa.select(sa.func.count()).select_from(HumanTask).where(HumanTask.csi_id == csi.id)) == 1
    assert session.get(ProcessInstance, instance.id).process_version_id == fixed.id
