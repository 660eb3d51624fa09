"""Statements per task-completion request, authentication and the answer included (issue 12 target: at most 8)."""

from __future__ import annotations

from functools import partial
from typing import Any

from tests.helpers import ANSWERS
from tests.helpers import QUALITY_COMPLAINT
from tests.helpers import counting_statements

BUDGET = 8


def _counted(app: Any, call: Any) -> tuple[Any, list[str]]:
    with counting_statements() as seen:  # every engine of the app: reads have their own pool on SQLite
        response = call()
    return response, [s for s in seen if not s.startswith(("PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE"))]


def test_a_completion_request_stays_within_the_statement_budget(app, api):
    manager = api("manager")
    case = manager.post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json()
    task = next(t for t in manager.get(f"/api/v1/tasks?case_id={case['id']}").get_json())
    path = f"/api/v1/tasks/{task['id']}/complete"
    manager.post(f"/api/v1/tasks/{task['id']}/claim")  # warms the token cache like any earlier call
    response, statements = _counted(app, lambda: manager.post(path, json={"data": ANSWERS["analyse_root_cause"]}))
    assert response.status_code == 200, response.get_json()
    print(f"statements per completion request: {len(statements)}")
    assert len(statements) <= BUDGET, "\n".join(s[:90].replace("\n", " ") for s in statements)


def test_a_completion_costs_the_same_statements_and_bytes_however_old_the_case(app, api):
    """Issue 12: the answer no longer carries the case's records and timeline, so it does not grow with visit rounds."""
    manager, supervisor, engineer = api("manager"), api("supervisor"), api("engineer")
    case = manager.post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json()
    who = {"review_csi": supervisor, "field_visit": engineer}

    def complete(bpmn_id: str, data: dict[str, Any]) -> tuple[Any, list[str]]:
        caller = who.get(bpmn_id, manager)
        task = next(t for t in caller.get(f"/api/v1/tasks?case_id={case['id']}").get_json() if t["bpmn_id"] == bpmn_id)
        path = f"/api/v1/tasks/{task['id']}/complete"
        response, statements = _counted(app, lambda: caller.post(path, json={"data": data}))
        assert response.status_code == 200, response.get_json()
        return response, statements

    for bpmn_id in ("analyse_root_cause", "review_csi", "answer_customer", "issue_work_order"):
        complete(bpmn_id, ANSWERS[bpmn_id])
    unsolved = {**ANSWERS["field_visit"], "outcome": "unsolved", "satisfaction": "neutral"}
    costs = []
    for _ in range(4):
        complete("field_visit", unsolved)
        response, statements = complete("technical_support", ANSWERS["technical_support"])
        costs.append((len(statements), len(response.get_data())))
    assert costs[-1][0] == costs[1][0]
    assert costs[-1][1] <= costs[1][1] * 1.05


def test_a_registration_answer_reads_no_row_the_registration_already_loaded(app, api):
    """The customer is looked up by code to check the request; the answer's duplicate check names it again without
    selecting it a second time (it was selected by id after the step, one statement per registration)."""
    manager = api("manager")
    manager.post("/api/v1/cases", json=QUALITY_COMPLAINT)  # warms the token cache and the parsed models
    response, statements = _counted(app, lambda: manager.post("/api/v1/cases", json=QUALITY_COMPLAINT))
    assert response.status_code == 201, response.get_json()
    customer_reads = [s for s in statements if s.startswith("SELECT") and "FROM customer" in s.split("WHERE")[0]]
    assert len(customer_reads) == 1, customer_reads


LANE_USERS = {
    "analyse_root_cause": "manager",
    "review_csi": "supervisor",
    "answer_customer": "manager",
    "issue_work_order": "manager",
    "field_visit": "engineer",
}


def _complete_counted(app: Any, api: Any, until: str) -> tuple[Any, list[str]]:
    """Register a case, complete its tasks up to `until` as their lanes' users, and count the statements of the
    completion of `until` (the answer and the statements)."""
    case = api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json()
    for bpmn_id, username in LANE_USERS.items():
        user = api(username)
        task = next(t for t in user.get(f"/api/v1/tasks?case_id={case['id']}").get_json() if t["bpmn_id"] == bpmn_id)
        post = partial(user.post, f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS[bpmn_id]})
        if bpmn_id == until:
            response, statements = _counted(app, post)
            assert response.status_code == 200, response.get_json()
            return response, statements
        assert post().status_code == 200
    raise AssertionError(f"{until} is not one of {list(LANE_USERS)}")


def test_the_work_order_issued_is_not_selected_again_when_its_first_visit_round_opens(app, api):
    """The WO the step inserts is held by the step like the rows it loads, so the operator opening its first visit
    round finds it in the identity map instead of selecting it again."""
    response, statements = _complete_counted(app, api, "issue_work_order")
    assert any(t["bpmn_id"] == "field_visit" for t in response.get_json()["next_tasks"])  # the round was opened
    assert not [s for s in statements if s.startswith("SELECT") and "FROM work_order" in s], statements


def test_the_visit_that_wakes_its_case_does_not_read_the_case_version_again(app, api):
    """The field visit's completion delivers the round's message to the case instance, which is warm from its own
    last step: the warm workflow is taken by the instance's version id, so the version row is not selected."""
    response, statements = _complete_counted(app, api, "field_visit")
    assert any(t["bpmn_id"] == "close_case" for t in response.get_json()["next_tasks"])  # the case was woken
    assert not [s for s in statements if "FROM process_version" in s], statements
