"""Hostile input never causes a 500 or a half-written step (reliability.md §3.5 I1): 4xx and unchanged, or 2xx."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from engine.records.process import ProcessInstance
from tests.helpers import QUALITY_COMPLAINT

HOSTILE_TEXT = st.one_of(
    st.text(max_size=50),
    st.sampled_from(["\x00", "\ud800", "\u202eevil", "a" * 5000, "typename", "__class__", "{{7*7}}"]),
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    HOSTILE_TEXT,
)
JSON_VALUES = st.recursive(
    LEAVES, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE_TEXT, inner, max_size=4), max_leaves=12
)
FORM_DATA = st.dictionaries(
    st.sampled_from(["root_cause", "responsibility", "typename", "csi_id", "assignee", "status", "extra"])
    | HOSTILE_TEXT,
    JSON_VALUES,
    max_size=6,
)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _post_raw(client, path: str, payload, headers):
    body = json.dumps(payload, allow_nan=True)  # NaN/Infinity on purpose: clients do send them
    return client.post(path, data=body, content_type="application/json", headers=headers)


@pytest.fixture
def manager_headers(client):
    token = client.post("/api/v1/auth/token", json={"username": "manager", "password": "demo-pass-2026"})
    return {"Authorization": f"Bearer {token.get_json()['token']}"}


@FUZZ
@given(data=FORM_DATA)
def test_fuzzed_task_form_is_refused_cleanly_or_accepted_whole(client, manager_headers, session, data):
    case = client.post("/api/v1/cases", json=QUALITY_COMPLAINT, headers=manager_headers).get_json()
    task = client.get(f"/api/v1/tasks?case_id={case['id']}", headers=manager_headers).get_json()[0]
    instance = session.get(ProcessInstance, case["process_instance_id"])
    before = (instance.state_json, instance.lock_version)
    session.commit()
    response = _post_raw(client, f"/api/v1/tasks/{task['id']}/complete", {"data": data}, manager_headers)
    assert response.status_code in (200, 422), response.get_data(as_text=True)[:300]
    session.expire_all()
    if response.status_code == 422:
        assert response.get_json()["fields"]
        assert (instance.state_json, instance.lock_version) == before
    else:
        assert instance.lock_version == before[1] + 1
    session.commit()


@FUZZ
@given(
    body=st.dictionaries(
        st.sampled_from(sorted(QUALITY_COMPLAINT) + ["received_at", "overseas", "x"]), JSON_VALUES, max_size=8
    )
)
def test_fuzzed_registration_never_fails_with_500(client, manager_headers, body):
    response = _post_raw(client, "/api/v1/cases", body, manager_headers)
    assert response.status_code in (201, 422), response.get_data(as_text=True)[:300]
