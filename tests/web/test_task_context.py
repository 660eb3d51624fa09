"""What a task page tells the person deciding: a §3.1 return task names the return it settles (part, quantity,
inspection) with a link to its record, whose page links the open step back; the director's §5.8 approval shows the
pending proposal to end the service (its reason and who proposed it), gone once decided; the case page cancels a WO
still waiting on overseas formalities and labels the timeline's entered data with its form's words."""

from __future__ import annotations

from tests.helpers import ANSWERS
from tests.helpers import QUALITY_COMPLAINT
from tests.web.test_pages_flow import browser
from tests.web.test_pages_flow import sign_in
from tests.web.test_pages_flow import submit
from tests.web.test_pages_flow import text_of

PARTS_CLAIM = {
    "kind": "parts_claim",
    "customer_code": "C100",
    "origin_so_no": "SO-2025-0100",
    "description": "备件异响",
}


def _task(api, case_id, bpmn_id, username):
    listed = api(username).get(f"/api/v1/tasks?case_id={case_id}").get_json()
    return next(t for t in listed if t["bpmn_id"] == bpmn_id)


def _send(api, case_id, bpmn_id, username, **changes):
    task = _task(api, case_id, bpmn_id, username)
    data = {**ANSWERS.get(bpmn_id, {}), **changes}
    done = api(username).post(f"/api/v1/tasks/{task['id']}/complete", json={"data": data})
    assert done.status_code == 200, done.get_json()


def test_a_return_task_names_its_return(api, app):
    case = api("manager").post("/api/v1/cases", json=PARTS_CLAIM).get_json()
    body = {"part_no": "P-SPINDLE", "quantity": 2, "remedy": "exchange", "reason": "新轴承运转异响"}
    rt_no = api("manager").post(f"/api/v1/cases/{case['id']}/part-returns", json=body).get_json()["rt_no"]
    _send(api, case["id"], "receive_return", "manager", received_on="2026-12-02", condition="packaging_damaged")
    task = _task(api, case["id"], "inspect_return", "qc")
    qc = browser(app)
    assert sign_in(qc, "qc").status_code == 302
    page = text_of(qc.get(f"/tasks/{task['id']}"))
    assert 'id="task-part-return"' in page and f"/records/part-return/{rt_no}" in page
    assert "P-SPINDLE × 2" in page and "新轴承运转异响" in page and "包装破损" in page  # §3.1 what came back, how
    record = text_of(qc.get(f"/records/part-return/{rt_no}"))
    assert 'id="next-steps"' in record and f'href="/tasks/{task["id"]}"' in record  # the record leads to the next step
    manager = browser(app)
    assert sign_in(manager, "manager").status_code == 302
    case_page = text_of(manager.get(f"/cases/{case['id']}"))
    assert f"{rt_no}</a> · P-SPINDLE × 2" in case_page  # the timeline names the return and links it


def test_the_director_sees_the_proposal_to_end_the_service(api, app):
    case = api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json()
    _send(api, case["id"], "analyse_root_cause", "manager")
    _send(api, case["id"], "review_csi", "supervisor", service_plan=["field_service"])
    _send(api, case["id"], "answer_customer", "manager")
    _send(api, case["id"], "issue_work_order", "manager")
    _send(api, case["id"], "field_visit", "engineer", outcome="unsolved")
    propose = {"support_outcome": "propose_end", "agreed_next_steps": "", "end_reason": "顾客坚持整机退货，协商无果"}
    _send(api, case["id"], "technical_support", "manager", **propose)
    task = _task(api, case["id"], "approve_end_of_service", "director")
    director = browser(app)
    assert sign_in(director, "director").status_code == 302
    page = text_of(director.get(f"/tasks/{task['id']}"))
    assert 'id="task-end-proposal"' in page and "顾客坚持整机退货，协商无果" in page and "建议人" in page
    _send(api, case["id"], "approve_end_of_service", "director")
    closing = _task(api, case["id"], "close_case", "manager")
    manager = browser(app)
    assert sign_in(manager, "manager").status_code == 302
    assert 'id="task-end-proposal"' not in text_of(manager.get(f"/tasks/{closing['id']}"))  # decided: not pending
    wo_no = api("manager").get(f"/api/v1/cases/{case['id']}").get_json()["records"]["wo"][0]["number"]
    page = text_of(manager.get(f"/cases/{case['id']}?timeline=all"))
    assert f'href="/records/wo/{wo_no}"' in page  # the ended WO, linked
    # the round's forms label the timeline's entered data: titles and options, not keys and codes
    assert "<dt>审批结果</dt>" in page and "批准终止服务" in page and "director_decision" not in page
    assert "<dt>处理结果</dt>" in page and "未解决" in page and "<dt>outcome</dt>" not in page
    assert "<dt>服务人员</dt>" in page and '<dd class="pre">engineer</dd>' not in page  # people by name
    archive = text_of(manager.get(f"/archives/{QUALITY_COMPLAINT['serial_no']}"))
    assert "王总监" in archive  # the approver by name, not user name


def test_the_case_page_cancels_a_work_order_waiting_on_overseas_formalities(api, app):
    """Issue 9 / §2.5: the chain offers cancelling an issued WO before its first visit; a missing reason is named."""
    case = api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json()
    _send(api, case["id"], "analyse_root_cause", "manager")
    _send(api, case["id"], "review_csi", "supervisor")
    _send(api, case["id"], "answer_customer", "manager")
    _send(api, case["id"], "issue_work_order", "manager", overseas_site=True, site="Stuttgart")
    timeline = api("manager").get(f"/api/v1/cases/{case['id']}").get_json()["timeline"]
    wo_no = next(e for e in timeline if e["kind"] == "wo.issued")["message"]
    manager = browser(app)
    assert sign_in(manager, "manager").status_code == 302
    page_url, action = f"/cases/{case['id']}", f"/work-orders/{wo_no}/cancel"
    assert f'action="{action}"' in text_of(manager.get(page_url))  # open, waiting on HR's formalities
    refused = submit(manager, page_url, action, {"reason": " "}, follow_redirects=True)
    assert "未更改：取消原因：" in text_of(refused)  # names the field to fill
    done = submit(manager, page_url, action, {"reason": "签证被拒"}, follow_redirects=True)
    page = text_of(done)
    assert f"{wo_no} 已取消" in page and 'rec-cancelled">已撤销<' in page and ">cancelled<" not in page  # a word
