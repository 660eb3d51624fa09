"""Staff pages through the real forms (CSRF on): sign-in, register, inbox, task form, case page, attachments, i18n."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from engine.aftersales.demo import DEMO_PASSWORD
from engine.records.csi import CSI
from engine.records.process import HumanTask

QUALITY_COMPLAINT = {
    "kind": "quality_complaint",
    "customer_code": "C001",
    "origin_so_no": "SO-2025-0001",
    "serial_no": "CNC500-0001",
    "description": "主轴异响，加工精度下降",
    "channel": "phone",
    "received_at": "",
}
PDF_BYTES = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token on the page"
    return found.group(1)


def submit(client: Any, page: str, action: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """Open `page`, take its CSRF token and post `data` to `action`, as a browser would."""
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data}, **kwargs)


def sign_in(client: Any, username: str, password: str = DEMO_PASSWORD) -> Any:
    """Sign in through the login form."""
    return submit(client, "/login", "/login", {"username": username, "password": password, "next": ""})


def register(client: Any, **changes: Any) -> Any:
    """Register a request through the form (a quality complaint on the demo SO by default)."""
    return submit(client, "/cases/new", "/cases/new", {**QUALITY_COMPLAINT, **changes})


def browser(app: Any) -> Any:
    """A second browser (own cookies) on https, like the `client` fixture."""
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    return client


def text_of(response: Any) -> str:
    return unescape(response.get_data(as_text=True))


def field_error(html: str, name: str) -> str:
    """The inline error shown in the block of field `name` ('' when there is none)."""
    block = re.search(rf'id="field-{name}".*?(?=<div class="field|</form>)', html, re.S)
    assert block, f"field {name} is not on the page"
    found = re.search(r'class="field-error"[^>]*>([^<]+)<', block.group(0))
    return unescape(found.group(1)) if found else ""


def open_task(sessions: sessionmaker[Session], bpmn_id: str) -> HumanTask:
    with sessions() as s:
        task = s.scalars(sa.select(HumanTask).where(HumanTask.bpmn_id == bpmn_id, HumanTask.status == "open")).one()
        s.expunge(task)
        return task


def csi_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return int(s.scalar(sa.select(sa.func.count()).select_from(CSI)) or 0)


@pytest.fixture
def manager(client: Any) -> Any:
    assert sign_in(client, "manager").status_code == 302
    return client


@pytest.fixture
def case_id(manager: Any) -> int:
    """A registered quality complaint; the manager stays signed in."""
    response = register(manager)
    assert response.status_code == 302, text_of(response)
    found = re.search(r"/cases/(\d+)$", response.headers["Location"])
    assert found
    return int(found.group(1))


def test_pages_require_sign_in(client: Any) -> None:
    for path in ("/", "/cases", "/cases/new", "/cases/1", "/tasks/abc"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=")


def test_wrong_password_is_401_with_a_message(client: Any) -> None:
    response = sign_in(client, "manager", "not-the-password")
    assert response.status_code == 401
    assert "用户名或密码错误" in text_of(response)
    assert client.get("/").status_code == 302


def test_sign_in_lands_on_the_inbox_with_name_and_roles(manager: Any) -> None:
    html = text_of(manager.get("/"))
    assert "售后服务流程管理" in html and "李经理" in html and "服务管理人员" in html
    assert "登记请求" in html


def test_register_quality_complaint_shows_the_case(manager: Any, case_id: int) -> None:
    html = text_of(manager.get(f"/cases/{case_id}"))
    assert re.search(r"CSI-\d{4}-\d+", html)
    assert "质量投诉" in html and "SO-2025-0001" in html and "CNC500-0001" in html
    assert "三包期内" in html  # sold last year, 24 months 三包期 (§3.2)
    assert "第4.6条" in html or "§4.6" in html
    assert "登记CSI" in html and "原因分析" in html  # timeline and the open task


def test_quality_complaint_without_so_is_422_inline(manager: Any, sessions: sessionmaker[Session]) -> None:
    before = csi_count(sessions)
    response = register(manager, origin_so_no="", serial_no="")
    assert response.status_code == 422
    html = text_of(response)
    assert "4.2" in field_error(html, "origin_so_no")
    assert 'value="C001"' in html and "主轴异响" in html  # the user's input is kept
    assert csi_count(sessions) == before


def test_register_form_names_unknown_customer(manager: Any) -> None:
    response = register(manager, kind="service_request", customer_code="NOPE", origin_so_no="", serial_no="")
    assert response.status_code == 422
    assert field_error(text_of(response), "customer_code") == "没有该代码的顾客。"


def test_non_manager_registration_is_forwarded(client: Any, sessions: sessionmaker[Session]) -> None:
    sign_in(client, "engineer")
    assert "第4.1条" in text_of(client.get("/cases/new"))
    response = register(client)
    assert response.status_code == 302
    assert "转交服务管理人员" in text_of(client.get(response.headers["Location"]))


def test_inbox_shows_root_cause_task_to_the_manager(manager: Any, case_id: int) -> None:
    html = text_of(manager.get("/"))
    assert "原因分析" in html and "华东精密机械有限公司" in html
    assert "可认领" in html
    task = re.search(r"/tasks/([0-9a-f-]{36})/claim", html)
    assert task, "a claim button for the new task"


def test_claim_and_release(manager: Any, case_id: int, sessions: sessionmaker[Session]) -> None:
    task = open_task(sessions, "analyse_root_cause")
    response = submit(manager, "/", f"/tasks/{task.id}/claim", {"next": "/?tab=mine"})
    assert response.status_code == 302
    assert open_task(sessions, "analyse_root_cause").assignee == "manager"
    html = text_of(manager.get("/?tab=mine"))
    assert f"/tasks/{task.id}/release" in html
    submit(manager, "/", f"/tasks/{task.id}/release", {"next": "/"})
    assert open_task(sessions, "analyse_root_cause").assignee is None


def test_task_form_renders_from_the_schema(manager: Any, case_id: int, sessions: sessionmaker[Session]) -> None:
    task = open_task(sessions, "analyse_root_cause")
    html = text_of(manager.get(f"/tasks/{task.id}"))
    assert "novalidate" in html
    assert re.search(r'<textarea id="f-root_cause" name="root_cause"[^>]*maxlength="4000"', html)
    assert html.count('type="radio" name="responsibility"') == 6
    assert "供方" in html and "质量责任" in html
    assert "SO-2025-0001" in html and "主轴异响" in html  # case facts in the header


def test_task_submit_with_missing_field_is_422_and_keeps_input(
    manager: Any, case_id: int, sessions: sessionmaker[Session]
) -> None:
    task = open_task(sessions, "analyse_root_cause")
    response = submit(manager, f"/tasks/{task.id}", f"/tasks/{task.id}", {"root_cause": "轴承润滑不足"})
    assert response.status_code == 422
    html = text_of(response)
    assert field_error(html, "responsibility") == "此项为必填项。"
    assert field_error(html, "root_cause") == ""
    assert "轴承润滑不足" in html
    assert open_task(sessions, "analyse_root_cause").status == "open"


def test_task_submit_moves_the_case_to_review(
    manager: Any, case_id: int, sessions: sessionmaker[Session], app: Any
) -> None:
    task = open_task(sessions, "analyse_root_cause")
    response = submit(
        manager,
        f"/tasks/{task.id}",
        f"/tasks/{task.id}",
        {"root_cause": "轴承润滑不足", "responsibility": "manufacturing"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"  # back to the inbox for the next task (issue 11)
    inbox = text_of(manager.get("/"))
    assert "已完成" in inbox and "继续流转" in inbox
    html = text_of(manager.get(f"/cases/{case_id}"))
    assert "轴承润滑不足" in html and "制造" in html
    # the closed task now answers with a friendly 409 page
    closed = manager.get(f"/tasks/{task.id}")
    assert closed.status_code == 409 and "已经关闭" in text_of(closed)
    again = submit(manager, "/", f"/tasks/{task.id}", {"root_cause": "再次提交", "responsibility": "design"})
    assert again.status_code == 409  # a double submit never completes twice

    supervisor = browser(app)
    sign_in(supervisor, "supervisor")
    inbox = text_of(supervisor.get("/"))
    assert "评审CSI" in inbox
    review = open_task(sessions, "review_csi")
    form = text_of(supervisor.get(f"/tasks/{review.id}"))
    assert "轴承润滑不足" in form  # root cause shown in the case header for the review
    assert form.count('type="checkbox" name="service_plan"') == 4


def test_review_checkboxes_and_answer_datetime(
    manager: Any, case_id: int, sessions: sessionmaker[Session], app: Any
) -> None:
    task = open_task(sessions, "analyse_root_cause")
    submit(manager, f"/tasks/{task.id}", f"/tasks/{task.id}", {"root_cause": "x", "responsibility": "supplier"})
    supervisor = browser(app)
    sign_in(supervisor, "supervisor")
    review = open_task(sessions, "review_csi")
    data = {
        "review_form": "meeting",
        "opinion": "更换主轴轴承",
        "service_plan": ["parts_only", "field_service"],
        "signed_original_location": "档案柜A-3",
        "billing": "free",
    }
    response = submit(supervisor, f"/tasks/{review.id}", f"/tasks/{review.id}", data)
    assert response.status_code == 302, text_of(response)
    answer = open_task(sessions, "answer_customer")
    form = text_of(manager.get(f"/tasks/{answer.id}"))
    assert re.search(
        r'type="datetime-local" id="f-answered_at" name="answered_at"[^>]*value="\d{4}-\d\d-\d\dT\d\d:\d\d"', form
    )
    response = submit(
        manager,
        f"/tasks/{answer.id}",
        f"/tasks/{answer.id}",
        {"answer_channel": "phone", "answered_at": "2020-01-02T09:30", "plan_summary": "更换轴承"},
    )
    assert response.status_code == 302, text_of(response)
    with sessions() as s:
        csi = s.get(CSI, case_id)
        assert csi is not None and csi.service_plan == ["parts_only", "field_service"]
        assert csi.answered_at is not None and csi.answered_at.isoformat() == "2020-01-02T01:30:00+00:00"


def test_engineer_may_not_open_the_managers_task(
    client: Any, app: Any, case_id: int, sessions: sessionmaker[Session]
) -> None:
    task = open_task(sessions, "analyse_root_cause")
    engineer = browser(app)
    sign_in(engineer, "engineer")
    assert engineer.get(f"/tasks/{task.id}").status_code == 403
    response = submit(engineer, "/", f"/tasks/{task.id}", {"root_cause": "x", "responsibility": "design"})
    assert response.status_code == 403
    assert open_task(sessions, "analyse_root_cause").status == "open"


def test_upload_and_download_attachment(manager: Any, case_id: int) -> None:
    from io import BytesIO

    response = submit(
        manager,
        f"/cases/{case_id}",
        f"/cases/{case_id}/attachments",
        {"kind": "customer_feedback", "note": "顾客来函", "file": (BytesIO(PDF_BYTES), "反馈.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    html = text_of(manager.get(f"/cases/{case_id}"))
    assert "反馈.pdf" in html and "顾客书面反馈" in html and "添加附件" in html
    link = re.search(rf'href="(/cases/{case_id}/attachments/\d+)"', html)
    assert link
    with manager.get(link.group(1)) as download:
        assert download.status_code == 200
        assert download.data == PDF_BYTES
        assert download.headers["Content-Type"] == "application/pdf"
        assert download.headers["Content-Disposition"].startswith("attachment;")


def test_text_attachment_with_nul_is_422(manager: Any, case_id: int) -> None:
    from io import BytesIO

    response = submit(
        manager,
        f"/cases/{case_id}",
        f"/cases/{case_id}/attachments",
        {"kind": "document", "file": (BytesIO(b"hello\x00world"), "note.txt")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    html = text_of(response)
    assert "文件未添加" in html and "UTF-8" in html
    assert f"/cases/{case_id}/attachments/" not in html


def test_english_switch_shows_english_labels(manager: Any, case_id: int, sessions: sessionmaker[Session]) -> None:
    response = submit(manager, "/", "/lang/en", {"next": "/cases/new"})
    assert response.status_code == 302 and response.headers["Location"] == "/cases/new"
    html = text_of(manager.get("/cases/new"))
    assert "Register a request" in html and "Quality complaint" in html and "Aftersales BPM" in html
    task = open_task(sessions, "analyse_root_cause")
    form = text_of(manager.get(f"/tasks/{task.id}"))
    assert "Root-cause analysis" in form and "Responsibility" in form and "Manufacturing" in form
    inbox = text_of(manager.get("/?tab=available"))
    assert "Root-cause analysis" in inbox and "Service manager" in inbox
    response = submit(manager, f"/tasks/{task.id}", f"/tasks/{task.id}", {"root_cause": "x"})
    assert field_error(text_of(response), "responsibility") == "This field is required."


def test_case_list_filters(manager: Any, case_id: int) -> None:
    html = text_of(manager.get("/cases"))
    assert f"/cases/{case_id}" in html
    assert f"/cases/{case_id}" in text_of(manager.get("/cases?q=SO-2025-0001"))
    assert f"/cases/{case_id}" not in text_of(manager.get("/cases?status=closed"))


def test_pages_have_no_inline_script_or_style(manager: Any, case_id: int, sessions: sessionmaker[Session]) -> None:
    task = open_task(sessions, "analyse_root_cause")
    for path in ("/", "/cases", "/cases/new", f"/cases/{case_id}", f"/tasks/{task.id}"):
        html = manager.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert " style=" not in html and "<style" not in html, path
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), path


def test_unknown_case_is_404_page(manager: Any) -> None:
    response = manager.get("/cases/999999")
    assert response.status_code == 404
    assert "找不到" in text_of(response) or "不存在" in text_of(response)


def test_the_last_task_says_the_case_is_closed_not_that_it_moves_on(manager: Any, case_id: int, api: Any) -> None:
    """§4.5 closing: the flash after the case's last task tells the manager it is closed (it said "moves on")."""
    from tests.helpers import ANSWERS

    lanes = {"review_csi": "supervisor", "field_visit": "engineer"}
    for bpmn_id in ("analyse_root_cause", "review_csi", "answer_customer", "issue_work_order", "field_visit"):
        user = api(lanes.get(bpmn_id, "manager"))
        task = next(t for t in user.get(f"/api/v1/tasks?case_id={case_id}").get_json() if t["bpmn_id"] == bpmn_id)
        done = user.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS[bpmn_id]})
        assert done.status_code == 200, done.get_json()
    listed = api("manager").get(f"/api/v1/tasks?case_id={case_id}").get_json()
    closing = next(t for t in listed if t["bpmn_id"] == "close_case")
    data = {"archive_location": ANSWERS["close_case"]["archive_location"]}
    response = submit(manager, f"/tasks/{closing['id']}", f"/tasks/{closing['id']}", data)
    assert response.status_code == 302, text_of(response)
    inbox = text_of(manager.get("/"))
    assert "已结案" in inbox and "继续流转" not in inbox
