"""Sign-in throttling (reliability.md §3.9 W3): per account and per client address, with back-off, 429 + Retry-After,
records in the database (shared by every process), and the web sign-in and the API token route kept apart."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import time_machine

from engine.aftersales.demo import DEMO_PASSWORD
from tests.web.test_security import csrf_from

START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


class Browser:
    """Signs in through the web form from one client address."""

    def __init__(self, client, address: str = "198.51.100.7") -> None:
        self.client = client
        self.address = address

    def sign_in(self, username: str, password: str):
        token = csrf_from(self.client.get("/login").get_data(as_text=True))
        form = {"username": username, "password": password, "csrf_token": token}
        return self.client.post("/login", data=form, environ_base={"REMOTE_ADDR": self.address})


def token_for(client, username: str, password: str, address: str = "198.51.100.7"):
    body = {"username": username, "password": password}
    return client.post("/api/v1/auth/token", json=body, environ_base={"REMOTE_ADDR": address})


def test_thirty_quick_wrong_passwords_are_slowed_and_the_right_one_waits_too(client):
    browser = Browser(client)
    with time_machine.travel(START, tick=False):
        answers = [browser.sign_in("manager", f"wrong-{i}").status_code for i in range(30)]
        right = browser.sign_in("manager", DEMO_PASSWORD)
        api_right = token_for(client, "manager", DEMO_PASSWORD)
    assert answers == [401] * 5 + [429] * 25
    assert right.status_code == 429 and 0 < int(right.headers["Retry-After"]) <= 60
    assert "Too many failed sign-ins" in right.get_data(as_text=True) or "登录失败次数过多" in right.get_data(
        as_text=True
    )
    assert api_right.status_code == 200  # the integration's token route is not locked by web failures
    print(
        f"SECURITY throttle web_attempts=30 checked={answers.count(401)} throttled={answers.count(429)} "
        f"right_password_while_locked={right.status_code} api_token_meanwhile={api_right.status_code}"
    )


def test_each_further_failure_doubles_the_wait(client):
    browser = Browser(client)
    moment = START
    with time_machine.travel(moment, tick=False) as clock:
        for i in range(5):
            assert browser.sign_in("supervisor", f"wrong-{i}").status_code == 401
        assert int(browser.sign_in("supervisor", DEMO_PASSWORD).headers["Retry-After"]) == 60
        waits = []
        for _ in range(3):
            clock.shift(timedelta(seconds=int(browser.sign_in("supervisor", "x").headers["Retry-After"])))
            assert browser.sign_in("supervisor", "still-wrong").status_code == 401
            waits.append(int(browser.sign_in("supervisor", DEMO_PASSWORD).headers["Retry-After"]))
        assert waits == [120, 240, 480]
        clock.shift(timedelta(seconds=480))
        assert browser.sign_in("supervisor", DEMO_PASSWORD).status_code == 302


def test_token_route_failures_do_not_lock_the_web_sign_in(client):
    with time_machine.travel(START, tick=False):
        for _ in range(5):
            assert token_for(client, "engineer", "wrong-password").status_code == 401
        locked = token_for(client, "engineer", DEMO_PASSWORD)
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        assert locked.get_json()["error"] == "too_many_attempts"
        assert Browser(client).sign_in("engineer", DEMO_PASSWORD).status_code == 302


def test_one_address_guessing_many_accounts_is_slowed(client):
    guesser = Browser(client, "203.0.113.66")
    names = ["manager", "supervisor", "engineer", "qc", "sales", "designer", "hr", "nobody"]
    with time_machine.travel(START, tick=False):
        answers = [guesser.sign_in(names[i % len(names)], f"guess-{i}").status_code for i in range(21)]
        assert answers == [401] * 20 + [429]
        assert guesser.sign_in("director", DEMO_PASSWORD).status_code == 429
        assert Browser(client, "198.51.100.8").sign_in("director", DEMO_PASSWORD).status_code == 302


def test_failures_are_shared_by_every_process_on_the_database(app, settings):
    from web import create_app

    other = create_app({"TESTING": False}, settings=settings)  # a second worker process on the same database
    try:
        first, second = app.test_client(), other.test_client()
        for c in (first, second):
            c.environ_base["wsgi.url_scheme"] = "https"
        with time_machine.travel(START, tick=False):
            for i in range(5):
                assert Browser(first if i % 2 else second).sign_in("qc", "wrong").status_code == 401
            assert Browser(second).sign_in("qc", DEMO_PASSWORD).status_code == 429
            assert Browser(first).sign_in("qc", DEMO_PASSWORD).status_code == 429
    finally:
        other.extensions["aftersales"].sessions.kw["bind"].dispose()


def test_the_client_address_comes_from_a_trusted_proxy_only(settings, sessions):
    from web import create_app

    behind_proxy = create_app({"TESTING": False}, settings=settings.with_overrides(proxy_hops=1))
    try:
        client = behind_proxy.test_client()
        client.environ_base["wsgi.url_scheme"] = "https"
        forwarded = {"X-Forwarded-For": "192.0.2.10", "X-Forwarded-Proto": "https"}
        with time_machine.travel(START, tick=False):
            for i in range(20):
                body = {"username": f"nobody{i}", "password": "x"}
                assert client.post("/api/v1/auth/token", json=body, headers=forwarded).status_code == 401
            body = {"username": "manager", "password": DEMO_PASSWORD}
            assert client.post("/api/v1/auth/token", json=body, headers=forwarded).status_code == 429
            other = {"X-Forwarded-For": "192.0.2.11", "X-Forwarded-Proto": "https"}
            assert client.post("/api/v1/auth/token", json=body, headers=other).status_code == 200
    finally:
        behind_proxy.extensions["aftersales"].sessions.kw["bind"].dispose()
