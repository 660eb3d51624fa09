"""Web hardening (reliability.md §6.3): headers, cookie attributes, CSRF, server-side session revocation, limits."""

from __future__ import annotations

import re

import pytest

from engine.aftersales.demo import DEMO_PASSWORD


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no csrf_token in the page"
    return match.group(1)


def sign_in(client, username="manager"):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"username": username, "password": DEMO_PASSWORD, "csrf_token": token})


def test_every_response_carries_the_security_headers(client):
    for path in ("/login", "/api/v1/openapi.json", "/no-such-page", "/api/v1/tasks"):
        headers = client.get(path).headers
        assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
        assert "object-src 'none'" in headers["Content-Security-Policy"]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_session_cookie_is_host_prefixed_secure_httponly_lax(client):
    response = sign_in(client)
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    for attribute in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in cookie
    assert "Domain=" not in cookie


def test_signed_in_pages_are_not_cached(client):
    sign_in(client)
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_form_posts_without_a_csrf_token_are_refused(client):
    response = client.post("/login", data={"username": "manager", "password": DEMO_PASSWORD})
    assert response.status_code == 400
    sign_in(client)
    assert client.post("/cases/new", data={"kind": "quality_complaint"}).status_code == 400


def test_logout_revokes_the_session_server_side(client):
    sign_in(client)
    cookie = client.get_cookie("__Host-session")
    assert client.get("/").status_code == 200
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})
    client.set_cookie("__Host-session", cookie.value)  # replay the old cookie
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_disabled_user_loses_access_at_the_next_request(client, session):
    from engine.records.user import User

    sign_in(client)
    assert client.get("/").status_code == 200
    user = session.query(User).filter_by(username="manager").one()
    user.active = False
    session.commit()
    assert client.get("/").status_code == 302


def test_open_redirect_after_sign_in_is_not_followed(client):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"username": "manager", "password": DEMO_PASSWORD, "csrf_token": token, "next": "//evil.example/x"},
    )
    assert response.headers["Location"] in ("/", "https://localhost/")


def test_oversized_bodies_are_refused_with_413(api, app):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = api("manager").post("/api/v1/cases", data="x" * 5000, content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"]


def test_stored_definitions_are_served_as_downloads_never_inline(client, session):
    from engine.records.process import ProcessVersion

    version = session.query(ProcessVersion).filter_by(process_id="after_sales_case").one()
    session.commit()
    sign_in(client, "modeler")
    paths = [
        f"/monitor/versions/{version.id}/diagrams/after_sales_case.bpmn",
        f"/designer/files/{version.bundle_id}/after_sales_case.bpmn",
        f"/designer/files/{version.bundle_id}/forms/review_csi.schema.json",
        "/designer/process/after_sales_case/versions/1/download",
        "/designer/process/after_sales_case/versions/1/bundle.zip",
    ]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Disposition"].startswith("attachment;"), path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response.headers["Content-Security-Policy"]


def test_a_definition_with_a_chinese_file_name_downloads_under_its_name(api, client, session):
    """The header took the name raw and failed latin-1: the monitor's diagram and the designer's downloads were 500."""

    from engine.records.process import ProcessVersion
    from tests.web.test_api_processes import BPMN
    from tests.web.test_api_processes import FORMS
    from tests.web.test_api_processes import upload

    assert upload(api, {"备件退回.bpmn": BPMN, **FORMS}).status_code == 201
    version = session.query(ProcessVersion).filter_by(process_id="spare_part_return").one()
    session.commit()
    sign_in(client, "modeler")
    for path in (
        f"/monitor/versions/{version.id}/diagrams/spare_part_return.bpmn",  # by process id, sent as its file
        "/designer/process/spare_part_return/versions/1/download",
        "/designer/process/spare_part_return/versions/1/bundle.zip",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["Content-Disposition"].startswith('attachment; filename="'), path
    chinese = "filename*=UTF-8''%E5%A4%87%E4%BB%B6%E9%80%80%E5%9B%9E."  # 备件退回.bpmn, 备件退回.v1.bpmn
    for named in (
        f"/monitor/versions/{version.id}/diagrams/spare_part_return.bpmn",
        "/designer/process/spare_part_return/versions/1/download",
    ):
        assert chinese in client.get(named).headers["Content-Disposition"], named


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_json_nested_past_the_parsers_limit_is_a_4xx_even_before_sign_in(client, api, opening):
    """2,000 levels of `[` gave a RecursionError and a 500 on the token endpoint (no sign-in needed)."""
    closing = "]" if opening == "[" else "}"
    body = '{"username":' + opening * 2000 + "1" + closing * 2000 + "}"
    token = client.post("/api/v1/auth/token", data=body, content_type="application/json")
    assert 400 <= token.status_code < 500, token.get_data(as_text=True)
    case = api("manager").post("/api/v1/cases", data=body, content_type="application/json")
    assert case.status_code in (400, 422) and case.get_json()["fields"]
