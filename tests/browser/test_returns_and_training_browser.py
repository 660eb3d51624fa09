"""The new service screens in real Chromium, as the service team uses them: the service manager registers a §3.1
spare-part return from the case page and sees it listed with its status; the engineer fills the §6.3 customer-site
training visit form (syllabus modules, a trainee row) and the visit is recorded on the training plan."""

from __future__ import annotations

import os

import sqlalchemy as sa

from engine.records.part_return import PartReturn
from engine.records.training_plan import TrainingPlan
from tests.helpers import case_task
from tests.helpers import do
from tests.helpers import drive_to_dispatch
from tests.helpers import register

SHOTS = os.environ.get("AFTERSALES_SCREENSHOTS")


def _parts_case(session, runtime, calendar, user_named):
    """A registered parts claim of customer C100 (its SO holds the spare parts a return names)."""
    csi, _ = register(
        session,
        runtime,
        user_named("manager"),
        calendar,
        kind="parts_claim",
        customer_code="C100",
        origin_so_no="SO-2025-0100",
        serial_no=None,
        description="备件异响",
    )
    return csi


def test_manager_registers_a_part_return_from_the_case_page(page, sign_in, session, runtime, calendar, user_named):
    """§3.1: a wrong entry is named at its field; the corrected return is listed with its status and record link."""
    csi = _parts_case(session, runtime, calendar, user_named)
    sign_in("manager")
    page.goto(f"/cases/{csi.id}")
    page.click("#part-returns summary")
    page.fill("#return-part_no", "P-SPINDLE")
    page.fill("#return-quantity", "0")
    page.select_option("#return-remedy", "exchange")
    page.fill("#return-reason", "新轴承运转异响")
    page.click("#part-returns button[type=submit]")
    error = page.locator("#return\\.quantity-error")
    assert error.is_visible() and page.locator("#return-quantity[aria-invalid=true]").count() == 1
    assert session.scalars(sa.select(PartReturn).where(PartReturn.csi_id == csi.id)).first() is None
    session.rollback()  # SQLite: end the read before the browser writes
    page.fill("#return-quantity", "2")
    page.click("#part-returns button[type=submit]")
    page.wait_for_url(f"**/cases/{csi.id}#part-returns")
    record = session.scalars(sa.select(PartReturn).where(PartReturn.csi_id == csi.id)).one()
    session.rollback()
    assert record.rt_no in page.locator(".flash-success").inner_text()
    row = page.locator("#part-returns table tbody tr", has_text=record.rt_no)
    assert "P-SPINDLE" in row.inner_text() and "换货" in row.inner_text()
    assert row.locator(".rec-status").inner_text() == "已登记，待收货"
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/case-part-return.png", full_page=True)
    row.locator(f"a:has-text('{record.rt_no}')").click()
    page.wait_for_url(f"**/records/part-return/{record.rt_no}")
    assert csi.csi_no in page.locator("#main").inner_text()  # the record links back to its case


def test_engineer_completes_the_training_visit_form(page, sign_in, session, runtime, calendar, user_named):
    """§6.3: modules ticked from the product's syllabus, a trainee row added, submitted: the plan records the visit."""
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named, review={"service_plan": ["training"]})
    do(session, runtime, csi.id, "plan_training", user_named("manager"), calendar, training_location="customer_site")
    do(session, runtime, csi.id, "issue_training_work_order", user_named("manager"), calendar)
    task_id = case_task(session, csi.id, "training_visit").id
    session.commit()
    sign_in("engineer")
    page.goto(f"/tasks/{task_id}")
    page.check("#main input[name=modules_delivered][value='操作与日常保养']")
    page.fill("#main input[name=delivered_date]", "2026-11-30")
    page.fill("#main input[name=duration_hours]", "4")
    page.fill("#main input[name=attendance-0-name]", "李明")
    page.fill("#main input[name=attendance-0-position]", "操作工")
    page.check("#main input[name=attendance-0-present]")
    page.click("#main button[data-add-row]")  # a second trainee, absent
    page.fill("#main input[name=attendance-1-name]", "张强")
    page.fill("#main input[name=attendance-1-position]", "维修工")
    page.fill("#main textarea[name=assessment_result]", "实操考核合格")
    page.fill("#main textarea[name=customer_evaluation]", "内容实用")
    page.fill("#main input[name=customer_signed_by]", "王工（设备科）")
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/training-visit-form.png", full_page=True)
    page.click("#main button[type=submit]:has-text('完成任务')")
    page.wait_for_url("**/")
    assert csi.csi_no in page.locator(".flash-success").inner_text()
    session.expire_all()  # the browser wrote it: read it afresh
    plan = session.scalars(sa.select(TrainingPlan).where(TrainingPlan.csi_id == csi.id)).one()
    assert plan.status == "delivered"
    assert plan.visit_record["attendance"] == [
        {"name": "李明", "position": "操作工", "present": True},
        {"name": "张强", "position": "维修工", "present": False},
    ]
    assert plan.visit_record["modules_delivered"] == ["操作与日常保养"]


def test_the_new_screens_have_no_serious_axe_findings(page, sign_in, session, runtime, calendar, user_named, api):
    """WCAG 2.1 AA (serious and critical) on the return's case page, record and task, and the training visit form."""
    from tests.browser.test_axe_browser import SIZES
    from tests.browser.test_axe_browser import axe_findings
    from tests.browser.test_axe_browser import require_axe

    require_axe()
    parts = _parts_case(session, runtime, calendar, user_named)
    body = {"part_no": "P-SPINDLE", "quantity": 2, "remedy": "exchange", "reason": "新轴承运转异响"}
    rt_no = api("manager").post(f"/api/v1/cases/{parts.id}/part-returns", json=body).get_json()["rt_no"]
    training, _ = drive_to_dispatch(session, runtime, calendar, user_named, review={"service_plan": ["training"]})
    do(
        session,
        runtime,
        training.id,
        "plan_training",
        user_named("manager"),
        calendar,
        training_location="customer_site",
    )
    do(session, runtime, training.id, "issue_training_work_order", user_named("manager"), calendar)
    visit = case_task(session, training.id, "training_visit").id
    receive = case_task(session, parts.id, "receive_return").id
    session.commit()
    sign_in("manager")
    findings: list[str] = []
    for path in (f"/cases/{parts.id}", f"/records/part-return/{rt_no}", f"/tasks/{receive}", f"/tasks/{visit}"):
        for size_name, size in SIZES.items():
            page.set_viewport_size(size)
            page.goto(path)
            findings.extend(f"[{size_name}] {path}: {line}" for line in axe_findings(page))
    assert findings == [], "\n".join(findings[:40])
