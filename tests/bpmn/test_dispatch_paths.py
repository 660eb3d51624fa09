"""Path tests of §5–§6 on the real workflows/: dispatch, visit rounds until satisfied, the document chain."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from engine.aftersales.visits.lifecycle import cancel_work_order
from engine.aftersales.visits.service import assign_work_order
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import PermissionDeniedError
from engine.platform import tasks
from engine.records.process import HumanTask
from engine.records.process import InstanceStatus
from engine.records.process import ProcessInstance
from engine.records.psr import PSR
from engine.records.quality import QualityFeedback
from engine.records.quality import SatisfactionSurvey
from engine.records.service_purchase import ServicePurchase
from engine.records.service_sales_order import ServiceSalesOrder
from engine.records.supplier_claim import SupplierClaim
from engine.records.timeline import TimelineEvent
from engine.records.training_plan import TrainingPlan
from engine.records.work_order import WorkOrder
from engine.reports.chain import record_view
from tests.helpers import ANSWERS
from tests.helpers import assert_round_trip
from tests.helpers import case_task
from tests.helpers import case_tasks
from tests.helpers import do
from tests.helpers import drive_to_dispatch
from tests.helpers import model_id
from tests.helpers import register

PAID_CASE = {"customer_code": "C002", "origin_so_no": "SO-2022-0042", "serial_no": "CNC500-0042"}  # out of warranty


def rows(session, model, **where):
    session.expire_all()
    return list(session.scalars(sa.select(model).filter_by(**where).order_by(model.id)))


def rounds_of(session, csi_id):
    return rows(session, ProcessInstance, csi_id=csi_id, process_id="field_visit_round")


@pytest.fixture
def people(user_named):
    return user_named


@pytest.fixture
def run(session, runtime, calendar, people):
    """`run(csi, bpmn_id, user, **changes)` completes the case's task as that user."""

    def complete(csi, bpmn_id, username, **changes):
        do(session, runtime, csi.id, bpmn_id, people(username), calendar, **changes)

    return complete


def test_field_service_visit_solved_and_satisfied_closes_the_case(session, runtime, calendar, people, run):
    csi, case = drive_to_dispatch(session, runtime, calendar, people)
    run(csi, "issue_work_order", "manager")
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    assert work_order.wo_no.startswith("WO-") and work_order.status == "in_progress"
    assert case_tasks(session, csi.id) == ["field_visit"] and csi.status == "in_execution"
    assert case_task(session, csi.id, "field_visit").assignee == "engineer"
    run(csi, "field_visit", "engineer")
    session.expire_all()
    assert work_order.status == "completed" and work_order.labour_cost == Decimal("1300.00")  # 6.5 h × 200 (§5.3)
    (psr,) = rows(session, PSR, wo_id=work_order.id)
    assert psr.psr_no.startswith("PSR-") and psr.outcome == "solved"
    (survey,) = rows(session, SatisfactionSurvey, csi_id=csi.id)
    assert survey.form_code == "QAHRC0807C" and not survey.dissatisfied  # §5.7
    assert case_tasks(session, csi.id) == ["close_case"] and csi.status == "awaiting_closure"
    assert_round_trip(session, runtime, case)
    run(csi, "close_case", "manager")
    session.expire_all()
    assert case.status == InstanceStatus.COMPLETED.value and csi.status == "closed" and csi.archive_location
    assert [r.status for r in rounds_of(session, csi.id)] == ["completed"]


def test_unsolved_visit_goes_to_technical_support_and_another_round_in_a_new_instance(
    session, runtime, calendar, people, run
):
    csi, case = drive_to_dispatch(session, runtime, calendar, people)
    run(csi, "issue_work_order", "manager")
    session.refresh(case)
    case_version, case_state = case.lock_version, case.state_json
    for round_no in (1, 2, 3):  # §5.8: until the customer is satisfied
        run(csi, "field_visit", "engineer", outcome="unsolved", satisfaction="neutral")
        assert case_tasks(session, csi.id) == ["technical_support"]
        run(csi, "technical_support", "manager")
        assert case_tasks(session, csi.id) == ["field_visit"]
        assert len(rounds_of(session, csi.id)) == round_no + 1
    session.refresh(case)
    assert (case.lock_version, case.state_json) == (case_version, case_state)  # rounds never grow the case
    for instance in rounds_of(session, csi.id):
        assert_round_trip(session, runtime, instance)
    run(csi, "field_visit", "engineer")
    assert case_tasks(session, csi.id) == ["close_case"]
    assert csi.renegotiations == 3
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    assert work_order.rounds == 4 and work_order.labour_hours == Decimal("26.00")


def test_dissatisfied_customer_reopens_the_case_for_renegotiation(session, runtime, calendar, people, run):
    csi, _ = drive_to_dispatch(session, runtime, calendar, people)
    run(csi, "issue_work_order", "manager")
    run(csi, "field_visit", "engineer", satisfaction="dissatisfied")  # solved, but not satisfied (§5.7)
    assert case_tasks(session, csi.id) == ["technical_support"]
    (survey,) = rows(session, SatisfactionSurvey, csi_id=csi.id)
    assert survey.dissatisfied


def test_quality_problem_and_unrecoverable_supplier_part_go_to_qc_and_sales(session, runtime, calendar, people, run):
    csi, _ = drive_to_dispatch(session, runtime, calendar, people)  # responsibility: supplier (ANSWERS)
    run(csi, "issue_work_order", "manager")
    run(
        csi,
        "field_visit",
        "engineer",
        quality_problem_found=True,
        quality_problem_description="轴承滚道剥落",
        old_parts="unrecoverable",
        parts_used=[{"part_no": "BRG-6205", "qty": 2, "source": "bought"}],
    )
    assert case_tasks(session, csi.id) == ["close_case", "quality_feedback_review", "send_claim"]
    (feedback,) = rows(session, QualityFeedback, csi_id=csi.id)
    assert feedback.form_code == "QAHRC0722C" and feedback.status == "submitted"  # §5.6
    (claim,) = rows(session, SupplierClaim, csi_id=csi.id)
    assert claim.csi_snapshot["csi_no"] == csi.csi_no and claim.csi_snapshot["responsibility"] == "supplier"
    assert claim.parts == [{"part_no": "BRG-6205", "qty": 2}] and claim.status == "open"
    (purchase,) = rows(session, ServicePurchase, csi_id=csi.id)
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    assert purchase.prj_no == work_order.wo_no and purchase.total_price == 0 and csi.csi_no in purchase.remarks
    assert purchase.purpose == "buy_parts"  # §5.5
    run(csi, "quality_feedback_review", "qc")
    run(csi, "send_claim", "sales")
    session.expire_all()
    assert feedback.status == "closed" and feedback.corrective_action
    assert claim.status == "submitted" and claim.claim_amount == Decimal("1200.00") and claim.handled_by == "sales"
    assert claim.supplier == "洛阳精密轴承有限公司"
    csi.review_opinion = "changed later"
    session.commit()
    session.expire_all()
    assert claim.csi_snapshot["review_opinion"] != "changed later"


def test_recovered_old_parts_get_a_zero_price_po_on_the_wo(session, runtime, calendar, people, run):
    csi, _ = drive_to_dispatch(session, runtime, calendar, people)
    run(csi, "issue_work_order", "manager")
    run(csi, "field_visit", "engineer", old_parts="recovered")
    (purchase,) = rows(session, ServicePurchase, csi_id=csi.id)
    assert purchase.purpose == "recover_old_parts" and purchase.total_price == 0


def test_paid_field_service_needs_a_fee_and_links_the_fee_so_to_the_wo(session, runtime, calendar, people, run):
    review = {"billing": "paid"}
    csi, _ = drive_to_dispatch(session, runtime, calendar, people, review=review, **PAID_CASE)
    assert csi.coverage == "out_of_warranty" and csi.billing == "paid"
    with pytest.raises(InvalidInputError) as refused:
        run(csi, "issue_work_order", "manager")
    session.rollback()
    assert "fee_amount" in refused.value.fields  # §5.4
    run(csi, "issue_work_order", "manager", fee_amount=2600.0)
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    (fee,) = rows(session, ServiceSalesOrder, csi_id=csi.id)
    assert fee.so_type == "service_fee" and fee.wo_id == work_order.id and fee.amount == Decimal("2600.00")
    assert work_order.wo_no in fee.remarks and csi.csi_no in fee.remarks


def test_parts_only_plan_issues_an_so_naming_the_csi(session, runtime, calendar, people, run):
    csi, _ = drive_to_dispatch(session, runtime, calendar, people, review={"service_plan": ["parts_only"]})
    assert case_tasks(session, csi.id) == ["issue_parts_so"]
    run(csi, "issue_parts_so", "manager")
    (order,) = rows(session, ServiceSalesOrder, csi_id=csi.id)
    assert order.so_type == "parts_only" and order.remarks.startswith(f"CSI: {csi.csi_no}")  # §5.2
    assert order.amount == 0  # free in warranty: still issued, at price 0
    assert case_tasks(session, csi.id) == ["close_case"]


def test_spare_parts_never_get_field_service(session, runtime, calendar, people):
    with pytest.raises(InvalidInputError) as refused:
        drive_to_dispatch(
            session,
            runtime,
            calendar,
            people,
            kind="parts_claim",
            customer_code="C100",
            origin_so_no="SO-2025-0100",
            serial_no=None,
            review={"billing": "paid"},
        )
    assert "service_plan" in refused.value.fields  # §3.1 via the DMN's allowed plans


def test_overseas_parts_claim_goes_to_the_parts_path(session, runtime, calendar, people, run):
    csi, _ = drive_to_dispatch(
        session,
        runtime,
        calendar,
        people,
        kind="parts_claim",
        customer_code="C100",
        origin_so_no="SO-2025-0100",
        serial_no=None,
        review={"service_plan": ["parts_only"], "billing": "paid"},
    )
    assert csi.overseas and case_tasks(session, csi.id) == ["issue_parts_so"]  # §2.3


def test_billing_differing_from_the_proposal_needs_a_written_reason(session, runtime, calendar, people):
    with pytest.raises(InvalidInputError) as refused:
        drive_to_dispatch(session, runtime, calendar, people, review={"billing": "paid"})
    assert "override_reason" in refused.value.fields
    session.rollback()
    csi, _ = drive_to_dispatch(
        session, runtime, calendar, people, review={"billing": "paid", "override_reason": "客户同意承担差旅费"}
    )
    assert csi.billing == "paid" and csi.billing_override_reason


def test_overseas_site_needs_hr_formalities_before_the_visit(session, runtime, calendar, people, run):
    csi, _ = drive_to_dispatch(session, runtime, calendar, people)
    run(csi, "issue_work_order", "manager", overseas_site=True, site="Stuttgart, Germany")
    assert case_tasks(session, csi.id) == ["arrange_overseas_formalities"]  # §2.5
    with pytest.raises(PermissionDeniedError):
        run(csi, "arrange_overseas_formalities", "manager")
    session.rollback()
    run(csi, "arrange_overseas_formalities", "hr")
    assert case_tasks(session, csi.id) == ["field_visit"]
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    assert work_order.formalities["visa_status"] == "granted"


def test_a_work_order_waiting_on_overseas_formalities_can_be_cancelled(session, runtime, calendar, people, run):
    """Issue 9: a WO whose visit has not started (§2.5 formalities pending) is cancelled; the model's boundary event
    on the formalities task takes `work_order_cancelled` and the case goes on to closing without a visit (§5.3)."""
    csi, _ = drive_to_dispatch(session, runtime, calendar, people)
    run(csi, "issue_work_order", "manager", overseas_site=True, site="Stuttgart, Germany")
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    with pytest.raises(PermissionDeniedError):
        cancel_work_order(session, runtime, people("hr"), work_order.wo_no, "签证被拒", calendar=calendar)
    session.rollback()
    cancel_work_order(session, runtime, people("manager"), work_order.wo_no, "签证被拒", calendar=calendar)
    session.commit()
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    assert work_order.status == "cancelled" and work_order.cancel_reason == "签证被拒"
    shown = record_view(session, "wo", work_order.wo_no)  # the record says why, not only that it was cancelled
    assert shown["cancel_reason"] == "签证被拒" and shown["cancelled_at"]
    assert case_tasks(session, csi.id) == ["close_case"]
    assert not rows(session, ProcessInstance, work_order_id=work_order.id)  # no round ever started
    kinds = [e.kind for e in rows(session, TimelineEvent, csi_id=csi.id)]
    assert "wo.cancelled" in kinds and "message.delivered" in kinds
    with pytest.raises(ConflictError):
        cancel_work_order(session, runtime, people("manager"), work_order.wo_no, "again", calendar=calendar)


def test_a_work_order_the_case_model_does_not_wait_for_is_refused_and_nothing_changes(
    session, runtime, calendar, people, run
):
    """A WO whose round ended without finishing it has nothing waiting for the cancellation: 409, nothing changes."""
    csi, _ = drive_to_dispatch(session, runtime, calendar, people)
    run(csi, "issue_work_order", "manager", overseas_site=True, site="Stuttgart, Germany")
    run(csi, "arrange_overseas_formalities", "hr")
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    (round_instance,) = rows(session, ProcessInstance, work_order_id=work_order.id)
    round_instance.status = InstanceStatus.COMPLETED.value  # as if the round had ended without finishing its WO
    session.commit()
    open_before, status_before = case_tasks(session, csi.id), work_order.status
    with pytest.raises(ConflictError) as refused:
        cancel_work_order(session, runtime, people("manager"), work_order.wo_no, "r", calendar=calendar)
    assert "work_order_cancelled" in str(refused.value)
    session.rollback()
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    assert work_order.status == status_before != "cancelled" and case_tasks(session, csi.id) == open_before


def test_supervisor_assigns_temporary_staff_who_may_then_do_the_visit(session, runtime, calendar, people, run):
    csi, _ = drive_to_dispatch(session, runtime, calendar, people)
    run(csi, "issue_work_order", "manager")
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    with pytest.raises(PermissionDeniedError):
        assign_work_order(session, people("manager"), work_order.wo_no, "qc")
    assign_work_order(session, people("supervisor"), work_order.wo_no, "qc")  # §2.6 temporary staff
    session.commit()
    assert case_task(session, csi.id, "field_visit").assignee == "qc"
    assert work_order.temporary_staff == ["qc"]
    with pytest.raises(PermissionDeniedError):
        run(csi, "field_visit", "engineer")
    session.rollback()
    run(csi, "field_visit", "qc")
    event = rows(session, TimelineEvent, csi_id=csi.id, kind="wo.assigned")[0]
    assert event.data["temporary_staff"] is True


def test_training_request_is_planned_from_the_syllabus_and_delivered_at_the_company(
    session, runtime, calendar, people, run
):
    csi, case = register(session, runtime, people("manager"), calendar, kind="training_request")
    assert case_tasks(session, csi.id) == ["plan_training"]  # §6: no review, no root cause
    run(csi, "plan_training", "manager")
    (plan,) = rows(session, TrainingPlan, csi_id=csi.id)
    assert plan.tp_no.startswith("TP-") and plan.location == "company"
    run(csi, "deliver_training", "manager")
    run(csi, "close_case", "manager")
    session.expire_all()
    assert plan.status == "delivered" and case.status == "completed"


def test_training_at_the_customer_site_runs_as_a_wo_delivered_by_engineers(session, runtime, calendar, people, run):
    csi, _ = drive_to_dispatch(session, runtime, calendar, people, review={"service_plan": ["training"]})
    run(csi, "plan_training", "manager", training_location="customer_site")
    assert case_tasks(session, csi.id) == ["issue_training_work_order"]
    run(csi, "issue_training_work_order", "manager")
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    assert work_order.kind == "training"  # §6.3
    assert case_tasks(session, csi.id) == ["training_visit"]  # the training visit form, not the repair visit's
    run(csi, "training_visit", "engineer")
    assert case_tasks(session, csi.id) == ["close_case"]


def test_field_service_and_training_together_wait_for_both_work_orders(session, runtime, calendar, people, run):
    review = {"service_plan": ["field_service", "training", "parts_only"]}
    csi, _ = drive_to_dispatch(session, runtime, calendar, people, review=review)
    assert case_tasks(session, csi.id) == ["issue_parts_so", "issue_work_order", "plan_training"]
    run(csi, "issue_parts_so", "manager")
    run(csi, "issue_work_order", "manager")
    run(csi, "plan_training", "manager", training_location="customer_site")
    run(csi, "issue_training_work_order", "manager")
    field_round, _training_round = rounds_of(session, csi.id)
    task = session.scalars(
        sa.select(HumanTask).filter_by(instance_id=field_round.id, bpmn_id=model_id("field_visit"), status="open")
    ).one()
    tasks.complete_task(session, runtime, people("engineer"), task.id, ANSWERS["field_visit"], calendar=calendar)
    session.commit()
    assert "close_case" not in case_tasks(session, csi.id)  # the training WO is still open
    run(csi, "training_visit", "engineer")
    assert case_tasks(session, csi.id) == ["close_case"]


def test_parts_claim_for_equipment_still_gets_no_field_service(session, runtime, calendar, people):
    with pytest.raises(InvalidInputError) as refused:
        drive_to_dispatch(session, runtime, calendar, people, kind="parts_claim")  # equipment SO, in warranty
    assert "§2.3" in refused.value.fields["service_plan"]


def test_a_completed_work_order_cannot_be_reassigned(session, runtime, calendar, people, run):
    from engine.errors import ConflictError

    csi, _ = drive_to_dispatch(session, runtime, calendar, people)
    run(csi, "issue_work_order", "manager")
    run(csi, "field_visit", "engineer")
    (work_order,) = rows(session, WorkOrder, csi_id=csi.id)
    with pytest.raises(ConflictError):
        assign_work_order(session, people("supervisor"), work_order.wo_no, "qc")


def test_a_paid_parts_so_whose_total_no_amount_column_holds_is_refused_naming_its_lines(
    session, runtime, calendar, people, run
):
    """Each line is bounded by the form (qty ≤ 100,000, price ≤ 10^8), but their sum is not: on SQLite a total past
    the SO's money column was stored anyway (PostgreSQL refused it). §5.2: the task stays open, nothing is issued."""
    review = {"service_plan": ["parts_only"], "billing": "paid"}
    csi, _ = drive_to_dispatch(session, runtime, calendar, people, review=review, **PAID_CASE)
    line = {"part_no": "BRG-6205", "description": "主轴轴承", "qty": 100000, "unit_price": 99999999.0}
    with pytest.raises(InvalidInputError) as refused:
        run(csi, "issue_parts_so", "manager", lines=[line, line])
    session.rollback()
    assert "lines" in refused.value.fields
    assert rows(session, ServiceSalesOrder, csi_id=csi.id) == []
    assert case_tasks(session, csi.id) == ["issue_parts_so"]
    run(csi, "issue_parts_so", "manager", lines=[{**line, "qty": 2, "unit_price": 380.0}])
    (order,) = rows(session, ServiceSalesOrder, csi_id=csi.id)
    assert order.amount == Decimal("760.00")
