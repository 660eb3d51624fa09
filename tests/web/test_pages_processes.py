"""The "Start a process" pages: the processes my roles may start, the start form with inline errors, then my first
task; tasks without a case show their process and business key in the inbox and on the task page."""

from __future__ import annotations

from io import BytesIO

from tests.web.test_api_processes import BPMN
from tests.web.test_api_processes import FORMS
from tests.web.test_pages_flow import browser
from tests.web.test_pages_flow import field_error
from tests.web.test_pages_flow import sign_in
from tests.web.test_pages_flow import submit
from tests.web.test_pages_flow import text_of


def deploy(api) -> None:
    files = [(BytesIO(BPMN), "spare_part_return.bpmn")] + [(BytesIO(data), name) for name, data in FORMS.items()]
    response = api("modeler").post(
        "/api/v1/process-definitions", data={"files": files}, content_type="multipart/form-data"
    )
    assert response.status_code == 201, response.get_json()


def test_a_manager_starts_the_return_process_and_lands_on_the_first_task(app, api):
    deploy(api)
    manager = browser(app)
    sign_in(manager, "manager")
    listing = text_of(manager.get("/processes/"))
    assert "备件退回" in listing and "/processes/spare_part_return/start" in listing
    assert "/processes/after_sales_case/start" not in listing  # the case starts by registration

    page = "/processes/spare_part_return/start"
    bad = submit(manager, page, page, {"customer_code": "C001", "part_no": "", "reason": "异响"})
    assert bad.status_code == 422 and field_error(text_of(bad), "part_no")

    good = submit(manager, page, page, {"customer_code": "C001", "part_no": "BRG-6205", "reason": "异响"})
    assert good.status_code == 302 and "/tasks/" in good.headers["Location"]
    task_page = text_of(manager.get(good.headers["Location"]))
    assert "批准退件" in task_page and "BRG-6205 / C001" in task_page and "备件退回" in task_page
    inbox = text_of(manager.get("/?tab=available"))
    assert "BRG-6205 / C001" in inbox


def test_a_role_outside_the_start_lane_cannot_open_the_start_form(app, api):
    deploy(api)
    sales = browser(app)
    sign_in(sales, "sales")
    assert "spare_part_return" not in text_of(sales.get("/processes/"))
    assert sales.get("/processes/spare_part_return/start").status_code == 403
    assert sales.get("/processes/nothing_here/start").status_code == 404
