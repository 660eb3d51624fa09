"""Document numbers (engine/records/numbering.py): concurrent first requests of a fresh series — every new database,
and every series again on 1 January — get distinct consecutive numbers and no error, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest

from engine.db import make_engine
from engine.db import make_session_factory
from engine.migrate import upgrade_database
from engine.records.numbering import next_number

THREADS = 16


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_first_numbers_of_a_fresh_series_do_not_race(db_url):
    upgrade_database(db_url)
    engine = make_engine(db_url, pool_size=THREADS, max_overflow=0)
    sessions = make_session_factory(engine)
    barrier = threading.Barrier(THREADS)
    issued: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def first_request(prefix: str) -> None:
        try:
            with sessions() as session:
                barrier.wait()
                number = next_number(session, prefix, 2031)
                session.commit()
            with lock:
                issued.append(number)
        except BaseException as exc:  # noqa: BLE001 - every failure is a finding
            with lock:
                errors.append(exc)

    for prefix in ("CSI", "WO"):
        threads = [threading.Thread(target=first_request, args=(prefix,)) for _ in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        barrier.reset()
    engine.dispose()
    assert errors == []
    for prefix in ("CSI", "WO"):
        mine = sorted(n for n in issued if n.startswith(prefix + "-"))
        assert mine == [f"{prefix}-2031-{i:06d}" for i in range(1, THREADS + 1)]
    print(f"RELIABILITY numbering db={db_url.split(':')[0]} threads={THREADS} series=2 duplicates=0 errors=0")
