"""HTTP API v1 contract (DESIGN.md): every endpoint, the happy path and each bad-input, wrong-role and conflict case."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from engine.aftersales.demo import DEMO_PASSWORD
from engine.platform.users import create_user
from engine.records.csi import CSI
from engine.records.process import ProcessInstance
from engine.records.process import ProcessVersion
from tests.helpers import ANSWERS
from tests.helpers import QUALITY_COMPLAINT

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def settle(session) -> None:
    """End the test session's transaction (on SQLite every transaction holds the write lock) and forget stale rows."""
    session.commit()
    session.expire_all()


def count(session, model) -> int:
    settle(session)
    value = session.scalar(sa.select(sa.func.count()).select_from(model))
    session.commit()
    return value


def new_case(api, user="manager", **overrides):
    response = api(user).post("/api/v1/cases", json={**QUALITY_COMPLAINT, **overrides})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def task_of(api, case_id, bpmn_id, user="manager"):
    tasks = api(user).get(f"/api/v1/tasks?case_id={case_id}").get_json()
    return next(t for t in tasks if t["bpmn_id"] == bpmn_id)


# --- auth -------------------------------------------------------------------------------------------------------


def test_token_is_issued_for_good_credentials_only(client):
    ok = client.post("/api/v1/auth/token", json={"username": "manager", "password": "demo-pass-2026"})
    assert ok.status_code == 200 and ok.get_json()["token"]
    bad = client.post("/api/v1/auth/token", json={"username": "manager", "password": "wrong-password"})
    assert bad.status_code == 401 and bad.get_json()["error"] == "unauthorized"
    missing = client.post("/api/v1/auth/token", json={"username": "manager"})
    assert missing.status_code == 422 and "password" in missing.get_json()["fields"]


def test_repeated_wrong_passwords_are_throttled(client):
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": "manager", "password": "nope-nope"})
    throttled = client.post("/api/v1/auth/token", json={"username": "manager", "password": "demo-pass-2026"})
    assert throttled.status_code == 429


def test_calls_without_a_valid_token_are_unauthorized(client):
    assert client.get("/api/v1/tasks").status_code == 401
    response = client.get("/api/v1/tasks", headers={"Authorization": "Bearer not-a-token"})
    assert response.status_code == 401 and response.get_json()["message"]


def test_openapi_document_describes_the_contract(client):
    from openapi_spec_validator import validate

    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)  # a valid OpenAPI 3.1 document
    assert document["openapi"].startswith("3.")

    def shape(path: str) -> str:
        return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)

    routes = {
        shape(rule.rule.removeprefix("/api/v1"))
        for rule in client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.endpoint != "api.openapi"
    }
    documented = {shape(path) for path in document["paths"]}
    assert routes <= documented, routes - documented


# --- cases ------------------------------------------------------------------------------------------------------


def test_the_document_describes_a_held_completion(client):
    """A completion the model failed after is answered 202 with `held` (the form kept, the instance parked)."""
    responses = client.get("/api/v1/openapi.json").get_json()["paths"]["/tasks/{task_id}/complete"]["post"]["responses"]
    held = responses["202"]["content"]["application/json"]["schema"]
    assert "held" in held["properties"] and "next_tasks" in held["properties"]


def test_quality_complaint_becomes_a_csi_with_its_sla_clock(api):
    body = new_case(api)
    assert body["csi_no"].startswith("CSI-") and body["kind"] == "quality_complaint"
    assert body["status"] == "analysing" and body["process_instance_id"]
    due = datetime.fromisoformat(body["sla"]["plan_due_at"])
    assert due.utcoffset() == timedelta(hours=8) and due.hour == 17 and due.minute == 30  # §4.6 close of business
    assert body["sla"]["breached"] is False and body["sla"]["provisional"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"origin_so_no": None}, "origin_so_no"),  # §4.2 SO# required
        ({"origin_so_no": "SO-NOPE"}, "origin_so_no"),  # must exist
        ({"serial_no": "NOT-ON-THIS-SO"}, "serial_no"),  # serial must belong to that SO
        ({"customer_code": "C999"}, "customer_code"),
        ({"origin_so_no": "SO-2022-0042"}, "origin_so_no"),  # sold to another customer
        ({"kind": "complaint"}, "kind"),
        ({"received_at": "yesterday"}, "received_at"),
        ({"received_at": "2026-11-27T09:00:00"}, "received_at"),  # no offset
        ({"description": ""}, "description"),
        ({"priority": "high"}, "priority"),  # unknown field
    ],
)
def test_bad_registration_is_refused_with_the_field_named_and_nothing_created(api, session, change, field):
    before = (count(session, CSI), count(session, ProcessInstance))
    body = {**QUALITY_COMPLAINT, **change}
    body = {k: v for k, v in body.items() if v is not None}
    response = api("manager").post("/api/v1/cases", json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["fields"]
    assert (count(session, CSI), count(session, ProcessInstance)) == before


def test_non_json_body_is_a_clear_error(api):
    response = api("manager").post("/api/v1/cases", data="kind=x", content_type="text/plain")
    assert response.status_code == 422 and response.get_json()["fields"] == {"body": "invalid JSON"}


def test_case_shows_fields_tasks_timeline_and_sla(api):
    case = new_case(api)
    body = api("supervisor").get(f"/api/v1/cases/{case['id']}").get_json()
    assert body["csi"]["origin_so_no"] == "SO-2025-0001" and body["csi"]["coverage"] == "in_warranty"
    assert [t["bpmn_id"] for t in body["open_tasks"]] == ["analyse_root_cause"]
    assert [e["kind"] for e in body["timeline"]][:2] == ["csi.registered", "instance.started"]
    assert body["sla"]["plan_due_at"] == case["sla"]["plan_due_at"]


def test_unknown_case_is_404_and_roles_without_case_access_get_403(api):
    case = new_case(api)
    assert api("manager").get("/api/v1/cases/999999").status_code == 404
    assert api("modeler").get(f"/api/v1/cases/{case['id']}").status_code == 403


def test_case_received_long_ago_reports_a_breached_sla(api):
    received = (datetime.now(UTC) - timedelta(days=12)).isoformat()
    case = new_case(api, received_at=received)
    assert case["sla"]["breached"] is True
    body = api("manager").get(f"/api/v1/cases/{case['id']}").get_json()
    assert any(e["kind"] == "sla.breached" for e in body["timeline"])
    assert any(t["bpmn_id"] == "handle_overdue_plan" for t in api("supervisor").get("/api/v1/tasks").get_json())


def test_written_feedback_is_attached_and_listed(api):
    case = new_case(api)
    client = api("manager")
    response = client.post(
        f"/api/v1/cases/{case['id']}/attachments",
        data={"file": (__import__("io").BytesIO(PDF), "反馈.pdf"), "kind": "customer_feedback"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    listed = client.get(f"/api/v1/cases/{case['id']}/attachments").get_json()
    assert listed[0]["filename"] == "反馈.pdf" and listed[0]["content_type"] == "application/pdf"


@pytest.mark.parametrize(("name", "data"), [("x.pdf", b"MZ\x90\x00 not a pdf"), ("x.exe", b"MZ"), ("x.txt", b"a\x00b")])
def test_attachments_of_wrong_type_are_refused(api, name, data):
    import io

    case = new_case(api)
    response = api("manager").post(
        f"/api/v1/cases/{case['id']}/attachments",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "file" in response.get_json()["fields"]
    assert api("manager").get(f"/api/v1/cases/{case['id']}/attachments").get_json() == []


# --- tasks ------------------------------------------------------------------------------------------------------


def test_task_list_carries_the_form_schema(api):
    case = new_case(api)
    task = task_of(api, case["id"], "analyse_root_cause")
    assert task["lane"] == "service_manager" and task["csi_no"] == case["csi_no"]
    assert task["due_at"] and set(task["form"]["schema"]["required"]) == {"root_cause", "responsibility"}
    assert api("manager").get("/api/v1/tasks?scope=mine").get_json() == []
    assert api("manager").get("/api/v1/tasks?scope=sideways").status_code == 422
    assert api("manager").get(f"/api/v1/tasks/{task['id']}").get_json()["id"] == task["id"]
    assert api("manager").get("/api/v1/tasks/00000000-0000-0000-0000-000000000000").status_code == 404


def test_claim_and_release_follow_roles_and_ownership(api, session):
    create_user(session, "manager2", DEMO_PASSWORD, ["service_manager"])
    session.commit()
    case = new_case(api)
    task = task_of(api, case["id"], "analyse_root_cause")
    assert api("engineer").post(f"/api/v1/tasks/{task['id']}/claim").status_code == 403
    claimed = api("manager").post(f"/api/v1/tasks/{task['id']}/claim")
    assert claimed.status_code == 200 and claimed.get_json()["assignee"] == "manager"
    assert [t["id"] for t in api("manager").get("/api/v1/tasks?scope=mine").get_json()] == [task["id"]]
    other = api("manager2")
    assert other.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 403
    assert (
        other.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS["analyse_root_cause"]}).status_code
        == 403
    )
    assert api("manager").post(f"/api/v1/tasks/{task['id']}/release").get_json()["assignee"] is None
    assert other.post(f"/api/v1/tasks/{task['id']}/claim").status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"root_cause": "x"}, "responsibility"),
        ({"root_cause": "x", "responsibility": "weather"}, "responsibility"),
        ({"root_cause": "", "responsibility": "design"}, "root_cause"),
        ({"root_cause": "x", "responsibility": "design", "extra": 1}, "extra"),
        ({"root_cause": "x\u0000y", "responsibility": "design"}, "root_cause"),
        ({"root_cause": 5, "responsibility": "design"}, "root_cause"),
    ],
)
def test_form_data_failing_the_schema_is_422_and_changes_nothing(api, session, data, field):
    case = new_case(api)
    task = task_of(api, case["id"], "analyse_root_cause")
    instance = session.get(ProcessInstance, case["process_instance_id"])
    state, version = instance.state_json, instance.lock_version
    session.commit()
    response = api("manager").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["fields"]
    settle(session)
    assert (instance.state_json, instance.lock_version) == (state, version)
    assert session.get(CSI, case["id"]).root_cause is None
    session.commit()
    assert task_of(api, case["id"], "analyse_root_cause")["id"] == task["id"]


def test_completing_walks_the_case_and_a_finished_task_is_409(api):
    case = new_case(api)
    task = task_of(api, case["id"], "analyse_root_cause")
    assert (
        api("supervisor")
        .post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS["analyse_root_cause"]})
        .status_code
        == 403
    )
    done = api("manager").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS["analyse_root_cause"]})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["case"]["csi"]["responsibility"] == "supplier"
    assert [t["bpmn_id"] for t in body["next_tasks"]] == ["review_csi"]
    again = api("manager").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS["analyse_root_cause"]})
    assert again.status_code == 409 and again.get_json()["error"] == "conflict"
    review = body["next_tasks"][0]
    bad_plan = {**ANSWERS["review_csi"], "service_plan": ["none", "training"]}
    assert api("supervisor").post(f"/api/v1/tasks/{review['id']}/complete", json={"data": bad_plan}).status_code == 422
    decided = api("supervisor").post(f"/api/v1/tasks/{review['id']}/complete", json={"data": ANSWERS["review_csi"]})
    assert decided.get_json()["case"]["sla"]["decided_at"]
    assert decided.get_json()["case"]["status"] == "plan_decided"
    assert api("manager").post(f"/api/v1/tasks/{review['id']}/complete", json={"data": {}}).status_code == 409
    missing_data = api("manager").post(f"/api/v1/tasks/{review['id']}/complete", json={"form": {}})
    assert missing_data.status_code == 409  # the task's state and the caller's right come before the body's shape


# --- records, definitions, instances ----------------------------------------------------------------------------


def test_csi_record_is_found_by_number_and_unknown_records_are_404(api):
    case = new_case(api)
    record = api("manager").get(f"/api/v1/records/csi/{case['csi_no']}")
    assert record.status_code == 200 and record.get_json()["origin_so_no"] == "SO-2025-0001"
    assert api("manager").get("/api/v1/records/wo/WO-2026-000001").status_code == 404
    assert api("manager").get("/api/v1/records/invoice/1").status_code == 404
    assert api("manager").get("/api/v1/records/csi/CSI-1999-000001").status_code == 404


def _upload(client, *paths_and_names):
    files = {f"file{i}": (open(path, "rb"), name) for i, (path, name) in enumerate(paths_and_names)}
    return client.post("/api/v1/process-definitions", data=files, content_type="multipart/form-data")


def test_only_process_designers_deploy(api):
    response = _upload(api("manager"), (WORKFLOWS / "after_sales_case.bpmn", "after_sales_case.bpmn"))
    assert response.status_code == 403


def test_deploy_creates_an_immutable_version_and_running_cases_stay_on_theirs(api, session, tmp_path):
    case = new_case(api)
    designer = api("modeler")
    same = _upload(designer, (WORKFLOWS / "after_sales_case.bpmn", "after_sales_case.bpmn"))
    assert same.status_code == 200 and same.get_json()["created"] == []
    changed = tmp_path / "after_sales_case.bpmn"
    changed.write_text(
        (WORKFLOWS / "after_sales_case.bpmn").read_text().replace('name="答复顾客"', 'name="立即答复顾客"')
    )
    response = _upload(designer, (changed, "after_sales_case.bpmn"))
    assert response.status_code == 201, response.get_json()
    created = response.get_json()["created"]
    assert [(v["process_id"], v["version"]) for v in created] == [("after_sales_case", 2)]
    versions = api("manager").get("/api/v1/process-definitions").get_json()
    assert {(v["process_id"], v["version"]) for v in versions} >= {("after_sales_case", 1), ("after_sales_case", 2)}
    old = session.get(ProcessInstance, case["process_instance_id"])
    assert session.get(ProcessVersion, old.process_version_id).version == 1
    session.commit()
    newer = new_case(api)
    settle(session)
    assert (
        session.get(
            ProcessVersion, session.get(ProcessInstance, newer["process_instance_id"]).process_version_id
        ).version
        == 2
    )


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        (CORPUS / "xml" / "xxe_file.bpmn", "DOCTYPE"),
        (CORPUS / "xml" / "billion_laughs.bpmn", "DOCTYPE"),
        (CORPUS / "bpmn" / "escape_script.bpmn", "__subclasses__"),
        (CORPUS / "bpmn" / "import_script.bpmn", "import"),
        (CORPUS / "bpmn" / "unquoted_timer.bpmn", "PT1H"),
    ],
)
def test_hostile_or_broken_definitions_are_refused_with_file_and_line(api, session, path, needle):
    before = count(session, ProcessVersion)
    response = _upload(api("modeler"), (path, path.name))
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert errors and all(e["file"] == path.name for e in errors)
    assert any(needle in e["message"] for e in errors), errors
    assert any(e["line"] for e in errors)
    assert count(session, ProcessVersion) == before


def test_instances_are_listed_for_managers_with_active_elements(api):
    case = new_case(api)
    listed = api("director").get("/api/v1/instances?status=running").get_json()
    assert any(i["csi_no"] == case["csi_no"] for i in listed)
    detail = api("supervisor").get(f"/api/v1/instances/{case['process_instance_id']}").get_json()
    assert "analyse_root_cause" in detail["elements"]["active"] and "case_received" in detail["elements"]["completed"]
    assert api("engineer").get("/api/v1/instances").status_code == 403
    assert api("director").get("/api/v1/instances?status=sleeping").status_code == 422
