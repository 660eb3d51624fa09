"""Shared fixtures: a fresh database per test (SQLite file, or PostgreSQL), deployed workflows, users, app."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

import engine.records  # noqa: F401
from engine.aftersales.demo import DEMO_PASSWORD
from engine.aftersales.demo import load_demo
from engine.bootstrap import build_runtime
from engine.bpmn.runtime import WorkflowRuntime
from engine.calendar import BusinessCalendar
from engine.calendar import invalidate_cache
from engine.calendar import load_calendar
from engine.config import PROJECT_ROOT
from engine.config import Settings
from engine.db import make_engine
from engine.db import make_session_factory
from engine.migrate import upgrade_database
from engine.platform import session_cache
from engine.platform.definitions import read_directory
from engine.platform.deployment import deploy_files
from engine.records.user import User

PG_URL = os.environ.get("AFTERSALES_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PG_REQUIRED = os.environ.get("AFTERSALES_REQUIRE_PG") == "1"


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else the reason it does not."""
    try:
        engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"


_PG_PROBLEM: str | None | bool = False


def pg_problem() -> str | None:
    """Cached reachability check."""
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _pg_available()
    return _PG_PROBLEM  # type: ignore[return-value]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test (skipped with a reason when no server is reachable)."""
    problem = pg_problem()
    if problem:
        if PG_REQUIRED:
            pytest.fail(f"AFTERSALES_REQUIRE_PG=1 but {problem}")
        pytest.skip(problem)
    name = f"aftersales_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The database URL a test runs on (SQLite file by default; tests parametrize with 'postgresql')."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        return url
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    """Settings with a private home folder and database."""
    return Settings(
        home=tmp_path / "home",
        database_url=db_url,
        secret_key="test-" + "x" * 40,
        workflows_dir=PROJECT_ROOT / "workflows",
    )


@pytest.fixture
def sessions(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A session factory on a migrated, deployed database with demo data."""
    upgrade_database(settings.database_url)
    invalidate_cache()
    session_cache.clear()
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    with factory() as session:
        deploy_files(session, read_directory(settings.workflows_dir), actor="test", catalog=build_runtime().catalog)
        load_demo(session, date.today())
        session.commit()
    yield factory
    engine.dispose()


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One session for a service-level test; the test commits when it wants to."""
    with sessions() as s:
        yield s


@pytest.fixture(scope="session")
def runtime() -> WorkflowRuntime:
    """The real runtime (sandbox + operators), shared: it is stateless."""
    return build_runtime()


@pytest.fixture
def calendar(session: Session) -> Callable[[], BusinessCalendar]:
    """A lazy calendar loader bound to the test session."""
    return lambda: load_calendar(session)


@pytest.fixture
def user_named(session: Session) -> Callable[[str], User]:
    """Look up a demo user (director, manager, supervisor, engineer, qc, sales, designer, hr, modeler, admin)."""

    def get(username: str) -> User:
        user = session.scalars(sa.select(User).where(User.username == username)).one()
        return user

    return get


@pytest.fixture
def app(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[Any]:
    """The Flask app on the test database (its connections are closed at the end of the test)."""
    from web import create_app
    from web.context import forget_connections

    app = create_app({"TESTING": False}, settings=settings)
    yield app
    forget_connections(app, close=True)  # the writers' pool and the readers' own (engine/db.py read_only)


@pytest.fixture
def client(app: Any) -> Any:
    """A test client on https://localhost (the session cookie is Secure and __Host- prefixed)."""
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"
    return client


@pytest.fixture
def api(client: Any) -> Callable[..., Any]:
    """`api(username)` returns a client bound to a Bearer token for that demo user."""

    class Bound:
        def __init__(self, token: str) -> None:
            self.headers = {"Authorization": f"Bearer {token}"}

        def __getattr__(self, method: str) -> Callable[..., Any]:
            call = getattr(client, method)

            def request(path: str, **kwargs: Any) -> Any:
                kwargs["headers"] = {**self.headers, **kwargs.get("headers", {})}
                return call(path, **kwargs)

            return request

    def login(username: str) -> Bound:
        response = client.post("/api/v1/auth/token", json={"username": username, "password": DEMO_PASSWORD})
        assert response.status_code == 200, response.get_json()
        return Bound(response.get_json()["token"])

    return login


def shared_corpus(name: str) -> Path:
    """A corpus folder of ../shared/corpus (beside the checkout, as CI lays it); missing under CI (`.ci/run` sets
    AFTERSALES_REQUIRE_CORPUS=1) is a failure, so the tests that read it can skip only on a developer's machine."""
    folder = PROJECT_ROOT.parent / "shared" / "corpus" / name
    required = os.environ.get("CI") == "true" or os.environ.get("AFTERSALES_REQUIRE_CORPUS") == "1"
    if not folder.is_dir() and required:
        raise RuntimeError(f"CI must provide {folder}")
    return folder
