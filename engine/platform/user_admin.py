"""User administration (admin page and `aftersales user …`): list, disable and enable, roles, password reset and
revocation. Disabling a user or changing a password ends every browser session and API token of that user at once;
the last active administrator can neither be disabled nor lose the admin role, so nobody locks everybody out."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from engine.clock import utcnow
from engine.errors import ConflictError
from engine.errors import InvalidInputError
from engine.errors import NotFoundError
from engine.errors import Problem
from engine.platform import session_cache
from engine.platform.passwords import password_problem
from engine.platform.timeline import log_event
from engine.platform.users import revoke_all_sessions
from engine.platform.users import role_problem
from engine.records.user import AuthSession
from engine.records.user import Role
from engine.records.user import User
from engine.records.user import UserRole


@dataclass(frozen=True)
class LiveSessions:
    """How many browser sessions and API tokens of a user are live (not revoked, not expired)."""

    web: int = 0
    api: int = 0


def get_user(session: Session, username: str) -> User:
    """One user by name.

    :raises NotFoundError: no such user.
    """
    user = session.scalars(sa.select(User).where(User.username == username)).first()
    if user is None:
        raise NotFoundError(Problem("user_missing", f"user {username!r} does not exist", user=username))
    return user


def list_users(session: Session) -> list[User]:
    """Every user, active or not, by user name."""
    return list(session.scalars(sa.select(User).order_by(User.username)))


def live_sessions(session: Session) -> dict[int, LiveSessions]:
    """user id → live browser sessions and API tokens, in one query."""
    query = (
        sa.select(AuthSession.user_id, AuthSession.kind, sa.func.count())
        .where(AuthSession.revoked_at.is_(None), AuthSession.expires_at > utcnow())
        .group_by(AuthSession.user_id, AuthSession.kind)
    )
    counts: dict[int, dict[str, int]] = {}
    for user_id, kind, count in session.execute(query):
        counts.setdefault(user_id, {})[kind] = count
    return {user_id: LiveSessions(web=c.get("web", 0), api=c.get("api", 0)) for user_id, c in counts.items()}


def set_active(session: Session, user: User, active: bool, *, actor: str) -> int:
    """Enable or disable a user; disabling revokes every session and token at once (returns how many).

    :raises ConflictError: disabling the last active administrator.
    """
    if user.active == active:
        return 0
    if not active:
        _keep_an_admin(session, user)
    user.active = active
    session_cache.forget_user(user.id)
    revoked = 0 if active else revoke_all_sessions(session, user)
    log_event(session, "user.enabled" if active else "user.disabled", actor=actor, data={"username": user.username})
    return revoked


def set_password(session: Session, user: User, password: str, *, actor: str) -> int:
    """Give the user a new password and revoke every session and token at once (returns how many).

    :raises InvalidInputError: the password breaks the password rules (field `password`).
    """
    problem = password_problem(password, user.username)
    if problem:
        raise InvalidInputError("cannot set the password", {"password": problem})
    user.password_hash = generate_password_hash(password)
    revoked = revoke_all_sessions(session, user)
    log_event(session, "user.password_changed", actor=actor, data={"username": user.username, "revoked": revoked})
    return revoked


def set_roles(session: Session, user: User, roles: Iterable[str], *, actor: str) -> None:
    """Replace the user's roles (they apply from the next request on).

    :raises InvalidInputError: unknown role or none (field `role`). :raises ConflictError: taking the admin role
        from the last active administrator.
    """
    wanted = sorted(set(roles))
    problem = role_problem(wanted)
    if problem:
        raise InvalidInputError("cannot set the roles", {"role": problem})
    if Role.ADMIN.value in user.role_keys and Role.ADMIN.value not in wanted:
        _keep_an_admin(session, user)
    before = sorted(user.role_keys)
    if before == wanted:
        return
    user.roles = [UserRole(role=r) for r in wanted]
    session.flush()
    session_cache.forget_user(user.id)
    log_event(
        session, "user.roles_changed", actor=actor, data={"username": user.username, "from": before, "to": wanted}
    )


EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MAILED_KINDS = (
    "task.assigned",
    "task.available",
    "task.returned",
    "sla.reminder",
    "sla.breached",
    "digest.daily",
    "request.received",
    "survey.dissatisfied",
    "case.escalated",
    "case.end_proposed",
    "qf.overdue",
    "claim.overdue",
    "comment.mentioned",
)


def set_email(session: Session, user: User, email: str, muted: Iterable[str] = (), *, actor: str) -> None:
    """Where the user's notices are mailed ('' for none) and the kinds they do not want mailed.

    :raises InvalidInputError: not an e-mail address (field `email`), or an unknown kind (field `muted`).
    """
    address = email.strip()
    if address and (len(address) > 320 or not EMAIL.match(address)):
        raise InvalidInputError("not an e-mail address", {"email": Problem("email", "not an e-mail address")})
    unknown = sorted(set(muted) - set(MAILED_KINDS))
    if unknown:
        raise InvalidInputError("unknown notice kind", {"muted": Problem("choice", f"unknown: {', '.join(unknown)}")})
    user.email, user.mail_muted = address or None, sorted(set(muted))
    session_cache.forget_user(user.id)
    log_event(session, "user.email_changed", actor=actor, data={"username": user.username, "email": user.email})


def revoke_sessions(session: Session, user: User, *, actor: str) -> int:
    """End every browser session and API token of the user now (returns how many)."""
    revoked = revoke_all_sessions(session, user)
    log_event(session, "user.sessions_revoked", actor=actor, data={"username": user.username, "revoked": revoked})
    return revoked


def _keep_an_admin(session: Session, user: User) -> None:
    others = (
        sa.select(sa.func.count(User.id))
        .join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.ADMIN.value, User.active.is_(True), User.id != user.id)
    )
    if user.active and Role.ADMIN.value in user.role_keys and not session.scalar(others):
        raise ConflictError(
            Problem("last_admin", f"{user.username} is the last active administrator", user=user.username)
        )
