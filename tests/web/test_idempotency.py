"""Idempotency-Key on POST /api/v1/cases and POST /api/v1/tasks/{id}/complete: a retry after a lost reply gets the
first answer and creates nothing twice, also when the retries race; the same key with another body is a 422."""

from __future__ import annotations

import threading
import uuid

import pytest
import sqlalchemy as sa

from engine.records.csi import CSI
from engine.records.timeline import TimelineEvent
from tests.helpers import ANSWERS
from tests.helpers import QUALITY_COMPLAINT
from tests.web.test_api import new_case
from tests.web.test_api import task_of

HEADER = "Idempotency-Key"


def count(session, model, *where) -> int:
    session.commit()
    value = session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
    session.commit()
    return value


def test_a_retried_registration_gets_the_first_answer_and_one_csi(api, session):
    manager, key = api("manager"), str(uuid.uuid4())
    first = manager.post("/api/v1/cases", json=QUALITY_COMPLAINT, headers={HEADER: key})
    assert first.status_code == 201
    reordered = dict(reversed(list(QUALITY_COMPLAINT.items())))  # same JSON, other key order
    again = manager.post("/api/v1/cases", json=reordered, headers={HEADER: key})
    assert again.status_code == 201 and again.get_data() == first.get_data()
    assert again.headers["Location"] == first.headers["Location"] and again.headers["Idempotent-Replayed"] == "true"
    assert count(session, CSI) == 1
    other = manager.post("/api/v1/cases", json={**QUALITY_COMPLAINT, "description": "另一件事"}, headers={HEADER: key})
    assert other.status_code == 422 and HEADER in other.get_json()["fields"]
    assert api("supervisor").post("/api/v1/cases", json=QUALITY_COMPLAINT, headers={HEADER: key}).status_code == 201
    assert manager.post("/api/v1/cases", json=QUALITY_COMPLAINT).status_code == 201  # no key: a new case each time
    assert count(session, CSI) == 3


def test_a_refused_request_does_not_use_up_its_key(api, session):
    manager, key = api("manager"), "retry-0001"
    refused = manager.post("/api/v1/cases", json={**QUALITY_COMPLAINT, "kind": "nonsense"}, headers={HEADER: key})
    assert refused.status_code == 422
    assert manager.post("/api/v1/cases", json=QUALITY_COMPLAINT, headers={HEADER: key}).status_code == 201
    assert count(session, CSI) == 1


@pytest.mark.parametrize("key", ["", " ", "x" * 256, "ключ", "a b"])
def test_keys_that_cannot_be_kept_are_refused(api, key):
    response = api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT, headers={HEADER: key})
    assert response.status_code == 422 and HEADER in response.get_json()["fields"]


def test_a_retried_completion_gets_the_first_answer_and_completes_once(api, session):
    case = new_case(api)
    task = task_of(api, case["id"], "analyse_root_cause")
    manager, body = api("manager"), {"data": ANSWERS["analyse_root_cause"]}
    path = f"/api/v1/tasks/{task['id']}/complete"
    first = manager.post(path, json=body, headers={HEADER: "complete-1"})
    again = manager.post(path, json=body, headers={HEADER: "complete-1"})
    assert first.status_code == again.status_code == 200 and first.get_data() == again.get_data()
    assert manager.post(path, json=body).status_code == 409  # without the key it is a new request
    other = manager.post(path, json={"data": {}}, headers={HEADER: "complete-1"})
    assert other.status_code == 422 and HEADER in other.get_json()["fields"]
    completed = (TimelineEvent.kind == "task.completed", TimelineEvent.bpmn_id == "analyse_root_cause")
    assert count(session, TimelineEvent, *completed) == 1


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_racing_retries_create_one_case(app, api, session, db_url):
    headers = {**api("manager").headers, HEADER: "race-0001"}
    barrier = threading.Barrier(8)
    answers: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def send() -> None:
        client = app.test_client()
        client.environ_base["wsgi.url_scheme"] = "https"
        barrier.wait()
        response = client.post("/api/v1/cases", json=QUALITY_COMPLAINT, headers=headers)
        with lock:
            answers.append((response.status_code, response.get_data()))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert {status for status, _ in answers} == {201} and len({body for _, body in answers}) == 1
    assert count(session, CSI) == 1
    print(f"RELIABILITY idempotency db={db_url.split(':')[0]} racing_retries=8 created=1 answers_identical=1")
