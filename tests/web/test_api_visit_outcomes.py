"""Issue 9 item 7 through the task API and the pages, as the roles would: the §6.3 training visit form and the §5.8
decisions (neutral customer, ending a service the customer will not accept): wrong role 403, bad data 422 naming
the field with nothing written, and what the case page and the service archive then show."""

from __future__ import annotations

import pytest

from tests.helpers import ANSWERS
from tests.helpers import QUALITY_COMPLAINT
from tests.web.test_pages_flow import browser
from tests.web.test_pages_flow import sign_in
from tests.web.test_pages_flow import text_of


@pytest.fixture
def walk(api):
    """`start()` registers a complaint; `task(case, id, user)` finds its open task; `send(...)` completes it."""

    def start():
        return api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json()

    def task(case, bpmn_id, username):
        listed = api(username).get(f"/api/v1/tasks?case_id={case['id']}").get_json()
        return next(t for t in listed if t["bpmn_id"] == bpmn_id)

    def send(case, bpmn_id, username, finder=None, **changes):
        current = task(case, bpmn_id, finder or username)
        data = {**ANSWERS[bpmn_id], **changes}
        return api(username).post(f"/api/v1/tasks/{current['id']}/complete", json={"data": data})

    def open_ids(case, username="director"):
        return sorted(t["bpmn_id"] for t in api(username).get(f"/api/v1/tasks?case_id={case['id']}").get_json())

    def to_dispatch(plan):
        case = start()
        assert send(case, "analyse_root_cause", "manager").status_code == 200
        assert send(case, "review_csi", "supervisor", service_plan=plan).status_code == 200
        assert send(case, "answer_customer", "manager").status_code == 200
        return case

    return to_dispatch, send, open_ids


def test_training_visit_form_roles_and_refusals(walk):
    to_dispatch, send, open_ids = walk
    case = to_dispatch(["training"])
    assert send(case, "plan_training", "manager", training_location="customer_site").status_code == 200
    assert send(case, "issue_training_work_order", "manager").status_code == 200
    assert "training_visit" in open_ids(case, "engineer") and "field_visit" not in open_ids(case, "engineer")
    assert send(case, "training_visit", "manager", finder="engineer").status_code == 403  # the WO's engineer's task
    for bad, field in (
        ({"modules_delivered": ["焊接工艺"]}, "modules_delivered"),  # not in the product's syllabus (§6.1)
        ({"attendance": []}, "attendance"),
        ({"attendance": [{"name": "李明", "position": "操作工", "present": False}]}, "attendance"),
        ({"parts_used": []}, "parts_used"),  # no parts on a training visit
    ):
        refused = send(case, "training_visit", "engineer", **bad)
        assert refused.status_code == 422 and field in refused.get_json()["fields"], refused.get_json()
    assert "training_visit" in open_ids(case, "engineer")  # nothing written
    assert send(case, "training_visit", "engineer").status_code == 200
    assert open_ids(case, "manager") == ["close_case"]


def test_neutral_customer_goes_to_the_manager_only(walk):
    to_dispatch, send, open_ids = walk
    case = to_dispatch(["field_service"])
    assert send(case, "issue_work_order", "manager").status_code == 200
    assert send(case, "field_visit", "engineer", satisfaction="neutral").status_code == 200
    assert open_ids(case, "manager") == ["decide_neutral_outcome"]
    assert send(case, "decide_neutral_outcome", "engineer", finder="manager").status_code == 403
    refused = send(case, "decide_neutral_outcome", "manager", decision_note="")
    assert refused.status_code == 422 and "decision_note" in refused.get_json()["fields"]
    assert send(case, "decide_neutral_outcome", "manager", neutral_decision="end").status_code == 200
    assert open_ids(case, "manager") == ["close_case"]


def test_ending_the_service_needs_the_director_and_shows_on_the_case_and_archive(walk, app):
    to_dispatch, send, open_ids = walk
    case = to_dispatch(["field_service"])
    assert send(case, "issue_work_order", "manager").status_code == 200
    assert send(case, "field_visit", "engineer", outcome="unsolved").status_code == 200
    propose = {"support_outcome": "propose_end", "agreed_next_steps": "", "end_reason": "顾客坚持整机退货，协商无果"}
    assert send(case, "technical_support", "engineer", finder="manager", **propose).status_code == 403
    refused = send(case, "technical_support", "manager", **{**propose, "end_reason": ""})
    assert refused.status_code == 422 and "end_reason" in refused.get_json()["fields"]
    assert open_ids(case, "manager") == ["technical_support"]  # nothing written
    assert send(case, "technical_support", "manager", **propose).status_code == 200
    assert open_ids(case) == ["approve_end_of_service"]
    for outsider in ("engineer", "manager"):  # neither may approve: the director's lane (§5.8)
        assert send(case, "approve_end_of_service", outsider, finder="director").status_code == 403
    refused = send(case, "approve_end_of_service", "director", director_note="")
    assert refused.status_code == 422 and "director_note" in refused.get_json()["fields"]
    assert send(case, "approve_end_of_service", "director").status_code == 200
    assert open_ids(case, "manager") == ["close_case"]
    manager = browser(app)
    assert sign_in(manager, "manager").status_code == 302
    page = text_of(manager.get(f"/cases/{case['id']}"))
    assert 'id="service-end"' in page and "顾客坚持整机退货，协商无果" in page
    archive = text_of(manager.get(f"/archives/{QUALITY_COMPLAINT['serial_no']}"))
    assert "顾客坚持整机退货" in archive and "service-end" in archive
