"""Saved inbox views (issue 11 item 3): each user keeps named inbox queries ("my overdue") next to the built-in
ones, opened from the inbox in one click."""

from __future__ import annotations

from urllib.parse import parse_qsl
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.records.inbox_view import InboxView

KEYS = ("tab", "process", "step", "customer", "due", "sort")  # what a view may keep of the inbox's query
MAX_VIEWS = 20


def clean_query(raw: str) -> str:
    """The inbox query string reduced to the keys a view keeps (page numbers and unknown keys dropped)."""
    pairs = [(k, v[:100]) for k, v in parse_qsl(raw.lstrip("?"), keep_blank_values=False) if k in KEYS]
    return urlencode(pairs)


def list_views(session: Session, username: str) -> list[InboxView]:
    """The user's saved views, by name."""
    return list(session.scalars(sa.select(InboxView).where(InboxView.username == username).order_by(InboxView.name)))


def save_view(session: Session, username: str, name: str, query: str) -> InboxView:
    """Save (or replace) a named view of the current inbox query.

    :raises InvalidInputError: no name, a name over 60 characters, or too many views (field `name`).
    """
    text = name.strip()
    if not text or len(text) > 60:
        raise InvalidInputError("a name is required", {"name": Problem("required", "this field is required")})
    found = session.scalar(sa.select(InboxView).where(InboxView.username == username, InboxView.name == text))
    if found is None:
        if len(list_views(session, username)) >= MAX_VIEWS:
            raise InvalidInputError(
                "too many views", {"name": Problem("too_many_views", f"at most {MAX_VIEWS} views", limit=MAX_VIEWS)}
            )
        found = InboxView(username=username, name=text, query="", created_at=utcnow())
        session.add(found)
    found.query = clean_query(query)
    session.flush()
    return found


def delete_view(session: Session, username: str, view_id: int) -> None:
    """Delete one of the user's views.

    :raises NotFoundError: no such view of this user.
    """
    found = session.get(InboxView, view_id)
    if found is None or found.username != username:
        raise NotFoundError(Problem("view_missing", f"view {view_id} does not exist", id=view_id))
    session.delete(found)
