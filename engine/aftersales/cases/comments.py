"""The case conversation: comments on a CSI, kept in its timeline, with @mentions that tell colleagues.

A comment is a timeline entry of kind `comment.added` (append-only like the rest of the record); `@username`
mentions a colleague, who gets a bell notice (and a mail) when they may see the case; others are not told, so a
mention never leaks a case to someone outside it.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from engine.errors import InvalidInputError
from engine.errors import Problem
from engine.platform.access import can_view_case
from engine.platform.notices import notify
from engine.platform.notices import users_named
from engine.platform.timeline import log_event
from engine.records.csi import CSI
from engine.records.timeline import TimelineEvent
from engine.records.user import User

MAX_COMMENT = 4000
MENTION = re.compile(r"(?<![\w.@])@([A-Za-z0-9_.-]{1,64})")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Timeline kinds that record the process's own bookkeeping rather than a business fact (hidden by the filter).
ROUTINE_KINDS = frozenset(
    {"task.created", "task.claimed", "task.released", "instance.started", "timer.fired", "sla.recomputed"}
)


def add_comment(session: Session, author: User, csi: CSI, text: str) -> tuple[TimelineEvent, list[str]]:
    """Add a comment to the case's timeline and tell the colleagues it mentions; returns the entry and who was told.

    :raises InvalidInputError: empty, too long or with control characters.
    """
    body = text.replace("\r\n", "\n").strip()
    _check(body)
    named = [u for u in users_named(session, MENTION.findall(body)) if u.username != author.username]
    told = [u for u in named if can_view_case(u, csi)]
    mentions = sorted(u.username for u in told)
    event = log_event(
        session, "comment.added", actor=author.username, csi_id=csi.id, message=body, data={"mentions": mentions}
    )
    session.flush()
    if told:
        excerpt = body if len(body) <= 120 else body[:119] + "…"
        params = {"actor": author.display_name or author.username, "key": csi.csi_no, "text": excerpt}
        link = f"/cases/{csi.id}#comment-{event.id}"
        notify(session, told, "comment.mentioned", params, link=link, dedupe=f"comment:{event.id}")
    return event, mentions


def _check(body: str) -> None:
    if not body:
        raise InvalidInputError("empty comment", {"comment": Problem("too_short", "write a comment first")})
    if len(body) > MAX_COMMENT:
        raise InvalidInputError("comment too long", {"comment": Problem("too_long", "the comment is too long")})
    if _CONTROL.search(body):
        raise InvalidInputError("control characters", {"comment": Problem("control", "control characters")})
