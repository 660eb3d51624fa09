"""In-process cache of live sign-in tokens, so a request authenticates without reading the session store.

An entry holds a detached copy of the user (roles included) and the session's limits. It is trusted for `TTL`
seconds: a revocation, disable, password or role change made in this process (any ORM write to a user, its roles or
a revoked session, and the bulk revocations of engine/platform/users.py) empties it at once; one made in another
process (a second server, the CLI) is seen after at most `TTL` seconds.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session
from sqlalchemy.orm import make_transient_to_detached

from engine.records.user import AuthSession
from engine.records.user import User
from engine.records.user import UserRole

TTL_SECONDS = 5.0
_MAX_ENTRIES = 10_000


@dataclass
class CachedSession:
    """What a token resolves to: its user (detached copy), kind and limits, and when it was read."""

    user: User
    kind: str
    expires_at: datetime
    last_seen_at: datetime
    read_at: float


_entries: dict[str, CachedSession] = {}
_lock = threading.Lock()


def lookup(digest: str) -> CachedSession | None:
    """The fresh entry of a token digest, or None when unknown or older than the TTL."""
    entry = _entries.get(digest)
    if entry is None or time.monotonic() - entry.read_at > TTL_SECONDS:
        return None
    return entry


def remember(digest: str, user: User, kind: str, expires_at: datetime, last_seen_at: datetime) -> None:
    """Cache a resolved token (a detached copy of its user, so no request's session is shared)."""
    entry = CachedSession(_detached_copy(user), kind, expires_at, last_seen_at, time.monotonic())
    with _lock:
        if len(_entries) >= _MAX_ENTRIES:
            _entries.clear()
        _entries[digest] = entry


def forget(digest: str) -> None:
    """Drop one token (it was revoked)."""
    with _lock:
        _entries.pop(digest, None)


def forget_user(user_id: int) -> None:
    """Drop every token of a user (sessions revoked, disabled, password, roles or e-mail changed)."""
    with _lock:
        for digest in [d for d, e in _entries.items() if e.user.id == user_id]:
            del _entries[digest]


def clear() -> None:
    """Empty the cache (tests, a restored database)."""
    with _lock:
        _entries.clear()


def attach(session: Session, user: User) -> User:
    """The cached user as an object of this session, without a statement."""
    return session.merge(user, load=False)


def _detached_copy(user: User) -> User:
    copy = User(**{key: getattr(user, key) for key in sa.inspect(User).columns.keys()})
    roles = [UserRole(user_id=user.id, role=role.role) for role in user.roles]
    for role in roles:
        make_transient_to_detached(role)
    copy.roles = roles
    make_transient_to_detached(copy)
    return copy


def _user_changed(_mapper: Any, _conn: Any, target: User) -> None:
    forget_user(target.id)


def _role_changed(_mapper: Any, _conn: Any, target: UserRole) -> None:
    forget_user(target.user_id)


def _session_changed(_mapper: Any, _conn: Any, target: AuthSession) -> None:
    if target.revoked_at is not None:
        forget(target.token_hash)


for _event in ("after_update", "after_delete"):
    event.listen(User, _event, _user_changed)
    event.listen(AuthSession, _event, _session_changed)
for _event in ("after_insert", "after_delete"):
    event.listen(UserRole, _event, _role_changed)
