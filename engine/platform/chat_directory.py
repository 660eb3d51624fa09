"""The active chat endpoints a notice goes to, read once per few seconds per database instead of once per notice.

Endpoints change rarely (`aftersales webhook add|remove`): any ORM write to them in this process empties the
cache at once, and a change made by another process is seen after at most `TTL_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from engine.records.notification import WebhookEndpoint

TTL_SECONDS = 5.0


@dataclass(frozen=True)
class ChatEndpoint:
    """What a notice needs of an endpoint: its name (the outbox address) and the kinds it follows (all when empty)."""

    name: str
    kinds: tuple[str, ...]


_cache: dict[str, tuple[float, tuple[ChatEndpoint, ...]]] = {}
_lock = threading.Lock()


def active_endpoints(session: Session) -> tuple[ChatEndpoint, ...]:
    """The active endpoints of the session's database (cached for a few seconds)."""
    key = str(session.get_bind().engine.url)
    cached = _cache.get(key)
    if cached is not None and time.monotonic() - cached[0] <= TTL_SECONDS:
        return cached[1]
    rows = session.execute(sa.select(WebhookEndpoint.name, WebhookEndpoint.kinds).where(WebhookEndpoint.active))
    found = tuple(ChatEndpoint(name, tuple(kinds or ())) for name, kinds in rows)
    with _lock:
        _cache[key] = (time.monotonic(), found)
    return found


def forget() -> None:
    """Empty the cache (an endpoint was added, changed or removed)."""
    with _lock:
        _cache.clear()


def _changed(*_: Any) -> None:
    forget()


for _event in ("after_insert", "after_update", "after_delete"):
    event.listen(WebhookEndpoint, _event, _changed)
