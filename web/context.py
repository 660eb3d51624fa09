"""App-wide engine objects (session factory, runtime, calendar) and the request's database session."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask import current_app
from flask import g
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from engine.bootstrap import build_runtime
from engine.bpmn.runtime import WorkflowRuntime
from engine.calendar import BusinessCalendar
from engine.calendar import load_calendar
from engine.config import Settings
from engine.db import make_engine
from engine.db import make_session_factory


@dataclass
class AppContext:
    """What every request shares: settings, the session factory and the (stateless) workflow runtime."""

    settings: Settings
    sessions: sessionmaker[Session]
    runtime: WorkflowRuntime

    @classmethod
    def install(cls, app: Flask, settings: Settings) -> AppContext:
        """Create the shared objects and close each request's session at teardown."""
        context = cls(
            settings=settings,
            sessions=make_session_factory(make_engine(settings.database_url)),
            runtime=build_runtime(settings),
        )
        app.extensions["aftersales"] = context
        app.teardown_appcontext(_close_session)
        return context


def app_context() -> AppContext:
    """The AppContext of the running app."""
    context: AppContext = current_app.extensions["aftersales"]
    return context


def db() -> Session:
    """The request's session (one per request; the view commits once, teardown rolls back the rest)."""
    if "db_session" not in g:
        g.db_session = app_context().sessions()
    session: Session = g.db_session
    return session


def calendar_loader(session: Session) -> Callable[[], BusinessCalendar]:
    """A lazy calendar for this session: loaded only if a step needs a deadline."""
    return lambda: load_calendar(session)


def _close_session(_exc: Any) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
