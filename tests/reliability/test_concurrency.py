"""Concurrency on SQLite and PostgreSQL: one completion per task, one firing per timer (reliability.md §3.2, §3.4)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from engine.calendar import load_calendar
from engine.errors import ConflictError
from engine.platform import tasks
from engine.platform.timers import fire_due_timers
from engine.records.process import HumanTask
from engine.records.timeline import TimelineEvent
from engine.records.user import User
from tests.helpers import ANSWERS
from tests.helpers import open_task
from tests.helpers import register

BOTH = pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
THREADS = 16
ROUNDS = 5


def _race(sessions, runtime, task_id: str) -> Counter[str]:
    """THREADS threads submit the same task at once, each in its own session and transaction."""
    barrier = threading.Barrier(THREADS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def submit() -> None:
        with sessions() as session:
            user = session.scalars(sa.select(User).where(User.username == "manager")).one()
            session.commit()  # end the read transaction: on SQLite every transaction takes the write lock
            barrier.wait()
            try:
                tasks.complete_task(
                    session,
                    runtime,
                    user,
                    task_id,
                    ANSWERS["analyse_root_cause"],
                    calendar=lambda: load_calendar(session),
                )
                session.commit()
                result = "completed"
            except ConflictError:
                session.rollback()
                result = "conflict"
            except Exception as exc:  # noqa: BLE001 - any other outcome is a failure we count and show
                session.rollback()
                result = f"error:{type(exc).__name__}:{exc}"
        with lock:
            outcomes[result] += 1

    threads = [threading.Thread(target=submit) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


@BOTH
def test_concurrent_double_submit_completes_once_and_others_conflict(
    sessions, session, runtime, calendar, user_named, db_url
):
    for _ in range(ROUNDS):
        _, instance = register(session, runtime, user_named("manager"), calendar)
        task = open_task(session, instance, "analyse_root_cause")
        version_before = instance.lock_version
        session.commit()  # release this session's (write) transaction before the race
        outcomes = _race(sessions, runtime, task.id)
        assert outcomes == Counter({"completed": 1, "conflict": THREADS - 1}), outcomes
        session.expire_all()
        completions = session.scalar(
            sa.select(sa.func.count())
            .select_from(TimelineEvent)
            .where(TimelineEvent.kind == "task.completed", TimelineEvent.instance_id == instance.id)
        )
        assert completions == 1
        assert instance.lock_version == version_before + 1
        assert session.get(HumanTask, task.id).status == "completed"
    print(
        f"RELIABILITY C1 db={db_url.split(':')[0]} threads={THREADS} rounds={ROUNDS} double=0 "
        f"conflicts={(THREADS - 1) * ROUNDS}"
    )


@BOTH
def test_due_timer_fires_exactly_once_across_two_workers(sessions, session, runtime, calendar, user_named, db_url):
    manager = user_named("manager")
    received = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    cases = 12
    with time_machine.travel(received + timedelta(hours=1), tick=False):
        for _ in range(cases):
            register(session, runtime, manager, calendar, received_at=received)
    session.commit()
    advanced: list[int] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        barrier.wait()
        advanced.append(fire_due_timers(sessions, runtime, load_calendar))

    with time_machine.travel(datetime(2026, 11, 27, 1, 0, tzinfo=UTC), tick=True):
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert fire_due_timers(sessions, runtime, load_calendar) == 0
    session.expire_all()
    breaches = Counter(session.scalars(sa.select(TimelineEvent.csi_id).where(TimelineEvent.kind == "sla.breached")))
    assert sum(advanced) == cases
    assert len(breaches) == cases and set(breaches.values()) == {1}
    print(
        f"RELIABILITY T1 db={db_url.split(':')[0]} workers=2 timers={cases} duplicated=0 never_run=0 split={advanced}"
    )
