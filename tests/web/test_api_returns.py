"""§3.1 spare-part returns through the HTTP API and the case page, as the roles would: the service manager registers
the returned part (422 naming the field, nothing written; 403 for other roles; 409 on an ended case), receives it,
Engineering/QC inspects it through the task API, and the manager settles it (§5.2 exchange SO or credit)."""

from __future__ import annotations

import pytest

from tests.helpers import QUALITY_COMPLAINT
from tests.web.test_pages_flow import sign_in
from tests.web.test_security import csrf_from

PARTS_CLAIM = {
    "kind": "parts_claim",
    "customer_code": "C100",
    "origin_so_no": "SO-2025-0100",
    "description": "备件异响",
}
RETURN = {"part_no": "P-SPINDLE", "quantity": 2, "remedy": "exchange", "reason": "新轴承运转异响"}
RECEIVED = {"received_on": "2026-12-02", "condition": "packaging_damaged"}
INSPECTED = {"finding": "滚道压痕", "responsibility": "transport", "decision": "credit"}


@pytest.fixture
def case(api):
    created = api("manager").post("/api/v1/cases", json=PARTS_CLAIM)
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def returns_of(api, case_id):
    return api("manager").get(f"/api/v1/cases/{case_id}").get_json()["records"]["part_return"]


def task(api, case_id, bpmn_id, username):
    listed = api(username).get(f"/api/v1/tasks?case_id={case_id}").get_json()
    return next(t for t in listed if t["bpmn_id"] == bpmn_id)


def complete(api, username, task_id, data):
    return api(username).post(f"/api/v1/tasks/{task_id}/complete", json={"data": data})


def test_manager_registers_qc_inspects_manager_credits(api, case):
    url = f"/api/v1/cases/{case['id']}/part-returns"
    for outsider in ("supervisor", "engineer", "qc", "hr"):
        assert api(outsider).post(url, json=RETURN).status_code == 403, outsider
    created = api("manager").post(url, json=RETURN)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    rt_no = body["rt_no"]
    assert rt_no.startswith("RT-") and body["status"] == "registered" and body["origin_so_no"] == "SO-2025-0100"
    assert created.headers["Location"] == f"/api/v1/part-returns/{rt_no}" and body["process_instance_id"]
    assert [r["number"] for r in returns_of(api, case["id"])] == [rt_no]

    receive = task(api, case["id"], "receive_return", "manager")
    assert receive["lane"] == "service_manager" and receive["form"]["schema"]["required"] == [
        "received_on",
        "condition",
    ]
    assert complete(api, "qc", receive["id"], RECEIVED).status_code == 403
    assert complete(api, "manager", receive["id"], RECEIVED).status_code == 200

    inspect = task(api, case["id"], "inspect_return", "qc")
    assert inspect["lane"] == "engineering_qc"
    assert complete(api, "manager", inspect["id"], INSPECTED).status_code == 403  # not the inspecting role
    refused = complete(api, "qc", inspect["id"], {**INSPECTED, "decision": "refuse"})
    assert refused.status_code == 422 and "refusal_reason" in refused.get_json()["fields"]
    assert complete(api, "qc", inspect["id"], INSPECTED).status_code == 200

    credit = task(api, case["id"], "credit_customer", "manager")
    assert complete(api, "engineer", credit["id"], {"credit_amount": 10, "credit_note_ref": "CN-1"}).status_code == 403
    negative = complete(api, "manager", credit["id"], {"credit_amount": -1, "credit_note_ref": "CN-1"})
    assert negative.status_code == 422 and "credit_amount" in negative.get_json()["fields"]
    done = complete(api, "manager", credit["id"], {"credit_amount": 380.5, "credit_note_ref": "CN-2026-0007"})
    assert done.status_code == 200, done.get_json()

    read = api("engineer").get(f"/api/v1/part-returns/{rt_no}")
    assert read.status_code == 200
    record = read.get_json()
    assert (record["status"], record["credit_amount"], record["credit_note_ref"]) == (
        "credited",
        "380.50",
        "CN-2026-0007",
    )
    assert [s["step"] for s in record["steps"]] == ["registered", "received", "inspected", "credited"]
    assert [s["by"] for s in record["steps"]] == ["manager", "manager", "qc", "manager"]
    assert record["links"]["case"] == f"/api/v1/cases/{case['id']}"
    assert api("hr").get(f"/api/v1/part-returns/{rt_no}").status_code == 403
    assert api("manager").get("/api/v1/part-returns/RT-1999-000001").status_code == 404
    assert api("manager").get(f"/api/v1/records/part-return/{rt_no}").get_json()["number"] == rt_no
    kinds = [e["kind"] for e in api("manager").get(f"/api/v1/cases/{case['id']}").get_json()["timeline"]]
    assert [k for k in kinds if k.startswith("part_return.")] == [
        "part_return.registered",
        "part_return.received",
        "part_return.inspected",
        "part_return.credited",
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"part_no": "已按规定处理"}, "part_no"),  # not in the parts master
        ({"part_no": "P-CNC500"}, "part_no"),  # complete equipment, not a spare part
        ({"quantity": 0}, "quantity"),
        ({"quantity": "2"}, "quantity"),
        ({"remedy": "refund"}, "remedy"),
        ({"reason": "  "}, "reason"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_fields_are_named_and_nothing_is_written(api, case, change, field):
    refused = api("manager").post(f"/api/v1/cases/{case['id']}/part-returns", json={**RETURN, **change})
    assert refused.status_code == 422 and list(refused.get_json()["fields"]) == [field], refused.get_json()
    assert returns_of(api, case["id"]) == []
    assert [
        t for t in api("manager").get(f"/api/v1/tasks?case_id={case['id']}").get_json() if "return" in t["bpmn_id"]
    ] == []


def test_exchange_through_the_api_issues_the_parts_so(api, case):
    rt_no = api("manager").post(f"/api/v1/cases/{case['id']}/part-returns", json=RETURN).get_json()["rt_no"]
    complete(api, "manager", task(api, case["id"], "receive_return", "manager")["id"], RECEIVED)
    decided = {**INSPECTED, "responsibility": "quality", "decision": "exchange"}
    complete(api, "qc", task(api, case["id"], "inspect_return", "qc")["id"], decided)
    exchange = task(api, case["id"], "exchange_part", "manager")
    unknown = complete(api, "manager", exchange["id"], {"replacement_part_no": "XX-0"})
    assert unknown.status_code == 422 and "replacement_part_no" in unknown.get_json()["fields"]
    assert complete(api, "manager", exchange["id"], {"replacement_part_no": "BRG-6205"}).status_code == 200
    record = api("manager").get(f"/api/v1/part-returns/{rt_no}").get_json()
    so = api("manager").get(record["exchange_so"]["api"]).get_json()
    assert record["status"] == "exchanged" and so["part_return"]["number"] == rt_no  # linked both ways
    assert so["so_type"] == "parts_only" and so["remarks"].startswith(f"CSI: {case['csi_no']}")  # §5.2
    assert so["lines"][0]["part_no"] == "BRG-6205" and so["amount"] == "0.00"


def test_no_return_on_a_cancelled_case_and_close_lists_an_open_one(api, case):
    url = f"/api/v1/cases/{case['id']}/part-returns"
    assert api("manager").post(url, json=RETURN).status_code == 201
    withdrawn = api("manager").post(f"/api/v1/cases/{case['id']}/withdraw", json={"reason": "顾客撤回"})
    assert withdrawn.status_code == 200
    assert returns_of(api, case["id"])[0]["status"] == "cancelled"  # its process ended with the case
    ended = api("manager").post(url, json=RETURN)
    assert ended.status_code == 409 and ended.get_json()["error"] == "conflict"


def test_case_page_shows_the_returns_and_registers_one(app, api):
    other = api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json()
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    sign_in(client, "manager")
    page = client.get(f"/cases/{other['id']}").get_data(as_text=True)
    assert 'id="part-returns"' in page and 'name="remedy"' in page and "P-SPINDLE" in page
    token = csrf_from(page)
    bad = client.post(
        f"/cases/{other['id']}/part-returns",
        data={"csrf_token": token, "part_no": "NOPE", "quantity": "0", "remedy": "exchange", "reason": "x"},
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="return.part_no-error"' in html and 'id="return.quantity-error"' in html
    good = client.post(
        f"/cases/{other['id']}/part-returns",
        data={"csrf_token": token, "part_no": "SEAL-40", "quantity": "3", "remedy": "return", "reason": "多发了"},
    )
    assert good.status_code == 302
    page = client.get(f"/cases/{other['id']}").get_data(as_text=True)
    (record,) = returns_of(api, other["id"])
    assert record["number"] in page and record["quantity"] == 3 and record["remedy"] == "return"
    detail = client.get(f"/records/part-return/{record['number']}")
    assert detail.status_code == 200 and "SEAL-40" in detail.get_data(as_text=True)
    engineer = app.test_client()
    engineer.environ_base["wsgi.url_scheme"] = "https"
    sign_in(engineer, "engineer")
    seen = engineer.get(f"/cases/{other['id']}").get_data(as_text=True)
    assert record["number"] in seen and 'name="remedy"' not in seen  # readers see it; only managers register


def test_the_return_process_starts_only_from_its_case(api, client):
    """part_return is started by registering the returned part on its case, never from the generic start."""
    startable = api("manager").get("/api/v1/process-definitions/startable").get_json()
    assert "part_return" not in {s["process_id"] for s in startable}
    refused = api("manager").post("/api/v1/process-definitions/part_return/instances", json={"data": RETURN})
    assert refused.status_code == 409 and "part-returns" in refused.get_json()["message"]
    modeler = api("modeler")
    listed = {d["process_id"] for d in modeler.get("/api/v1/process-definitions").get_json()}
    assert "part_return" in listed
