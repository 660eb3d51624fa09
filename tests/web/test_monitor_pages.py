"""Monitoring pages: roles, the instance list (filters, sort, paging, CSV/XLSX), the instance page with its diagram
data and admin forms (reason required), incidents and the heatmap."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from typing import Any

import pytest
from openpyxl import load_workbook

from engine.aftersales.demo import DEMO_PASSWORD
from engine.errors import WorkflowRuntimeError
from engine.platform import incidents
from engine.reports.monitoring import InstanceFilters
from engine.reports.monitoring import list_instances
from tests.helpers import case_task
from tests.helpers import do
from tests.helpers import register


def token_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no csrf_token on the page"
    return found.group(1)


def signed_in(client: Any, username: str) -> Any:
    token = token_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "username": username, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    return client


def text(response: Any) -> str:
    return unescape(response.get_data(as_text=True))


@pytest.fixture
def cases(session, runtime, calendar, user_named):
    """Two complaints of different customers; the second is already at review."""
    manager = user_named("manager")
    first_csi, first = register(session, runtime, manager, calendar)
    second_csi, second = register(
        session, runtime, manager, calendar, customer_code="C002", origin_so_no="SO-2022-0042", serial_no="CNC500-0042"
    )
    do(session, runtime, second_csi.id, "analyse_root_cause", manager, calendar)
    session.commit()
    return {"first": first, "second": second, "first_csi": first_csi, "second_csi": second_csi}


def test_monitor_pages_need_a_monitoring_role(client, cases):
    assert client.get("/monitor/instances").status_code == 302  # to sign-in
    engineer = signed_in(client, "engineer")
    for path in (
        "/monitor/instances",
        f"/monitor/instances/{cases['first'].id}",
        "/monitor/incidents",
        "/monitor/heatmap",
    ):
        assert engineer.get(path).status_code == 403, path
    assert "/monitor/instances" not in text(engineer.get("/"))  # no nav link either


def test_designer_may_look_but_not_act(app, cases):
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    modeler = signed_in(client, "modeler")
    page = modeler.get(f"/monitor/instances/{cases['first'].id}")
    assert page.status_code == 200 and "/suspend" not in text(page)
    token = token_of(text(page))
    response = modeler.post(
        f"/monitor/instances/{cases['first'].id}/suspend", data={"csrf_token": token, "reason": "x"}
    )
    assert response.status_code == 403


def test_list_shows_business_columns_filters_and_sort_links(client, cases):
    director = signed_in(client, "director")
    html = text(director.get("/monitor/instances"))
    assert cases["first_csi"].csi_no in html and cases["second_csi"].csi_no in html
    assert "原因分析" in html and "评审CSI" in html and "北方重工集团" in html and "CNC500-0042" in html
    assert 'href="/monitor/instances?sort=csi"' in html and 'aria-sort="descending"' in html
    filtered = text(director.get("/monitor/instances?step=review_csi"))
    assert cases["second_csi"].csi_no in filtered and cases["first_csi"].csi_no not in filtered
    assert "sort=csi&amp;step=review_csi" in director.get("/monitor/instances?step=review_csi").get_data(as_text=True)
    by_customer = text(director.get("/monitor/instances?customer=北方"))
    assert cases["second_csi"].csi_no in by_customer and cases["first_csi"].csi_no not in by_customer
    bad = director.get("/monitor/instances?created_from=someday")
    assert bad.status_code == 422 and cases["first_csi"].csi_no in text(bad)  # shown unfiltered, with the message


def test_paging_counts_the_filtered_total(session, cases):
    page = list_instances(session, InstanceFilters(process_id="after_sales_case"), "id", 2, page_size=1)
    assert page.total == 2 and page.pages == 2 and [r.id for r in page.rows] == [cases["second"].id]
    assert list_instances(session, InstanceFilters(status="error")).total == 0


def test_csv_and_xlsx_export_the_filtered_list(client, cases):
    director = signed_in(client, "director")
    response = director.get("/monitor/instances?format=csv&sort=id")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    assert len(rows) == 3 and rows[1][0] == str(cases["first"].id) and rows[1][1] == cases["first_csi"].csi_no
    assert rows[1][9] == "原因分析" and rows[2][3] == "北方重工集团"
    one = director.get("/monitor/instances?format=csv&customer=C002").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(one.lstrip("\ufeff"))))) == 2

    xlsx = director.get("/monitor/instances?format=xlsx&sort=id")
    assert xlsx.status_code == 200 and xlsx.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = load_workbook(io.BytesIO(xlsx.get_data()), read_only=True).active
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(values) == 3 and values[1][0] == cases["first"].id and values[2][1] == cases["second_csi"].csi_no
    assert values[1][12] is not None and values[1][12].year >= 2026  # a real date cell, business time


def test_instance_page_has_diagram_data_timeline_and_actions(client, cases):
    director = signed_in(client, "director")
    response = director.get(f"/monitor/instances/{cases['first'].id}")
    html = response.get_data(as_text=True)
    config = json.loads(unescape(re.search(r'data-config="([^"]+)"', html).group(1)))
    diagrams = {d["process_id"]: d for d in config["diagrams"]}
    assert diagrams["decide_service_plan"]["states"]["active"] == ["analyse_root_cause"]
    assert config["badges"][0]["bpmn_id"] == "analyse_root_cause" and config["badges"][0]["text"]
    xml = director.get(diagrams["decide_service_plan"]["url"])
    assert xml.status_code == 200 and xml.mimetype == "application/xml" and b'id="analyse_root_cause"' in xml.data
    assert director.get("/monitor/versions/1/diagrams/nope.bpmn").status_code == 404
    page = unescape(html)
    assert "登记CSI" in page and cases["first_csi"].csi_no in page
    for action in ("suspend", "terminate"):
        assert f"/monitor/instances/{cases['first'].id}/{action}" in page
    assert f"/monitor/instances/{cases['first'].id}/resume" not in page


def test_suspend_form_requires_a_reason_then_suspends(client, cases, session):
    director = signed_in(client, "director")
    path = f"/monitor/instances/{cases['first'].id}"
    token = token_of(director.get(path).get_data(as_text=True))
    missing = director.post(f"{path}/suspend", data={"csrf_token": token, "reason": " "})
    assert missing.status_code == 422 and 'id="reason-suspend-error"' in missing.get_data(as_text=True)
    done = director.post(f"{path}/suspend", data={"csrf_token": token, "reason": "客户要求暂停"})
    assert done.status_code == 302
    page = text(director.get(path))
    assert "客户要求暂停" in page and f"{path}/resume" in page
    session.expire_all()
    assert session.get(type(cases["first"]), cases["first"].id).status == "suspended"
    session.rollback()  # SQLite: release the lock before the next request
    assert director.post(f"{path}/nonsense", data={"csrf_token": token, "reason": "x"}).status_code == 404


def test_reassign_form(client, cases, session):
    task = case_task(session, cases["first_csi"].id, "analyse_root_cause")
    session.commit()
    supervisor = signed_in(client, "supervisor")
    token = token_of(supervisor.get(f"/monitor/instances/{cases['first'].id}").get_data(as_text=True))
    missing = supervisor.post(f"/monitor/tasks/{task.id}/reassign", data={"csrf_token": token, "username": "hr"})
    assert missing.status_code == 422
    done = supervisor.post(
        f"/monitor/tasks/{task.id}/reassign", data={"csrf_token": token, "username": "hr", "reason": "临时人员"}
    )
    assert done.status_code == 302
    session.expire_all()
    assert session.get(type(task), task.id).assignee == "hr"


def test_incidents_page_lists_parked_instances_with_retry(client, cases, session):
    instance = session.get(type(cases["first"]), cases["first"].id)
    incidents.park(session, instance, WorkflowRuntimeError("RuntimeError: CRM unreachable", bpmn_id="flag_sla_breach"))
    session.commit()
    director = signed_in(client, "director")
    html = text(director.get("/monitor/incidents"))
    assert "CRM unreachable" in html and "记录响应超时" in html and f"/monitor/instances/{instance.id}/retry" in html
    listed = text(director.get("/monitor/instances?status=error"))
    assert cases["first_csi"].csi_no in listed and cases["second_csi"].csi_no not in listed
    page = text(director.get(f"/monitor/instances/{instance.id}"))
    assert "CRM unreachable" in page and "flag_sla_breach" in page


def test_heatmap_page(client, cases):
    director = signed_in(client, "director")
    response = director.get("/monitor/heatmap")
    html = text(response)
    assert response.status_code == 200 and "原因分析" in html and "analyse_root_cause" in html
    raw = response.get_data(as_text=True)
    config = json.loads(unescape(re.search(r'data-config="([^"]+)"', raw).group(1)))
    heat = {c["bpmn_id"]: c for c in config["heat"]}
    assert heat["analyse_root_cause"]["waiting"] == 1 and heat["review_csi"]["waiting"] == 1
    assert director.get("/monitor/heatmap?pv=after_sales_case:1").status_code == 200
    assert director.get("/monitor/heatmap?process_id=nope").status_code == 404


def test_monitor_pages_have_no_inline_script_or_style(client, cases):
    director = signed_in(client, "director")
    for path in (
        "/monitor/instances",
        f"/monitor/instances/{cases['first'].id}",
        "/monitor/incidents",
        "/monitor/heatmap",
    ):
        html = director.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert " style=" not in html and "<style" not in html, path
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), path
