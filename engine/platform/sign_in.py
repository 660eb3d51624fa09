"""Sign-in throttling with back-off, per account and per client address, kept in the database so every process
shares it (reliability.md §3.9 W3).

Each channel ("web": the browser form, "api": POST /api/v1/auth/token) counts only its own failures. Within the
window an account may fail ACCOUNT_FREE_FAILURES times and an address ADDRESS_FREE_FAILURES times; after that each
further failure doubles the wait (1, 2, 4, 8, at most 15 minutes). While a wait runs no password is checked at all,
not even the right one, so guessing cannot continue behind the 429s.
"""

from __future__ import annotations

import math
from datetime import datetime
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from engine.clock import utcnow
from engine.records.user import SignInFailure

CHANNELS = ("web", "api")
WINDOW = timedelta(minutes=15)
ACCOUNT_FREE_FAILURES = 5
ADDRESS_FREE_FAILURES = 20
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(minutes=15)
_KEY_LENGTH = 64


def seconds_to_wait(session: Session, channel: str, username: str, address: str) -> int:
    """How long this account and address must wait before the next attempt on this channel (0: go ahead)."""
    now = utcnow()
    account = _recent(session, channel, SignInFailure.username == _key(username), now)
    by_address = _recent(session, channel, SignInFailure.address == _key(address), now)
    return max(_wait(*account, ACCOUNT_FREE_FAILURES, now), _wait(*by_address, ADDRESS_FREE_FAILURES, now))


def record_failure(session: Session, channel: str, username: str, address: str) -> None:
    """Remember a failed attempt (and forget the ones older than the window)."""
    now = utcnow()
    session.execute(sa.delete(SignInFailure).where(SignInFailure.at < now - WINDOW))
    session.add(SignInFailure(channel=channel, username=_key(username), address=_key(address), at=now))
    session.flush()


def clear_failures(session: Session, channel: str, username: str) -> None:
    """After a successful sign-in the account starts afresh on this channel (the address keeps its count)."""
    session.execute(
        sa.delete(SignInFailure).where(SignInFailure.channel == channel, SignInFailure.username == _key(username))
    )


def _recent(session: Session, channel: str, who: Any, now: datetime) -> tuple[int, datetime | None]:
    query = sa.select(sa.func.count(SignInFailure.id), sa.func.max(SignInFailure.at)).where(
        SignInFailure.channel == channel, who, SignInFailure.at >= now - WINDOW
    )
    count, last = session.execute(query).one()
    return int(count or 0), last


def _wait(count: int, last: datetime | None, free: int, now: datetime) -> int:
    if count < free or last is None:
        return 0
    wait: timedelta = min(FIRST_WAIT * (2 ** min(count - free, 8)), LONGEST_WAIT)
    remaining: float = (last + wait - now).total_seconds()
    return max(math.ceil(remaining), 0)


def _key(text: str) -> str:
    return (text.strip() or "-")[:_KEY_LENGTH]
