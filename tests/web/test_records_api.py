"""API of §5–§6: every record type by number (links both ways, 404, 403), the service archive per serial number and
the supervisor's WO assignment (§2.6)."""

from __future__ import annotations

import pytest

from engine.reports.chain import CHAIN_KEYS
from engine.reports.chain import document_chain
from tests.scenarios import field_service_case
from tests.scenarios import paid_service_case
from tests.scenarios import parts_only_case


@pytest.fixture
def people(user_named):
    return user_named


@pytest.fixture
def driven(session, runtime, calendar, people):
    """Field service (recovered + bought parts, quality problem, supplier claim), paid service, parts only."""
    cases = {
        "field": field_service_case(session, runtime, calendar, people),
        "paid": paid_service_case(session, runtime, calendar, people),
        "parts": parts_only_case(session, runtime, calendar, people),
    }
    chains = {name: document_chain(session, csi) for name, csi in cases.items()}
    session.commit()  # SQLite: release the write lock before the client writes
    return cases, chains


def test_every_record_type_is_served_by_number_with_its_links(api, driven):
    cases, chains = driven
    manager = api("manager")
    seen = set()
    for name, found in chains.items():
        for record_type, key in CHAIN_KEYS.items():
            for item in found[key]:
                response = manager.get(f"/api/v1/records/{record_type}/{item['number']}")
                assert response.status_code == 200, (record_type, item["number"])
                body = response.get_json()
                assert body["number"] == item["number"] and body["case_id"] == cases[name].id
                assert body["links"]["case"] == f"/api/v1/cases/{cases[name].id}"
                seen.add(record_type)
        csi = manager.get(f"/api/v1/records/csi/{cases[name].csi_no}").get_json()
        assert csi["type"] == "csi" and csi["sla"]["plan_due_at"] and csi["chain"]["csi"]["number"] == csi["number"]
    assert seen == set(CHAIN_KEYS) - {"training-plan", "part-return"}  # returns: tests/web/test_api_returns.py


def test_links_go_both_ways(api, driven):
    cases, chains = driven
    manager = api("manager")
    (wo,) = chains["paid"]["wo"]
    (fee,) = chains["paid"]["so"]
    wo_body = manager.get(f"/api/v1/records/wo/{wo['number']}").get_json()
    fee_body = manager.get(wo_body["fee_so"]["api"]).get_json()
    assert fee_body["number"] == fee["number"] and fee_body["wo"]["number"] == wo["number"]  # §5.4
    assert wo_body["labour_cost"] == "1300.00" and wo_body["links"]["archive"] == "/api/v1/archives/CNC500-0042"
    po = manager.get(f"/api/v1/records/po/{chains['field']['po'][1]['number']}").get_json()
    assert po["prj_no"] == po["wo"]["number"] and po["csi"]["number"] == cases["field"].csi_no  # §5.5
    claim = chains["field"]["supplier_claim"][0]
    claim_body = manager.get(f"/api/v1/records/supplier-claim/{claim['number']}").get_json()
    assert claim_body["csi_snapshot"]["status"] != "closed"  # the copy sent to Sales, not the live CSI
    assert claim_body["links"]["csi"] == f"/api/v1/records/csi/{cases['field'].csi_no}"
    (order,) = chains["parts"]["so"]
    parts = manager.get(f"/api/v1/records/so/{order['number']}").get_json()
    assert parts["so_type"] == "parts_only" and len(parts["lines"]) == 2 and parts["wo"] is None


@pytest.mark.parametrize("record_type", ["csi", *CHAIN_KEYS])
def test_unknown_numbers_are_404_and_roles_without_case_access_403(api, driven, record_type):
    cases, chains = driven
    assert api("manager").get(f"/api/v1/records/{record_type}/XX-1999-000001").status_code == 404
    key = CHAIN_KEYS.get(record_type)
    items = chains["field"][key] if key else [{"number": cases["field"].csi_no}]
    if items:
        response = api("modeler").get(f"/api/v1/records/{record_type}/{items[0]['number']}")
        assert response.status_code == 403 and response.get_json()["error"] == "forbidden"


def test_unknown_record_type_is_404(api):
    response = api("manager").get("/api/v1/records/invoice/INV-1")
    assert response.status_code == 404 and "known:" in response.get_json()["message"]


def test_case_api_carries_the_document_chain(api, driven):
    cases, chains = driven
    records = api("manager").get(f"/api/v1/cases/{cases['field'].id}").get_json()["records"]
    assert [w["number"] for w in records["wo"]] == [w["number"] for w in chains["field"]["wo"]]
    assert records["edges"] and records["totals"]["labour_cost"] == "2000.00"


def test_service_archive_api(api, driven):
    cases, _ = driven
    archive = api("engineer").get("/api/v1/archives/CNC500-0001")
    assert archive.status_code == 200
    body = archive.get_json()
    assert [c["number"] for c in body["cases"]] == [cases["field"].csi_no, cases["parts"].csi_no]
    assert body["unit"]["archive_required"] and len(body["visits"]) == 2 and len(body["parts_changed"]) == 2
    assert api("designer").get("/api/v1/archives/CNC500-0042").status_code == 200  # §2.4: design reads them
    tool_set = api("manager").get("/api/v1/archives/TK-7781")
    assert tool_set.status_code == 404 and "§3.1" in tool_set.get_json()["message"]
    assert api("manager").get("/api/v1/archives/NO-SUCH-1").status_code == 404
    assert api("modeler").get("/api/v1/archives/CNC500-0001").status_code == 403


def test_supervisor_assigns_a_work_order_through_the_api(api, session, runtime, calendar, people):
    csi = paid_service_case(session, runtime, calendar, people, visit=False)
    (wo,) = document_chain(session, csi)["wo"]
    session.commit()
    path = f"/api/v1/work-orders/{wo['number']}/assign"
    assert api("manager").post(path, json={"username": "qc"}).status_code == 403
    assert api("supervisor").post(path, json={"username": "nobody"}).status_code == 422
    assert api("supervisor").post(path, json={}).status_code == 422
    assert (
        api("supervisor").post("/api/v1/work-orders/WO-1999-000001/assign", json={"username": "qc"}).status_code == 404
    )
    response = api("supervisor").post(path, json={"username": "qc"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["engineers"][0] == "qc" and body["temporary_staff"] == ["qc"]  # §2.6 temporary staff
    tasks = api("qc").get(f"/api/v1/tasks?scope=mine&case_id={csi.id}").get_json()
    assert [t["bpmn_id"] for t in tasks] == ["field_visit"]
