"""The timer worker: polls for instances whose next timer is due and advances them (embedded or standalone)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker

from engine.calendar import load_calendar
from engine.clock import utcnow
from engine.outages import classify_outage
from engine.platform.outbox import Deliver
from engine.platform.outbox import send_due
from engine.platform.runtime import Runtime
from engine.platform.timers import fire_due_timers

log = logging.getLogger("aftersales.worker")


def run_once(sessions: sessionmaker[Session], runtime: Runtime, deliver: Deliver | None = None) -> int:
    """One poll: advance every due instance, then deliver what the outbox holds; returns the instances advanced."""
    total = 0
    while True:
        advanced = fire_due_timers(sessions, runtime, load_calendar)
        total += advanced
        if advanced < 100:
            break
    for job in runtime.registry.jobs():  # periodic application jobs (the daily digest), each in its own transaction
        with sessions() as session, session.begin():
            job(session, utcnow())
    if deliver is not None:
        while len(send_due(sessions, deliver).sent) >= 100:
            pass
    return total


def run_forever(
    sessions: sessionmaker[Session],
    runtime: Runtime,
    stop: threading.Event,
    poll_seconds: float,
    deliver: Deliver | None = None,
) -> None:
    """Poll until `stop` is set; a database outage (busy, unreachable, full, read-only) waits for the next poll or the
    outage's retry time, never fatal; any other error stops the worker with its trace."""
    log.info("timer worker started (poll every %.1f s)", poll_seconds)
    while not stop.is_set():
        wait = poll_seconds
        try:
            fired = run_once(sessions, runtime, deliver)
            if fired:
                log.info("advanced %d instance(s) with due timers", fired)
        except Exception as exc:
            outage = classify_outage(exc)
            if outage is None:
                raise
            wait = max(poll_seconds, float(outage.retry_after))
            log.warning("database %s, retrying in %.0f s: %s", outage.kind, wait, exc)
        stop.wait(wait)
