"""Any deployed process runs (issue 7): a designer's three-lane process is deployed through the API, started by its
start lane's role, worked task by task by each lane's role and seen finished in monitoring; deployments are the
files uploaded (one owner file per id, retire, non-executable, recursion, JUEL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.records.process import ProcessInstance
from tests.helpers import ANSWERS

GENERAL = Path(__file__).resolve().parent.parent / "corpus" / "general"
BPMN = (GENERAL / "spare_part_return.bpmn").read_bytes()
FORMS = {p.name: p.read_bytes() for p in (GENERAL / "forms").glob("*.json")}
START = {"customer_code": "C001", "part_no": "BRG-6205", "reason": "轴承异响，客户要求退回"}


def upload(api, files: dict[str, bytes], user: str = "modeler", field: str = "files"):
    """Deploy through the API, sending every file in ONE multipart field, as `<input type=file multiple>` does."""
    from io import BytesIO

    data = {field: [(BytesIO(content), name) for name, content in files.items()]}
    return api(user).post("/api/v1/process-definitions", data=data, content_type="multipart/form-data")


def deploy_return_process(api):
    response = upload(api, {"spare_part_return.bpmn": BPMN, **FORMS})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_several_files_in_one_multipart_field_all_count(api):
    body = deploy_return_process(api)
    assert [v["process_id"] for v in body["created"]] == ["spare_part_return"]
    assert body["notes"] == []  # the start event is in the service manager's lane


def test_a_designers_three_lane_process_runs_end_to_end_through_the_api(api, session):
    deploy_return_process(api)
    startable = api("manager").get("/api/v1/process-definitions/startable").get_json()
    [item] = [s for s in startable if s["process_id"] == "spare_part_return"]
    assert item["version"] == 1 and item["name"] == "备件退回"
    assert item["start_form"]["schema"]["required"] == ["customer_code", "part_no", "reason"]
    assert "after_sales_case" not in {s["process_id"] for s in startable}  # a case is started by registering it
    assert "spare_part_return" not in {
        s["process_id"] for s in api("sales").get("/api/v1/process-definitions/startable").get_json()
    }

    refused = api("sales").post("/api/v1/process-definitions/spare_part_return/instances", json={"data": START})
    assert refused.status_code == 403
    bad = api("manager").post("/api/v1/process-definitions/spare_part_return/instances", json={"data": {"part_no": 7}})
    assert bad.status_code == 422 and {"part_no", "customer_code", "reason"} <= set(bad.get_json()["fields"])
    unknown = api("manager").post("/api/v1/process-definitions/no_such/instances", json={"data": {}})
    assert unknown.status_code == 404
    assert session.query(ProcessInstance).filter_by(process_id="spare_part_return").count() == 0
    session.commit()

    started = api("manager").post("/api/v1/process-definitions/spare_part_return/instances", json={"data": START})
    assert started.status_code == 201, started.get_json()
    body = started.get_json()
    instance = body["instance"]
    assert instance["process_id"] == "spare_part_return" and instance["version"] == 1
    assert instance["status"] == "running" and instance["business_key"] == "BRG-6205 / C001"
    [approve] = body["next_tasks"]
    assert approve["bpmn_id"] == "approve_return" and approve["case_id"] is None and approve["csi_no"] is None
    assert approve["business_key"] == "BRG-6205 / C001" and approve["lane"] == "service_manager"

    steps = [
        ("manager", "approve_return", {"approved": True, "comment": "同意退回"}),
        ("qc", "inspect_part", {"defect_confirmed": True, "findings": "滚道剥落"}),
        ("sales", "credit_customer", {"credit_amount": 380.0, "credit_note_no": "CN-88"}),
    ]
    task_id = approve["id"]
    for user, bpmn_id, data in steps:
        mine = api(user).get("/api/v1/tasks").get_json()
        [task] = [t for t in mine if t["id"] == task_id]
        assert task["bpmn_id"] == bpmn_id and task["business_key"] == "BRG-6205 / C001"
        wrong = "sales" if user != "sales" else "qc"
        assert api(wrong).post(f"/api/v1/tasks/{task_id}/complete", json={"data": data}).status_code == 403
        done = api(user).post(f"/api/v1/tasks/{task_id}/complete", json={"data": data})
        assert done.status_code == 200, done.get_json()
        result = done.get_json()
        assert result["instance"]["id"] == instance["id"] and "case" not in result
        task_id = result["next_tasks"][0]["id"] if result["next_tasks"] else None
    assert task_id is None

    detail = api("director").get(f"/api/v1/instances/{instance['id']}").get_json()
    assert detail["status"] == "completed"
    assert {"approve_return", "inspect_part", "credit_customer"} <= set(detail["elements"]["completed"])
    listed = api("director").get("/api/v1/instances?process_id=spare_part_return").get_json()
    assert [row["id"] for row in listed] == [instance["id"]]


def test_a_process_without_lanes_is_started_by_designers_only_and_the_deploy_says_so(api):
    laneless = BPMN.replace(b"<bpmn:flowNodeRef>return_requested</bpmn:flowNodeRef>", b"")  # the start: in no lane
    response = upload(api, {"spare_part_return.bpmn": laneless, **FORMS})
    assert response.status_code == 201, response.get_json()
    assert any("only process designers and admins may start it" in n for n in response.get_json()["notes"])
    assert (
        api("manager").post("/api/v1/process-definitions/spare_part_return/instances", json={"data": START}).status_code
        == 403
    )
    assert (
        api("modeler").post("/api/v1/process-definitions/spare_part_return/instances", json={"data": START}).status_code
        == 201
    )


def test_a_process_id_belongs_to_the_file_that_declares_it(api):
    deploy_return_process(api)
    copy = upload(api, {"copy_of_return.bpmn": BPMN, **FORMS})
    assert copy.status_code == 422
    [problem] = [p for p in copy.get_json()["errors"] if "spare_part_return" in p["message"]]
    assert problem["file"] == "copy_of_return.bpmn"
    assert "declared by spare_part_return.bpmn" in problem["message"] and "rename" in problem["message"]


def test_two_uploaded_files_declaring_process_1_are_refused_naming_both_with_the_default_id_hint(api):
    first = BPMN.replace(b"spare_part_return", b"Process_1")
    response = upload(api, {"a.bpmn": first, "b.bpmn": first, **FORMS})
    assert response.status_code == 422
    messages = [p["message"] for p in response.get_json()["errors"] if p["file"] == "b.bpmn"]
    hint = "bpmn-js and Camunda Modeler give every new diagram"
    assert any("declared by a.bpmn" in m and hint in m for m in messages)


def test_each_designers_model_is_its_own_deployment_not_an_overlay(api):
    """Two unrelated models that both use the default id would clash only if deploys overlaid everything."""
    deploy_return_process(api)
    other = BPMN.replace(b"spare_part_return", b"warranty_check")
    response = upload(api, {"warranty_check.bpmn": other})  # its forms are already deployed
    assert response.status_code == 201, response.get_json()
    assert [v["process_id"] for v in response.get_json()["created"]] == ["warranty_check"]
    unchanged = upload(api, {"spare_part_return.bpmn": BPMN})
    assert unchanged.status_code == 200 and unchanged.get_json()["created"] == []


def test_a_new_dmn_file_versions_only_the_processes_that_call_it(api):
    deploy_return_process(api)
    dmn = (Path(__file__).resolve().parents[2] / "workflows" / "service_billing.dmn").read_bytes()
    response = upload(api, {"service_billing.dmn": dmn.replace(b"</definitions>", b"<!-- v2 -->\n</definitions>")})
    created = {v["process_id"] for v in response.get_json()["created"]}
    assert created == {"after_sales_case", "decide_service_plan"}  # the case calls the plan, which calls the DMN


def test_non_executable_processes_are_reported_not_answered_ok(api):
    response = upload(api, {"sketch.bpmn": BPMN.replace(b'isExecutable="true"', b'isExecutable="false"')})
    assert response.status_code == 422
    [problem] = [e for e in response.get_json()["errors"] if "isExecutable" in e["message"]]
    assert "has isExecutable='false': nothing deployed" in problem["message"] and problem["line"]


def test_recursive_call_activities_are_refused(api):
    recursive = BPMN.replace(
        b'<bpmn:userTask id="inspect_part" name="',
        b'<bpmn:callActivity id="again" calledElement="spare_part_return" /><bpmn:userTask id="inspect_part" name="',
    )
    response = upload(api, {"spare_part_return.bpmn": recursive, **FORMS})
    assert response.status_code == 422
    assert any("recursive calls never end" in p["message"] for p in response.get_json()["errors"])


@pytest.mark.parametrize(
    ("juel", "python"),
    [
        ("${not approved}", "not approved"),
        ("${!approved}", "not approved"),
        ("${approved == true}", "approved == True"),
    ],
)
def test_juel_conditions_get_their_python_equivalent(api, juel, python):
    model = BPMN.replace(b">approved</bpmn:conditionExpression>", f">{juel}</bpmn:conditionExpression>".encode())
    response = upload(api, {"spare_part_return.bpmn": model, **FORMS})
    assert response.status_code == 422
    [problem] = [p for p in response.get_json()["errors"] if "JUEL" in p["message"]]
    assert f"write {python!r}" in problem["message"] and problem["element_id"] == "flow_approved"


def test_a_retired_process_starts_nothing_new_and_its_running_instances_finish(api):
    deploy_return_process(api)
    running = api("manager").post("/api/v1/process-definitions/spare_part_return/instances", json={"data": START})
    task_id = running.get_json()["next_tasks"][0]["id"]
    assert api("manager").post("/api/v1/process-definitions/spare_part_return/retire", json={}).status_code == 403
    assert api("modeler").post("/api/v1/process-definitions/spare_part_return/retire", json={}).status_code == 422
    retired = api("modeler").post("/api/v1/process-definitions/spare_part_return/retire", json={"reason": "并入新流程"})
    assert retired.status_code == 200 and retired.get_json()["reason"] == "并入新流程"
    again = api("manager").post("/api/v1/process-definitions/spare_part_return/instances", json={"data": START})
    assert again.status_code == 409 and "retired" in again.get_json()["message"]
    startable = api("manager").get("/api/v1/process-definitions/startable").get_json()
    assert "spare_part_return" not in {s["process_id"] for s in startable}
    done = api("manager").post(f"/api/v1/tasks/{task_id}/complete", json={"data": {"approved": False}})
    assert done.status_code == 200 and done.get_json()["next_tasks"] == []
    changed = BPMN.replace(b"</bpmn:definitions>", b"<!-- v2 -->\n</bpmn:definitions>")
    redeployed = upload(api, {"spare_part_return.bpmn": changed})
    assert any("no longer retired" in n for n in redeployed.get_json()["notes"])


def test_the_case_process_is_started_by_registration_only(api):
    response = api("manager").post("/api/v1/process-definitions/after_sales_case/instances", json={"data": {}})
    assert response.status_code == 409 and "POST /api/v1/cases" in response.get_json()["message"]


def rename_review(bpmn: str) -> str:
    """Rename the review task (and its flows) the way a designer would in the modeler; its form files stay."""
    renamed = bpmn.replace("review_csi", "review_case")
    return renamed.replace("review_case.schema.json", "review_csi.schema.json").replace(
        "review_case.ui.json", "review_csi.ui.json"
    )


def test_a_renamed_review_that_drops_the_plan_decision_is_refused_naming_the_binding(api):
    plan = (Path(__file__).resolve().parents[2] / "workflows" / "decide_service_plan.bpmn").read_text(encoding="utf-8")
    start = plan.index('<spiffworkflow:serviceTaskOperator id="record_plan_decision">')
    end = plan.index("</spiffworkflow:serviceTaskOperator>", start) + len("</spiffworkflow:serviceTaskOperator>")
    dropped = rename_review(plan[:start] + plan[end:])
    response = upload(api, {"decide_service_plan.bpmn": dropped.encode("utf-8")})
    assert response.status_code == 422
    messages = [p["message"] for p in response.get_json()["errors"]]
    assert any("binding 'plan decision' (§4.4–§4.6)" in m and "record_plan_decision" in m for m in messages)
    renamed_only = rename_review(plan).encode("utf-8")
    assert upload(api, {"decide_service_plan.bpmn": renamed_only}).status_code == 201
    assert ANSWERS["review_csi"]  # the shipped answers still fit the renamed task's form
