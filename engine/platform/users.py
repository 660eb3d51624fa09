"""Users and server-side sessions: password check, session/token issue, lookup with idle and absolute expiry, revoke."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from datetime import timedelta
from typing import Any
from typing import cast

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash
from werkzeug.security import generate_password_hash

from engine.clock import utcnow
from engine.errors import InvalidInputError
from engine.platform import session_cache
from engine.platform.passwords import password_problem
from engine.platform.timeline import log_event
from engine.records.user import ROLE_KEYS
from engine.records.user import AuthSession
from engine.records.user import User
from engine.records.user import UserRole

USERNAME_PATTERN = re.compile(r"^[a-z0-9_.-]{2,64}$")
LIFETIME = {"web": timedelta(hours=8), "api": timedelta(hours=12)}
IDLE_TIMEOUT = {"web": timedelta(minutes=30), "api": timedelta(hours=12)}
_TOUCH_EVERY = timedelta(seconds=60)
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def create_user(
    session: Session,
    username: str,
    password: str,
    roles: Iterable[str],
    *,
    display_name: str = "",
    actor: str = "admin",
) -> User:
    """Add a user with roles (each must be a known role key) and a password that passes the password rules.

    :raises InvalidInputError: bad username, weak password, unknown role or the name is taken.
    """
    roles = sorted(set(roles))
    problems: dict[str, str] = {}
    if not USERNAME_PATTERN.match(username):
        problems["username"] = "2–64 characters: lower-case letters, digits, _ . -"
    elif session.scalars(sa.select(User.id).where(User.username == username)).first() is not None:
        problems["username"] = f"user {username!r} already exists"
    weak = password_problem(password, username)
    if weak:
        problems["password"] = weak
    bad_roles = role_problem(roles)
    if bad_roles:
        problems["role"] = bad_roles
    if problems:
        raise InvalidInputError("cannot create the user", problems)
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=generate_password_hash(password),
        created_at=utcnow(),
        roles=[UserRole(role=r) for r in roles],
    )
    session.add(user)
    session.flush()
    log_event(session, "user.created", actor=actor, data={"username": username, "roles": roles})
    return user


def role_problem(roles: Iterable[str]) -> str | None:
    """Why a set of role keys cannot be given to a user (unknown keys, or none), or None."""
    roles = sorted(set(roles))
    unknown = [r for r in roles if r not in ROLE_KEYS]
    if unknown:
        return "unknown role(s): " + ", ".join(unknown)
    return None if roles else "at least one role is required"


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (the same work is done for unknown names)."""
    user = session.scalars(sa.select(User).where(User.username == username)).first()
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def open_session(session: Session, user: User, kind: str) -> str:
    """Issue a new random session or API token; only its SHA-256 is stored."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        AuthSession(
            token_hash=_digest(token),
            user_id=user.id,
            kind=kind,
            created_at=now,
            last_seen_at=now,
            expires_at=now + LIFETIME[kind],
        )
    )
    return token


def resolve_session(session: Session, token: str, kind: str, *, touch: bool = True) -> User | None:
    """The user behind a live token: not revoked, not past its absolute or idle limit, user still active.

    A token seen in the last few seconds is answered from the in-process cache (engine/platform/session_cache.py)
    without a statement. With `touch` the session's last-seen time moves on (at most once a minute, one UPDATE); a
    read-only request passes False and calls `touch_session` in a write transaction of its own when `touch_due`.
    """
    digest, now = _digest(token), utcnow()
    cached = session_cache.lookup(digest)
    if cached is None:
        return _resolve_stored(session, digest, kind, now, touch=touch)
    if cached.kind != kind or cached.expires_at <= now or now - cached.last_seen_at > IDLE_TIMEOUT[kind]:
        return None
    if touch and now - cached.last_seen_at > _TOUCH_EVERY:
        _touch(session, digest, now)
        cached.last_seen_at = now
    return session_cache.attach(session, cached.user)


def _resolve_stored(session: Session, digest: str, kind: str, now: datetime, *, touch: bool) -> User | None:
    """Resolve a token from the session store and cache the answer when it is live."""
    row = session.get(AuthSession, digest)
    if row is None or row.kind != kind or row.revoked_at is not None or row.expires_at <= now:
        return None
    if now - row.last_seen_at > IDLE_TIMEOUT[kind]:
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        return None
    if touch and now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
    session_cache.remember(digest, user, row.kind, row.expires_at, row.last_seen_at)
    return user


def _touch(session: Session, digest: str, now: datetime) -> None:
    session.execute(
        sa.update(AuthSession)
        .where(AuthSession.token_hash == digest)
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def touch_due(session: Session, token: str) -> bool:
    """Whether the session's last-seen time is older than the touch interval."""
    cached = session_cache.lookup(_digest(token))
    if cached is not None:
        return utcnow() - cached.last_seen_at > _TOUCH_EVERY
    row = session.get(AuthSession, _digest(token))
    return row is not None and utcnow() - row.last_seen_at > _TOUCH_EVERY


def touch_session(session: Session, token: str) -> None:
    """Move the session's last-seen time to now (the idle timeout counts from it)."""
    digest, now = _digest(token), utcnow()
    row = session.get(AuthSession, digest)
    if row is not None:
        row.last_seen_at = now
        cached = session_cache.lookup(digest)
        if cached is not None:
            cached.last_seen_at = now


def revoke_session(session: Session, token: str) -> bool:
    """End one browser session or API token at once (logout, POST /api/v1/auth/revoke); False if it was not live."""
    digest = _digest(token)
    session_cache.forget(digest)
    row = session.get(AuthSession, digest)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


def revoke_all_sessions(session: Session, user: User) -> int:
    """End every browser session and API token of a user at once (password change, disable); returns how many."""
    session_cache.forget_user(user.id)
    result = session.execute(
        sa.update(AuthSession)
        .where(AuthSession.user_id == user.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(cast(CursorResult[Any], result).rowcount or 0)


def display_names(session: Session, usernames: Iterable[str | None]) -> dict[str, str]:
    """username → display name, for timelines and assignee columns."""
    wanted = {name for name in usernames if name}
    if not wanted:
        return {}
    rows = session.execute(sa.select(User.username, User.display_name).where(User.username.in_(wanted)))
    return {username: display or username for username, display in rows}


def list_active_users(session: Session) -> list[User]:
    """Active users by user name (the supervisor may assign any of them to a WO as temporary staff, §2.6)."""
    return list(session.scalars(sa.select(User).where(User.active.is_(True)).order_by(User.username)))
