"""The SQLite write gate (engine/write_gate.py, issue 12): writers of one process — and of several — are handed the
write lock the moment the writer before them ends, instead of sleeping in SQLite's busy handler; a failed BEGIN, a
rollback or a closed connection never leaves the gate taken; reads never touch it."""

from __future__ import annotations

import gc
import multiprocessing
import os
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engine.db import make_engine
from engine.db import make_session_factory
from engine.db import no_wait
from engine.db import read_only
from engine.write_gate import GatedConnection
from engine.write_gate import gate_for


@pytest.fixture
def database(tmp_path: Path) -> tuple[str, str]:
    """An SQLite file with one table, as (URL, path)."""
    path = str(tmp_path / "gate.db")
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (n INTEGER)"))
    engine.dispose()
    return url, path


def _write(engine: sa.Engine, n: int) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": n})


def _rows(engine: sa.Engine) -> list[int]:
    readers = read_only(engine)  # an engine of its own on SQLite: dispose it
    try:
        with readers.connect() as conn:
            return [row[0] for row in conn.execute(sa.text("SELECT n FROM t ORDER BY n"))]
    finally:
        readers.dispose()


def _lock_files_open(path: str) -> int:
    """How many descriptors of this process hold this database's lock file (other tests' files do not count)."""
    return sum(
        os.readlink(f"/proc/self/fd/{fd}") == os.path.abspath(path) + "-write.lock"
        for fd in os.listdir("/proc/self/fd")
        if os.path.exists(f"/proc/self/fd/{fd}")
    )


@contextmanager
def _another_thread_writing(engine: sa.Engine) -> Iterator[None]:
    """Another thread holds a write transaction (it inserted 1) until the block ends, then commits."""
    holding, go_on = threading.Event(), threading.Event()

    def first() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
            holding.set()
            go_on.wait(10)

    one = threading.Thread(target=first)
    one.start()
    assert holding.wait(10)
    try:
        yield
    finally:
        go_on.set()
        one.join(10)


def test_a_second_writer_of_the_process_waits_at_the_gate_and_goes_on_when_the_first_commits(database):
    url, path = database
    engine = make_engine(url)
    gate = gate_for(path)
    holding, go_on, done = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO t VALUES (1)"))
            holding.set()
            go_on.wait(10)

    def second() -> None:
        _write(engine, 2)
        done.set()

    one = threading.Thread(target=first)
    one.start()
    assert holding.wait(10)
    assert gate.mutex.locked()  # the first writer's turn
    two = threading.Thread(target=second)
    two.start()
    assert not done.wait(0.3)  # the second writer waits: it is not refused, and it does not write
    assert _rows(engine) == []  # a read goes on meanwhile and never takes the gate
    go_on.set()
    one.join(10)
    assert done.wait(10)  # let in once the first committed
    two.join(10)
    assert _rows(engine) == [1, 2]
    assert not gate.mutex.locked()
    engine.dispose()


def test_a_writer_that_must_not_wait_is_refused_at_once_while_another_thread_writes(database):
    url, _path = database
    engine = make_engine(url)
    with _another_thread_writing(engine):
        with pytest.raises(sa.exc.OperationalError, match="database is locked"):  # as web.context.try_write expects
            _write(no_wait(engine), 2)
    _write(no_wait(engine), 3)
    assert _rows(engine) == [1, 3]
    engine.dispose()


def test_rollback_and_errors_inside_the_transaction_give_the_gate_back(database):
    url, path = database
    engine = make_engine(url)
    with pytest.raises(sa.exc.OperationalError), engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        conn.execute(sa.text("INSERT INTO no_such_table VALUES (1)"))
    assert not gate_for(path).mutex.locked()
    with engine.connect() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (2)"))
        conn.rollback()
    assert not gate_for(path).mutex.locked()
    _write(engine, 3)
    assert _rows(engine) == [3]
    engine.dispose()


def test_a_failed_begin_gives_the_gate_back(database):
    """Another program holds SQLite's lock without the gate: our BEGIN fails after its wait, and the next writer of
    this process is not stuck behind a gate nobody will open."""
    url, path = database
    outsider = sqlite3.connect(path, isolation_level=None)  # not a GatedConnection: SQLite's lock only
    outsider.execute("BEGIN IMMEDIATE")
    engine = make_engine(url)
    with pytest.raises(sa.exc.OperationalError, match="locked"):
        _write(no_wait(engine), 1)
    assert not gate_for(path).mutex.locked()
    outsider.execute("ROLLBACK")
    outsider.close()
    _write(engine, 2)
    assert _rows(engine) == [2]
    engine.dispose()


def test_closing_a_connection_mid_transaction_gives_the_gate_back(database):
    url, path = database
    engine = make_engine(url)
    conn = engine.connect()
    conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    assert gate_for(path).mutex.locked()
    conn.invalidate()  # the DBAPI connection is closed under the open transaction
    conn.close()
    assert not gate_for(path).mutex.locked()
    _write(no_wait(engine), 2)
    assert _rows(engine) == [2]
    engine.dispose()


def test_every_engine_on_the_same_file_shares_one_gate_and_connections_are_gated(database):
    url, path = database
    first, second = make_engine(url), make_engine(url)
    with first.connect() as a, second.connect() as b:
        assert isinstance(a.connection.dbapi_connection, GatedConnection)
        assert a.connection.dbapi_connection.gate is b.connection.dbapi_connection.gate is gate_for(path)
    first.dispose()
    second.dispose()


def _hold_in_child(url: str, holding: Any, go_on: Any) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        holding.set()
        go_on.wait(20)
    engine.dispose()


def test_writers_of_two_processes_take_turns_at_the_lock_file(database):
    """A worker process holds the gate's lock file: a writer here that must not wait is refused at once, and one
    that may wait goes on when the other process commits (serve --workers N)."""
    url, path = database
    spawn = multiprocessing.get_context("spawn")
    holding, go_on = spawn.Event(), spawn.Event()
    child = spawn.Process(target=_hold_in_child, args=(url, holding, go_on))
    child.start()
    try:
        assert holding.wait(30)
        engine = make_engine(url)
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            _write(no_wait(engine), 2)
        assert not gate_for(path).mutex.locked()  # the refused writer left nothing taken here either
        waiting = threading.Thread(target=_write, args=(engine, 3))
        waiting.start()
        waiting.join(0.3)
        assert waiting.is_alive()  # waiting for the other process, not refused
        go_on.set()
        waiting.join(20)
        assert not waiting.is_alive()
        assert _rows(engine) == [1, 3]
        engine.dispose()
    finally:
        go_on.set()
        child.join(20)
    assert child.exitcode == 0


def test_a_connection_dropped_without_close_gives_the_gate_and_its_lock_file_back(database):
    url, path = database
    gate = gate_for(path)
    before = _lock_files_open(path) if sys.platform.startswith("linux") else 0
    raw = sqlite3.connect(path, factory=GatedConnection, isolation_level=None)
    raw.attach_gate(gate)
    raw.pass_gate(1000)
    raw.execute("BEGIN IMMEDIATE")
    del raw  # sqlite3's finaliser closes the database, GatedConnection.__del__ the gate
    gc.collect()
    assert not gate.mutex.locked()
    if sys.platform.startswith("linux"):
        assert _lock_files_open(path) == before
    engine = make_engine(url)
    _write(no_wait(engine), 1)
    engine.dispose()


def test_a_commit_that_fails_ends_the_transaction_and_gives_the_gate_back(database):
    """SQLAlchemy hands a connection whose COMMIT failed back to the pool without a ROLLBACK: SQLite's transaction
    must not stay open there, holding the write lock for nobody."""
    url, path = database
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE p (id INTEGER PRIMARY KEY)"))
        conn.execute(sa.text("CREATE TABLE c (p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)"))
    session = make_session_factory(engine)()
    session.execute(sa.text("INSERT INTO c VALUES (99)"))
    dbapi = session.connection().connection.dbapi_connection
    with pytest.raises(sa.exc.IntegrityError):
        session.commit()  # the deferred foreign key fails at COMMIT
    session.close()
    assert not dbapi.in_transaction
    assert not gate_for(path).mutex.locked()
    _write(no_wait(engine), 1)  # the same pooled connection, or another: either begins at once
    assert _rows(engine) == [1]
    engine.dispose()


def test_readers_and_in_memory_databases_take_no_gate(database):
    url, _path = database
    engine = make_engine(url)
    readers = read_only(engine)
    with readers.connect() as conn:
        conn.execute(sa.text("SELECT n FROM t")).all()
        reader = conn.connection.dbapi_connection
        assert isinstance(reader, GatedConnection)
        assert reader._lock_fd is None  # a reader never opens the lock file
    readers.dispose()
    engine.dispose()
    memory = make_engine("sqlite://")
    with memory.begin() as conn:
        conn.execute(sa.text("CREATE TABLE m (n INTEGER)"))
        with make_engine("sqlite://").execution_options(aftersales_lock_wait_ms=0).begin() as other:
            other.execute(sa.text("CREATE TABLE o (n INTEGER)"))  # another in-memory database: no shared mutex
    with read_only(memory).connect() as conn:  # the same in-memory database, not a new empty one
        assert conn.execute(sa.text("SELECT count(*) FROM m")).scalar() == 0
    memory.dispose()


@pytest.mark.skipif(
    not hasattr(os, "fork"), reason="os.fork() does not exist on Windows (gunicorn workers are forked only on POSIX)"
)
def test_a_forked_child_does_not_inherit_a_taken_mutex(database):
    url, path = database
    engine = make_engine(url)
    with _another_thread_writing(engine):
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through its exit code
            os._exit(0 if not gate_for(path).mutex.locked() else 1)
    assert os.waitpid(pid, 0)[1] == 0
    engine.dispose()
