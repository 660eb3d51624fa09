"""User management (admin page, API revoke): disabling a user or changing a password ends every browser session and
API token at once; weak passwords are refused; only admins manage users; web logout ends only the browser session."""

from __future__ import annotations

import pytest

from engine.aftersales.demo import DEMO_PASSWORD
from tests.web.test_security import csrf_from

STRONG = "lantern-orchid-2027"


class Person:
    """One browser (its own cookie jar) and one API token of a user."""

    def __init__(self, app, username: str, password: str = DEMO_PASSWORD) -> None:
        self.client = app.test_client()
        self.client.environ_base["wsgi.url_scheme"] = "https"
        self.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
        self.username = username
        page = self.client.get("/login").get_data(as_text=True)
        form = {"username": username, "password": password, "csrf_token": csrf_from(page)}
        assert self.client.post("/login", data=form).status_code == 302
        issued = self.client.post("/api/v1/auth/token", json={"username": username, "password": password})
        self.token = issued.get_json()["token"]

    def page(self, path: str):
        return self.client.get(path)

    def post(self, path: str, data: dict | None = None):
        token = csrf_from(self.client.get("/").get_data(as_text=True))
        return self.client.post(path, data={**(data or {}), "csrf_token": token})

    def api_works(self, token: str | None = None) -> bool:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.client.get("/api/v1/tasks", headers=headers).status_code == 200

    def signed_in(self) -> bool:
        return self.client.get("/").status_code == 200


@pytest.fixture
def admin(app):
    return Person(app, "admin")


def test_only_admins_see_the_user_pages(app, client, admin):
    assert client.get("/admin/users").status_code == 302  # anonymous: to the sign-in page
    manager = Person(app, "manager")
    assert manager.page("/admin/users").status_code == 403
    assert manager.post("/admin/users/sales/active", {"active": "0"}).status_code == 403
    listing = admin.page("/admin/users")
    assert listing.status_code == 200
    text = listing.get_data(as_text=True)
    assert all(name in text for name in ("director", "manager", "hr", "modeler"))
    assert 'href="/admin/users"' in admin.page("/").get_data(as_text=True)  # the menu shows it to admins only
    assert 'href="/admin/users"' not in manager.page("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "password,message",
    [
        ("password", "most common passwords"),
        ("12345678", "most common passwords"),
        ("iloveyou1", "most common passwords"),
        ("short", "At least 8 characters"),
        ("Zhang.Wei", "must not be the user name"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(admin, password, message):
    form = {"username": "zhang.wei", "display_name": "张伟", "role": ["sales"], "password": password}
    response = admin.post("/admin/users", {**form, "password2": password})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_admin_adds_a_user_who_can_then_sign_in(app, admin):
    form = {"username": "zhang.wei", "display_name": "张伟", "role": ["sales", "hr"], "password": STRONG}
    assert admin.post("/admin/users", {**form, "password2": "different-2027"}).status_code == 422
    created = admin.post("/admin/users", {**form, "password2": STRONG})
    assert created.status_code == 302 and created.headers["Location"].endswith("/admin/users/zhang.wei")
    page = admin.page("/admin/users/zhang.wei").get_data(as_text=True)
    assert "张伟" in page
    zhang = Person(app, "zhang.wei", STRONG)
    assert zhang.signed_in() and zhang.api_works()


def test_disabling_a_user_ends_every_session_and_token_at_once(app, admin):
    sales = Person(app, "sales")
    second_token = Person(app, "sales").token
    assert sales.signed_in() and sales.api_works() and sales.api_works(second_token)
    page = admin.page("/admin/users/sales").get_data(as_text=True)
    assert "2 browser, 2 API" in page
    disabled = admin.post("/admin/users/sales/active", {"active": "0"})
    assert disabled.status_code == 302
    assert not sales.signed_in() and not sales.api_works() and not sales.api_works(second_token)
    with pytest.raises(AssertionError):
        Person(app, "sales")  # sign-in refused while disabled
    assert admin.post("/admin/users/sales/active", {"active": "1"}).status_code == 302
    assert Person(app, "sales").api_works()


def test_a_new_password_ends_every_session_and_token(app, admin):
    engineer = Person(app, "engineer")
    weak = {"password": "1qaz2wsx", "password2": "1qaz2wsx"}
    assert admin.post("/admin/users/engineer/password", weak).status_code == 422
    assert engineer.signed_in() and engineer.api_works()
    changed = admin.post("/admin/users/engineer/password", {"password": STRONG, "password2": STRONG})
    assert changed.status_code == 302
    assert not engineer.signed_in() and not engineer.api_works()
    assert Person(app, "engineer", STRONG).api_works()


def test_revoke_ends_sessions_and_tokens_but_the_user_may_sign_in_again(app, admin):
    qc = Person(app, "qc")
    assert admin.post("/admin/users/qc/revoke").status_code == 302
    assert not qc.signed_in() and not qc.api_works()
    assert Person(app, "qc").signed_in()


def test_roles_change_and_the_last_admin_keeps_the_role(app, admin):
    hr = Person(app, "hr")
    assert hr.page("/monitor/instances").status_code == 403
    assert admin.post("/admin/users/hr/roles", {"role": ["hr", "service_director"]}).status_code == 302
    assert hr.page("/monitor/instances").status_code == 200  # from the next page on
    assert admin.post("/admin/users/hr/roles", {"role": ["wizard"]}).status_code == 422
    assert admin.post("/admin/users/hr/roles", {}).status_code == 422
    kept = admin.post("/admin/users/admin/roles", {"role": ["service_director"]})
    assert kept.status_code == 409 and "last active administrator" in kept.get_data(as_text=True)
    assert admin.post("/admin/users/admin/active", {"active": "0"}).status_code == 409
    assert admin.page("/admin/users/nobody").status_code == 404


def test_api_revoke_ends_only_the_callers_token(app, client):
    manager = Person(app, "manager")
    other_token = Person(app, "manager").token
    revoked = client.post("/api/v1/auth/revoke", headers={"Authorization": f"Bearer {manager.token}"})
    assert revoked.status_code == 200 and revoked.get_json() == {"revoked": True}
    assert not manager.api_works() and manager.api_works(other_token)
    again = client.post("/api/v1/auth/revoke", headers={"Authorization": f"Bearer {manager.token}"})
    assert again.status_code == 401


def test_web_logout_ends_the_browser_session_only(app):
    """DESIGN.md keeps the two apart: a browser session (logout) and API tokens (POST /api/v1/auth/revoke, or all of
    them by disabling the user, a new password or an admin's revoke). An integration keeps working when its owner
    signs out of the browser."""
    manager = Person(app, "manager")
    assert manager.post("/logout").status_code == 302
    assert not manager.signed_in()
    assert manager.api_works()
