"""Open redirect (ASVS 5.1.5): `next` after sign-in and after a language switch never leaves the site, never 500s."""

from __future__ import annotations

import re
from urllib.parse import urljoin
from urllib.parse import urlsplit

from engine.aftersales.demo import DEMO_PASSWORD
from tests.web.test_security import csrf_from
from web.auth import is_local_path

OFF_SITE = [
    "//evil.example",
    "///evil.example",
    "////evil.example/x",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\r\nSet-Cookie: stolen=1",
    "/\x00/evil.example",
    "/\x0b/evil.example",
    "/\x7f/evil.example",
    "/\x85/evil.example",
    " //evil.example",
    "\t//evil.example",
    "https://evil.example",
    "https:/evil.example",
    "http:evil.example",
    "HTTPS://evil.example/",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.example",
    "\u3000//evil.example",
    "/" + "a" * 5000,
]
LOCAL = ["/cases?status=closed", "/tasks/abc", "/%09/evil.example", "/%5C%5Cevil.example", "/@evil.example"]


def lands_on(location: str) -> str:
    """The host a browser goes to for this Location (tabs/newlines dropped, backslashes read as slashes)."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("\x00 ").replace("\\", "/")
    return urlsplit(urljoin("https://localhost/login", cleaned)).netloc


def test_sign_in_and_language_switch_never_redirect_off_site(client):
    page = client.get("/login").get_data(as_text=True)
    token = csrf_from(page)
    opened = 0
    for payload in OFF_SITE + LOCAL:
        switched = client.post("/lang/en", data={"csrf_token": token, "next": payload})
        signed_in = client.post(
            "/login",
            data={"username": "manager", "password": DEMO_PASSWORD, "csrf_token": token, "next": payload},
        )
        for response in (switched, signed_in):
            assert response.status_code == 302, (payload, response.status_code)
            location = response.headers["Location"]
            opened += lands_on(location) != "localhost"
            if payload in LOCAL:
                assert location == payload
            else:
                assert location in ("/", "https://localhost/"), (payload, location)
        token = csrf_from(client.get("/login").get_data(as_text=True))
    print(f"SECURITY redirect payloads={len(OFF_SITE) + len(LOCAL)} routes=2 open={opened}")
    assert opened == 0


def test_sign_in_page_does_not_carry_an_off_site_next(client):
    page = client.get("/login?next=/%09/evil.example").get_data(as_text=True)
    assert 'name="next" value=""' in page
    kept = client.get("/login?next=/cases").get_data(as_text=True)
    assert 'name="next" value="/cases"' in kept


def test_local_path_rules():
    assert all(not is_local_path(p) for p in OFF_SITE)
    assert all(is_local_path(p) for p in LOCAL)
    assert not is_local_path(None) and not is_local_path("")
