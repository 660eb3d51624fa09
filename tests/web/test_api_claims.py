"""Supplier claims over the API as the roles would (§5.5): Sales keeps the supplier master; the service manager
raises a claim on a case whose part cannot be recovered; Sales submits it, records the answer and the settlement
through the task API; other roles are refused, and bad input is refused naming the field with nothing written."""

from __future__ import annotations

from tests.helpers import ANSWERS
from tests.helpers import QUALITY_COMPLAINT

CLAIM = {"part_no": "SEAL-40", "quantity": 2, "reason": "油封老化渗油，已报废无法回收", "supplier_code": "S-SEAL"}


def claim_task(api, case_id, bpmn_id, username="sales"):
    listed = api(username).get(f"/api/v1/tasks?case_id={case_id}").get_json()
    return next(t for t in listed if t["bpmn_id"] == bpmn_id)


def test_sales_keeps_the_supplier_master(api):
    listed = api("engineer").get("/api/v1/suppliers?active=1").get_json()
    refused = api("engineer").get("/api/v1/suppliers?active=maybe")
    assert refused.status_code == 422 and "active" in refused.get_json()["fields"]
    assert [s["code"] for s in listed] == ["S-BRG", "S-SEAL"]  # S-OLD is inactive
    new = {"code": "S-MOTOR", "name": "常州电机有限公司", "email": "qa@motor.example.com"}
    assert api("manager").post("/api/v1/suppliers", json=new).status_code == 403
    created = api("sales").post("/api/v1/suppliers", json=new)
    assert created.status_code == 201 and created.get_json()["active"] is True
    again = api("sales").post("/api/v1/suppliers", json=new)
    assert again.status_code == 422 and "code" in again.get_json()["fields"]
    bad = api("admin").post("/api/v1/suppliers", json={"code": "x y", "name": "", "email": "nope"})
    assert bad.status_code == 422 and {"code", "name", "email"} <= set(bad.get_json()["fields"])
    odd = api("admin").post("/api/v1/suppliers", json={"code": 123, "name": "某公司", "id": 999})
    assert odd.status_code == 422 and {"code", "id"} == set(odd.get_json()["fields"])  # nothing coerced or ignored
    renamed = api("admin").patch("/api/v1/suppliers/S-MOTOR", json={"code": "HACK", "name": "改名"})
    assert renamed.status_code == 422 and set(renamed.get_json()["fields"]) == {"code"}
    changed = api("admin").patch("/api/v1/suppliers/S-MOTOR", json={"active": False, "contact": "王工"})
    assert changed.status_code == 200 and changed.get_json()["active"] is False
    assert "S-MOTOR" not in [s["code"] for s in api("sales").get("/api/v1/suppliers?active=1").get_json()]


def test_a_claim_raised_on_a_case_is_handled_by_sales_to_settlement(api):
    case = api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json()
    url = f"/api/v1/cases/{case['id']}/supplier-claims"
    for outsider in ("engineer", "sales", "supervisor", "hr"):
        assert api(outsider).post(url, json=CLAIM).status_code == 403, outsider
    for bad, field in (
        ({"supplier_code": "NOPE"}, "supplier_code"),
        ({"supplier_code": "S-OLD"}, "supplier_code"),
        ({"part_no": "NOT-A-PART"}, "part_no"),
        ({"quantity": -1}, "quantity"),
        ({"reason": ""}, "reason"),
        ({"claim_amount": -10}, "claim_amount"),
    ):
        refused = api("manager").post(url, json={**CLAIM, **bad})
        assert refused.status_code == 422 and field in refused.get_json()["fields"], (bad, refused.get_json())
    assert api("manager").get(url).get_json() == []  # nothing written
    raised = api("manager").post(url, json={**CLAIM, "claim_amount": 300})
    assert raised.status_code == 201, raised.get_json()
    claim = raised.get_json()
    assert claim["sc_no"].startswith("SC-") and claim["status"] == "open" and claim["supplier_code"] == "S-SEAL"

    def complete(bpmn_id, data, username="sales"):
        task = claim_task(api, case["id"], bpmn_id)
        return api(username).post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})

    for outsider in ("engineer", "manager"):
        assert complete("send_claim", ANSWERS["send_claim"], outsider).status_code == 403
    refused = complete("send_claim", {**ANSWERS["send_claim"], "supplier_code": "NOPE"})
    assert refused.status_code == 422 and "supplier_code" in refused.get_json()["fields"]
    assert (
        complete("send_claim", {**ANSWERS["send_claim"], "supplier_code": "S-SEAL", "claim_amount": 300}).status_code
        == 200
    )
    over = complete("claim_answer", {"supplier_answer": "partly_accepted", "accepted_amount": 301})
    assert over.status_code == 422 and "accepted_amount" in over.get_json()["fields"]
    bare = complete("claim_answer", {"supplier_answer": "rejected"})
    assert bare.status_code == 422 and "rejection_reason" in bare.get_json()["fields"]
    assert complete("claim_answer", {"supplier_answer": "partly_accepted", "accepted_amount": 200}).status_code == 200
    assert complete("claim_settlement", ANSWERS["claim_settlement"], "qc").status_code == 403
    negative = complete("claim_settlement", {**ANSWERS["claim_settlement"], "recovered_amount": -1})
    assert negative.status_code == 422 and "recovered_amount" in negative.get_json()["fields"]
    assert complete("claim_settlement", {**ANSWERS["claim_settlement"], "recovered_amount": 200}).status_code == 200
    (done,) = api("director").get(url).get_json()
    assert done["status"] == "settled" and done["closed_at"]
    assert (done["claim_amount"], done["accepted_amount"], done["recovered_amount"]) == ("300.00", "200.00", "200.00")
    kinds = [e["kind"] for e in api("manager").get(f"/api/v1/cases/{case['id']}").get_json()["timeline"]]
    for kind in (
        "supplier_claim.raised",
        "supplier_claim.submitted",
        "supplier_claim.answered",
        "supplier_claim.settled",
    ):
        assert kind in kinds


def test_a_closed_case_takes_no_new_claim(api):
    case = api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json()
    withdrawn = api("manager").post(f"/api/v1/cases/{case['id']}/withdraw", json={"reason": "客户撤回"})
    assert withdrawn.status_code == 200
    assert api("manager").post(f"/api/v1/cases/{case['id']}/supplier-claims", json=CLAIM).status_code == 409
