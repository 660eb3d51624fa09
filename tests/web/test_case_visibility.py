"""Who sees which cases: roles that read cases see every case; HR, product design and process designers see only the
requests they registered (every link opens), and monitoring shows them no customer data."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import ANSWERS
from tests.web.test_api import new_case
from tests.web.test_api import task_of
from tests.web.test_user_admin import Person

CUSTOMER_NAME = "华东精密机械有限公司"
SERIAL = "CNC500-0001"
FORM_VALUE = ANSWERS["analyse_root_cause"]["root_cause"]


@pytest.fixture
def worked_case(api):
    """A quality complaint whose root cause was analysed (so the timeline carries form values)."""
    case = new_case(api)
    task = task_of(api, case["id"], "analyse_root_cause")
    done = api("manager").post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS["analyse_root_cause"]})
    assert done.status_code == 200, done.get_json()
    return case


def case_links(html: str) -> set[str]:
    return set(re.findall(r'href="(/cases/\d+)"', html))


@pytest.mark.parametrize("username", ["hr", "designer", "modeler"])
def test_roles_without_case_access_list_only_what_they_registered(app, api, worked_case, username):
    person = Person(app, username)
    before = person.page("/cases").get_data(as_text=True)
    assert worked_case["csi_no"] not in before and case_links(before) == set()
    own = new_case(api, user=username, kind="service_request", origin_so_no="SO-2025-0001")
    page = person.page("/cases").get_data(as_text=True)
    assert own["csi_no"] in page and worked_case["csi_no"] not in page
    assert case_links(page) == {f"/cases/{own['id']}"}
    assert all(person.page(link).status_code == 200 for link in case_links(page))
    assert person.page(f"/cases/{worked_case['id']}").status_code == 403


def test_case_readers_list_every_case(app, api, worked_case):
    other = new_case(api, user="hr", kind="service_request", origin_so_no="SO-2025-0001")
    for username in ("manager", "director", "qc", "sales", "admin"):
        page = Person(app, username).page("/cases").get_data(as_text=True)
        assert {f"/cases/{worked_case['id']}", f"/cases/{other['id']}"} <= case_links(page), username


def test_process_designers_monitor_without_customer_data(app, api, worked_case):
    modeler, manager = api("modeler"), api("manager")
    rows = modeler.get("/api/v1/instances").get_json()
    assert rows and all(r["customer_name"] is None and r["serial_no"] is None for r in rows)
    assert any(r["customer_name"] == CUSTOMER_NAME for r in manager.get("/api/v1/instances").get_json())
    instance_id = worked_case["process_instance_id"]
    detail = modeler.get(f"/api/v1/instances/{instance_id}")
    assert detail.status_code == 200
    text = json.dumps(detail.get_json(), ensure_ascii=False)
    assert CUSTOMER_NAME not in text and SERIAL not in text and FORM_VALUE not in text
    assert any(e["kind"] == "task.completed" for e in detail.get_json()["timeline"])  # the step is still shown
    assert FORM_VALUE in json.dumps(manager.get(f"/api/v1/instances/{instance_id}").get_json(), ensure_ascii=False)
    assert modeler.get("/api/v1/instances?customer=C001").status_code == 403
    assert modeler.get(f"/api/v1/instances?serial={SERIAL}").status_code == 403
    assert manager.get("/api/v1/instances?customer=C001").status_code == 200

    browser = Person(app, "modeler")
    for path in ("/monitor/instances", f"/monitor/instances/{instance_id}", "/monitor/instances?format=csv"):
        response = browser.page(path)
        assert response.status_code == 200, path
        body = response.get_data(as_text=True)
        assert CUSTOMER_NAME not in body and SERIAL not in body and FORM_VALUE not in body, path
        assert not case_links(body), path
    assert browser.page("/monitor/instances?customer=C001").status_code == 403
    assert CUSTOMER_NAME in Person(app, "manager").page("/monitor/instances").get_data(as_text=True)
