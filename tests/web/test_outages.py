"""Database outages are 503 + Retry-After with a clear message (JSON for the API, a page for the browser), tested
against real failures: a PostgreSQL port nobody listens on, SQLite opened read-only, a full SQLite database
(`max_page_count`), a read-only PostgreSQL database; plus /healthz and /readyz for load balancers."""

from __future__ import annotations

import sqlite3

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from engine.aftersales.demo import DEMO_PASSWORD
from engine.outages import OutageKind
from engine.outages import classify_outage
from engine.records.csi import CSI
from tests.helpers import QUALITY_COMPLAINT
from tests.web.test_security import csrf_from

DEAD_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:1/test"


@pytest.fixture
def make_client(request):
    """`make_client(settings, **overrides)`: a client on an app with other settings, closed after the test."""
    from web import create_app

    def make(settings, **overrides):
        app = create_app({"TESTING": False}, settings=settings.with_overrides(**overrides))
        request.addfinalizer(app.extensions["aftersales"].sessions.kw["bind"].dispose)
        client = app.test_client()
        client.environ_base["wsgi.url_scheme"] = "https"
        return client

    return make


def assert_unavailable(response, kind: OutageKind, *, html: bool = False) -> None:
    assert response.status_code == 503, (response.status_code, response.get_data(as_text=True)[:300])
    assert int(response.headers["Retry-After"]) > 0
    if html:
        assert response.mimetype == "text/html"
        assert "503" in response.get_data(as_text=True)
    else:
        body = response.get_json()
        assert body["error"] == kind.value and "try again" in body["message"]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_unreachable_postgres_is_503_for_api_and_pages_and_not_ready(settings, make_client):
    client = make_client(settings, database_url=DEAD_POSTGRES)
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["database"] == "database_unavailable"
    assert ready.headers["Retry-After"]
    issued = client.post("/api/v1/auth/token", json={"username": "manager", "password": DEMO_PASSWORD})
    assert_unavailable(issued, OutageKind.UNREACHABLE)
    assert_unavailable(client.get("/api/v1/tasks", headers={"Authorization": "Bearer x"}), OutageKind.UNREACHABLE)
    page = client.get("/login")
    assert page.status_code == 200  # the sign-in form needs no database
    form = {"username": "manager", "password": DEMO_PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))}
    assert_unavailable(client.post("/login", data=form), OutageKind.UNREACHABLE, html=True)


def test_read_only_sqlite_serves_reads_and_refuses_writes_with_503(settings, sessions, db_url, make_client):
    path = db_url.removeprefix("sqlite:///")
    client = make_client(settings, database_url=f"sqlite:///file:{path}?mode=ro&uri=true")
    assert client.get("/readyz").status_code == 200
    issued = client.post("/api/v1/auth/token", json={"username": "manager", "password": DEMO_PASSWORD})
    assert_unavailable(issued, OutageKind.READ_ONLY)
    page = client.get("/login")
    form = {"username": "manager", "password": DEMO_PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))}
    assert_unavailable(client.post("/login", data=form), OutageKind.READ_ONLY, html=True)


def test_full_sqlite_database_is_503_and_saves_nothing(app, client, api, session):
    manager = api("manager")
    engine = app.extensions["aftersales"].sessions.kw["bind"]

    @event.listens_for(engine, "connect")
    def _no_growth(dbapi_conn, _record):
        cursor = dbapi_conn.cursor()
        pages = cursor.execute("PRAGMA page_count").fetchone()[0]
        cursor.execute(f"PRAGMA max_page_count = {pages}")
        cursor.close()

    engine.dispose()
    session.commit()
    before = session.scalar(sa.select(sa.func.count()).select_from(CSI))
    session.commit()
    response = manager.post("/api/v1/cases", json={**QUALITY_COMPLAINT, "description": "长" * 4000})
    assert_unavailable(response, OutageKind.DISK_FULL)
    assert session.scalar(sa.select(sa.func.count()).select_from(CSI)) == before


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_read_only_postgres_refuses_writes_with_503(settings, sessions, api, db_url, app, make_client):
    manager = api("manager")  # token issued while the database still accepts writes
    admin = sa.create_engine(db_url, isolation_level="AUTOCOMMIT")
    name = db_url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    admin.dispose()
    sessions.kw["bind"].dispose()
    app.extensions["aftersales"].sessions.kw["bind"].dispose()
    fresh = make_client(settings)
    headers = manager.headers
    assert fresh.get("/api/v1/tasks", headers=headers).status_code == 200  # reads still work
    response = fresh.post("/api/v1/cases", json=QUALITY_COMPLAINT, headers=headers)
    assert_unavailable(response, OutageKind.READ_ONLY)


def test_outages_are_told_apart_from_bugs_by_driver_codes():
    def sqlite_error(code: int) -> sqlite3.OperationalError:
        error = sqlite3.OperationalError("x")
        error.sqlite_errorcode = code
        return error

    def wrapped(driver_error: Exception) -> sa.exc.DBAPIError:
        return sa.exc.OperationalError("INSERT …", {}, driver_error)

    assert classify_outage(wrapped(sqlite_error(13))).kind == OutageKind.DISK_FULL
    assert classify_outage(wrapped(sqlite_error(8 | (1 << 8)))).kind == OutageKind.READ_ONLY  # extended code
    assert classify_outage(wrapped(sqlite_error(5))).kind == OutageKind.BUSY
    assert classify_outage(wrapped(psycopg.errors.DiskFull("no space"))).kind == OutageKind.DISK_FULL
    assert classify_outage(wrapped(psycopg.errors.ReadOnlySqlTransaction("ro"))).kind == OutageKind.READ_ONLY
    assert classify_outage(wrapped(psycopg.errors.LockNotAvailable("lock"))).kind == OutageKind.BUSY
    assert classify_outage(wrapped(psycopg.OperationalError("connection refused"))).kind == OutageKind.UNREACHABLE
    assert classify_outage(wrapped(psycopg.errors.AdminShutdown("bye"))).kind == OutageKind.UNREACHABLE
    assert classify_outage(sa.exc.IntegrityError("x", {}, psycopg.errors.UniqueViolation("dup"))) is None
    assert classify_outage(wrapped(sqlite3.OperationalError("no such table: x"))) is None
    assert classify_outage(ValueError("not a database error")) is None


def test_ready_only_when_migrations_are_at_head(client, app):
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"
    engine = app.extensions["aftersales"].sessions.kw["bind"]
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '0001'"))
    behind = client.get("/readyz")
    assert behind.status_code == 503 and behind.get_json()["migrations"]["applied"] == ["0001"]
    assert behind.get_json()["migrations"]["state"] == "behind"
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_from_a_newer_release'"))
    ahead = client.get("/readyz")
    assert ahead.status_code == 200 and ahead.get_json()["migrations"]["state"] == "ahead"
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM alembic_version"))
    assert client.get("/readyz").status_code == 503  # never migrated
    assert client.get("/healthz").status_code == 200


def test_wrong_method_names_the_allowed_ones(client):
    api = client.delete("/api/v1/cases")
    assert api.status_code == 405 and api.get_json()["error"] == "method_not_allowed"
    assert "POST" in api.headers["Allow"]
    page = client.put("/login")
    assert page.status_code == 405 and "GET" in page.headers["Allow"]
