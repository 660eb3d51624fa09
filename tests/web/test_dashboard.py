"""The manager dashboard pages (§2.1): who may open them, the JSON the charts use, the tables, links and language."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from html import unescape
from typing import Any

import pytest

from engine.aftersales.demo import DEMO_PASSWORD
from tests.helpers import do
from tests.helpers import register


def sign_in(client: Any, username: str) -> None:
    """Sign in through the login form, as a browser would (CSRF token from the page)."""
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/login", data={"csrf_token": token.group(1), "username": username, "password": DEMO_PASSWORD, "next": ""}
    )
    assert response.status_code == 302


def text(response: Any) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def late_case(session, runtime, calendar, user_named):
    """A case received 15 working days ago (breached at registration), the supervisor's reason recorded, then a
    case decided in time: one late with a reason, one in time."""
    received = datetime.now(UTC) - timedelta(days=15)
    late, _ = register(session, runtime, user_named("manager"), calendar, received_at=received)
    do(
        session,
        runtime,
        late.id,
        "handle_overdue_plan",
        user_named("supervisor"),
        calendar,
        exception_reason="等待检测",
    )
    on_time, _ = register(session, runtime, user_named("manager"), calendar)
    do(session, runtime, on_time.id, "analyse_root_cause", user_named("manager"), calendar)
    do(session, runtime, on_time.id, "review_csi", user_named("supervisor"), calendar)
    session.commit()
    return late


@pytest.mark.parametrize("username", ["director", "manager", "supervisor"])
def test_service_executives_open_the_dashboard(client, username):
    sign_in(client, username)
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert 'href="/dashboard"' in text(page)  # the main navigation shows it to them
    assert client.get("/dashboard/data").status_code == 200


@pytest.mark.parametrize("username", ["engineer", "qc", "sales", "designer"])
def test_other_roles_are_refused(client, username):
    sign_in(client, username)
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard/data").status_code == 403
    assert 'href="/dashboard"' not in text(client.get("/"))


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/dashboard/data")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_data_endpoint_has_every_figure_and_the_labels(client, late_case):
    sign_in(client, "director")
    response = client.get("/dashboard/data")
    assert response.status_code == 200 and response.mimetype == "application/json"
    data = response.get_json()
    assert len(data["weeks"]) == 12  # default: the last 12 ISO weeks
    assert (data["sla"]["met"], data["sla"]["breached"]) == (1, 1)
    assert data["sla"]["reasons"] == [{"reason": "等待检测", "cases": 1}]
    assert data["ageing"]["open"] == 2 and data["ageing"]["undecided_overdue"] == 1
    for key in ("throughput", "backlog", "visits", "escalations", "quality_feedback", "surveys", "warranty_cost"):
        assert key in data
    labels = data["labels"]
    assert labels["step"]["analyse_root_cause"] == "原因分析"  # the form titles, Chinese first
    assert labels["responsibility"]["supplier"] == "供方"
    assert set(labels["satisfaction"]) >= {"very_satisfied", "dissatisfied"}  # the visit round's form names them
    assert all(text != key for key, text in labels["satisfaction"].items())
    assert labels["locale"] == "zh-CN"


def test_data_endpoint_takes_a_period_and_refuses_a_bad_one(client, late_case):
    sign_in(client, "director")
    data = client.get("/dashboard/data?from=2026-01-05&to=2026-01-18").get_json()
    assert [w["label"] for w in data["weeks"]] == ["2026-W02", "2026-W03"]
    assert data["period"]["from"] == "2026-01-05"
    refused = client.get("/dashboard/data?from=2026-02-30")
    assert refused.status_code == 422 and "from" in refused.get_json()["fields"]


def test_page_has_charts_tables_and_links_to_the_filtered_lists(client, late_case):
    sign_in(client, "director")
    html = text(client.get("/dashboard"))
    assert html.count("<canvas data-chart=") == 11
    assert 'data-src="/dashboard/data?from=' in html  # the charts' JSON, same period
    assert 'href="/cases?overdue=1"' in html
    assert f'href="/cases/{late_case.id}"' in html and late_case.csi_no in html  # the latest late cases
    assert "等待检测" in html  # the recorded reason
    assert 'href="/cases?status=analysing"' in html  # ageing rows open the case list by status
    assert "<script>" not in html and " style=" not in html  # CSP: no inline script or style
    assert 'src="/static/vendor/chartjs/chart.umd.min.js"' in html


def test_page_warns_about_a_bad_period_and_shows_the_default(client):
    sign_in(client, "director")
    response = client.get("/dashboard?from=2026-05-01&to=2026-04-01")
    assert response.status_code == 200
    assert 'role="alert"' in text(response)


def test_page_is_chinese_first_and_english_on_request(client):
    sign_in(client, "director")
    assert "服务看板" in text(client.get("/dashboard"))
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    client.post("/lang/en", data={"csrf_token": token.group(1), "next": "/dashboard"})
    html = text(client.get("/dashboard"))
    assert "Service dashboard" in html and "First-visit fix rate" in html
    assert client.get("/dashboard/data").get_json()["labels"]["step"]["analyse_root_cause"] == "Root-cause analysis"
