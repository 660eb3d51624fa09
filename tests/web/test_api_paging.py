"""Issue 12: paged task lists (X-Total-Count, Link), the short completion answer, the paged case timeline, and the
token cache emptied on revocation."""

from __future__ import annotations

from engine.platform import session_cache
from tests.helpers import ANSWERS
from tests.helpers import QUALITY_COMPLAINT


def _cases(api, n):
    return [api("manager").post("/api/v1/cases", json=QUALITY_COMPLAINT).get_json() for _ in range(n)]


def test_tasks_are_paged_on_request_with_total_and_links(api):
    _cases(api, 3)
    manager = api("manager")
    plain = manager.get("/api/v1/tasks")
    assert isinstance(plain.get_json(), list) and len(plain.get_json()) == 3
    assert "X-Total-Count" not in plain.headers
    first = manager.get("/api/v1/tasks?page=1&per_page=2")
    assert first.status_code == 200 and len(first.get_json()) == 2
    assert first.headers["X-Total-Count"] == "3"
    assert 'rel="next"' in first.headers["Link"] and "page=2" in first.headers["Link"]
    second = manager.get("/api/v1/tasks?page=2&per_page=2")
    assert len(second.get_json()) == 1 and 'rel="prev"' in second.headers["Link"]
    ids = [t["id"] for t in first.get_json() + second.get_json()]
    assert ids == [t["id"] for t in plain.get_json()]
    assert manager.get("/api/v1/tasks?per_page=0").status_code == 422


def test_a_completion_answers_the_case_summary_and_the_full_view_on_request(api):
    case = _cases(api, 1)[0]
    manager = api("manager")
    task = manager.get(f"/api/v1/tasks?case_id={case['id']}").get_json()[0]
    done = manager.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": ANSWERS["analyse_root_cause"]})
    body = done.get_json()
    assert body["task"]["status"] == "completed"
    assert body["case"]["id"] == case["id"] and body["case"]["csi_no"] == case["csi_no"]
    assert body["case"]["sla"]["plan_due_at"] and "timeline" not in body["case"]
    review = body["next_tasks"][0]
    full = api("supervisor").post(
        f"/api/v1/tasks/{review['id']}/complete?include=case", json={"data": ANSWERS["review_csi"]}
    )
    assert full.status_code == 200 and full.get_json()["case"]["timeline"]


def test_the_case_timeline_is_paged_from_the_newest(api):
    case = _cases(api, 1)[0]
    manager = api("manager")
    whole = manager.get(f"/api/v1/cases/{case['id']}").get_json()
    total = whole["timeline_total"]
    assert total == len(whole["timeline"]) >= 2
    newest = manager.get(f"/api/v1/cases/{case['id']}?timeline_per_page=1").get_json()
    assert newest["timeline"] == whole["timeline"][-1:] and newest["timeline_total"] == total
    older = manager.get(f"/api/v1/cases/{case['id']}?timeline_per_page=1&timeline_page=2").get_json()
    assert older["timeline"] == whole["timeline"][-2:-1]


def test_a_revoked_token_is_refused_at_once_though_it_was_cached(api):
    manager = api("manager")
    assert manager.get("/api/v1/tasks").status_code == 200  # now cached
    assert manager.post("/api/v1/auth/revoke").status_code == 200
    assert manager.get("/api/v1/tasks").status_code == 401


def test_a_disabled_user_is_refused_at_once_though_the_token_was_cached(api, sessions):
    from engine.platform.user_admin import get_user
    from engine.platform.user_admin import set_active

    engineer = api("engineer")
    assert engineer.get("/api/v1/tasks").status_code == 200
    with sessions() as session:
        set_active(session, get_user(session, "engineer"), False, actor="admin")
        session.commit()
    assert engineer.get("/api/v1/tasks").status_code == 401


def test_a_cached_token_authenticates_without_the_session_store(api, app):
    from tests.helpers import counting_statements

    manager = api("manager")
    manager.get("/api/v1/tasks")
    with counting_statements() as seen:
        assert manager.get("/api/v1/tasks").status_code == 200
    assert any("human_task" in s for s in seen)  # the request's own statements were seen
    assert not any("auth_session" in s or "app_user" in s for s in seen)
    session_cache.clear()


def test_the_inbox_page_shows_one_page_of_tasks_with_a_pager(api, client, monkeypatch):
    from tests.web.test_dashboard import sign_in
    from web.views import tasks as inbox_views

    monkeypatch.setattr(inbox_views, "INBOX_PAGE", 2)
    cases = _cases(api, 3)
    sign_in(client, "manager")
    first = client.get("/?tab=available").get_data(as_text=True)
    second = client.get("/?tab=available&page=2").get_data(as_text=True)
    shown = [c["csi_no"] for c in cases if c["csi_no"] in first]
    assert len(shown) == 2 and 'rel="next"' in first
    assert [c["csi_no"] for c in cases if c["csi_no"] in second] == [
        c["csi_no"] for c in cases if c["csi_no"] not in shown
    ]
    assert 'rel="prev"' in second
