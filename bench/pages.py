"""Server time of the manager pages on a generated database (bench/generate.py): median of warm requests.

Each page is requested through the Flask test client by the signed-in demo director (the inbox pages and the paged
task list by the demo manager, whose lanes hold most open tasks) (a browser session for the pages,
a Bearer token for the API): one untimed warm-up, then --runs timed requests; the median and the slowest are printed in
milliseconds with the response size. A page whose route is not installed yet is reported as skipped. The target is
300 ms per page with 100,000 cases.

Run: .venv/bin/python bench/pages.py /tmp/bench.db [--runs 7] [--from 2026-01-01 --to 2026-03-31]
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]  # bench/http.py shadows stdlib http

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from engine.aftersales.demo import DEMO_PASSWORD  # noqa: E402
from engine.config import PROJECT_ROOT  # noqa: E402
from engine.config import Settings  # noqa: E402
from web import create_app  # noqa: E402

TARGET_MS = 300.0
PAGES = ("/dashboard", "/dashboard/data", "/monitor/instances", "/api/v1/instances", "/cases")
INBOX_PAGES = ("/", "/?tab=available", "/api/v1/tasks?page=1&per_page=50", "/api/v1/tasks?scope=available&per_page=50")


def database_url(target: str) -> str:
    """A SQLAlchemy URL from a URL or an SQLite file path."""
    return target if "://" in target else f"sqlite:///{Path(target).resolve()}"


def make_clients(url: str, username: str = "director") -> tuple[Any, dict[str, str]]:
    """The app on the database, a signed-in browser client and the Bearer header of an API token."""
    home = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    settings = Settings(
        home=home, database_url=url, secret_key="bench-" + "x" * 40, workflows_dir=PROJECT_ROOT / "workflows"
    )
    app = create_app({"TESTING": False, "WTF_CSRF_ENABLED": False}, settings=settings)
    browser = app.test_client()
    browser.environ_base["wsgi.url_scheme"] = "https"
    signed = browser.post("/login", data={"username": username, "password": DEMO_PASSWORD, "next": "/"})
    if signed.status_code != 302:
        sys.exit(f"sign-in failed: HTTP {signed.status_code}")
    api = app.test_client()
    api.environ_base["wsgi.url_scheme"] = "https"
    token = api.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
    if token.status_code != 200:
        sys.exit(f"API token failed: HTTP {token.status_code} {token.get_data(as_text=True)[:200]}")
    return browser, {"Authorization": f"Bearer {token.get_json()['token']}"}


def measure(client: Any, path: str, runs: int, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """Median and max server time of `runs` requests after one warm-up; status and size of the last response."""
    response = client.get(path, headers=headers or {})
    if response.status_code == 404:
        return {"path": path, "skipped": "route not installed yet (404)"}
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(path, headers=headers or {})
        response.get_data()
        times.append((time.perf_counter() - started) * 1000)
    return {
        "path": path,
        "status": response.status_code,
        "bytes": len(response.get_data()),
        "median_ms": statistics.median(times),
        "max_ms": max(times),
    }


def counts(url: str) -> dict[str, int]:
    """Rows in the main tables, to print beside the timings."""
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = {
            table: int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("csi", "process_instance", "human_task", "timeline_event", "psr")
        }
    engine.dispose()
    return found


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("target", help="SQLite file path or SQLAlchemy URL of a generated database")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--from", dest="first", default="", help="dashboard period start (default: last 12 weeks)")
    parser.add_argument("--to", dest="last", default="")
    args = parser.parse_args(argv)
    url = database_url(args.target)
    sizes = counts(url)
    print("database:", ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    director = make_clients(url)
    manager = make_clients(url, "manager")  # the inbox pages: the manager's lanes hold most open tasks
    query = "&".join(f"{k}={v}" for k, v in (("from", args.first), ("to", args.last)) if v)
    failed = False
    for page, (browser, bearer) in [*((p, director) for p in PAGES), *((p, manager) for p in INBOX_PAGES)]:
        path = f"{page}?{query}" if query and page.startswith("/dashboard") else page
        result = measure(browser, path, args.runs, bearer if page.startswith("/api/") else None)
        if "skipped" in result:
            print(f"{path:42} skipped: {result['skipped']}")
            continue
        ok = result["status"] == 200 and result["median_ms"] <= TARGET_MS
        failed |= not ok
        verdict = "ok" if ok else ("OVER TARGET" if result["status"] == 200 else "ERROR (not 200)")
        print(
            f"{path:42} median {result['median_ms']:7.1f} ms   max {result['max_ms']:7.1f} ms   "
            f"HTTP {result['status']}  {result['bytes']:>9,} B  {verdict}"
        )
    print(f"target: {TARGET_MS:.0f} ms median server time per page; {'met' if not failed else 'NOT met'}")


if __name__ == "__main__":
    main()
