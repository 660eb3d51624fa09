"""Path tests of issue 9 item 7 on the real workflows/ (and the renamed copy): the §6.3 training visit at the
customer's site with its own form, and the §5.8 decisions: a neutral customer is decided on by the service manager,
and ending a service the customer will not accept needs the service director's approval."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.errors import InvalidInputError
from engine.errors import PermissionDeniedError
from engine.platform import tasks
from engine.records.notification import Notice
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.psr import PSR
from engine.records.timeline import TimelineEvent
from engine.records.training_plan import TrainingPlan
from engine.records.user import UserRole
from engine.records.work_order import WorkOrder
from tests.helpers import ANSWERS
from tests.helpers import case_task
from tests.helpers import case_tasks
from tests.helpers import do
from tests.helpers import drive_to_dispatch


def rows(session, model, **where):
    session.expire_all()
    return list(session.scalars(sa.select(model).filter_by(**where).order_by(model.id)))


def kinds(session, csi_id):
    return [e.kind for e in rows(session, TimelineEvent, csi_id=csi_id)]


@pytest.fixture
def run(session, runtime, calendar, user_named):
    """`run(csi, bpmn_id, user, **changes)` completes the case's task as that user."""

    def complete(csi, bpmn_id, username, **changes):
        do(session, runtime, csi.id, bpmn_id, user_named(username), calendar, **changes)

    return complete


def to_training_visit(session, runtime, calendar, user_named, run):
    csi, case = drive_to_dispatch(session, runtime, calendar, user_named, review={"service_plan": ["training"]})
    run(csi, "plan_training", "manager", training_location="customer_site")
    run(csi, "issue_training_work_order", "manager")
    return csi, case


def test_training_wo_gets_the_training_visit_form_and_ends_the_case_branch(session, runtime, calendar, user_named, run):
    csi, case = to_training_visit(session, runtime, calendar, user_named, run)
    assert case_tasks(session, csi.id) == ["training_visit"]  # §6.3: not the repair visit form
    assert case_task(session, csi.id, "training_visit").assignee == "engineer"
    run(csi, "training_visit", "engineer")
    (plan,) = rows(session, TrainingPlan, csi_id=csi.id)
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    assert plan.status == "delivered" and plan.wo_id == work_order.id and plan.attendance == 1  # one present
    record = plan.visit_record
    assert record["modules_delivered"] == ["操作与日常保养"] and record["customer_signed_by"] == "王工（设备科）"
    assert [t["present"] for t in record["attendance"]] == [True, False] and record["engineer"] == "engineer"
    assert record["assessment_result"] and record["customer_evaluation"] and record["wo_no"] == work_order.wo_no
    assert work_order.status == "completed" and work_order.labour_hours == Decimal("6.00")
    assert rows(session, PSR, csi_id=csi.id) == []  # no parts, PSR, QF or claim on a training visit
    assert "training.visit_recorded" in kinds(session, csi.id)
    assert case_tasks(session, csi.id) == ["close_case"]  # training_done arrived
    run(csi, "close_case", "manager")
    session.expire_all()
    assert case.status == InstanceStatus.COMPLETED.value


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"modules_delivered": ["不存在的模块"]}, "modules_delivered"),
        ({"attendance": []}, "attendance"),
        ({"attendance": [{"name": "李明", "position": "操作工", "present": False}]}, "attendance"),
        ({"customer_signed_by": ""}, "customer_signed_by"),
        ({"delivered_date": "2099-01-04"}, "delivered_date"),  # a training not yet given is not recorded
    ],
)
def test_training_visit_refuses_bad_input_naming_the_field_and_writes_nothing(
    session, runtime, calendar, user_named, run, changes, field
):
    csi, _ = to_training_visit(session, runtime, calendar, user_named, run)
    with pytest.raises(InvalidInputError) as refused:
        run(csi, "training_visit", "engineer", **changes)
    session.rollback()
    assert field in refused.value.fields
    (plan,) = rows(session, TrainingPlan, csi_id=csi.id)
    assert plan.status == "planned" and plan.visit_record is None
    assert case_tasks(session, csi.id) == ["training_visit"]
    assert "training.visit_recorded" not in kinds(session, csi.id)


def test_neutral_customer_goes_to_the_manager_who_may_end_the_service_with_a_reason(
    session, runtime, calendar, user_named, run
):
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named)
    run(csi, "issue_work_order", "manager")
    run(csi, "field_visit", "engineer", satisfaction="neutral")  # solved, neutral: not silently the end (§5.8)
    assert case_tasks(session, csi.id) == ["decide_neutral_outcome"]
    with pytest.raises(InvalidInputError) as refused:
        run(csi, "decide_neutral_outcome", "manager", neutral_decision="end", decision_note="")
    session.rollback()
    assert "decision_note" in refused.value.fields
    run(csi, "decide_neutral_outcome", "manager", neutral_decision="end", decision_note="顾客确认可以接受")
    assert case_tasks(session, csi.id) == ["close_case"]
    (event,) = rows(session, TimelineEvent, csi_id=csi.id, kind="csi.neutral_decided")
    assert event.actor == "manager" and event.data == {"decision": "end", "note": "顾客确认可以接受"}
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    assert work_order.status == "completed" and work_order.rounds == 1


def test_neutral_customer_may_get_technical_support_and_another_round(session, runtime, calendar, user_named, run):
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named)
    run(csi, "issue_work_order", "manager")
    run(csi, "field_visit", "engineer", satisfaction="neutral")
    run(csi, "decide_neutral_outcome", "manager")  # continue
    assert case_tasks(session, csi.id) == ["technical_support"]
    run(csi, "technical_support", "manager")
    assert case_tasks(session, csi.id) == ["field_visit"]
    run(csi, "field_visit", "engineer", satisfaction="very_satisfied")
    assert case_tasks(session, csi.id) == ["close_case"]
    assert rows(session, WorkOrder, csi_id=csi.id)[0].rounds == 2


def propose_end(session, runtime, calendar, user_named, run, proposer="manager"):
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named)
    run(csi, "issue_work_order", "manager")
    run(csi, "field_visit", "engineer", outcome="unsolved", satisfaction="dissatisfied")
    run(
        csi,
        "technical_support",
        proposer,
        support_outcome="propose_end",
        agreed_next_steps="",
        end_reason="顾客要求整机退换，超出三包范围，多次协商无果",
    )
    return csi


def test_proposed_end_approved_by_the_director_ends_the_service_on_record(session, runtime, calendar, user_named, run):
    csi = propose_end(session, runtime, calendar, user_named, run)
    assert case_tasks(session, csi.id) == ["approve_end_of_service"]
    told = rows(session, Notice, kind="case.end_proposed")
    assert [n.username for n in told] == ["director"] and csi.csi_no in told[0].title
    run(csi, "approve_end_of_service", "director")
    session.expire_all()
    end = csi.service_end
    assert end["reason"].startswith("顾客要求整机退换") and end["proposed_by"] == "manager"
    assert end["approved_by"] == "director" and end["approved_at"] and end["note"]
    assert {"csi.end_proposed", "csi.service_ended_unaccepted"} <= set(kinds(session, csi.id))
    assert case_tasks(session, csi.id) == ["close_case"]  # the case goes on to closing
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    assert work_order.status == "completed" and work_order.rounds == 1


def test_proposed_end_rejected_by_the_director_means_another_round(session, runtime, calendar, user_named, run):
    csi = propose_end(session, runtime, calendar, user_named, run)
    run(csi, "approve_end_of_service", "director", director_decision="reject", director_note="请再上门一次")
    assert case_tasks(session, csi.id) == ["field_visit"]
    session.expire_all()
    assert csi.service_end is None and "csi.end_rejected" in kinds(session, csi.id)
    rounds = rows(session, ProcessInstance, csi_id=csi.id, process_id="field_visit_round")
    assert [r.status for r in rounds] == ["completed", "running"]


def test_ending_needs_a_reason_and_nothing_is_written_without_one(session, runtime, calendar, user_named, run):
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named)
    run(csi, "issue_work_order", "manager")
    run(csi, "field_visit", "engineer", outcome="unsolved")
    with pytest.raises(InvalidInputError) as refused:
        run(csi, "technical_support", "manager", support_outcome="propose_end", end_reason="")
    session.rollback()
    assert "end_reason" in refused.value.fields
    session.expire_all()
    assert csi.renegotiations == 0 and "csi.end_proposed" not in kinds(session, csi.id)
    assert rows(session, Notice, kind="case.end_proposed") == []
    assert case_tasks(session, csi.id) == ["technical_support"]


def test_a_director_may_not_approve_their_own_proposal(session, runtime, calendar, user_named, run):
    director = user_named("director")
    director.roles.append(UserRole(user_id=director.id, role="service_manager"))  # a director who also manages
    session.commit()
    csi = propose_end(session, runtime, calendar, user_named, run, proposer="director")
    with pytest.raises(PermissionDeniedError):
        run(csi, "approve_end_of_service", "director")
    session.rollback()
    session.expire_all()
    assert csi.service_end is None and case_tasks(session, csi.id) == ["approve_end_of_service"]


def test_standard_answers_cover_the_new_forms():
    assert {"training_visit", "decide_neutral_outcome", "approve_end_of_service"} <= set(ANSWERS)


def test_technical_support_without_an_outcome_continues_as_before(session, runtime, calendar, user_named, run):
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named)
    run(csi, "issue_work_order", "manager")
    run(csi, "field_visit", "engineer", outcome="unsolved")
    data = {k: v for k, v in ANSWERS["technical_support"].items() if k != "support_outcome"}
    task = case_task(session, csi.id, "technical_support")
    tasks.complete_task(session, runtime, user_named("manager"), task.id, data, calendar=calendar)
    session.commit()
    assert case_tasks(session, csi.id) == ["field_visit"] and "csi.renegotiated" in kinds(session, csi.id)
