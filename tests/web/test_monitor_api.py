"""Monitoring API: instance list filters/sort/paging (old params still work), detail, admin actions and reassign."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from tests.helpers import ANSWERS
from tests.helpers import case_task
from tests.helpers import do
from tests.helpers import register


@pytest.fixture
def three_cases(session, runtime, calendar, user_named):
    """Three complaints: one still at root-cause analysis, one at review, one overdue (received 20 days ago)."""
    manager = user_named("manager")
    at_analysis, first = register(session, runtime, manager, calendar)
    at_review, second = register(
        session, runtime, manager, calendar, origin_so_no="SO-2022-0042", serial_no="CNC500-0042", customer_code="C002"
    )
    do(session, runtime, at_review.id, "analyse_root_cause", manager, calendar)
    late, third = register(session, runtime, manager, calendar, received_at=datetime.now(UTC) - timedelta(days=20))
    session.commit()
    return {"analysis": first, "review": second, "late": third, "csi": (at_analysis, at_review, late)}


def ids(response):
    assert response.status_code == 200, response.get_json()
    return [row["id"] for row in response.get_json()]


def test_old_query_parameters_keep_working(api, three_cases):
    director = api("director")
    everything = ids(director.get("/api/v1/instances"))
    assert everything == sorted(everything, reverse=True) and len(everything) == 3
    assert ids(director.get("/api/v1/instances?status=running&process_id=after_sales_case")) == everything
    assert ids(director.get("/api/v1/instances?overdue=true")) == [three_cases["late"].id]
    assert ids(director.get("/api/v1/instances?process_id=field_visit_round")) == []


def test_filters_narrow_the_list(api, three_cases):
    director = api("director")
    analysis, review, late = three_cases["analysis"].id, three_cases["review"].id, three_cases["late"].id
    assert ids(director.get("/api/v1/instances?step=analyse_root_cause")) == [late, analysis]
    assert ids(director.get("/api/v1/instances?step=review_csi")) == [review]
    assert ids(director.get("/api/v1/instances?lane=service_supervisor")) == [late, review]  # review + overdue task
    assert ids(director.get("/api/v1/instances?customer=C002")) == [review]
    assert ids(director.get("/api/v1/instances?customer=北方重工")) == [review]
    assert ids(director.get("/api/v1/instances?serial=CNC500-0042")) == [review]
    assert ids(director.get("/api/v1/instances?product=P-CNC500")) == [late, review, analysis]
    assert ids(director.get("/api/v1/instances?product=P-NOPE")) == []
    assert ids(director.get("/api/v1/instances?process_id=after_sales_case&version=1")) == [late, review, analysis]
    assert ids(director.get("/api/v1/instances?version=99")) == []
    today = datetime.now(UTC).date()
    assert len(ids(director.get(f"/api/v1/instances?created_from={today - timedelta(days=1)}"))) == 3
    assert ids(director.get(f"/api/v1/instances?created_to={today - timedelta(days=2)}")) == []
    assert ids(director.get("/api/v1/instances?status=suspended")) == []


def test_sorting_and_paging_with_total_count(api, three_cases):
    director = api("director")
    analysis, review, late = three_cases["analysis"].id, three_cases["review"].id, three_cases["late"].id
    assert ids(director.get("/api/v1/instances?sort=id")) == [analysis, review, late]
    assert ids(director.get("/api/v1/instances?sort=sla"))[0] == late  # earliest §4.6 deadline first
    assert ids(director.get("/api/v1/instances?sort=-customer")) == [late, analysis, review]  # 华东 > 北方, then -id
    first = director.get("/api/v1/instances?page_size=2&sort=id")
    assert ids(first) == [analysis, review]
    assert first.headers["X-Total-Count"] == "3" and 'rel="next"' in first.headers["Link"]
    second = director.get("/api/v1/instances?page_size=2&sort=id&page=2")
    assert ids(second) == [late] and 'rel="prev"' in second.headers["Link"]
    by_per_page = director.get("/api/v1/instances?per_page=2&sort=id")  # the name /cases and /tasks use
    assert ids(by_per_page) == [analysis, review] and "per_page=2" in by_per_page.headers["Link"]
    row = director.get("/api/v1/instances?step=review_csi").get_json()[0]
    assert row["csi_no"] and row["customer_name"] == "北方重工集团" and row["steps"][0]["name"] == "评审CSI"
    assert row["sla_due_at"] and row["overdue"] is False and row["version"] == 1


@pytest.mark.parametrize(
    "query",
    [
        "status=sleeping",
        "version=abc",
        "created_from=yesterday",
        "step=drop%20table",
        "page=0",
        "page_size=x",
        "per_page=0",
    ],
)
def test_bad_list_parameters_are_422(api, query):
    response = api("director").get(f"/api/v1/instances?{query}")
    assert response.status_code == 422 and response.get_json()["fields"]


def test_detail_has_diagrams_states_badges_and_tasks(api, three_cases):
    detail = api("supervisor").get(f"/api/v1/instances/{three_cases['analysis'].id}").get_json()
    diagrams = {d["process_id"]: d for d in detail["diagrams"]}
    assert list(diagrams) == ["after_sales_case", "decide_service_plan"]
    assert "analyse_root_cause" in diagrams["decide_service_plan"]["states"]["active"]
    assert "case_received" in diagrams["after_sales_case"]["states"]["completed"]
    assert [t["bpmn_id"] for t in detail["open_tasks"]] == ["analyse_root_cause"]
    assert detail["badges"][0]["bpmn_id"] == "analyse_root_cause" and detail["badges"][0]["due_at"]
    assert detail["timeline"][0]["kind"] == "csi.registered"  # the case's own entries come first
    assert api("director").get("/api/v1/instances/999999").status_code == 404


def test_suspend_refuses_completion_until_resumed(api, three_cases, session):
    director, manager = api("director"), api("manager")
    instance_id = three_cases["analysis"].id
    task = case_task(session, three_cases["csi"][0].id, "analyse_root_cause")
    session.commit()
    response = director.post(f"/api/v1/instances/{instance_id}/suspend", json={"reason": "客户要求暂停"})
    assert response.status_code == 200 and response.get_json()["status"] == "suspended"
    blocked = manager.post(f"/api/v1/tasks/{task.id}/complete", json={"data": ANSWERS["analyse_root_cause"]})
    assert blocked.status_code == 409
    assert director.post(f"/api/v1/instances/{instance_id}/suspend", json={"reason": "again"}).status_code == 409
    assert director.post(f"/api/v1/instances/{instance_id}/resume", json={"reason": "恢复"}).status_code == 200
    done = manager.post(f"/api/v1/tasks/{task.id}/complete", json={"data": ANSWERS["analyse_root_cause"]})
    assert done.status_code == 200
    kinds = [e["kind"] for e in director.get(f"/api/v1/instances/{instance_id}").get_json()["timeline"]]
    assert kinds.index("instance.suspended") < kinds.index("instance.resumed") < kinds.index("task.completed")


@pytest.mark.parametrize("action", ["suspend", "resume", "terminate", "retry"])
def test_actions_need_a_reason_and_a_service_role(api, three_cases, action):
    path = f"/api/v1/instances/{three_cases['analysis'].id}/{action}"
    missing = api("director").post(path, json={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["fields"]
    assert api("director").post(path, json={"reason": "  "}).status_code == 422
    assert api("engineer").post(path, json={"reason": "why"}).status_code == 403
    assert api("modeler").post(path, json={"reason": "why"}).status_code == 403
    assert api("director").post(path, data="not json").status_code == 422


def test_terminate_and_retry_conflicts(api, three_cases):
    director = api("director")
    instance_id = three_cases["review"].id
    assert director.post(f"/api/v1/instances/{instance_id}/retry", json={"reason": "x"}).status_code == 409
    terminated = director.post(f"/api/v1/instances/{instance_id}/terminate", json={"reason": "客户撤回"})
    assert terminated.status_code == 200 and terminated.get_json()["status"] == "terminated"
    assert terminated.get_json()["steps"] == []
    assert director.post(f"/api/v1/instances/{instance_id}/terminate", json={"reason": "x"}).status_code == 409
    assert director.get(f"/api/v1/tasks?case_id={three_cases['csi'][1].id}").get_json() == []


def test_reassign_a_task(api, three_cases, session):
    task = case_task(session, three_cases["csi"][0].id, "analyse_root_cause")
    session.commit()
    path = f"/api/v1/tasks/{task.id}/reassign"
    response = api("supervisor").post(path, json={"username": "director", "reason": "经理休假"})
    assert response.status_code == 200 and response.get_json()["assignee"] == "director"
    assert api("supervisor").post(path, json={"username": "ghost", "reason": "x"}).status_code == 422
    assert api("supervisor").post(path, json={"username": "manager"}).status_code == 422
    assert api("engineer").post(path, json={"username": "manager", "reason": "x"}).status_code == 403
    unknown = api("supervisor").post("/api/v1/tasks/nope/reassign", json={"username": "x", "reason": "x"})
    assert unknown.status_code == 404
