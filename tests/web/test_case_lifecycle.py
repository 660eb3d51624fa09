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


def test_correct_the_registration_through_the_api(api):
    case = register(api)
    url = f"/api/v1/cases/{case['id']}"
    body = {"customer_code": "C002", "origin_so_no": "SO-2022-0042", "serial_no": "CNC500-0042", "reason": "SO#录错"}
    assert api("engineer").patch(url, json=body).status_code == 403
    refused = api("manager").patch(url, json={**body, "serial_no": "NOPE"})
    assert refused.status_code == 422 and "serial_no" in refused.get_json()["fields"]
    refused = api("manager").patch(url, json={k: v for k, v in body.items() if k != "reason"})
    assert refused.status_code == 422 and "reason" in refused.get_json()["fields"]
    assert api("manager").get(url).get_json()["csi"]["origin_so_no"] == "SO-2025-0001"  # nothing changed

    done = api("manager").patch(url, json=body)
    assert done.status_code == 200, done.get_json()
    view = done.get_json()
    assert view["csi"]["origin_so_no"] == "SO-2022-0042" and view["csi"]["coverage"] == "out_of_warranty"
    [event] = [e for e in view["timeline"] if e["kind"] == "csi.corrected"]
    assert event["data"]["changes"]["serial_no"] == {"before": "CNC500-0001", "after": "CNC500-0042"}


def test_no_correction_after_the_plan_is_decided_through_the_api(api):
    from tests.helpers import ANSWERS

    case = register(api)
    for bpmn_id, username in (("analyse_root_cause", "manager"), ("review_csi", "supervisor")):
        task = next(t for t in api(username).get(f"/api/v1/tasks?case_id={case['id']}").get_json())
        assert task["bpmn_id"] == bpmn_id
        done = api(username).post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS[bpmn_id]})
        assert done.status_code == 200
    refused = api("manager").patch(f"/api/v1/cases/{case['id']}", json={"description": "x", "reason": "r"})
    assert refused.status_code == 409


def test_correct_the_registration_on_the_case_page(client, api):
    case = register(api)
    sign_in(client, "supervisor")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert f'href="/cases/{case["id"]}/correct"' in page
    form = client.get(f"/cases/{case['id']}/correct").get_data(as_text=True)
    assert 'value="SO-2025-0001"' in form
    token = csrf_from(form)
    fields = {"kind": "quality_complaint", "customer_code": "C001", "origin_so_no": "SO-2025-0001"}
    fields |= {"serial_no": "CNC500-0001", "description": "主轴异响"}
    refused = client.post(
        f"/cases/{case['id']}/correct", data={**fields, "serial_no": "TK-NOPE", "reason": "x", "csrf_token": token}
    )
    assert refused.status_code == 422 and 'id="serial_no-error"' in refused.get_data(as_text=True)
    done = client.post(
        f"/cases/{case['id']}/correct",
        data={**fields, "description": "主轴异响，伴随振动", "reason": "补充描述", "csrf_token": token},
    )
    assert done.status_code == 302
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "主轴异响，伴随振动" in page and "补充描述" in page


def test_pause_and_resume_the_sla_clock_through_the_api(api):
    case = register(api)
    pause = f"/api/v1/cases/{case['id']}/sla/pause"
    assert api("manager").post(pause, json={"reason": "等待顾客"}).status_code == 403
    refused = api("supervisor").post(pause, json={})
    assert refused.status_code == 422 and "reason" in refused.get_json()["fields"]
    paused = api("supervisor").post(pause, json={"reason": "等待顾客提供照片"})
    assert paused.status_code == 200
    sla = paused.get_json()["sla"]
    assert sla["paused"] is True and sla["running"] is False and sla["pause_reason"] == "等待顾客提供照片"
    assert api("supervisor").post(pause, json={"reason": "again"}).status_code == 409
    resumed = api("supervisor").post(f"/api/v1/cases/{case['id']}/sla/resume", json={})
    assert resumed.status_code == 200 and resumed.get_json()["sla"]["running"] is True
    kinds = [e["kind"] for e in resumed.get_json()["timeline"]]
    assert "sla.paused" in kinds and "sla.resumed" in kinds
    assert api("supervisor").post(f"/api/v1/cases/{case['id']}/sla/resume", json={}).status_code == 409


def test_a_training_request_shows_no_countdown(api, client):
    body = {"kind": "training_request", "customer_code": "C001", "description": "操作培训"}
    case = api("manager").post("/api/v1/cases", json=body).get_json()
    assert case["sla"]["applies"] is False and case["sla"]["running"] is False
    sign_in(client, "supervisor")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert "No §4.6 clock (training request, §6)" in page or "不计第4.6条时限" in page
    assert "/sla/pause" not in page


def test_pause_on_the_case_page(client, api):
    case = register(api)
    sign_in(client, "supervisor")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    token = csrf_from(page)
    refused = client.post(f"/cases/{case['id']}/sla/pause", data={"csrf_token": token, "reason": ""})
    assert refused.status_code == 422 and 'id="pause.reason-error"' in refused.get_data(as_text=True)
    done = client.post(f"/cases/{case['id']}/sla/pause", data={"csrf_token": token, "reason": "等待顾客回复"})
    assert done.status_code == 302
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert f'action="/cases/{case["id"]}/sla/resume"' in page and "等待顾客回复" in page


def test_review_sends_back_or_decides_no_service_through_the_api(api):
    from tests.helpers import ANSWERS

    case = register(api)

    def complete(bpmn_id, username, data):
        task = next(t for t in api(username).get(f"/api/v1/tasks?case_id={case['id']}").get_json())
        assert task["bpmn_id"] == bpmn_id, task
        return api(username).post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})

    assert complete("analyse_root_cause", "manager", ANSWERS["analyse_root_cause"]).status_code == 200
    send_back = {"outcome": "send_back", "review_form": "supervisor", "opinion": "请补充检测报告"}
    assert complete("review_csi", "supervisor", send_back).status_code == 200
    view = api("manager").get(f"/api/v1/cases/{case['id']}").get_json()
    assert view["status"] == "analysing" and view["sla"]["running"] is True
    assert any(e["kind"] == "csi.sent_back" and e["message"] == "请补充检测报告" for e in view["timeline"])
    assert complete("analyse_root_cause", "manager", ANSWERS["analyse_root_cause"]).status_code == 200
    no_service = {**ANSWERS["review_csi"], "service_plan": ["none"]}
    refused = complete("review_csi", "supervisor", no_service)
    assert refused.status_code == 422 and "no_service_reason" in refused.get_json()["fields"]
    done = complete("review_csi", "supervisor", {**no_service, "no_service_reason": "unfounded"})
    assert done.status_code == 200
    view = api("manager").get(f"/api/v1/cases/{case['id']}").get_json()
    assert view["csi"]["no_service_reason"] == "unfounded" and view["sla"]["running"] is False


def test_registering_again_for_the_same_unit_answers_possible_duplicates(api):
    first = register(api)
    assert first["possible_duplicates"] == []
    second = register(api)
    assert second["possible_duplicates"] == [{"id": first["id"], "csi_no": first["csi_no"], "status": "analysing"}]
    other_unit = {**QUALITY_COMPLAINT, "serial_no": "TK-7781", "origin_so_no": "SO-2025-0001"}
    third = api("manager").post("/api/v1/cases", json=other_unit).get_json()  # same SO#: still a possible duplicate
    assert {d["id"] for d in third["possible_duplicates"]} == {first["id"], second["id"]}
    api("manager").post(f"/api/v1/cases/{second['id']}/withdraw", json={"reason": f"duplicate of {first['csi_no']}"})
    fourth = register(api)
    assert {d["id"] for d in fourth["possible_duplicates"]} == {first["id"], third["id"]}  # cancelled ones are not
    service = {"kind": "service_request", "customer_code": "C002", "description": "保养"}
    assert api("manager").post("/api/v1/cases", json=service).get_json()["possible_duplicates"] == []


def test_the_register_page_warns_before_saving_a_possible_duplicate(client, api):
    first = register(api)
    sign_in(client, "manager")
    token = csrf_from(client.get("/cases/new").get_data(as_text=True))
    form = {**QUALITY_COMPLAINT, "csrf_token": token}
    warned = client.post("/cases/new", data=form)
    page = warned.get_data(as_text=True)
    assert warned.status_code == 200 and 'id="possible-duplicates"' in page and first["csi_no"] in page
    assert api("manager").get("/api/v1/cases/{}".format(first["id"])).status_code == 200
    saved = client.post("/cases/new", data={**form, "confirm_duplicate": "1"})
    assert saved.status_code == 302


def to_work_order(api):
    """A registered case driven through analysis, review and the answer, and its open issue_work_order task."""
    from tests.helpers import ANSWERS

    case = register(api)
    for bpmn_id, username in (
        ("analyse_root_cause", "manager"),
        ("review_csi", "supervisor"),
        ("answer_customer", "manager"),
    ):
        task = next(t for t in api(username).get(f"/api/v1/tasks?case_id={case['id']}").get_json())
        api(username).post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS[bpmn_id]})
    return case, next(t for t in api("manager").get(f"/api/v1/tasks?case_id={case['id']}").get_json())


def test_cancel_and_reschedule_a_work_order_through_the_api(api):
    from tests.helpers import ANSWERS

    case, task = to_work_order(api)
    bad = {**ANSWERS["issue_work_order"], "engineers": ["ghost"]}
    refused = api("manager").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": bad})
    assert refused.status_code == 422 and "engineers" in refused.get_json()["fields"]
    done = api("manager").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS["issue_work_order"]})
    assert done.status_code == 200
    timeline = api("manager").get(f"/api/v1/cases/{case['id']}").get_json()["timeline"]
    wo_no = next(e for e in timeline if e["kind"] == "wo.issued")["message"]

    moved = api("manager").post(
        f"/api/v1/work-orders/{wo_no}/reschedule", json={"planned_date": "2099-02-01", "reason": "顾客要求"}
    )
    assert moved.status_code == 200, moved.get_json()
    assert api("engineer").post(f"/api/v1/work-orders/{wo_no}/cancel", json={"reason": "x"}).status_code == 403
    refused = api("supervisor").post(f"/api/v1/work-orders/{wo_no}/cancel", json={})
    assert refused.status_code == 422 and "reason" in refused.get_json()["fields"]
    cancelled = api("supervisor").post(f"/api/v1/work-orders/{wo_no}/cancel", json={"reason": "顾客取消"})
    assert cancelled.status_code == 200
    assert [t["bpmn_id"] for t in api("manager").get(f"/api/v1/tasks?case_id={case['id']}").get_json()] == [
        "close_case"
    ]
    assert api("supervisor").post(f"/api/v1/work-orders/{wo_no}/cancel", json={"reason": "x"}).status_code == 409


def test_a_work_order_waiting_on_overseas_formalities_is_cancelled_through_the_api(api):
    """Issue 9 / §2.5: before its first visit the WO is cancelled; HR's formalities task closes, the case goes on."""
    from tests.helpers import ANSWERS

    case, task = to_work_order(api)
    overseas = {**ANSWERS["issue_work_order"], "overseas_site": True, "site": "Stuttgart"}
    assert api("manager").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": overseas}).status_code == 200
    assert [t["bpmn_id"] for t in api("hr").get(f"/api/v1/tasks?case_id={case['id']}").get_json()] == [
        "arrange_overseas_formalities"
    ]
    timeline = api("manager").get(f"/api/v1/cases/{case['id']}").get_json()["timeline"]
    wo_no = next(e for e in timeline if e["kind"] == "wo.issued")["message"]
    cancelled = api("manager").post(f"/api/v1/work-orders/{wo_no}/cancel", json={"reason": "签证被拒"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert [t["bpmn_id"] for t in api("manager").get(f"/api/v1/tasks?case_id={case['id']}").get_json()] == [
        "close_case"
    ]
    assert api("manager").post(f"/api/v1/work-orders/{wo_no}/cancel", json={"reason": "x"}).status_code == 409


def test_list_and_search_cases_through_the_api(api):
    first = register(api)
    training = (
        api("manager")
        .post("/api/v1/cases", json={"kind": "training_request", "customer_code": "C002", "description": "操作培训"})
        .get_json()
    )
    listed = api("supervisor").get("/api/v1/cases?per_page=1").get_json()
    assert listed["total"] == 2 and listed["page"] == 1 and listed["per_page"] == 1
    assert [i["id"] for i in listed["items"]] == [training["id"]]  # newest first
    assert [i["id"] for i in api("manager").get("/api/v1/cases?page=2&per_page=1").get_json()["items"]] == [first["id"]]
    by_kind = api("manager").get("/api/v1/cases?kind=quality_complaint").get_json()
    assert [i["csi_no"] for i in by_kind["items"]] == [first["csi_no"]] and by_kind["items"][0]["sla"]["running"]
    assert api("manager").get("/api/v1/cases?customer=C002").get_json()["total"] == 1
    assert api("manager").get("/api/v1/cases?serial=CNC500-0001").get_json()["total"] == 1
    assert api("manager").get("/api/v1/cases?q=SO-2025").get_json()["total"] == 1
    assert api("manager").get("/api/v1/cases?status=analysing").get_json()["total"] == 1
    assert api("manager").get("/api/v1/cases?from=2099-01-01").get_json()["total"] == 0
    assert api("manager").get("/api/v1/cases?overdue=1").get_json()["total"] == 0
    for bad in ("kind=x", "status=x", "from=yesterday", "page=0", "per_page=999", "overdue=maybe", "colour=red"):
        refused = api("manager").get(f"/api/v1/cases?{bad}")
        assert refused.status_code == 422 and bad.split("=")[0] in refused.get_json()["fields"], bad
    assert api("hr").get("/api/v1/cases").status_code == 403


def test_manager_lists_with_csv_and_xlsx_exports(client, api):
    register(api)
    api("manager").post(
        "/api/v1/cases", json={"kind": "training_request", "customer_code": "C002", "description": "操作培训"}
    )
    sign_in(client, "director")
    for name in ("sla-results", "open-quality-feedback", "open-supplier-claims"):
        page = client.get(f"/dashboard/lists/{name}")
        assert page.status_code == 200, name
        exported = client.get(f"/dashboard/lists/{name}?format=csv")
        assert exported.status_code == 200 and exported.mimetype == "text/csv"
        assert client.get(f"/dashboard/lists/{name}?format=xlsx").data[:2] == b"PK"
    csv_text = client.get("/dashboard/lists/sla-results?format=csv").get_data(as_text=True)
    lines = [line for line in csv_text.splitlines() if line.strip()]
    assert len(lines) == 2 and "quality_complaint" in lines[1]  # the training request has no §4.6 clock
    assert client.get("/dashboard/lists/nothing").status_code == 404
    assert 'href="/dashboard/lists/sla-results' in client.get("/dashboard").get_data(as_text=True)


def test_signed_original_received_and_the_list_of_missing_ones(client, api):
    from tests.helpers import ANSWERS

    case = register(api)
    url = f"/api/v1/cases/{case['id']}/signed-original"
    assert api("manager").post(url, json={"location": "A-03"}).status_code == 409  # no decided review yet
    for bpmn_id, username in (("analyse_root_cause", "manager"), ("review_csi", "supervisor")):
        task = next(t for t in api(username).get(f"/api/v1/tasks?case_id={case['id']}").get_json())
        api(username).post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS[bpmn_id]})
    sign_in(client, "director")
    missing = client.get("/dashboard/lists/missing-signed-originals?format=csv").get_data(as_text=True)
    assert case["csi_no"] in missing
    assert api("engineer").post(url, json={"location": "A-03"}).status_code == 403
    refused = api("manager").post(url, json={"location": " "})
    assert refused.status_code == 422 and "location" in refused.get_json()["fields"]
    done = api("manager").post(url, json={"location": "服务部档案柜A-03-12"})
    assert done.status_code == 200
    view = done.get_json()
    assert view["csi"]["signed_original_received_by"] == "manager"
    assert view["csi"]["signed_original_location"] == "服务部档案柜A-03-12"
    assert any(e["kind"] == "csi.signed_original_received" for e in view["timeline"])
    assert api("manager").post(url, json={"location": "x"}).status_code == 409
    missing = client.get("/dashboard/lists/missing-signed-originals?format=csv").get_data(as_text=True)
    assert case["csi_no"] not in missing


def test_signed_original_on_the_case_page(client, api):
    from tests.helpers import ANSWERS

    case = register(api)
    for bpmn_id, username in (("analyse_root_cause", "manager"), ("review_csi", "supervisor")):
        task = next(t for t in api(username).get(f"/api/v1/tasks?case_id={case['id']}").get_json())
        api(username).post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS[bpmn_id]})
    sign_in(client, "manager")
    page = client.get(f"/cases/{case['id']}").get_data(as_text=True)
    assert 'id="signed-original"' in page
    token = csrf_from(page)
    refused = client.post(f"/cases/{case['id']}/signed-original", data={"csrf_token": token, "location": ""})
    assert refused.status_code == 422 and 'id="original.location-error"' in refused.get_data(as_text=True)
    done = client.post(f"/cases/{case['id']}/signed-original", data={"csrf_token": token, "location": "B-07"})
    assert done.status_code == 302
    assert 'id="signed-original"' not in client.get(f"/cases/{case['id']}").get_data(as_text=True)
