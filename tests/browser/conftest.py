"""Real-browser fixtures: the app served on a loopback port, driven by Playwright in Debian's Chromium."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import make_server

from engine.aftersales.demo import DEMO_PASSWORD

CHROMIUM = os.environ.get("AFTERSALES_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _browser_problem() -> str | None:
    if shutil.which(CHROMIUM) is None and not os.path.exists(CHROMIUM):
        return f"Chromium not found at {CHROMIUM} (`.ci/run` installs Debian's chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the whole run (skipped with a reason off CI; CI requires it)."""
    problem = _browser_problem()
    if problem:
        if os.environ.get("AFTERSALES_REQUIRE_BROWSER") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Any) -> Iterator[str]:
    """The real app on 127.0.0.1:<free port> in a thread (same database as the test's `session`)."""
    app.config["WTF_CSRF_SSL_STRICT"] = False  # plain http on loopback; the token itself is still required
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture
def page(chromium: Any, live_server: str) -> Iterator[Any]:
    """A fresh browser context; console errors and page errors fail the test."""
    context = chromium.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1366, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" and not _expected(msg.text) else None,
    )
    yield page
    context.close()
    assert not errors, errors


def _expected(text: str) -> bool:
    """Console noise that is not ours: failed resource loads of 4xx pages we provoke on purpose, Inferno's dev note."""
    return "status of 4" in text or "minified copy of the development build" in text


@pytest.fixture
def sign_in(page: Any) -> Callable[[str], Any]:
    """`sign_in("manager")` signs the browser in through the real login form."""

    def login(username: str) -> Any:
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_load_state()
        return page

    return login
