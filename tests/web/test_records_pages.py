"""Staff pages of §5–§6: the document chain on the case page, record pages linked both ways, the service archive,
the printable CSI, the supervisor's WO assignment, the review proposal and the repeatable-row editor (CSRF on)."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from engine.records.process import HumanTask
from engine.records.service_sales_order import ServiceSalesOrder
from engine.records.work_order import WorkOrder
from engine.reports.chain import document_chain
from tests.helpers import case_task
from tests.helpers import do
from tests.helpers import drive_to_dispatch
from tests.helpers import register
from tests.scenarios import field_service_case
from tests.scenarios import paid_service_case
from tests.web.test_pages_flow import browser
from tests.web.test_pages_flow import csrf_token
from tests.web.test_pages_flow import sign_in
from tests.web.test_pages_flow import text_of


@pytest.fixture
def people(user_named):
    return user_named


@pytest.fixture
def signed_in(app):
    """`signed_in(username)` is a fresh browser signed in as that demo user."""

    def open_browser(username: str) -> Any:
        client = browser(app)
        assert sign_in(client, username).status_code == 302
        return client

    return open_browser


def record_links(html: str) -> set[str]:
    return set(re.findall(r'href="(/records/[a-z-]+/[A-Z]+-\d{4}-\d{6})"', html))


def test_case_page_draws_the_whole_chain_with_working_links(session, runtime, calendar, people, signed_in):
    csi = field_service_case(session, runtime, calendar, people)
    chain = document_chain(session, csi)
    session.commit()
    manager = signed_in("manager")
    response = manager.get(f"/cases/{csi.id}")
    html = text_of(response)
    assert response.status_code == 200 and 'id="chain"' in html
    numbers = [item["number"] for key in ("wo", "psr", "po", "quality_feedback", "survey", "supplier_claim")
               for item in chain[key]]  # fmt: skip
    links = record_links(html)
    for number in numbers:
        assert any(link.endswith("/" + number) for link in links), number
    assert "¥2,000.00" in html and "10 h × ¥200.00" in html  # labour hours × rate = labour cost (§5.3)
    assert "免费" in html and "供方" in html  # billing and cost bearer
    assert "服务部档案柜A-03 / 设备档案 CNC500-0001" in html and "顾客满意，结案" in html  # archive, closing notes
    assert 'href="/archives/CNC500-0001"' in html
    for link in links:
        assert manager.get(link).status_code == 200, link


def test_record_pages_link_both_ways(session, runtime, calendar, people, signed_in):
    paid = paid_service_case(session, runtime, calendar, people)
    full = field_service_case(session, runtime, calendar, people)
    paid_chain, full_chain = document_chain(session, paid), document_chain(session, full)
    session.commit()
    manager = signed_in("manager")
    (wo,), (fee,) = paid_chain["wo"], paid_chain["so"]
    wo_page = text_of(manager.get(f"/records/wo/{wo['number']}"))
    assert f"/records/so/{fee['number']}" in wo_page and "¥2,600.00" in wo_page  # the WO shows its fee SO (§5.4)
    fee_page = text_of(manager.get(f"/records/so/{fee['number']}"))
    assert f"/records/wo/{wo['number']}" in fee_page and f"/cases/{paid.id}" in fee_page
    purchase = full_chain["po"][1]
    po_page = text_of(manager.get(f"/records/po/{purchase['number']}"))
    assert "PRJ# = " in po_page and f"/records/wo/{purchase['prj_no']}" in po_page and f"/cases/{full.id}" in po_page
    (claim,) = full_chain["supplier_claim"]
    claim_page = text_of(manager.get(f"/records/supplier-claim/{claim['number']}"))
    assert 'id="snapshot"' in claim_page and f'href="/cases/{full.id}"' in claim_page
    assert "已变更" in claim_page  # the live CSI moved on (closed) since the copy was sent to Sales
    csi_page = manager.get(f"/records/csi/{full.csi_no}")
    assert csi_page.status_code == 302 and csi_page.headers["Location"].endswith(f"/cases/{full.id}")
    assert manager.get("/records/wo/WO-1999-000001").status_code == 404
    assert manager.get("/records/invoice/X-1").status_code == 404
    assert signed_in("modeler").get(f"/records/wo/{wo['number']}").status_code == 403


def test_service_archive_pages(session, runtime, calendar, people, signed_in):
    csi = field_service_case(session, runtime, calendar, people)
    chain = document_chain(session, csi)
    session.commit()
    manager = signed_in("manager")
    listing = text_of(manager.get("/archives"))
    assert "CNC500-0001" in listing and "TK-7781" not in listing and "档案" in listing
    found = manager.get("/archives?serial=CNC500-0001")
    assert found.status_code == 302 and found.headers["Location"].endswith("/archives/CNC500-0001")
    page = text_of(manager.get("/archives/CNC500-0001"))
    for number in [csi.csi_no] + [x["number"] for key in ("wo", "psr") for x in chain[key]]:
        assert number in page, number
    assert "SPN-500" in page and "BRG-6205" in page and "SO-2025-0001" in page
    tool_set = manager.get("/archives/TK-7781")
    assert tool_set.status_code == 404 and "第3.1条" in text_of(tool_set)
    assert manager.get("/archives/NO-SUCH-1").status_code == 404
    assert signed_in("modeler").get("/archives/CNC500-0001").status_code == 403
    assert 'href="/archives"' not in text_of(signed_in("modeler").get("/"))  # no nav link without the right


def test_print_page_is_a_bare_a4_sheet_with_signature_lines(session, runtime, calendar, people, signed_in):
    csi, _ = register(session, runtime, people("manager"), calendar)
    do(session, runtime, csi.id, "analyse_root_cause", people("manager"), calendar)
    session.commit()
    response = signed_in("supervisor").get(f"/cases/{csi.id}/print")
    html = text_of(response)
    assert response.status_code == 200 and csi.csi_no in html
    assert "css/print.css" in html and "mainnav" not in html and "<style" not in html
    assert "主轴轴承供应商批次缺陷" in html  # the root cause comes first (§4.2)
    assert "建议收费方式" in html and "免费" in html  # the DMN proposal before the review
    assert "评审人" in html and "参加评审人员" in html and "签署原件存放位置" in html
    assert signed_in("modeler").get(f"/cases/{csi.id}/print").status_code == 403
    assert f"/cases/{csi.id}/print" in text_of(signed_in("manager").get(f"/cases/{csi.id}"))


def test_supervisor_assigns_an_open_wo_to_temporary_staff(session, runtime, calendar, people, signed_in, sessions):
    csi = paid_service_case(session, runtime, calendar, people, visit=False)
    wo_no = session.scalars(sa.select(WorkOrder.wo_no).where(WorkOrder.csi_id == csi.id)).one()
    session.commit()
    manager_page = text_of(signed_in("manager").get(f"/cases/{csi.id}"))
    assert f"/work-orders/{wo_no}/assign" not in manager_page
    supervisor = signed_in("supervisor")
    page = text_of(supervisor.get(f"/cases/{csi.id}"))
    assert f"/work-orders/{wo_no}/assign" in page and 'value="qc"' in page
    token = csrf_token(page)
    response = supervisor.post(f"/work-orders/{wo_no}/assign", data={"csrf_token": token, "username": "qc"})
    assert response.status_code == 302
    after = text_of(supervisor.get(response.headers["Location"]))
    assert "钱质检" in after and "临时" in after
    with sessions() as check:
        task = check.scalars(sa.select(HumanTask).filter_by(csi_id=csi.id, bpmn_id="field_visit", status="open")).one()
        assert task.assignee == "qc"
    manager = signed_in("manager")
    token = csrf_token(text_of(manager.get(f"/cases/{csi.id}")))
    refused = manager.post(f"/work-orders/{wo_no}/assign", data={"csrf_token": token, "username": "engineer"})
    assert refused.status_code == 403
    token = csrf_token(after)
    bad = supervisor.post(f"/work-orders/{wo_no}/assign", data={"csrf_token": token, "username": "nobody"})
    assert bad.status_code == 302 and "未能指派" in text_of(supervisor.get(bad.headers["Location"]))


def test_review_form_shows_the_proposal_and_preselects_its_billing(session, runtime, calendar, people, signed_in):
    spare, _ = register(
        session, runtime, people("manager"), calendar,
        kind="parts_claim", customer_code="C100", origin_so_no="SO-2025-0100", serial_no=None,
    )  # fmt: skip
    task = case_task(session, spare.id, "review_csi")
    session.commit()
    html = text_of(signed_in("supervisor").get(f"/tasks/{task.id}"))
    assert 'class="proposal"' in html and "第3.2条" in html and "第3.1条" in html
    checked = re.search(r'name="billing" value="([a-z_]+)" checked', html)
    assert checked and checked.group(1) == "paid"  # out of warranty spare part: the customer pays
    assert re.search(r'name="service_plan" value="field_service"[^>]* disabled', html)  # §3.1: no field service


def line(index: int, part_no: str, description: str, qty: str, unit_price: str) -> dict[str, str]:
    """One posted row of the SO-lines editor."""
    values = {"part_no": part_no, "description": description, "qty": qty, "unit_price": unit_price}
    return {f"lines-{index}-{column}": value for column, value in values.items()}


def test_row_editor_round_trip_through_the_task_form(session, runtime, calendar, people, signed_in, sessions):
    csi, _ = drive_to_dispatch(session, runtime, calendar, people, review={"service_plan": ["parts_only"]})
    task = case_task(session, csi.id, "issue_parts_so")
    session.commit()
    manager = signed_in("manager")
    page = text_of(manager.get(f"/tasks/{task.id}"))
    assert all(f'name="lines-{i}-part_no"' in page for i in range(5)) and "lines-5-part_no" not in page
    token = csrf_token(page)
    rows = {
        **line(0, "BRG-6205", "主轴轴承", "2", "380"),
        **line(1, "", " ", "", ""),
        **line(2, "SEAL-40", "油封", "x", "25.5"),
    }
    refused = manager.post(f"/tasks/{task.id}", data={"csrf_token": token, **rows, "remarks": "加急"})
    html = text_of(refused)
    assert refused.status_code == 422 and "请检查标出的行" in html
    assert re.search(r'id="lines-1-qty"[^>]*value="x"[^>]*aria-invalid="true"', html)  # compacted: row 2 now
    assert 'id="lines-1-qty-error"' in html and 'value="SEAL-40"' in html
    rows["lines-2-qty"] = "1"
    done = manager.post(f"/tasks/{task.id}", data={"csrf_token": csrf_token(html), **rows, "remarks": "加急"})
    assert done.status_code == 302
    with sessions() as check:
        (order,) = check.scalars(sa.select(ServiceSalesOrder).where(ServiceSalesOrder.csi_id == csi.id))
        assert order.lines == [
            {"part_no": "BRG-6205", "description": "主轴轴承", "qty": 2, "unit_price": 380},
            {"part_no": "SEAL-40", "description": "油封", "qty": 1, "unit_price": 25.5},
        ]
        assert order.amount == Decimal("0.00") and "加急" in order.remarks  # free in warranty (§5.2)


def test_field_visit_form_has_parts_rows_and_may_be_sent_without_parts(
    session, runtime, calendar, people, signed_in, sessions
):
    csi, _ = drive_to_dispatch(session, runtime, calendar, people)
    do(session, runtime, csi.id, "issue_work_order", people("manager"), calendar)
    task = case_task(session, csi.id, "field_visit")
    session.commit()
    engineer = signed_in("engineer")
    page = text_of(engineer.get(f"/tasks/{task.id}"))
    assert 'name="parts_used-0-source"' in page and "外购" in page and "data-add-row" in page
    form = {
        "csrf_token": csrf_token(page), "visit_date": "2026-12-01", "labour_hours": "2", "work_performed": "检查",
        "outcome": "solved", "old_parts": "none", "satisfaction": "satisfied", "customer_signed_by": "王工",
        "parts_used-0-part_no": "", "parts_used-0-qty": "", "parts_used-0-source": "",
    }  # fmt: skip
    assert engineer.post(f"/tasks/{task.id}", data=form).status_code == 302
    with sessions() as check:
        work_order = check.scalars(sa.select(WorkOrder).where(WorkOrder.csi_id == csi.id)).one()
        assert work_order.status == "completed" and work_order.labour_hours == Decimal("2.00")


def test_wo_psr_and_qahrc_forms_print_with_their_signature_lines(session, runtime, calendar, people, signed_in):
    """Issue 11: the WO, the PSR the customer signs on site (§5.3), QAHRC0722C (§5.6) and QAHRC0807C (§5.7) print
    like the CSI, each linked from its record page; other roles than the case readers get no sheet."""
    csi = field_service_case(session, runtime, calendar, people)
    chain = document_chain(session, csi)
    session.commit()
    manager = signed_in("manager")
    expected = {
        "wo": ("工单", "客户：服务完成确认"),
        "psr": ("产品服务报告", "客户签字"),
        "quality-feedback": ("QAHRC0722C", "工程/质检"),
        "survey": ("QAHRC0807C", "客户签字"),
    }
    for record_type, (title, signature) in expected.items():
        number = chain[record_type.replace("-", "_")][0]["number"]
        record_page = text_of(manager.get(f"/records/{record_type}/{number}"))
        assert f'href="/records/{record_type}/{number}/print"' in record_page, record_type
        sheet = manager.get(f"/records/{record_type}/{number}/print")
        html = text_of(sheet)
        assert sheet.status_code == 200 and title in html and signature in html and number in html, record_type
    psr = chain["psr"][0]
    assert psr["customer_signed_by"] in text_of(manager.get(f"/records/psr/{psr['number']}/print"))
    assert signed_in("hr").get(f"/records/psr/{psr['number']}/print").status_code == 403
    assert manager.get(f"/records/po/{chain['po'][0]['number']}/print").status_code == 404
