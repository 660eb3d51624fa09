"""Every business error reaches the user in their language (issue 11): the engine raises codes with parameters, the
web has a zh_Hans_CN and an English text for each, and Werkzeug's English descriptions never reach a page."""

from __future__ import annotations

import ast
from html import unescape
from typing import Any

import sqlalchemy as sa
from flask_babel import force_locale

from engine.platform import forms as engine_forms
from engine.records.process import HumanTask
from tests.conftest import PROJECT_ROOT
from tests.web.test_pages_flow import register
from tests.web.test_pages_flow import sign_in
from web.forms import PROBLEM_TEXTS
from web.forms import problem_text

SAMPLE_PARAMS = {
    "types": "pdf",
    "case": "CSI-2026-000001",
    "user": "engineer",
    "lane": "service_engineer",
    "roles": ["service_manager", "service_supervisor"],
    "instance": 7,
    "status": "suspended",
    "process": "after_sales_case",
    "file": "x.bpmn",
    "serial": "CNC500-0001",
    "record": "SC-2026-000001",
    "operator": "create_work_order",
    "modules": ["M1", "M2"],
    "size": 10,
    "limit": 5,
    "line": 2,
    "column": 3,
}


def codes_raised_by_the_engine() -> set[str]:
    """The literal codes of every `Problem("code", …)` in engine/ and web/, plus the form keywords' codes."""
    codes: set[str] = set(engine_forms._KEYWORD_CODES.values())
    for path in [*(PROJECT_ROOT / "engine").rglob("*.py"), *(PROJECT_ROOT / "web").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Problem" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    codes.add(first.value)
    return codes


def test_every_code_the_engine_raises_has_a_text() -> None:
    codes = codes_raised_by_the_engine()
    assert len(codes) > 50
    assert sorted(codes - set(PROBLEM_TEXTS)) == []


def test_every_code_reads_in_chinese_and_in_english(app: Any) -> None:
    with app.test_request_context("/"):
        for code in sorted(codes_raised_by_the_engine() | set(PROBLEM_TEXTS)):
            with force_locale("en"):
                english = problem_text(code, SAMPLE_PARAMS)
            with force_locale("zh_Hans_CN"):
                chinese = problem_text(code, SAMPLE_PARAMS)
            assert english and chinese and english != chinese, code
            assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese), (code, chinese)
            assert not any("\u4e00" <= ch <= "\u9fff" for ch in english), (code, english)


def test_a_missing_case_is_reported_in_chinese(client: Any) -> None:
    sign_in(client, "manager")
    page = client.get("/cases/9999")
    text = unescape(page.get_data(as_text=True))
    assert page.status_code == 404
    assert "案件 9999 不存在。" in text and "does not exist" not in text


def test_a_missing_case_is_reported_in_english_when_chosen(client: Any) -> None:
    sign_in(client, "manager")
    with client.session_transaction() as state:
        state["lang"] = "en"
    text = unescape(client.get("/cases/9999").get_data(as_text=True))
    assert "Case 9999 does not exist." in text


def test_werkzeug_descriptions_are_replaced_by_ours(client: Any) -> None:
    not_found = unescape(client.get("/no/such/page").get_data(as_text=True))
    assert "requested URL was not found" not in not_found and "页面或记录不存在" in not_found
    sign_in(client, "engineer")
    forbidden = client.get("/admin/users")
    text = unescape(forbidden.get_data(as_text=True))
    assert forbidden.status_code == 403
    assert "You don't have the permission" not in text and "您的角色" in text


def test_a_task_of_another_lane_is_refused_in_chinese(client: Any, sessions: Any) -> None:
    sign_in(client, "manager")
    register(client)
    with sessions() as s:
        task_id = s.scalars(sa.select(HumanTask.id).where(HumanTask.status == "open")).first()
    sign_in(client, "hr")
    page = client.get(f"/tasks/{task_id}")
    text = unescape(page.get_data(as_text=True))
    assert page.status_code == 403
    assert "belongs to lane" not in text and "您不具备该角色" in text
