"""§5–§6 through the HTTP API as the roles would: every new task refuses bad data (422) and the wrong role (403)."""

from __future__ import annotations

import pytest

from tests.helpers import ANSWERS
from tests.helpers import QUALITY_COMPLAINT

# task -> (who does it, someone who may not, a bad change and the field it names)
NEW_TASKS = {
    "issue_parts_so": ("manager", "engineer", {"lines": []}, "lines"),
    "issue_work_order": ("manager", "sales", {"labour_rate": -5}, "labour_rate"),
    "arrange_overseas_formalities": ("hr", "manager", {"visa_status": "maybe"}, "visa_status"),
    "field_visit": ("engineer", "manager", {"labour_hours": 0}, "labour_hours"),
    "quality_feedback_review": ("qc", "engineer", {"disposition": "ignore"}, "disposition"),
    "send_claim": ("sales", "qc", {"claim_amount": "lots"}, "claim_amount"),
    "claim_answer": ("sales", "engineer", {"supplier_answer": "maybe"}, "supplier_answer"),
    "claim_settlement": ("sales", "manager", {"settled_on": "someday"}, "settled_on"),
    "technical_support": ("manager", "engineer", {"agreed_next_steps": ""}, "agreed_next_steps"),
    "plan_training": ("manager", "hr", {"trainees": 0}, "trainees"),
    "issue_training_work_order": ("manager", "qc", {"engineers": []}, "engineers"),
    "deliver_training": ("manager", "engineer", {"attendance": -1}, "attendance"),
    "close_case": ("manager", "supervisor", {"archive_location": ""}, "archive_location"),
}


@pytest.fixture
def walk(api):
    """Drive a case through the API; `step(bpmn_id, **changes)` checks 403 and 422, then completes the task."""

    def start(**register_changes):
        case = api("manager").post("/api/v1/cases", json={**QUALITY_COMPLAINT, **register_changes}).get_json()
        return case

    def task(case, bpmn_id, username):
        listed = api(username).get(f"/api/v1/tasks?case_id={case['id']}").get_json()
        return next(t for t in listed if t["bpmn_id"] == bpmn_id)

    def step(case, bpmn_id, username=None, **changes):
        owner, outsider, bad, field = NEW_TASKS.get(bpmn_id, (username, None, None, None))
        username = username or owner
        current = task(case, bpmn_id, username)
        data = {**ANSWERS[bpmn_id], **changes}
        url = f"/api/v1/tasks/{current['id']}/complete"
        if outsider:
            assert api(outsider).post(url, json={"data": data}).status_code == 403, (bpmn_id, outsider)
        if bad:
            refused = api(username).post(url, json={"data": {**data, **bad}})
            assert refused.status_code == 422 and field in refused.get_json()["fields"], refused.get_json()
        done = api(username).post(url, json={"data": data})
        assert done.status_code == 200, done.get_json()
        return done.get_json()

    return start, step


def test_field_service_with_quality_problem_and_supplier_claim_end_to_end(walk, api):
    start, step = walk
    case = start()
    step(case, "analyse_root_cause", "manager")
    step(case, "review_csi", "supervisor", service_plan=["field_service", "parts_only", "training"])
    step(case, "answer_customer", "manager")
    step(case, "issue_parts_so")
    step(case, "issue_work_order", overseas_site=True, site="Stuttgart")
    step(case, "arrange_overseas_formalities")
    step(case, "plan_training")
    step(case, "deliver_training")
    visit = step(
        case,
        "field_visit",
        outcome="unsolved",
        quality_problem_found=True,
        quality_problem_description="主轴轴承剥落",
        old_parts="unrecoverable",
    )
    assert {t["bpmn_id"] for t in visit["next_tasks"]} >= {
        "quality_feedback_review",
        "send_claim",
        "technical_support",
    }
    step(case, "quality_feedback_review")
    step(case, "send_claim")
    step(case, "technical_support")
    final = step(case, "field_visit")
    assert [t["bpmn_id"] for t in final["next_tasks"]] == ["claim_answer", "close_case"]  # the claim runs on (§5.5)
    step(case, "claim_answer", supplier_answer="partly_accepted", accepted_amount=800.0)
    step(case, "claim_settlement", recovered_amount=800.0)
    closed = step(case, "close_case")
    assert closed["case"]["status"] == "closed"
    body = api("director").get(f"/api/v1/cases/{case['id']}").get_json()
    assert body["status"] == "closed" and body["csi"]["archive_location"]


def test_training_request_end_to_end_at_the_customer_site(walk):
    start, step = walk
    case = start(kind="training_request")
    step(case, "plan_training", training_location="customer_site")
    step(case, "issue_training_work_order")
    step(case, "training_visit", "engineer")  # §6.3: the training visit's own form
    assert step(case, "close_case")["case"]["status"] == "closed"
