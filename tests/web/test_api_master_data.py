"""Master data over the API: product design sets 三包期 policies and syllabi (§2.4, §6.1); contracts (§3.2)."""

from __future__ import annotations


def test_product_design_sets_a_new_policy_version_and_others_may_not(api):
    body = {
        "effective_from": "2026-01-01",
        "warranty_months": 36,
        "scope": "整机三包（延长）",
        "archive_required": True,
    }
    assert api("manager").post("/api/v1/products/P-CNC500/warranty-policies", json=body).status_code == 403
    created = api("designer").post("/api/v1/products/P-CNC500/warranty-policies", json=body)
    assert created.status_code == 201 and created.get_json()["version"] == 2
    versions = api("manager").get("/api/v1/products/P-CNC500/warranty-policies").get_json()
    assert [v["warranty_months"] for v in versions] == [24, 36]


def test_bad_policy_input_names_the_field(api):
    bad = {"effective_from": "someday", "warranty_months": -1, "scope": "x", "archive_required": True}
    response = api("designer").post("/api/v1/products/P-CNC500/warranty-policies", json=bad)
    assert response.status_code == 422
    assert {"effective_from", "warranty_months"} <= set(response.get_json()["fields"])
    unknown = api("designer").post(
        "/api/v1/products/NOPE/warranty-policies", json={**bad, "warranty_months": 12, "effective_from": "2026-01-01"}
    )
    assert unknown.status_code == 422


def test_syllabus_and_contract_are_recorded(api):
    modules = {"modules": [{"code": "OPS-01", "title": "操作与日常保养", "hours": 4}]}
    assert api("designer").post("/api/v1/products/P-CNC500/syllabus", json=modules).status_code == 201
    contract = {
        "contract_no": "SC-C002-2026",
        "customer_code": "C002",
        "valid_from": "2026-01-01",
        "valid_to": "2027-12-31",
        "terms": "全年免费巡检两次",
    }
    assert api("sales").post("/api/v1/service-contracts", json=contract).status_code == 403
    created = api("manager").post("/api/v1/service-contracts", json=contract)
    assert created.status_code == 201 and created.get_json()["contract_no"] == "SC-C002-2026"
    case = (
        api("manager")
        .post(
            "/api/v1/cases",
            json={
                "kind": "service_request",
                "customer_code": "C002",
                "origin_so_no": "SO-2022-0042",
                "serial_no": "CNC500-0042",
                "description": "年度巡检",
            },
        )
        .get_json()
    )
    assert api("manager").get(f"/api/v1/cases/{case['id']}").get_json()["csi"]["coverage"] == "contract"
