"""Pickers (issue 11 item 2): the WO form offers the active service engineers with their open WO count instead of a
login-name text box, the training plan the product's syllabus modules as check boxes (§6.1); what is picked is
submitted and validated by the engine as before."""

from __future__ import annotations

import re

import sqlalchemy as sa

from engine.records.work_order import WorkOrder
from tests.helpers import case_task
from tests.helpers import do
from tests.helpers import drive_to_dispatch
from tests.web.test_pages_flow import browser
from tests.web.test_pages_flow import sign_in
from tests.web.test_pages_flow import submit
from tests.web.test_pages_flow import text_of


def test_the_work_order_form_picks_engineers_with_their_open_work_orders(app, session, runtime, calendar, user_named):
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named)
    other, _ = drive_to_dispatch(session, runtime, calendar, user_named)
    do(session, runtime, other.id, "issue_work_order", user_named("manager"), calendar)  # engineer: 1 open WO
    task = case_task(session, csi.id, "issue_work_order")
    task_id = task.id
    session.commit()
    manager = browser(app)
    sign_in(manager, "manager")
    page = text_of(manager.get(f"/tasks/{task_id}"))
    boxes = re.findall(r'<input type="checkbox"[^>]*name="engineers"[^>]*value="([^"]+)"', page)
    assert boxes == ["engineer"]  # only active service engineers are offered
    assert "1 个未完成工单" in page and 'name="engineers-0"' not in page
    answer = {
        "engineers": "engineer",
        "planned_date": "2026-12-20",
        "site": "上海市闵行区 华东精密 2号车间",
        "labour_rate": "200",
    }
    done = submit(manager, f"/tasks/{task_id}", f"/tasks/{task_id}", answer)
    assert done.status_code == 302, text_of(done)[:2000]
    session.expire_all()
    work_order = session.scalars(sa.select(WorkOrder).where(WorkOrder.csi_id == csi.id)).one()
    assert work_order.engineers == ["engineer"]


def test_the_training_plan_offers_the_syllabus_modules(app, session, runtime, calendar, user_named):
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named, review={"service_plan": ["training"]})
    task = case_task(session, csi.id, "plan_training")
    task_id = task.id
    session.commit()
    manager = browser(app)
    sign_in(manager, "manager")
    page = text_of(manager.get(f"/tasks/{task_id}"))
    modules = re.findall(r'<input type="checkbox"[^>]*name="modules"[^>]*value="([^"]+)"', page)
    assert "操作与日常保养" in modules and len(modules) >= 2


def test_a_part_outside_the_parts_master_is_refused_naming_it_and_nothing_is_written(
    app, session, runtime, calendar, user_named
):
    from engine.records.service_sales_order import ServiceSalesOrder

    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named, review={"service_plan": ["parts_only"]})
    task_id = case_task(session, csi.id, "issue_parts_so").id
    session.commit()
    manager = browser(app)
    sign_in(manager, "manager")
    page = text_of(manager.get(f"/tasks/{task_id}"))
    assert '<datalist id="parts-master">' in page and 'value="BRG-6205"' in page
    bad = {"lines-0-part_no": "已按规定处理", "lines-0-description": "x", "lines-0-qty": "1", "lines-0-unit_price": "0"}
    refused = submit(manager, f"/tasks/{task_id}", f"/tasks/{task_id}", bad)
    assert refused.status_code == 422 and "已按规定处理" in text_of(refused)
    assert session.scalar(sa.select(sa.func.count()).select_from(ServiceSalesOrder)) == 0
    session.commit()
    good = {**bad, "lines-0-part_no": "BRG-6205"}
    assert submit(manager, f"/tasks/{task_id}", f"/tasks/{task_id}", good).status_code == 302


def test_the_work_order_site_starts_with_the_customer_and_registration_offers_the_customers_orders(
    app, session, runtime, calendar, user_named
):
    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named)
    task_id = case_task(session, csi.id, "issue_work_order").id
    session.commit()
    manager = browser(app)
    sign_in(manager, "manager")
    page = text_of(manager.get(f"/tasks/{task_id}"))
    assert re.search(r'<textarea[^>]*name="site"[^>]*>\s*华东精密机械有限公司', page)
    orders = manager.get("/cases/lookup/sales-orders?customer=C001").get_json()
    assert any(
        o["so_no"] == "SO-2025-0001" and {"product_code": "P-CNC500", "serial_no": "CNC500-0001"} in o["lines"]
        for o in orders
    )
    assert all("price" not in str(o) for o in orders)
    assert manager.get("/cases/lookup/sales-orders?customer=NOPE").get_json() == []
    assert 'list="so-list"' in text_of(manager.get("/cases/new"))


def test_the_training_visit_page_offers_the_syllabus_and_records_the_trainees(
    app, session, runtime, calendar, user_named
):
    from engine.records.training_plan import TrainingPlan

    csi, _ = drive_to_dispatch(session, runtime, calendar, user_named, review={"service_plan": ["training"]})
    do(session, runtime, csi.id, "plan_training", user_named("manager"), calendar, training_location="customer_site")
    do(session, runtime, csi.id, "issue_training_work_order", user_named("manager"), calendar)
    task_id = case_task(session, csi.id, "training_visit").id
    session.commit()
    engineer = browser(app)
    sign_in(engineer, "engineer")
    page = text_of(engineer.get(f"/tasks/{task_id}"))
    modules = re.findall(r'<input type="checkbox"[^>]*name="modules_delivered"[^>]*value="([^"]+)"', page)
    assert "操作与日常保养" in modules  # §6.3: from the product's syllabus
    assert 'name="attendance-0-name"' in page and "parts_used" not in page and "quality_problem" not in page
    answer = {
        "modules_delivered": "操作与日常保养",
        "delivered_date": "2026-11-30",
        "duration_hours": "4",
        "attendance-0-name": "李明",
        "attendance-0-position": "操作工",
        "attendance-0-present": "on",
        "assessment_result": "合格",
        "customer_evaluation": "满意",
        "customer_signed_by": "王工",
    }
    done = submit(engineer, f"/tasks/{task_id}", f"/tasks/{task_id}", answer)
    assert done.status_code == 302, text_of(done)[:2000]
    session.expire_all()
    plan = session.scalars(sa.select(TrainingPlan).where(TrainingPlan.csi_id == csi.id)).one()
    assert plan.status == "delivered" and plan.visit_record["attendance"] == [
        {"name": "李明", "position": "操作工", "present": True}
    ]
