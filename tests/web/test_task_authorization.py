"""Completing a task: a user who may not work it (another lane, or claimed by someone else) gets 403 whatever the
body, never the form's field errors (which would tell the form's rules); the right user gets 422 with the fields."""

from __future__ import annotations

import pytest

from engine.aftersales.demo import DEMO_PASSWORD
from engine.platform.users import create_user
from tests.web.test_api import new_case
from tests.web.test_api import task_of
from tests.web.test_user_admin import Person

BAD_BODIES = [
    {"json": {"data": {"root_cause": 5, "responsibility": "nobody"}}},
    {"json": {"data": "not an object"}},
    {"json": {}},
    {"json": ["data"]},
    {"data": "not json", "content_type": "text/plain"},
]


@pytest.fixture
def task(api, session):
    create_user(session, "manager2", DEMO_PASSWORD, ["service_manager"])
    session.commit()
    case = new_case(api)
    found = task_of(api, case["id"], "analyse_root_cause")
    assert api("manager").post(f"/api/v1/tasks/{found['id']}/claim").status_code == 200
    return found


@pytest.mark.parametrize("username", ["engineer", "hr", "director", "qc", "modeler", "admin", "manager2"])
def test_api_refuses_with_403_before_looking_at_the_data(api, task, username):
    caller = api(username)
    for body in BAD_BODIES:
        response = caller.post(f"/api/v1/tasks/{task['id']}/complete", **body)
        assert response.status_code == 403, (username, body, response.get_json())
        assert response.get_json()["fields"] == {}


def test_api_names_the_bad_fields_for_the_user_who_may_work_the_task(api, task):
    manager = api("manager")
    bad = manager.post(f"/api/v1/tasks/{task['id']}/complete", json=BAD_BODIES[0]["json"])
    assert bad.status_code == 422 and "root_cause" in bad.get_json()["fields"]
    envelope = manager.post(f"/api/v1/tasks/{task['id']}/complete", json={})
    assert envelope.status_code == 422 and "data" in envelope.get_json()["fields"]


@pytest.mark.parametrize("username", ["director", "manager2"])
def test_web_form_refuses_with_403_before_looking_at_the_data(app, task, username):
    person = Person(app, username)
    response = person.post(f"/tasks/{task['id']}", {"root_cause": "", "responsibility": "nobody"})
    assert response.status_code == 403
    assert "field-error" not in response.get_data(as_text=True)
    owner = Person(app, "manager").post(f"/tasks/{task['id']}", {"root_cause": "", "responsibility": "nobody"})
    assert owner.status_code == 422 and "field-error" in owner.get_data(as_text=True)
