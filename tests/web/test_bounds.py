"""Ids and page numbers out of range: 404 for an id that cannot exist, 422 naming a bad page, never a 500."""

from __future__ import annotations

import re

import pytest

from engine.platform.users import create_user
from engine.records.user import ROLE_KEYS
from tests.web.test_security import csrf_from

EVERY_ROLE_PASSWORD = "every-role-pass-2026"
HUGE = ("9223372036854775808", "18446744073709551616", "1" + "0" * 30)
BAD_NUMBERS = ("0", "-1", "²", "1e3", "9223372036854775808", "1" + "0" * 40)
QUERY_INTS = [
    ("/api/v1/tasks", "case_id"),
    ("/api/v1/instances", "page"),
    ("/api/v1/instances", "page_size"),
    ("/api/v1/instances", "version"),
    ("/monitor/instances", "page"),
    ("/monitor/instances", "version"),
    ("/monitor/heatmap", "version"),
    ("/designer/process/after_sales_case", "version"),
    ("/designer/process/after_sales_case/diff", "to"),
    ("/designer/process/after_sales_case/diff", "from"),
    ("/designer/process/after_sales_case/migration", "to"),
]


@pytest.fixture
def every_role(session, client):
    """A user holding every role, signed in on the web and with an API token, so no role check hides a route."""
    create_user(session, "everyone", EVERY_ROLE_PASSWORD, sorted(ROLE_KEYS))
    session.commit()
    client.application.config["WTF_CSRF_ENABLED"] = False
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"username": "everyone", "password": EVERY_ROLE_PASSWORD, "csrf_token": token})
    issued = client.post("/api/v1/auth/token", json={"username": "everyone", "password": EVERY_ROLE_PASSWORD})
    return {"Authorization": f"Bearer {issued.get_json()['token']}"}


def test_ids_beyond_64_bits_are_404_on_every_route(client, every_role):
    checked = 0
    for rule in client.application.url_map.iter_rules():
        ints = [name for name, converter in rule._converters.items() if converter.__class__.__name__ == "IdConverter"]
        if not ints:
            continue
        for huge in HUGE:
            path = rule.rule
            for name in rule.arguments:
                value = huge if name in ints else "after_sales_case"
                path = re.sub(rf"<(?:[^:<>]+:)?{name}>", value, path)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(path, method=method, headers=every_role, json={"reason": "x"})
                assert response.status_code == 404, (method, path, response.status_code)
                checked += 1
    assert checked >= 3 * 14


@pytest.mark.parametrize("path,name", QUERY_INTS)
def test_bad_numbers_in_the_query_are_422_or_404_never_500(client, every_role, path, name):
    for value in BAD_NUMBERS:
        response = client.get(path, query_string={name: value}, headers=every_role)
        assert response.status_code in (404, 422), (path, name, value, response.status_code)
        if name in ("page", "page_size"):
            assert response.status_code == 422
            if path.startswith("/api/"):
                assert name in response.get_json()["fields"]


def test_migration_ignores_instance_ids_that_cannot_exist(client, every_role):
    response = client.post(
        "/designer/process/after_sales_case/migration", data={"instance": ["9223372036854775808", "²"]}
    )
    assert response.status_code == 422
