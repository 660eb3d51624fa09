"""The case lifecycle through the API and the case page, as the roles would (issue 9)."""

from __future__ import annotations

from tests.helpers import QUALITY_COMPLAINT
from tests.web.test_security import csrf_from
from tests.web.test_security import sign_in


def register(api):
    response = api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_withdraw_through_the_api(api):
    case = register(api)
    url = f"/api/v1/cases/{case['id']}/withdraw"
    assert api("engineer").post(url, json={"reason": "客户撤回"}).status_code == 403
    refused = api("manager").post(url, json={"reason": " "})
    assert refused.status_code == 422 and "reason" in refused.get_json()["fields"]
    assert api("manager").get(f"/api/v1/cases/{case['id']}").get_json()["status"] == "analysing"  # nothing changed

    done = api("supervisor").post(url, json={"reason": "客户电话撤回投诉"})
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["status"] == "cancelled" and body["instance_status"] == "terminated" and body["open_tasks"] == []
    assert body["cancelled"]["reason"] == "客户电话撤回投诉" and body["cancelled"]["by"] == "supervisor"
    assert body["sla"]["applies"] is False and body["sla"]["running"] is False and body["sla"]["breached"] is False
    assert any(e["kind"] == "csi.cancelled" for e in body["timeline"])
    assert api("manager").get(f"/api/v1/tasks?case_id={case['id']}").get_json() == []
    assert api("manager").post(url, json={"reason": "again"}).status_code == 409


def test_withdrawing_a_duplicate_links_both_cases_in_the_api(api):
    first, second = register(api), register(api)
    done = api("manager").post(
        f"/api/v1/cases/{second['id']}/withdraw", json={"reason": f"重复登记, duplicate of {first['csi_no']}"}
    )
    assert done.status_code == 200
    assert done.get_json()["cancelled"]["duplicate_of"] == {"id": first["id"], "csi_no": first["csi_no"]}
    original = api("manager").get(f"/api/v1/cases/{first['id']}").get_json()
    assert original["duplicates"] == [{"id": second["id"], "csi_no": second["csi_no"]}]
    unknown = api("manager").post(f"/api/v1/cases/{first['id']}/withdraw", json={"reason": "dup of CSI-2099-000001"})
    assert unknown.status_code == 422 and "reason" in unknown.get_json()["fields"]


def test_withdraw_on_the_case_page(client, api):
    case = register(api)
    sign_in(client, "manager")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert 'action="/cases/{}/withdraw"'.format(case["id"]) in page
    token = csrf_from(page)
    refused = client.post(f"/cases/{case['id']}/withdraw", data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 422 and 'id="withdraw.reason-error"' in refused.get_data(as_text=True)
    done = client.post(f"/cases/{case['id']}/withdraw", data={"csrf_token": token, "reason": "客户撤回"})
    assert done.status_code == 302
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert (
        'id="cancelled"' in page and "客户撤回" in page and 'action="/cases/{}/withdraw"'.format(case["id"]) not in page
    )


def test_the_withdraw_form_is_offered_only_to_managers_and_supervisors(client, api):
    case = register(api)
    sign_in(client, "engineer")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "/withdraw" not in page
