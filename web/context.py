"""App-wide engine objects (session factories, runtime, calendar) and the request's database session.

A GET, HEAD or OPTIONS request gets a read-only session (engine/db.py `read_only`: on SQLite a DEFERRED read that
never waits for a writer); POST, PUT, PATCH and DELETE get a write session. A safe-method handler that must write
asks for `write_db()` explicitly.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask import current_app
from flask import g
from flask import has_request_context
from flask import request
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from engine.bootstrap import build_runtime
from engine.calendar import BusinessCalendar
from engine.calendar import load_calendar
from engine.config import Settings
from engine.db import make_engine
from engine.db import make_session_factory
from engine.db import no_wait
from engine.db import read_only
from engine.platform.runtime import Runtime

log = logging.getLogger("aftersales.web")
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass
class AppContext:
    """What every request shares: settings, the session factory and the (stateless) workflow runtime."""

    settings: Settings
    sessions: sessionmaker[Session]
    runtime: Runtime
    read_sessions: sessionmaker[Session]
    no_wait_sessions: sessionmaker[Session]

    @classmethod
    def install(cls, app: Flask, settings: Settings) -> AppContext:
        """Create the shared objects and close each request's session at teardown."""
        engine = make_engine(settings.database_url)
        context = cls(
            settings=settings,
            sessions=make_session_factory(engine),
            runtime=build_runtime(settings),
            read_sessions=make_session_factory(read_only(engine), read_only=True),
            no_wait_sessions=make_session_factory(no_wait(engine)),
        )
        app.extensions["aftersales"] = context
        app.teardown_appcontext(_close_session)
        return context


def app_context() -> AppContext:
    """The AppContext of the running app."""
    context: AppContext = current_app.extensions["aftersales"]
    return context


def forget_connections(app: Flask, *, close: bool) -> None:
    """Drop the app's pooled database connections (closing them, or only forgetting them in a forked child, whose
    parent still owns them), so the next request opens its own."""
    context: AppContext = app.extensions["aftersales"]
    for sessions in (context.sessions, context.read_sessions, context.no_wait_sessions):
        sessions.kw["bind"].dispose(close=close)


def is_read_request() -> bool:
    """Whether the current request only reads (GET, HEAD, OPTIONS); False outside a request (CLI, jobs)."""
    return has_request_context() and request.method in READ_METHODS


def db() -> Session:
    """The request's session (one per request; the view commits once, teardown rolls back the rest): read-only
    for GET/HEAD/OPTIONS, a write session otherwise."""
    if "db_session" not in g:
        context = app_context()
        g.db_session = (context.read_sessions if is_read_request() else context.sessions)()
    session: Session = g.db_session
    return session


def write_db() -> Session:
    """A write session for a read request that must write (the request's own session when it already writes)."""
    if not is_read_request():
        return db()
    if "db_write_session" not in g:
        g.db_write_session = app_context().sessions()
    session: Session = g.db_write_session
    return session


def try_write(write: Callable[[Session], object]) -> bool:
    """Run `write` in its own transaction that never waits for another writer; False when the lock was taken
    (a best-effort write, e.g. a session's last-seen time during a GET)."""
    try:
        with app_context().no_wait_sessions() as session, session.begin():
            write(session)
    except OperationalError:
        return False
    return True


def calendar_loader(session: Session) -> Callable[[], BusinessCalendar]:
    """A lazy calendar for this session: loaded only if a step needs a deadline."""
    return lambda: load_calendar(session)


def _close_session(_exc: Any) -> None:
    for key in ("db_session", "db_write_session"):
        session = g.pop(key, None)
        if session is None:
            continue
        try:
            session.rollback()
        except SQLAlchemyError:  # the database went away mid-request; the answer (a 503) is already made
            log.warning("rollback at teardown failed", exc_info=True)
        finally:
            session.close()
